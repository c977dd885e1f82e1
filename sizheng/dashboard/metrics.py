"""The dashboard's metric values: the registry's numbers, cached per (metric, period, targets).

Every number on the dashboard comes from ``core.metrics.compute``; this module only keeps the
values (never HTML, which is per user) in Django's cache for ``settings.DASHBOARD_CACHE_SECONDS``
(default 300), keyed by the metric, the period key and a digest of the sorted target ids. A card
asks for all its (metric, period) pairs at once (:func:`values_many`): one ``cache.get_many``,
then only the missing pairs are computed — so a warm card runs no metric query at all.

The tier rule is checked before the cache is read, so a forbidden consumer never gets a cached
value either (T3 is refused for the dashboard; leaders use ``Consumer.LEADER``).

Inside :func:`refreshing` (the warming job, ``dashboard.jobs``) nothing is read from the cache:
every pair is computed afresh and stored for ``timeout`` seconds, so a value about to expire is
replaced before any user has to pay for it.

Assessment results are per round, not per period and target, so they are no registry metric (a
metric would also offer itself to the assessment engine as an indicator, scoring rounds on rounds):
:func:`assess_rounds` reads the latest published round and the earlier rounds of its system (any version or year) (three
queries, cached the same way).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.cache import cache

from sizheng.core import metrics as registry
from sizheng.core.metrics import Consumer, MetricAccessError

KEY_PREFIX = "dashboard:v1"
# Test support and the README's cache test: how many (metric, period) pairs were computed. Kept only
# under tests: the long-lived task worker warms every 4 minutes and would grow it for ever.
COMPUTED: list[tuple[str, str]] = []


def _computed(name: str, key: str) -> None:
    if settings.TESTING:
        COMPUTED.append((name, key))


def ttl() -> int:
    """Seconds a value stays in the cache."""
    return int(getattr(settings, "DASHBOARD_CACHE_SECONDS", 300))


# Set by refreshing(): None normally, else the timeout of the values written while refreshing.
_REFRESH: ContextVar[int | None] = ContextVar("sizheng_dashboard_refresh", default=None)


@contextmanager
def refreshing(timeout: int | None = None) -> Iterator[None]:
    """Compute every value asked for inside the block afresh (no cache read) and store it for
    ``timeout`` seconds (default :func:`ttl`). Used by the warming job."""
    token = _REFRESH.set(timeout or ttl())
    try:
        yield
    finally:
        _REFRESH.reset(token)


def _write_timeout() -> int:
    return _REFRESH.get() or ttl()


def digest(targets: Iterable[int]) -> str:
    """A short, stable digest of a set of target ids (order and repeats do not matter)."""
    ids = ",".join(str(t) for t in sorted(set(targets)))
    return hashlib.sha256(ids.encode()).hexdigest()[:24]


GENERATION_KEY = f"{KEY_PREFIX}:generation"


def _generation() -> int:
    return cache.get(GENERATION_KEY) or 0


def forget() -> None:
    """Drop every cached dashboard value at once (a new generation of keys; the old ones expire)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 1, timeout=None)


def cache_key(name: str, period_key: str, targets: Iterable[int], generation: int | None = None) -> str:
    gen = _generation() if generation is None else generation
    return f"{KEY_PREFIX}:{gen}:{name}:{period_key}:{digest(targets)}"


def _check(name: str, consumer: str, group_size: int | None) -> None:
    m = registry.get(name)
    if not registry.allowed(m, consumer, group_size=group_size):
        raise MetricAccessError(f"指标“{m.label}”的数据敏感级别不允许用于{consumer}。")


def values_many(
    pairs: Sequence[tuple[str, Any]],
    targets: Sequence[int],
    *,
    consumer: str = Consumer.DASHBOARD,
    group_size: int | None = None,
) -> dict[tuple[str, str], dict[int, Any]]:
    """{(metric, period key): {target: value}} for every (metric, period) pair, cached.

    No query when every pair is cached; otherwise each missing pair costs its metric's own
    queries (flat in the number of targets, as the registry requires).
    """
    targets = list(dict.fromkeys(targets))
    for name, _period in pairs:
        _check(name, consumer, group_size)
    if not targets:
        return {(name, period.key): {} for name, period in pairs}
    gen = _generation()
    keys = {cache_key(name, period.key, targets, gen): (name, period) for name, period in pairs}
    found = {} if _REFRESH.get() else cache.get_many(list(keys))
    out: dict[tuple[str, str], dict[int, Any]] = {}
    fresh: dict[str, dict[int, Any]] = {}
    for key, (name, period) in keys.items():
        if key in found:
            out[(name, period.key)] = found[key]
            continue
        computed = registry.compute(name, targets, period, consumer=consumer, group_size=group_size)
        _computed(name, period.key)
        fresh[key] = computed
        out[(name, period.key)] = computed
    if fresh:
        cache.set_many(fresh, _write_timeout())
    return out


def values(
    name: str, targets: Sequence[int], period, *, consumer: str = Consumer.DASHBOARD
) -> dict[int, Any]:
    """{target: value} of one metric for one period, cached."""
    return values_many([(name, period)], targets, consumer=consumer)[(name, period.key)]


# --- assessment rounds (not a registry metric, see the module docstring) -------------------------

ROUNDS_IN_TREND = 8


def assess_rounds() -> dict | None:
    """The latest published round: its grade distribution, and the mean total of each published
    round of the same indicator system (oldest first). None when nothing is published.

    Three queries on a cold cache (latest round, its targets' grades, the system's rounds), none warm.
    """
    key = f"{KEY_PREFIX}:{_generation()}:assess.rounds"
    hit = None if _REFRESH.get() else cache.get(key)
    if hit is not None:
        return hit or None
    from django.db.models import Avg, Count

    from sizheng.assess.models import Assessment, RoundState, Target

    latest = (
        Assessment.objects.filter(state=RoundState.PUBLISHED)
        .select_related("system")
        .order_by("-published_at", "-period_end", "-pk")
        .first()
    )
    _computed("assess.rounds", "")
    if latest is None:
        cache.set(key, {}, _write_timeout())
        return None
    counts = dict(
        Target.objects.filter(assessment=latest)
        .exclude(grade="")
        .order_by()
        .values("grade")
        .annotate(n=Count("pk"))
        .values_list("grade", "n")
    )
    bands = [b["grade"] for b in (latest.system.grade_bands or [])]
    grades = bands + [g for g in counts if g not in bands]
    rounds = list(
        # Every version and year of the same system (a new year's version is a new row).
        Assessment.objects.filter(system__name=latest.system.name, state=RoundState.PUBLISHED)
        .annotate(mean=Avg("targets__total"))
        .order_by("-period_end", "-pk")
        .values("pk", "title", "period_end", "mean")[:ROUNDS_IN_TREND]
    )
    rounds.reverse()
    data = {
        "round": {"id": latest.pk, "title": latest.title, "system": latest.system.name},
        "distribution": [{"grade": g, "count": counts.get(g, 0)} for g in grades],
        "scored": sum(counts.values()),
        "trend": [
            {
                "id": r["pk"],
                "title": r["title"],
                "mean": None if r["mean"] is None else round(r["mean"], 1),
            }
            for r in rounds
        ],
    }
    cache.set(key, data, _write_timeout())
    return data
