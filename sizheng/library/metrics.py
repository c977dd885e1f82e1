"""The library's numbers (issue 8 §4), per org subtree and year, each in two queries for any targets.

- ``library.materials_published``: materials and column articles owned by the subtree's orgs that
  went online (``published_at``) in the period and are still published (a withdrawn item no longer
  counts).
- ``library.materials_attached``: materials attached in the period to study plans, study sessions and
  党课 of the subtree's orgs.

Counts of what the organisation did, never of what people read: no reading time, no views per person,
no likes, no points.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from sizheng.core.metrics import Tier, metric
from sizheng.library.models import Attachment, Material, MaterialState
from sizheng.org.models import Org


def _bounds(period) -> tuple[datetime, datetime]:
    """The period as aware datetimes [start, end) in the platform's time zone."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(period.start, time.min, tzinfo=tz)
    end = datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def _by_subtree(targets: list[int], rows_for) -> dict[int, int]:
    """Sum per-org counts over each target's subtree: one query for the targets' paths, one for counts.

    ``rows_for(path_q)`` returns (org path, count) rows restricted by ``path_q`` (a Q on ``org__path``).
    """
    paths = dict(Org.objects.filter(pk__in=targets).values_list("pk", "path"))
    if not paths:
        return {}
    # Only the outermost subtrees need a prefix condition; nested targets are inside them.
    roots = sorted(set(paths.values()))
    outer = [p for i, p in enumerate(roots) if not any(p.startswith(q) for q in roots[:i])]
    path_q = Q(pk__in=[])
    for p in outer:
        path_q |= Q(org__path__startswith=p)
    counts: Counter[str] = Counter()
    for org_path, n in rows_for(path_q):
        counts[org_path] += n
    return {t: sum(n for p, n in counts.items() if p.startswith(path)) for t, path in paths.items()}


@metric(
    "library.materials_published",
    label="学习资料发布数",
    unit="篇",
    higher_is_better=True,
    period_kind="year",
    tier=Tier.T0,
    level="org",
    description="组织（含下级组织）本期在学习资料库和思政专栏发布、目前仍在发布状态的资料和文章数。",
)
def materials_published(targets: list[int], period) -> dict[int, object]:
    """Materials and articles that went online in the period, per org subtree (two queries)."""
    start, end = _bounds(period)

    def rows(path_q):
        return (
            Material.objects.filter(
                path_q, state=MaterialState.PUBLISHED, published_at__gte=start, published_at__lt=end
            )
            .values("org__path")
            .annotate(n=Count("pk"))
            .values_list("org__path", "n")
        )

    return _by_subtree(targets, rows)


@metric(
    "library.materials_attached",
    label="学习资料使用次数",
    unit="次",
    higher_is_better=True,
    period_kind="year",
    tier=Tier.T0,
    level="org",
    description="本期为组织（含下级组织）的学习计划、学习活动和党课添加学习资料的次数。",
)
def materials_attached(targets: list[int], period) -> dict[int, object]:
    """Attachments made in the period to the subtree's plans, sessions and 党课 (two queries)."""
    start, end = _bounds(period)

    def rows(path_q):
        return (
            Attachment.objects.filter(path_q, attached_at__gte=start, attached_at__lt=end)
            .values("org__path")
            .annotate(n=Count("pk"))
            .values_list("org__path", "n")
        )

    return _by_subtree(targets, rows)
