"""The dashboard's periodic job: keep the committee page's values warm, so no user pays a cold cache.

``dashboard.warm`` runs every :data:`WARM_EVERY` (4 minutes; the scheduler claims each slot once, so
two schedulers or a restart run it once per slot). It builds every card of the committee page
(``/dashboard/``) for this year, as a request would, inside :func:`metrics.refreshing`: every
(metric, period, targets) value those cards show is computed afresh and stored in the shared cache
for :func:`warm_timeout` seconds (the cache time plus one interval), so a late or skipped run does
not leave the page cold. Values are those a request asks for (same targets, same periods, same keys),
never HTML.

Idempotent: a second run computes and stores the same values again. A card that fails is logged
(its name, the exception's type and its frames — not its message, which may quote data) and the
next card still runs. Nothing personal is
logged: card names, counts and durations only.

The branch and unit pages are not warmed: each is one org's subtree or one unit's orgs, cheap cold
(see README, "预热"), and there are as many of them as orgs — warming them all would cost more than
the few that are opened.
"""

from __future__ import annotations

import logging
import time
import traceback
from datetime import timedelta

from django.utils import timezone

from sizheng.core.scheduler import periodic
from sizheng.dashboard import cards, metrics

log = logging.getLogger(__name__)

WARM_EVERY = timedelta(minutes=4)
WARM_SCOPES = ("all",)


def _log_failure(what: str, exc: BaseException) -> None:
    """The frames, not the message: an exception's text may quote the data it choked on."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("dashboard warm: %s failed (%s)\n%s", what, type(exc).__name__, frames)


def warm_timeout() -> int:
    """How long a warmed value stays: the cache time plus one interval (one late run is covered)."""
    return metrics.ttl() + int(WARM_EVERY.total_seconds())


def warm_cards(ctx: cards.Ctx) -> dict:
    """Build every card of ``ctx``'s page afresh into the cache; a failing card does not stop the rest.

    Returns ``{"cards": {name: milliseconds}, "failed": [names]}``.
    """
    timings: dict[str, int] = {}
    failed: list[str] = []
    with metrics.refreshing(warm_timeout()):
        for c in cards.cards_for(ctx.kind):
            started = time.monotonic()
            try:
                c.build(ctx)
                c.link(ctx)
            except Exception as exc:  # one card's failure must not keep the others cold
                _log_failure(f"card {c.name}", exc)
                failed.append(c.name)
                continue
            timings[c.name] = round(1000 * (time.monotonic() - started))
    return {"cards": timings, "failed": failed}


@periodic("dashboard.warm", every=WARM_EVERY, label="驾驶舱数据预热")
def warm() -> dict:
    """Warm the committee page's cards for this year (see the module docstring)."""
    started = time.monotonic()
    today = timezone.localdate()
    result: dict = {"cards": {}, "failed": []}
    for kind in WARM_SCOPES:
        # The committee page's cards need no user: their targets are every org, not a user's scope.
        part = warm_cards(cards.Ctx(None, kind, today.year, today))
        result["cards"].update(part["cards"])
        result["failed"] += part["failed"]
    # The compliance heatmap's default views (this year, by month and by quarter): its own cache, kept
    # under the life app's data version, so this only computes after a change or at a new day.
    from sizheng.life.views_compliance import warm_committee_heatmap

    try:
        warm_committee_heatmap(today)
    except Exception as exc:  # the cards are warm already; the heatmap then computes on its first view
        _log_failure("compliance heatmap", exc)
        result["failed"].append("life.heatmap")
    result["seconds"] = round(time.monotonic() - started, 1)
    log.info(
        "dashboard warm: %d cards in %.1f s%s",
        len(result["cards"]),
        result["seconds"],
        f", failed: {', '.join(result['failed'])}" if result["failed"] else "",
    )
    return result
