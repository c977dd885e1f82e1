"""Storing anonymous answers so that nothing a database reader could join on survives (ARCHITECTURE §5).

Used by wellbeing screenings (care) and anonymous surveys (insight). The caller gives each item a
random UUID key and no time finer than its wave. Items wait in an encrypted pool, one row per
(kind, wave); once the pool holds ``flush_at`` items (the anonymity threshold by default) they are
shuffled and handed to the caller's ``writer`` in one batch, so insertion order and row ids say
nothing about who answered when. ``pool_flush`` writes the rest when the wave closes. Counts per
reporting group are kept in :class:`AnonymousTally` instead of a per-answer audit row.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.db.models import F

from sizheng.core.models import AnonymousPool, AnonymousTally

Writer = Callable[[list[dict]], None]
_rng = random.SystemRandom()


def _locked_pool(kind: str, wave: str) -> AnonymousPool:
    AnonymousPool.objects.get_or_create(kind=kind, wave=wave)
    # select_for_update serialises on PostgreSQL; SQLite's IMMEDIATE transactions already do.
    return AnonymousPool.objects.select_for_update().get(kind=kind, wave=wave)


def _write(pool: AnonymousPool, items: list[dict], writer: Writer) -> None:
    _rng.shuffle(items)
    writer(items)
    pool.payload, pool.size = "[]", 0
    pool.save(update_fields=["payload", "size"])


@transaction.atomic
def pool_add(kind: str, wave: str, item: dict, *, writer: Writer, flush_at: int | None = None) -> bool:
    """Add one anonymous item; returns True when this call flushed the pool to the writer."""
    threshold = max(flush_at or settings.ANONYMITY_MIN_GROUP, 1)
    pool = _locked_pool(kind, wave)
    items = json.loads(pool.payload or "[]")
    items.append(item)
    if len(items) >= threshold:
        _write(pool, items, writer)
        return True
    pool.payload, pool.size = json.dumps(items, ensure_ascii=False), len(items)
    pool.save(update_fields=["payload", "size"])
    return False


@transaction.atomic
def pool_flush(kind: str, wave: str, *, writer: Writer) -> int:
    """Write whatever is pending for a wave (at wave close); returns how many items were written."""
    pool = AnonymousPool.objects.select_for_update().filter(kind=kind, wave=wave).first()
    if pool is None:
        return 0
    items = json.loads(pool.payload or "[]")
    if items:
        _write(pool, items, writer)
    return len(items)


@transaction.atomic
def pool_remove(kind: str, wave: str, match: Callable[[dict], bool]) -> int:
    """Remove pending items the predicate matches (e.g. a deletion code); returns how many."""
    pool = AnonymousPool.objects.select_for_update().filter(kind=kind, wave=wave).first()
    if pool is None:
        return 0
    items = json.loads(pool.payload or "[]")
    kept = [i for i in items if not match(i)]
    if len(kept) != len(items):
        pool.payload, pool.size = json.dumps(kept, ensure_ascii=False), len(kept)
        pool.save(update_fields=["payload", "size"])
    return len(items) - len(kept)


def pending(kind: str, wave: str) -> list[dict]:
    """The items still waiting in a wave's pool (for reports that must include them)."""
    pool = AnonymousPool.objects.filter(kind=kind, wave=wave).first()
    return json.loads(pool.payload or "[]") if pool else []


def waves_pending(kind: str) -> list[str]:
    """Waves of a kind that still hold pending items."""
    return list(AnonymousPool.objects.filter(kind=kind, size__gt=0).values_list("wave", flat=True))


def tally(kind: str, wave: str, group: str, n: int = 1) -> None:
    """Count ``n`` more anonymous answers for a reporting group of a wave."""
    AnonymousTally.objects.get_or_create(kind=kind, wave=wave, group=group)
    AnonymousTally.objects.filter(kind=kind, wave=wave, group=group).update(count=F("count") + n)


def tallies(kind: str, wave: str | None = None) -> dict[tuple[str, str], int]:
    """Counts keyed by (wave, group)."""
    qs = AnonymousTally.objects.filter(kind=kind)
    if wave is not None:
        qs = qs.filter(wave=wave)
    return {(w, g): c for w, g, c in qs.values_list("wave", "group", "count")}
