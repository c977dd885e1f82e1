"""Demo data: two years of responsibility lists and duties across the demo city, with their history.

Each unit-level org (the 机关党委 / 党总支 / 党支部 directly under the root, 党组 aside) gets a
yearly list from the default template, assigned by the 机关工委; unit committees assign a few
duties to their branches; the 机关工委 runs campaigns (集中部署) and, after inspections and the
annual assessment, opens rectification duties (整改). Outcomes follow what really happens: most
close on time, some are reported late with a reason, some are returned once and then closed, some
are extended, a few are cancelled — and this year's are open in every state, some overdue, so the
blue / yellow / red warnings show today.

Two steps, so the history can be checked without a database:

- ``lifecycle(rng, opened=, due=, ...)`` is pure: it draws one duty's whole life as ``Step``s
  (the same actions as ``workflow.TRANSITIONS``); ``replay(steps, due)`` derives the duty's fields
  from any prefix of them, refusing a step the workflow table does not allow.
- ``demo_duties`` cuts every life at *now* and bulk-inserts the duties and their events.

History is written with bulk inserts, not through ``services``: no notifications go out for it
and no audit rows are written (the audit log records what people did in the system, and nobody
did these things; the ``DutyEvent`` timeline carries the history).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sizheng.core.demo import generator
from sizheng.duties import template_data
from sizheng.duties.workflow import ASSIGNER, OWNER, TRANSITIONS

BATCH = 1000

ACCEPT_COMMENTS = ["已认领，将按时完成。", "收到，已明确专人负责。", "已认领，纳入本月工作计划。", ""]
PASS_COMMENTS = ["材料齐全，同意销号。", "经核查，已按要求完成，予以销号。", "同意销号。"]
REVIEW_COMMENTS = ["已收到报送材料，开始核查。", ""]
RETURN_REASONS = [
    "佐证材料不完整，缺少会议记录，请补充后重新报送。",
    "报告对存在问题分析不够深入，对策建议针对性不强，请修改完善。",
    "未附签到表和会议纪要，请补充。",
    "落实情况说明过于简单，请按佐证要求逐项说明。",
]
LATE_REASONS = [
    "因集中承担年度预算编制任务，报送有所延后。",
    "负责同志外出参加培训，材料汇总延后。",
    "等待上级文件精神，会议推迟召开。",
    "适逢机构调整，人员变动较大，工作有所延误。",
    "按督查意见补充完善材料，报送时间有所延后。",
]
EXTENSION_REASONS = [
    "上级统一部署调整了时间安排，申请延期。",
    "与全市专项工作时间冲突，申请延期完成。",
    "需结合年中工作会议一并研究，申请延期。",
]
CANCEL_REASONS = ["因上级部署调整，该事项撤销。", "该事项已并入集中部署任务，不再单独办理。"]
URGE_COMMENTS = ["该事项已超过完成时限，请抓紧办理并说明情况。", "请加快进度，按时报送。"]

# Duties a unit committee / general branch assigns to each of its branches, each year.
BRANCH_ITEMS = [
    ("三会一课", "支部书记讲专题党课", "支部书记结合支部实际为党员讲一次专题党课。", "党课讲稿、活动记录", (6, 30)),
    ("谈心谈话", "支委与党员谈心谈话全覆盖", "支委成员与每名党员至少谈心谈话一次。",
     "谈心谈话台账（只记时间、对象和方式）", (10, 31)),
    ("分析研判", "报送支部党员思想状况", "掌握党员思想动态，形成书面情况报送上级党组织。", "支部党员思想状况报告", (5, 31)),
    ("三会一课", "召开支部组织生活会", "开展批评和自我批评，会后形成整改清单。", "会议记录、整改清单", (12, 20)),
    ("理论学习", "组织党员集中学习研讨", "围绕年度学习专题组织党员集中学习研讨。", "学习记录、研讨发言材料", (9, 30)),
]  # fmt: skip

# Campaigns of the 机关工委: (title, description, launched (month, day), workdays to finish, priority).
CAMPAIGNS = [
    ("开展“世界读书日”机关读书分享活动", "各单位组织干部职工开展读书分享，推荐优秀读书心得。", (4, 3), 15, "normal"),
    ("开展“七一”走访慰问老党员和生活困难党员", "各单位结合实际走访慰问，建立慰问台账。", (6, 10), 12, "high"),
    ("开展作风建设专项整治自查", "对照专项整治要求逐项自查，形成自查报告和问题清单。", (3, 16), 25, "high"),
    ("报送上半年干部职工思想状况分析报告", "按统一提纲报送上半年思想状况分析报告。", (6, 20), 15, "normal"),
    ("组织参加全市机关党务知识竞赛", "各单位组织选拔参赛队员，报送参赛名单。", (9, 1), 10, "normal"),
    ("开展全民国家安全教育日宣传教育", "组织干部职工学习国家安全法律法规，开展宣传教育活动。", (4, 1), 10, "normal"),
    ("开展年度民主评议党员工作", "按统一部署开展民主评议党员，报送评议结果。", (11, 20), 20, "high"),
]  # fmt: skip

# Findings of the 机关工委's inspections and the weak indicators of the annual assessment.
INSPECTION_FINDINGS = [
    "“三会一课”记录不完整，会议记录缺少讨论情况",
    "思想动态分析研判报告内容空泛，对策措施针对性不强",
    "谈心谈话台账记录不全，未做到全覆盖",
    "理论学习中心组学习计划未按时报备",
    "困难干部职工帮扶台账未及时更新",
    "思想政治工作阵地内容长期未更新",
]
WEAK_INDICATORS = ["分析研判报告质量", "谈心谈话覆盖率", "“三会一课”按期召开率", "人文关怀落实情况"]


# --- one duty's life (pure) ------------------------------------------------------------------


@dataclass
class Step:
    """One event of a duty's life: what, on which day (at what time), by which side."""

    action: str
    day: date
    at: datetime
    side: str
    comment: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    evidence: str = ""
    late_reason: str = ""


# Outcome → its share of duties (the rest close on time).
OUTCOMES = (("cancelled", 0.025), ("extended", 0.06), ("returned", 0.10), ("late", 0.12), ("stalled", 0.04))


def pick_outcome(rng: random.Random) -> str:
    """How a duty's life goes, drawn with the shares above."""
    r = rng.random()
    for outcome, share in OUTCOMES:
        if r < share:
            return outcome
        r -= share
    return "on_time"


class _Clock:
    """Steps on workdays, each strictly later than the one before."""

    def __init__(self, rng: random.Random, workday: Callable[[date], date], tz: tzinfo) -> None:
        self.rng, self.workday, self.tz = rng, workday, tz
        self.last: datetime | None = None
        self.day: date | None = None

    def at(self, day: date) -> tuple[date, datetime]:
        day = self.workday(day if self.day is None else max(day, self.day))
        moment = datetime.combine(day, time(9), tzinfo=self.tz) + timedelta(minutes=self.rng.randint(0, 480))
        if self.last is not None and moment <= self.last:
            moment = self.last + timedelta(minutes=self.rng.randint(5, 60))
            day = moment.date()
        self.last, self.day = moment, day
        return day, moment


def lifecycle(
    rng: random.Random,
    *,
    opened: date,
    due: date,
    evidence: str = "",
    outcome: str | None = None,
    workday: Callable[[date], date] = lambda d: d,
    tz: tzinfo | None = None,
) -> list[Step]:
    """A duty's whole life from ``open`` to ``pass`` or ``cancel`` (``due`` already a workday)."""
    clock = _Clock(rng, workday, tz or UTC)
    outcome = outcome or pick_outcome(rng)
    steps: list[Step] = []

    def add(action: str, day: date, side: str, **extra) -> date:
        real_day, moment = clock.at(day)
        steps.append(Step(action, real_day, moment, side, **extra))
        return real_day

    day = add("open", opened, ASSIGNER, payload={"source": "demo"})
    if outcome == "cancelled":
        add(
            "cancel",
            day + timedelta(days=rng.randint(3, 40)),
            ASSIGNER,
            payload={"reason": rng.choice(CANCEL_REASONS)},
        )
        return steps
    # Most accept within days; some are slow to, and a stalled duty may not even be accepted by its deadline.
    if outcome == "stalled" and rng.random() < 0.4:
        accept_on = max(day, due) + timedelta(days=rng.randint(5, 25))
    else:
        accept_on = day + timedelta(days=rng.randint(6, 30) if rng.random() < 0.12 else rng.randint(0, 5))
    day = add("accept", accept_on, OWNER, comment=rng.choice(ACCEPT_COMMENTS))
    if outcome == "extended":
        asked = max(day + timedelta(days=1), due - timedelta(days=rng.randint(2, 10)))
        new_due = workday(due + timedelta(days=rng.randint(10, 30)))
        reason = rng.choice(EXTENSION_REASONS)
        asked = add(
            "request_extension", asked, OWNER, payload={"new_due_on": new_due.isoformat(), "reason": reason}
        )
        approve = rng.random() < 0.8
        add(
            "approve_extension" if approve else "reject_extension",
            asked + timedelta(days=rng.randint(1, 3)),
            ASSIGNER,
            payload={"old_due_on": due.isoformat(), "new_due_on": new_due.isoformat()},
        )
        if approve:
            due = new_due
    # The report day decides the rest: on time, late, or very late (stalled, urged meanwhile).
    if outcome == "late":
        report_on = due + timedelta(days=rng.randint(1, 25))
    elif outcome == "stalled":
        report_on = due + timedelta(days=rng.randint(30, 120))
    else:
        report_on = due - timedelta(days=rng.randint(0, 15))
    start_on = max(clock.day or opened, report_on - timedelta(days=rng.randint(3, 40)))
    add("start", start_on, OWNER)
    if outcome in ("late", "stalled"):
        for urge_on in (due + timedelta(days=rng.randint(1, 5)), due + timedelta(days=rng.randint(12, 20))):
            if urge_on < report_on:
                add("urge", urge_on, ASSIGNER, comment=rng.choice(URGE_COMMENTS))
    late_reason = rng.choice(LATE_REASONS)
    day = add(
        "report",
        report_on,
        OWNER,
        evidence=evidence or "已按要求完成，佐证材料已上传。",
        late_reason=late_reason,
    )
    # The assigning org inspects in batches: a report may wait a week or two for review.
    day = add(
        "review", day + timedelta(days=rng.randint(1, 12)), ASSIGNER, comment=rng.choice(REVIEW_COMMENTS)
    )
    if outcome == "returned":
        day = add(
            "return",
            day + timedelta(days=rng.randint(0, 3)),
            ASSIGNER,
            payload={"reason": rng.choice(RETURN_REASONS)},
        )
        day = add("start", day + timedelta(days=rng.randint(0, 3)), OWNER)
        day = add(
            "report",
            day + timedelta(days=rng.randint(2, 12)),
            OWNER,
            evidence="已按督查意见补充完善，材料重新报送。",
            late_reason=LATE_REASONS[-1],
        )
        day = add("review", day + timedelta(days=rng.randint(1, 6)), ASSIGNER)
    add("pass", day + timedelta(days=rng.randint(0, 7)), ASSIGNER, comment=rng.choice(PASS_COMMENTS))
    return steps


def replay(steps: list[Step], due: date) -> dict[str, Any]:
    """The duty's fields after these steps (any prefix of a life); ValueError on a step the table refuses."""
    if not steps or steps[0].action != "open":
        raise ValueError("a duty's life starts with open")
    f: dict[str, Any] = {
        "state": "assigned",
        "version": 1,
        "due_on": due,
        "evidence": "",
        "late_reason": "",
        "is_late": False,
        "reported_on": None,
        "closed_on": None,
        "returns": 0,
        "requested_due_on": None,
        "extension_reason": "",
    }
    for step in steps[1:]:
        t = TRANSITIONS[step.action]
        if f["state"] not in t.sources or step.side not in t.sides:
            raise ValueError(f"{step.action} is not allowed from {f['state']} by {step.side}")
        if step.action == "report":
            late = step.day > f["due_on"]
            f.update(
                evidence=step.evidence,
                is_late=late,
                late_reason=step.late_reason if late else "",
                reported_on=step.day,
            )
        elif step.action == "return":
            f["returns"] += 1
        elif step.action == "pass":
            f["closed_on"] = step.day
        elif step.action == "request_extension":
            f.update(
                requested_due_on=date.fromisoformat(step.payload["new_due_on"]),
                extension_reason=step.payload["reason"],
            )
        elif step.action in ("approve_extension", "reject_extension"):
            if step.action == "approve_extension":
                f["due_on"] = f["requested_due_on"]
            f.update(requested_due_on=None, extension_reason="")
        f["state"] = t.target or f["state"]
        f["version"] += 1
    return f


# --- the city's duties ---------------------------------------------------------------------


@dataclass
class _Spec:
    """A duty to generate: where, what, when, by whom."""

    org_id: int
    assigning_id: int
    title: str
    opened: date
    due: date
    source_kind: str
    category: str = ""
    description: str = ""
    evidence_required: str = ""
    priority: str = "normal"
    duty_list: int | None = None  # index into the lists
    campaign: int | None = None  # index into the campaigns
    outcome: str | None = None


def _active(org: dict, day: date) -> bool:
    return (org["founded_on"] is None or org["founded_on"] <= day) and (
        org["dissolved_on"] is None or org["dissolved_on"] > day
    )


def plan_specs(
    rng: random.Random,
    orgs: list[dict],
    root_id: int,
    today: date,
    add_workdays: Callable[[date, int], date],
):
    """Lists, campaigns and duty specs for last year and this year (only what is opened by today).

    ``add_workdays(day, n)``: the calendar (n == 0 gives the day itself or the next workday)."""

    def workday(d: date) -> date:
        return add_workdays(d, 0)

    # The last workday up to today: this year's list is opened on it at the latest.
    latest = add_workdays(add_workdays(today + timedelta(days=1), 0), -1)
    unit_orgs = [o for o in orgs if o["depth"] == 1 and o["kind"] != "leading_group"]
    children: dict[int, list[dict]] = {}
    for o in orgs:
        if o["depth"] == 2 and o["kind"] == "branch":
            children.setdefault(o["parent_id"], []).append(o)
    lists: list[tuple[int, int, date]] = []  # (org id, year, opened)
    campaigns: list[tuple[str, str, date, date, str]] = []
    specs: list[_Spec] = []

    def add(org: dict, opened: date, due: date, **fields) -> None:
        if opened <= today and _active(org, opened) and _active(org, due):
            specs.append(_Spec(org_id=org["id"], opened=opened, due=due, **fields))

    for year in (today.year - 1, today.year):
        list_day = min(latest, workday(date(year, 1, rng.randint(5, 15))))
        for org in unit_orgs:
            if not _active(org, list_day):
                continue
            lists.append((org["id"], year, list_day))
            for item in template_data.template_duties(year):
                add(org, list_day, workday(item.pop("due_on")), assigning_id=root_id, source_kind="template",
                    duty_list=len(lists) - 1, **item)  # fmt: skip
            for branch in children.get(org["id"], []):
                for category, title, desc, evidence, (m, d) in rng.sample(BRANCH_ITEMS, 3):
                    opened = workday(date(year, max(1, m - 2), rng.randint(1, 20)))
                    add(branch, opened, workday(date(year, m, d)), assigning_id=org["id"], title=title,
                        source_kind="manual", category=category, description=desc,
                        evidence_required=evidence)  # fmt: skip
        for title, desc, (m, d), days, priority in rng.sample(CAMPAIGNS, 4):
            launched = workday(date(year, m, d))
            if launched > today:
                continue
            due = workday(launched + timedelta(days=days * 7 // 5))
            campaigns.append((title, desc, launched, due, priority))
            share = rng.uniform(0.6, 1.0)
            for org in unit_orgs:
                if rng.random() < share:
                    add(org, launched, due, assigning_id=root_id, title=title, source_kind="campaign",
                        category="集中部署", description=desc, evidence_required="落实情况报告及相关佐证材料",
                        priority=priority, campaign=len(campaigns) - 1)  # fmt: skip
        # Rectification after the autumn inspection, and after last year's assessment in spring.
        for org in unit_orgs:
            if rng.random() < 0.15:
                opened = workday(date(year, 10, rng.randint(10, 25)))
                finding = rng.choice(INSPECTION_FINDINGS)
                add(org, opened, workday(opened + timedelta(days=30)), assigning_id=root_id,
                    title=f"整改：{finding}", source_kind="inspection", category="督查考核", priority="high",
                    description=f"机关工委督查发现：{finding}。请制定整改措施，限期整改并报送整改情况。",
                    evidence_required="整改报告及相关佐证材料")  # fmt: skip
            if rng.random() < 0.1:
                opened = workday(date(year, 3, rng.randint(1, 20)))
                indicator = rng.choice(WEAK_INDICATORS)
                add(org, opened, workday(opened + timedelta(days=45)), assigning_id=root_id,
                    title=f"整改：{year - 1}年度考核“{indicator}”得分偏低", source_kind="indicator",
                    category="督查考核", priority="high", evidence_required="整改措施及落实情况",
                    description=f"{year - 1}年度思想政治工作考核中“{indicator}”指标得分低于全市平均水平，"
                    "请分析原因、制定措施并报送整改情况。")  # fmt: skip
    _present(unit_orgs, root_id, latest, add_workdays, campaigns, specs, add)
    return lists, campaigns, specs


# Work of the last weeks, relative to today, so the boards show every warning whatever the date:
# (title, description, opened / due in workdays from the last workday, share of orgs, outcomes in turn).
PRESENT = [
    ("报送近期干部职工思想动态专报", "按统一提纲报送近期干部职工思想动态，重点反映苗头性、倾向性问题。",
     -25, -3, 1.0, ["stalled", "on_time", "late", "on_time", "returned", "on_time"]),
    ("整改：“三会一课”会议记录不规范", "机关工委督查发现部分会议记录不规范。请对照要求整改并报送整改情况。",
     -45, -15, 0.34, ["stalled", "on_time", "late"]),
    ("报送本单位思想政治工作典型案例", "各单位总结报送一至两个思想政治工作典型案例。",
     -1, 4, 1.0, ["late", "on_time", "stalled", "on_time"]),
]  # fmt: skip


def _present(unit_orgs, root_id, latest, add_workdays, campaigns, specs, add) -> None:
    """This weeks' campaigns and rectification: overdue (red, yellow) and due soon (blue) for some orgs."""
    for title, desc, opened_in, due_in, share, outcomes in PRESENT:
        opened, due = add_workdays(latest, opened_in), add_workdays(latest, due_in)
        if title.startswith("整改"):
            kind = {"source_kind": "inspection", "category": "督查考核"}
            evidence = "整改报告及相关佐证材料"
        else:
            campaigns.append((title, desc, opened, due, "high"))
            kind = {"source_kind": "campaign", "category": "集中部署", "campaign": len(campaigns) - 1}
            evidence = "落实情况报告及相关佐证材料"
        for n, org in enumerate(unit_orgs[:: round(1 / share)]):
            add(org, opened, due, assigning_id=root_id, title=title, description=desc, priority="high",
                evidence_required=evidence, outcome=outcomes[n % len(outcomes)], **kind)  # fmt: skip


@generator("duties.history", order=200, label="责任清单：两年的事项")
def demo_duties(ctx) -> None:
    """Two years of lists and duties with their timelines (skipped when duties already exist)."""
    from django.db import transaction
    from django.utils import timezone

    from sizheng.core.calendar import get_calendar
    from sizheng.duties.models import Campaign, Duty, DutyEvent, DutyList
    from sizheng.org.models import Org, OrgRole

    if Duty.objects.exists():
        ctx.log("  已有责任事项，跳过。")
        return
    rng = ctx.rng
    now = timezone.now()
    today = timezone.localdate(now)
    tz = timezone.get_current_timezone()
    cal = get_calendar()

    def workday(d: date) -> date:
        return cal.add_workdays(d, 0)

    orgs = list(
        Org.objects.order_by("path").values("id", "parent_id", "depth", "kind", "founded_on", "dissolved_on")
    )
    if not orgs:
        ctx.log("  没有党组织，跳过责任清单。")
        return
    root_id = ctx.shared.get("root_org_id") or next(o["id"] for o in orgs if o["parent_id"] is None)
    names = dict(Org.objects.values_list("pk", "name"))
    # The current secretary owns the org's duties and acts for it (when they have an account).
    secretaries: dict[int, tuple[int, int | None]] = {}
    for org_id, person_id, user_id in (
        OrgRole.objects.filter(title=OrgRole.Title.SECRETARY, starts_on__lte=today)
        .exclude(ends_on__lt=today)
        .order_by("starts_on", "pk")
        .values_list("org_id", "person_id", "person__user_id")
    ):
        secretaries[org_id] = (person_id, user_id)
    gongwei = (ctx.shared.get("accounts") or {}).get("gongwei")

    def user_of(org_id: int) -> int | None:
        if org_id == root_id:
            return gongwei
        return secretaries.get(org_id, (None, None))[1]

    lists, campaigns, specs = plan_specs(rng, orgs, root_id, today, cal.add_workdays)
    with transaction.atomic():
        list_objs = [
            DutyList(
                org_id=org_id,
                year=year,
                title=template_data.list_title(names[org_id], year),
                template=template_data.TEMPLATE_KEY,
                created_by_id=gongwei,
                created_at=min(now, datetime.combine(opened, time(9), tzinfo=tz)),
            )
            for org_id, year, opened in lists
        ]
        DutyList.objects.bulk_create(list_objs, batch_size=BATCH)
        campaign_objs = [
            Campaign(
                title=title,
                description=desc,
                assigning_org_id=root_id,
                due_on=due,
                created_by_id=gongwei,
                created_at=datetime.combine(launched, time(10), tzinfo=tz),
            )
            for title, desc, launched, due, _ in campaigns
        ]
        Campaign.objects.bulk_create(campaign_objs, batch_size=BATCH)

        duties: list[Duty] = []
        lives: list[list[Step]] = []
        for spec in specs:
            steps = lifecycle(
                rng,
                opened=spec.opened,
                due=spec.due,
                evidence=_evidence(spec),
                outcome=spec.outcome,
                workday=workday,
                tz=tz,
            )
            steps = [s for s in steps if s.at <= now]
            if not steps:
                continue
            fields = replay(steps, spec.due)
            owner = secretaries.get(spec.org_id, (None, None))[0]
            duties.append(
                Duty(
                    duty_list=list_objs[spec.duty_list] if spec.duty_list is not None else None,
                    campaign=campaign_objs[spec.campaign] if spec.campaign is not None else None,
                    title=spec.title,
                    description=spec.description,
                    category=spec.category,
                    assignee_org_id=spec.org_id,
                    owner_id=owner,
                    assigning_org_id=spec.assigning_id,
                    evidence_required=spec.evidence_required,
                    priority=spec.priority,
                    source_kind=spec.source_kind,
                    source_id=campaign_objs[spec.campaign].pk if spec.campaign is not None else None,
                    created_by_id=user_of(spec.assigning_id),
                    created_at=steps[0].at,
                    **fields,
                )
            )
            lives.append(steps)
        Duty.objects.bulk_create(duties, batch_size=BATCH)
        events = []
        for duty, steps in zip(duties, lives, strict=True):
            state = "assigned"
            for step in steps:
                target = "assigned" if step.action == "open" else (TRANSITIONS[step.action].target or state)
                payload = {"source": duty.source_kind} if step.action == "open" else step.payload
                actor = user_of(duty.assignee_org_id if step.side == OWNER else duty.assigning_org_id)
                events.append(
                    DutyEvent(
                        duty=duty,
                        action=step.action,
                        from_state="" if step.action == "open" else state,
                        to_state=target,
                        actor_id=actor,
                        at=step.at,
                        comment=step.comment,
                        payload=payload,
                    )
                )
                state = target
        DutyEvent.objects.bulk_create(events, batch_size=BATCH)
    ctx.log(
        f"  责任清单 {len(list_objs)} 份，集中部署 {len(campaign_objs)} 项，责任事项 {len(duties)} 项，"
        f"办理记录 {len(events)} 条。"
    )


def _evidence(spec: _Spec) -> str:
    """What the owner side writes when reporting (the evidence files are not generated)."""
    if spec.evidence_required:
        return f"已按要求完成。佐证材料：{spec.evidence_required}。"
    return "已按要求完成，佐证材料已上传。"
