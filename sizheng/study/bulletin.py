"""The 学习情况通报: a 公文 Word bulletin on theory study in an org's subtree over a quarter or a year.

Sections: 一、总体情况 (study sessions by kind against the plans' topics, central-group sessions
against the CGS rules, attendance rate), 二、主要做法 (topics covered, keynote speeches by role —
counts), 三、存在问题 (orgs behind on central-group study, observer loops late, members below the
training-hour requirement — counts per org, never a list of people), 四、下一步工作 (a standard
paragraph plus one item per kind of problem), the 落款, and a table with one row per org.

Everything comes from the existing functions (``life.compliance.evaluate``, ``study.hours.standing``,
``study.services.observation_warnings``) and a fixed number of queries whatever the size of the tree.
No points and no rankings: the per-org table is in tree order, not sorted by any figure.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from sizheng.core.docx import OfficialDocument
from sizheng.core.rules import Period
from sizheng.life import compliance
from sizheng.life.models import Attendance, AttendanceStatus, ComplianceRule, MeetingKind
from sizheng.org.models import Org, OrgRole, Person
from sizheng.study import hours
from sizheng.study.models import Observation, StudySession, StudyTopic
from sizheng.study.services import observation_warnings

BULLETIN_KINDS = ("quarter", "year")
LATE_CODES = frozenset({"materials_overdue", "materials_late", "summary_overdue", "summary_late"})
BEHIND_STATUSES = frozenset({"warning", "violation"})
ROLE_LABELS = {"leader": "领导班子成员", "secretary": "党组织书记", "member": "其他同志"}
STANDARD_NEXT_STEPS = (
    "各级党组织要坚持把学习贯彻党的创新理论作为首要政治任务，严格落实“三会一课”和理论学习中心组学习"
    "制度，按照年度学习计划安排专题学习，认真做好请假补学、列席旁听和学习档案整理工作，推动理论学习"
    "往深里走、往心里走、往实里走。"
)


def parse_period(key: str) -> Period:
    """A bulletin period from its key ("2026-Q3" or "2026"); ValueError for anything else."""
    period = Period.parse(key)
    if period.kind not in BULLETIN_KINDS:
        raise ValueError(f"学习情况通报只按季度或年度编制：{key}")
    return period


@dataclass
class OrgFigures:
    """One org's figures for the period (counts only)."""

    org: Org
    sessions: int = 0
    topics_planned: int = 0
    topics_covered: int = 0
    expected: int = 0
    present: int = 0
    cgs_held: int | None = None  # None: no central-group rule binds this org
    cgs_required: int | None = None
    cgs_behind: list[str] = field(default_factory=list)  # labels of the CGS rules not kept
    observations_late: int = 0
    members: int = 0
    below_hours: int = 0

    @property
    def attendance_rate(self) -> float | None:
        """Present of expected, in %."""
        return round(100 * self.present / self.expected, 1) if self.expected else None


@dataclass
class Bulletin:
    """What the bulletin says, computed once (also used by the yearly archive)."""

    org: Org
    period: Period
    rows: list[OrgFigures]
    by_kind: dict[str, int]
    topics_titles: list[str]
    keynotes_by_role: dict[str, int]
    keynote_speakers: int
    today: date

    @property
    def title(self) -> str:
        """关于{period}理论学习情况的通报."""
        return f"关于{self.period.label}理论学习情况的通报"

    def total(self, name: str) -> int:
        """The sum of one figure over all orgs."""
        return sum(getattr(r, name) or 0 for r in self.rows)

    @property
    def attendance_rate(self) -> float | None:
        """Present of expected over the whole subtree, in %."""
        expected = self.total("expected")
        return round(100 * self.total("present") / expected, 1) if expected else None

    @property
    def cgs_rows(self) -> list[OrgFigures]:
        """Orgs a central-group rule binds."""
        return [r for r in self.rows if r.cgs_required is not None]

    @property
    def behind(self) -> list[OrgFigures]:
        """Orgs behind on central-group study."""
        return [r for r in self.rows if r.cgs_behind]

    @property
    def late_loops(self) -> list[OrgFigures]:
        """Orgs with observer loops late on either side."""
        return [r for r in self.rows if r.observations_late]

    @property
    def below(self) -> list[OrgFigures]:
        """Orgs with members below the training-hour requirement."""
        return [r for r in self.rows if r.below_hours]


def _bounds(period: Period) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(period.start, time.min, tzinfo=tz),
        datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=tz),
    )


def _cgs(orgs: list[Org], period: Period, today: date) -> dict[int, tuple[int, int, list[str]]]:
    """{org_id: (held, required, [labels of rules behind])} from the central-group rules."""
    rules = list(
        ComplianceRule.objects.filter(activity=MeetingKind.CENTRAL_GROUP_STUDY, is_active=True).values_list(
            "code", "period", "label"
        )
    )
    if not rules:
        return {}
    year = Period.of("year", period.start.year)
    # A quarter's bulletin checks the quarterly rules for that quarter and the yearly ones for the year;
    # a yearly bulletin checks the yearly rules and every quarter.
    periods = [period, year] if period.kind == "quarter" else [year, *(Period.of("quarter", year.start.year, i)
                                                                      for i in range(1, 5))]  # fmt: skip
    matrix = compliance.evaluate(orgs, periods, today=today, rule_codes=[c for c, _, _ in rules])
    labels = {c: label for c, _, label in rules}
    kinds = {c: kind for c, kind, _ in rules}
    out: dict[int, tuple[int, int, list[str]]] = {}
    for (org_id, code, key), outcome in matrix.outcomes.items():
        held, required, behind = out.get(org_id, (0, 0, []))
        p = Period.parse(key)
        if p.kind == period.kind and p.key == period.key:
            # The rule of the bulletin's own period gives the headline figure.
            held, required = max(held, outcome.held), max(required, outcome.required)
        late = outcome.status in BEHIND_STATUSES
        if (
            not late
            and outcome.status == "not_yet_due"
            and period.kind == "quarter"
            and kinds[code] == "year"
        ):
            # Half way through the year, a yearly count is behind when below its pro-rata share.
            late = outcome.held < math.ceil(outcome.required * period.index / 4)
        if late and labels[code] not in behind:
            behind.append(labels[code])
        out[org_id] = (held, required, behind)
    return out


def _secretary_ids(person_ids, day: date) -> set[int]:
    return set(
        OrgRole.objects.filter(person_id__in=person_ids, title=OrgRole.Title.SECRETARY, starts_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .values_list("person_id", flat=True)
    )


def bulletin_data(org: Org, period: Period, *, today: date | None = None) -> Bulletin:
    """The bulletin's figures for the org's subtree over the period (a fixed number of queries)."""
    today = today or timezone.localdate()
    since, until = _bounds(period)
    # Orgs that existed at some time in the period (a branch dissolved mid-quarter still reports).
    orgs = list(
        Org.objects.subtree_of(org)
        .filter(Q(founded_on__isnull=True) | Q(founded_on__lte=period.end))
        .filter(Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=period.start))
        .order_by("path")
    )
    if org.pk not in {o.pk for o in orgs}:
        orgs.insert(0, org)
    org_ids = [o.pk for o in orgs]
    rows = {o.pk: OrgFigures(org=o) for o in orgs}
    meetings = hours.study_meetings().filter(org_id__in=org_ids, starts_at__gte=since, starts_at__lt=until)

    by_kind: Counter[str] = Counter()
    for org_id, kind, n in meetings.values_list("org_id", "kind").annotate(n=Count("pk")).order_by():
        rows[org_id].sessions += n
        by_kind[MeetingKind(kind).label] += n

    attendance = (
        Attendance.objects.filter(meeting__in=meetings.values("pk"))
        .exclude(status=AttendanceStatus.NON_VOTING)
        .values("meeting__org_id")
        .annotate(total=Count("pk"), present=Count("pk", filter=Q(status=AttendanceStatus.PRESENT)))
        .order_by()
    )
    for r in attendance:
        rows[r["meeting__org_id"]].expected += r["total"]
        rows[r["meeting__org_id"]].present += r["present"]

    # Topics of the org plans scheduled in the period, and whether a counted session took them up.
    covered = StudySession.objects.filter(
        topic=OuterRef("pk"), meeting__in=hours.study_meetings().filter(starts_at__lt=until).values("pk")
    )
    topics = StudyTopic.objects.filter(plan__org_id__in=org_ids, plan__year=period.start.year)
    if period.kind == "quarter":
        # A topic without a month or a day belongs to the year, not to any one quarter.
        months = range(period.start.month, period.end.month + 1)
        topics = topics.filter(
            Q(scheduled_on__range=(period.start, period.end)) | Q(scheduled_on__isnull=True, month__in=months)
        )
    topics = topics.annotate(done=Exists(covered)).values_list("plan__org_id", "done")
    for org_id, done in topics:
        rows[org_id].topics_planned += 1
        rows[org_id].topics_covered += bool(done)

    titles: list[str] = []
    for linked, topic in meetings.values_list("study_session__topic__title", "topic").order_by(
        "starts_at", "pk"
    ):
        title = linked or topic
        if title and title not in titles:
            titles.append(title)

    speeches = list(
        StudySession.keynote_speakers.through.objects.filter(
            studysession__meeting__in=meetings.values("pk")
        ).values_list("person_id", "person__is_leader")
    )
    secretaries = _secretary_ids({pid for pid, _ in speeches}, period.end)
    keynotes: Counter[str] = Counter()
    for pid, is_leader in speeches:
        keynotes["leader" if is_leader else "secretary" if pid in secretaries else "member"] += 1

    for org_id, (held, required, behind) in _cgs(orgs, period, today).items():
        rows[org_id].cgs_held, rows[org_id].cgs_required, rows[org_id].cgs_behind = held, required, behind

    observations = Observation.objects.filter(observed_org_id__in=org_ids).filter(
        Q(materials_due_on__range=(period.start, period.end))
        | Q(summary_due_on__range=(period.start, period.end))
    )
    for obs in observations:
        if any(w.code in LATE_CODES for w in observation_warnings(obs, today)):
            rows[obs.observed_org_id].observations_late += 1

    members = list(
        Person.objects.current().party_members().filter(org_id__in=org_ids).values_list("pk", "org_id")
    )
    standing = hours.standing([pk for pk, _ in members], period.start.year)
    # A quarter's bulletin compares the hours so far with the pro-rata share of the yearly requirement.
    share = period.index / 4 if period.kind == "quarter" else 1
    for pk, org_id in members:
        rows[org_id].members += 1
        s = standing[pk]
        rows[org_id].below_hours += s["hours"] < s["required"] * share

    return Bulletin(
        org=org, period=period, rows=list(rows.values()), by_kind=dict(by_kind), topics_titles=titles,
        keynotes_by_role={ROLE_LABELS[k]: keynotes[k] for k in ROLE_LABELS if keynotes[k]},
        keynote_speakers=len({pid for pid, _ in speeches}), today=today,
    )  # fmt: skip


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:g}%"


def _overview(b: Bulletin) -> list[str]:
    """一、总体情况."""
    sessions = b.total("sessions")
    kinds = "，".join(f"{k}{n}次" for k, n in sorted(b.by_kind.items(), key=lambda kv: kv[0]))
    lines = [
        f"{b.period.label}，{b.org.name}及所属{len(b.rows) - 1}个党组织共开展理论学习活动{sessions}次"
        + (f"，其中{kinds}。" if kinds else "。")
    ]
    planned, covered = b.total("topics_planned"), b.total("topics_covered")
    if planned:
        lines.append(
            f"各级学习计划安排本期学习专题{planned}个，已组织学习{covered}个，完成{round(100 * covered / planned)}%。"
        )
    else:
        lines.append("本期各级学习计划未安排学习专题。")
    cgs = b.cgs_rows
    if cgs:
        lines.append(
            f"{len(cgs)}个党组（党委）理论学习中心组本期开展集体学习{sum(r.cgs_held or 0 for r in cgs)}次，"
            f"按学习规则应不少于{sum(r.cgs_required or 0 for r in cgs)}次；{len(cgs) - len(b.behind)}个达到要求。"
        )
    rate = b.attendance_rate
    lines.append(
        f"应参加学习{b.total('expected')}人次，实到{b.total('present')}人次，出勤率{_rate(rate)}。"
        if rate is not None
        else "本期学习活动尚未登记出席情况。"
    )
    return lines


def _practice(b: Bulletin) -> list[str]:
    """二、主要做法."""
    lines = []
    if b.topics_titles:
        shown = "、".join(f"“{t}”" for t in b.topics_titles[:8])
        more = f"等{len(b.topics_titles)}个专题" if len(b.topics_titles) > 8 else ""
        lines.append(f"围绕{shown}{more}开展学习研讨。")
    else:
        lines.append("本期没有已提交的学习活动记录。")
    if b.keynotes_by_role:
        parts = "，".join(f"{k}{n}人次" for k, n in b.keynotes_by_role.items())
        lines.append(f"{b.keynote_speakers}名同志作主旨发言，其中{parts}。")
    else:
        lines.append("本期学习活动未登记主旨发言。")
    return lines


def _problems(b: Bulletin) -> list[str]:
    """三、存在问题 (counts per org)."""
    lines = []
    if b.behind:
        names = "、".join(r.org.name for r in b.behind)
        lines.append(f"中心组学习不够经常：{len(b.behind)}个党组织未达到中心组学习次数要求（{names}）。")
    if b.late_loops:
        parts = "、".join(f"{r.org.name}{r.observations_late}件" for r in b.late_loops)
        lines.append(
            f"列席旁听闭环不够及时：材料报送或列席小结逾期共{b.total('observations_late')}件（{parts}）。"
        )
    if b.below:
        parts = "、".join(f"{r.org.name}{r.below_hours}人" for r in b.below)
        what = "学时进度未达到年度要求的相应比例" if b.period.kind == "quarter" else "年度学时未达到要求"
        lines.append(f"{what}的党员共{b.total('below_hours')}人（{parts}）。")
    if not lines:
        lines.append("本期未发现中心组学习、列席旁听和学时方面的突出问题。")
    return lines


def _next_steps(b: Bulletin) -> list[str]:
    """四、下一步工作: the standard paragraph and one item per kind of problem."""
    lines = [STANDARD_NEXT_STEPS]
    n = 0
    for present, text in (
        (
            b.behind,
            "未达到中心组学习次数要求的党组织要对照学习计划，抓紧补齐集体学习，确保全年学习次数和质量。",
        ),
        (b.late_loops, "被列席单位要提前5个工作日报送学习方案和材料，列席人要在10个工作日内提交列席小结。"),
        (b.below, "学时不足的党员要合理安排时间参加集中学习，缺学的及时补学，所在党组织书记要加强提醒督促。"),
    ):
        if present:
            n += 1
            lines.append(f"{n}．{text}")
    return lines


TABLE_HEADERS = ["党组织", "学习活动", "计划专题", "出勤率", "中心组学习", "学时未达标", "列席逾期"]
TABLE_WIDTHS = [44, 16, 18, 18, 22, 20, 18]
TABLE_NOTE = "注：学习活动单位为次；计划专题、中心组学习为“已学/应学”；学时未达标单位为人；列席逾期单位为件。"


def table_rows(b: Bulletin) -> list[list]:
    """One row per org, in tree order."""
    return [
        [
            r.org.name,
            r.sessions,
            f"{r.topics_covered}/{r.topics_planned}" if r.topics_planned else "—",
            _rate(r.attendance_rate),
            f"{r.cgs_held}/{r.cgs_required}" if r.cgs_required is not None else "—",
            r.below_hours,
            r.observations_late,
        ]  # fmt: skip
        for r in b.rows
    ]


def build_docx(b: Bulletin) -> bytes:
    """The bulletin as a 公文 .docx."""
    doc = OfficialDocument(title=b.title)
    for heading, lines in (
        ("总体情况", _overview(b)),
        ("主要做法", _practice(b)),
        ("存在问题", _problems(b)),
        ("下一步工作", _next_steps(b)),
    ):
        doc.heading(heading)
        for line in lines:
            doc.paragraph(line)
    doc.paragraph("附表：各党组织理论学习情况", indent=False)
    doc.table(TABLE_HEADERS, table_rows(b), col_widths_mm=TABLE_WIDTHS)
    doc.paragraph(TABLE_NOTE, indent=False)
    doc.signature(b.org.full_name, b.today)
    return doc.to_bytes()
