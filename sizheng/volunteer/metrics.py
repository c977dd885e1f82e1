"""The volunteer app's numbers (issue 8 §3), each in O(1) queries for any number of targets.

- ``volunteer.participation_rate`` (org, year): of the current members in the org's subtree, the share
  with at least one confirmed participation in an activity that started in the period.
- ``volunteer.confirmed_hours`` (org, year): the confirmed hours of the subtree's people in the period.
- ``civility.status`` (unit, year): 1 when the unit holds a valid 文明单位 title on the period's last
  day, else 0.

Only confirmed attendance counts (hours are the organiser's confirmation, never self-reported, never app
time). Aggregates per org or unit only: no figure ranks people.
"""

from __future__ import annotations

from sizheng.core.metrics import Suppressed, Tier, metric
from sizheng.volunteer.queries import org_figures, titled_units

NO_MEMBERS = "该组织及其下级组织没有在册党员，无法计算。"


@metric(
    "volunteer.participation_rate",
    label="志愿服务参与率",
    unit="%",
    higher_is_better=True,
    period_kind="year",
    tier=Tier.T0,
    level="org",
    description="组织（含下级组织）在册党员中，本期至少参加过一次经组织单位确认的志愿活动的比例。",
)
def participation_rate(targets: list[int], period) -> dict[int, object]:
    """Members with ≥ 1 confirmed participation, in %, per org subtree (four queries)."""
    figures = org_figures(targets, period.start, period.end)
    return {t: f.rate if f.members else Suppressed(NO_MEMBERS) for t, f in figures.items()}


@metric(
    "volunteer.confirmed_hours",
    label="志愿服务确认时长",
    unit="小时",
    higher_is_better=True,
    period_kind="year",
    tier=Tier.T0,
    level="org",
    description="组织（含下级组织）人员本期参加志愿活动、经组织单位确认的服务时长合计。",
)
def confirmed_hours(targets: list[int], period) -> dict[int, object]:
    """Total confirmed hours per org subtree (four queries); suppressed for a subtree without anyone."""
    figures = org_figures(targets, period.start, period.end)
    return {
        t: float(f.hours) if (f.members or f.hours) else Suppressed(NO_MEMBERS) for t, f in figures.items()
    }


@metric(
    "civility.status",
    label="文明单位创建状态",
    unit="",
    higher_is_better=True,
    period_kind="year",
    tier=Tier.T0,
    level="unit",
    description="期末单位持有有效期内的文明单位称号为 1，否则为 0。",
)
def civility_status(targets: list[int], period) -> dict[int, object]:
    """1 when the unit holds a valid 文明单位 title on the period's end, else 0 (one query)."""
    held = titled_units(targets, period.end)
    return {t: 1 if t in held else 0 for t in targets}
