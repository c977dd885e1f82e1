"""Wellbeing numbers (issue 6 §6): T3 aggregates, so the registry gives them to counselors (and to
leaders over groups ≥ the anonymity threshold) and never to assessment or the dashboard.

Targets are org ids; a value covers the org's subtree and every screening of the period's waves,
named and anonymous (stored or still pending in the pool). Below ``ANONYMITY_MIN_GROUP`` screenings
the value is suppressed. Each metric reads in four queries whatever the number of targets.
"""

from __future__ import annotations

from django.conf import settings

from sizheng.care import wellbeing
from sizheng.core.metrics import Suppressed, Tier, metric

TOO_FEW = "参与自评的人数少于匿名阈值，不予显示。"


def _counts(targets: list[int], period) -> dict[int, wellbeing.Counts]:
    recs = wellbeing.records(wellbeing.waves_of(period.start, period.end))
    return wellbeing.subtree_counts(targets, recs)


@metric(
    "wellbeing.participation",
    label="心理自评参与人次",
    unit="人次",
    higher_is_better=True,
    period_kind="year",
    tier=Tier.T3,
    level="org",
    description="本年度本组织（含下级）实名与匿名心理自评的人次；少于匿名阈值时不予显示。",
)
def participation(targets: list[int], period) -> dict[int, object]:
    """Screenings in the org's subtree during the period (named + anonymous)."""
    k = settings.ANONYMITY_MIN_GROUP
    return {t: c.total if c.total >= k else Suppressed(TOO_FEW) for t, c in _counts(targets, period).items()}


@metric(
    "wellbeing.severe_share",
    label="自评结果为重度的比例",
    unit="%",
    higher_is_better=False,
    period_kind="year",
    tier=Tier.T3,
    level="org",
    description="本年度本组织（含下级）心理自评中结果为重度（PHQ-9 20–27 分、GAD-7 15–21 分）的比例。",
)
def severe_share(targets: list[int], period) -> dict[int, object]:
    """Share of screenings in the severe band, in %."""
    k = settings.ANONYMITY_MIN_GROUP
    return {
        t: round(100 * c.severe / c.total, 1) if c.total >= k else Suppressed(TOO_FEW)
        for t, c in _counts(targets, period).items()
    }
