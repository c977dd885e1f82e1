"""Demo data: two years of organisational life (三会一课, 主题党日, 组织生活会, 民主评议党员, 民主生活会,
中心组学习) across the demo city, with exemptions and appraisals.

What it writes, for last year and this year up to yesterday, following the active national rules
in ``life.ComplianceRule`` (the org kinds each activity binds come from the rules table):

- branches: a 党员大会 and a 党课 a quarter, a 主题党日 a month (on a fixed day of the month), a 支委会
  a month where the branch has a committee, a yearly 组织生活会 and 民主评议党员 — mostly in Q4, some
  in the next Q1 or early (timing warnings); 党小组: a 党小组会 a month; 党组: a yearly 民主生活会
  reported upward within 15 days (some late) and 中心组学习 about 8–12 times a year;
- realistic gaps: a few weak branches (and shuji_b's) miss about a third of their activities, the
  others rarely miss one; shuji_a's branch has a full record but for last month's 支委会;
- a few drafts (recent ones mostly) and returned records, which do not count;
- exemptions with reasons: branches without a committee from the 支委会 rule (most of them), a
  branch founded mid-quarter, a few months when a branch's 主题党日 was called off;
- attendance from the roster (the same people ``services.expected_attendees`` picks, computed once
  per org): about 90 % present, the rest on leave or absent with a reason; many on leave made up the
  study afterwards (补学 with a short reflection);
- appraisals (民主评议党员): last year's approved for most branches, with about a quarter 优秀 (a couple
  of branches above 1/3 with a reason and flagged); this year's open or proposed for some.

History is written with bulk inserts, not through ``services``: no notifications go out and no audit
rows are written (the audit log records what people did in the system; nobody did these things).
Deterministic: everything is drawn from the generator's seeded stream in a fixed order.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sizheng.core.demo import generator

BATCH = 2000

# --- phrase banks -------------------------------------------------------------------------------

STUDY_THEMES = [
    "学习贯彻党的二十届四中全会精神",
    "学习贯彻党的二十届三中全会精神",
    "学习《中国共产党纪律处分条例》",
    "深入贯彻中央八项规定精神学习教育",
    "学习《习近平谈治国理政》第五卷",
    "学习贯彻习近平总书记关于党的建设的重要思想",
    "学习《中国共产党章程》",
    "学习《中国共产党支部工作条例（试行）》",
    "学习贯彻习近平总书记考察湖南重要讲话精神",
    "学习习近平新时代中国特色社会主义思想",
    "学习《中国共产党党员教育管理工作条例》",
    "学习贯彻全国两会精神",
    "学习《习近平关于调查研究论述摘编》",
    "学习贯彻习近平文化思想",
    "学习贯彻习近平生态文明思想",
    "学习贯彻习近平经济思想",
    "学习贯彻习近平法治思想",
    "学习贯彻总体国家安全观",
    "学习《中国共产党巡视工作条例》",
    "学习党史、新中国史、改革开放史、社会主义发展史",
    "学习《党政机关厉行节约反对浪费条例》",
    "学习贯彻全面从严治党战略部署",
    "学习贯彻中央经济工作会议精神",
    "学习《关于新形势下党内政治生活的若干准则》",
]
THEME_DAY_TOPICS = [
    "重温入党誓词，过政治生日",
    "参观革命传统教育基地",
    "开展“我为群众办实事”志愿服务",
    "走进社区开展文明创建志愿服务",
    "观看警示教育片",
    "开展“学条例、守规矩”知识测试",
    "开展读书分享会",
    "参观廉政教育基地",
    "开展结对共建活动",
    "开展义务植树活动",
    "开展“七一”重温入党誓词活动",
    "开展国家安全教育日宣传活动",
]
LECTURE_TOPICS = [
    "坚定理想信念，做忠诚干净担当的机关干部",
    "以自我革命精神推进全面从严治党",
    "弘扬伟大建党精神，走好新时代长征路",
    "深入学习贯彻党的二十届四中全会精神",
    "严守政治纪律和政治规矩",
    "树立和践行正确政绩观",
    "坚持以人民为中心的发展思想",
    "锤炼过硬作风，争当模范机关",
    "学好用好调查研究这个传家宝",
    "以高质量党建引领机关高质量发展",
]
COMMITTEE_AGENDAS = [
    "研究本月支部工作安排",
    "研究党员发展和教育管理工作",
    "研究党费收缴和使用情况",
    "研究本季度党员大会议题",
    "研究主题党日活动方案",
    "研究支部年度工作计划",
    "研究谈心谈话安排",
    "研究组织生活会准备工作",
]
MEMBERS_MEETING_TOPICS = [
    "传达学习上级会议精神，通报支部工作",
    "审议支部年度工作计划",
    "听取支部委员会工作报告",
    "讨论接收预备党员",
    "讨论预备党员转正",
    "通报上半年支部工作情况",
]
GROUP_TOPICS = [
    "学习上级文件精神，交流工作体会",
    "开展谈心谈话，交流思想",
    "学习党章党规",
    "讨论党员发展对象培养情况",
]
LIFE_THEMES = [
    "深入学习贯彻习近平新时代中国特色社会主义思想，增强“四个意识”、坚定“四个自信”、做到“两个维护”",
    "学思想、强党性、重实践、建新功",
    "以案为鉴、以案促改，深入贯彻中央八项规定精神",
]
DLM_THEMES = [
    "深入学习贯彻习近平新时代中国特色社会主义思想，检视问题、剖析根源、整改提高",
    "学习贯彻党的二十届四中全会精神，以钉钉子精神抓好落实",
]
RECTIFICATIONS = [
    "理论学习的系统性不够，学用结合不紧",
    "调查研究不够深入，解决实际问题的办法不多",
    "谈心谈话覆盖面不够，了解党员思想动态不及时",
    "“三会一课”记录不够规范",
    "联系服务群众不够主动",
    "落实中央八项规定精神的长效机制有待完善",
]
PLACES = ["第一会议室", "第二会议室", "党员活动室", "三楼小会议室", "党建活动中心", "多功能厅", "党员之家"]
LG_PLACES = ["党组会议室", "第一会议室", "机关大会议室"]
LEAVE_REASONS = ["因公出差", "参加上级培训", "病假", "陪护家人就医", "参加全市专项督查", "休年假", "事假"]
ABSENT_REASONS = ["临时承担紧急任务", "值班未能参加", "外出执行公务未及时请假"]
MAKEUP_NOTES = [
    "已认真阅读会议材料，对照学习内容查找了自身差距，将在工作中抓好落实。",
    "通过补学，进一步加深了对会议精神的理解，今后将结合岗位实际学以致用。",
    "补学了会议记录和学习材料，重点领会了讲话要求，已写好学习笔记。",
    "观看了学习视频，逐条学习了文件，深刻认识到加强党性修养的重要性。",
]
RETURN_OPINIONS = [
    "会议记录过于简单，缺少讨论情况，请补充完善后重新提交。",
    "未上传签到表，请补充后重新提交。",
    "出席情况与签到表不一致，请核实后重新提交。",
]
SELF_ASSESSMENTS = [
    "一年来，认真学习党的创新理论，坚决落实各项工作任务，严守纪律规矩。不足之处是理论学习深度不够，今后将加强学习。",
    "能够按时参加组织生活，按时足额交纳党费，较好完成本职工作。存在调查研究不够深入的问题，今后注意改进。",
    "坚持把学习放在首位，积极参加志愿服务，工作中主动担当。需进一步提高业务能力和服务群众的本领。",
    "认真履行岗位职责，团结同志，廉洁自律。对标先进还有差距，开拓创新意识有待增强。",
    "积极参加“三会一课”，带头落实支部决议，工作成绩得到单位认可。今后要在理论联系实际上下功夫。",
]
PEER_SUMMARIES = [
    "同志们认为其政治立场坚定，工作认真负责，群众基础好；建议加强理论学习的系统性。",
    "大家评价其踏实肯干、团结同志；建议在工作创新上多下功夫。",
    "党员们认为其能严格要求自己、发挥先锋模范作用；希望多参与支部活动。",
    "互评认为其业务能力强、敢于担当；建议进一步改进工作方法。",
]
EXCELLENT_REASONS = [
    "本支部党员在年度全市重点工作中表现突出，多人受到上级表彰，经支部党员大会讨论，优秀比例适当提高。",
    "本支部年内承担重大专项任务，党员普遍发挥了先锋模范作用，经民主测评，优秀等次人数较多。",
]
EXEMPT_NO_COMMITTEE = "该支部正式党员不足7人，未设支部委员会，由支部书记负责日常工作，不召开支委会。"
EXEMPT_DAY_OFF = [
    "当月全体党员参加防汛抢险工作，主题党日顺延，经上级党组织同意予以豁免。",
    "当月集中开展全市重点专项督查，主题党日与下月合并开展，经上级党组织同意予以豁免。",
]


# --- the plan (pure) -----------------------------------------------------------------------------


@dataclass
class OrgData:
    """What the planner knows about one org (plain values, no database)."""

    id: int
    kind: str
    name: str
    parent_id: int | None
    founded_on: date | None
    dissolved_on: date | None
    members: list[tuple[int, bool, date | None]] = field(default_factory=list)  # (person, voting, joined)
    leaders: list[int] = field(default_factory=list)
    posts: list[tuple[int, str, date, date | None]] = field(default_factory=list)  # (person, title, from, to)
    has_committee: bool = False


@dataclass
class MeetingPlan:
    """One meeting to write (attendees: person → (status, reason, voting, made_up_on, note))."""

    org_id: int
    kind: str
    topic: str
    starts_at: datetime
    ends_at: datetime
    place: str
    chair: int | None
    recorder: int | None
    speaker: int | None = None
    agenda: str = ""
    minutes: str = ""
    resolutions: str = ""
    votes: list = field(default_factory=list)
    steps: dict = field(default_factory=dict)
    report_due_on: date | None = None
    reported_on: date | None = None
    state: str = "submitted"
    return_opinion: str = ""
    submitted_at: datetime | None = None
    attendees: list[tuple[int, str, str, bool, date | None, str]] = field(default_factory=list)


@dataclass
class LifePlan:
    """Everything ``write_life`` inserts."""

    meetings: list[MeetingPlan] = field(default_factory=list)
    exemptions: list[tuple[str, int, str, str]] = field(default_factory=list)  # (rule, org, period, reason)
    weak: set[int] = field(default_factory=set)


def _active(o: OrgData, day: date) -> bool:
    """Whether the org exists on ``day``."""
    return (o.founded_on is None or o.founded_on <= day) and (o.dissolved_on is None or day < o.dissolved_on)


def _quarter_start(d: date) -> date:
    """The first day of ``d``'s quarter."""
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def _month_end(year: int, month: int) -> date:
    """The last day of a month."""
    return (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)


class _Planner:
    """Draws the two years for every org in a fixed order."""

    def __init__(self, rng, orgs, binds, today, workday, tz, *, strong=(), weak=(), gap_org=None):
        """Pick the weak branches (about 12 %, plus ``weak``); ``strong`` ones miss nothing."""
        self.rng, self.orgs, self.binds, self.today = rng, orgs, binds, today
        self.workday, self.tz = workday, tz
        self.plan = LifePlan()
        self.start = date(today.year - 1, 1, 1)
        self.last_month = date(today.year, today.month, 1) - timedelta(days=1)  # the last complete month
        self.strong, self.gap_org = set(strong), gap_org
        self.miss: dict[int, float] = {}
        branches = [o.id for o in orgs if o.kind == "branch"]
        n_weak = max(1, round(len(branches) * 0.12))
        pool = [b for b in branches if b not in self.strong]
        self.plan.weak = set(rng.sample(pool, min(n_weak, len(pool)))) | set(weak)
        by_id = {o.id: o for o in orgs}
        for o in orgs:  # a weak branch's groups are weak too
            weak_o = o.id in self.plan.weak or (o.kind == "group" and o.parent_id in self.plan.weak)
            self.miss[o.id] = 0.0 if o.id in self.strong else (0.35 if weak_o else 0.015)
        self.by_id = by_id

    def run(self) -> LifePlan:
        """Every org's meetings, then the exemptions."""
        for o in self.orgs:
            kinds = {k for k, bound in self.binds.items() if o.kind in bound}
            if not kinds:
                continue
            if o.kind == "leading_group":
                self._leading_group(o, kinds)
            else:
                self._branch(o, kinds)
        return self.plan

    # --- helpers ---

    def _day(self, lo: date, hi: date) -> date | None:
        """A workday between ``lo`` and ``hi`` (None when it falls on or after today)."""
        d = self.workday(lo + timedelta(days=self.rng.randint(0, max(0, (hi - lo).days))))
        return d if d < self.today and d >= self.start else None

    def _at(self, day: date, minutes: int) -> tuple[datetime, datetime]:
        """Start and end on ``day`` at a usual meeting hour."""
        hour, minute = self.rng.choice([(9, 0), (9, 30), (14, 30), (15, 0), (10, 0)])
        start = datetime.combine(day, time(hour, minute), tzinfo=self.tz)
        return start, start + timedelta(minutes=minutes)

    def _missing(self, o: OrgData) -> bool:
        """Whether this activity is skipped (weak orgs skip about a third)."""
        return self.rng.random() < self.miss[o.id]

    def _holders(self, o: OrgData, day: date) -> dict[str, int]:
        """Post holders of the org on ``day`` by title."""
        return {t: p for p, t, s, e in o.posts if s <= day and (e is None or e >= day)}

    def _committee(self, o: OrgData, day: date) -> list[int]:
        """The committee (every post holder but 党小组长) on ``day``: a 支委会's expected attendees."""
        return sorted(
            {p for p, t, s, e in o.posts if s <= day and (e is None or e >= day) and t != "group_leader"}
        )

    def _attendees(self, o: OrgData, kind: str, day: date, people: list[tuple[int, bool]], chair, recorder):
        """Statuses for the expected people: about 90 % present (fewer in weak orgs)."""
        rng = self.rng
        present = 0.84 if o.id in self.plan.weak else 0.91
        study = kind in ("party_lecture", "theme_day", "central_group_study")
        out: list[tuple[int, str, str, bool, date | None, str]] = []
        for pid, voting in people:
            r = rng.random()
            if pid in (chair, recorder) or r < present:
                out.append((pid, "present", "", voting, None, ""))
            elif r < present + (1 - present) * 0.7:
                made: date | None = None
                note = ""
                if study and rng.random() < 0.6:
                    made = day + timedelta(days=rng.randint(2, 20))
                    if made < self.today:
                        note = rng.choice(MAKEUP_NOTES)
                    else:
                        made = None
                out.append((pid, "on_leave", rng.choice(LEAVE_REASONS), voting, made, note))
            else:
                out.append((pid, "absent", rng.choice(ABSENT_REASONS), voting, None, ""))
        return out

    def _state(self, m: MeetingPlan) -> None:
        """Drafts (mostly recent), a few returned; older records often approved."""
        rng, day = self.rng, m.starts_at.date()
        age = (self.today - day).days
        r = rng.random()
        if m.org_id in self.strong:  # the demo branch keeps clean records (its one gap is a missing meeting)
            r = 0.5
        if (age <= 14 and r < 0.3) or r < 0.006:
            m.state = "draft"
            return
        m.submitted_at = m.ends_at + timedelta(hours=rng.randint(2, 60))
        if r < 0.018:
            m.state, m.return_opinion = "returned", rng.choice(RETURN_OPINIONS)
        elif age > 20 and r < 0.7:
            m.state = "approved"

    def _add(self, o: OrgData, kind: str, day: date, minutes: int, topic: str, people, *, lg=False, **extra):
        """One meeting with chair, recorder and attendance."""
        rng = self.rng
        holders = self._holders(o, day)
        chair = holders.get("secretary") or holders.get("group_leader") or holders.get("deputy_secretary")
        others = [p for t, p in sorted(holders.items()) if p != chair]
        member_ids = [p for p, _ in people if p != chair]
        recorder = holders.get("organization") or (rng.choice(others) if others else None)
        if recorder is None and member_ids:
            recorder = rng.choice(member_ids)
        starts_at, ends_at = self._at(day, minutes)
        m = MeetingPlan(
            org_id=o.id, kind=kind, topic=topic, starts_at=starts_at, ends_at=ends_at,
            place=rng.choice(LG_PLACES if lg else PLACES), chair=chair, recorder=recorder, **extra,
        )  # fmt: skip
        if not m.agenda:
            m.agenda = f"1. {topic}\n2. 交流研讨\n3. 部署下一步工作"
        if not m.minutes:
            m.minutes = f"会议围绕“{topic}”进行了学习研讨，与会同志结合工作实际作了交流发言。"
        m.attendees = self._attendees(o, kind, day, people, chair, recorder)
        self._state(m)
        self.plan.meetings.append(m)
        return m

    def _members_on(self, o: OrgData, day: date) -> list[tuple[int, bool]]:
        """The party members expected on ``day`` (those who had joined), with their vote."""
        people = [(p, v) for p, v, joined in o.members if joined is None or joined <= day]
        if not people:  # a dissolved branch keeps no roster: its committee attended
            people = [(p, True) for p in self._committee(o, day)]
        return people

    # --- branches and groups ---

    def _branch(self, o: OrgData, kinds: set[str]) -> None:
        """A branch's or group's months, quarters and years, then its exemptions."""
        rng, today = self.rng, self.today
        theme_dom = rng.randint(8, 25)  # 每月相对固定1天
        month = date(self.start.year, 1, 1)
        while month < today:
            end = _month_end(month.year, month.month)
            mid = date(month.year, month.month, 15)
            if "committee_meeting" in kinds and o.has_committee and _active(o, mid):
                skip = self._missing(o) or (o.id == self.gap_org and end == self.last_month)
                d = self._day(month, month + timedelta(days=12))
                if d and not skip and _active(o, d):
                    people = [(p, True) for p in self._committee(o, d)]
                    self._add(o, "committee_meeting", d, 60, rng.choice(COMMITTEE_AGENDAS), people)
            if "theme_day" in kinds and _active(o, mid):
                d = self.workday(date(month.year, month.month, theme_dom))
                if self._missing(o):
                    if rng.random() < 0.25 and end < today:  # called off with the higher org's consent
                        self.plan.exemptions.append(
                            ("BR-DAY-1", o.id, f"{month.year}-{month.month:02d}", rng.choice(EXEMPT_DAY_OFF))
                        )
                elif d < today and _active(o, d) and d.month == month.month:
                    topic = rng.choice(THEME_DAY_TOPICS)
                    self._add(o, "theme_day", d, rng.choice([120, 150, 180]), topic, self._members_on(o, d))
            if "group_meeting" in kinds and _active(o, mid):
                d = self._day(month, end)
                if d and not self._missing(o) and _active(o, d):
                    self._add(o, "group_meeting", d, 60, rng.choice(GROUP_TOPICS), self._members_on(o, d))
            if month.month in (1, 4, 7, 10):
                self._quarter(o, kinds, month)
            month = end + timedelta(days=1)
        for year in (self.start.year - 1, self.start.year, today.year):
            self._yearly(o, kinds, year)
        self._exemptions(o, kinds)

    def _quarter(self, o: OrgData, kinds: set[str], q: date) -> None:
        """The quarter's 党员大会 (some with a vote) and 党课."""
        rng = self.rng
        q_end = _month_end(q.year, q.month + 2)
        if "members_meeting" in kinds:
            d = self._day(q, q_end - timedelta(days=5))
            if d and not self._missing(o) and _active(o, d):
                topic = rng.choice(MEMBERS_MEETING_TOPICS)
                extra: dict = {}
                if "接收" in topic or "转正" in topic:
                    voters = sum(1 for _, v, _j in o.members if v)
                    extra["votes"] = [{"motion": topic.removeprefix("讨论"), "ayes": max(1, voters - rng.randint(0, 3)),
                                       "noes": 0, "abstentions": 0}]  # fmt: skip
                    extra["resolutions"] = f"会议表决通过{topic.removeprefix('讨论')}事项，报上级党组织审批。"
                self._add(
                    o, "members_meeting", d, rng.choice([90, 120]), topic, self._members_on(o, d), **extra
                )
        if "party_lecture" in kinds:
            d = self._day(q, q_end)
            if d and not self._missing(o) and _active(o, d):
                holders = self._holders(o, d)
                speaker = (
                    holders.get("secretary")
                    if rng.random() < 0.7
                    else (rng.choice(list(holders.values())) if holders else None)
                )
                topic = "专题党课：" + rng.choice(LECTURE_TOPICS)
                self._add(
                    o,
                    "party_lecture",
                    d,
                    rng.choice([90, 120]),
                    topic,
                    self._members_on(o, d),
                    speaker=speaker,
                )

    def _yearly(self, o: OrgData, kinds: set[str], year: int) -> None:
        """组织生活会 and 民主评议党员 for ``year``: mostly Q4, some next Q1 (late), a few early."""
        rng = self.rng
        if "life_meeting" not in kinds and "member_appraisal" not in kinds:
            return
        r = rng.random()
        if r < 0.84:
            day = date(year, rng.choice([11, 12, 12]), rng.randint(1, 25))
        elif r < 0.94:
            day = date(year + 1, rng.choice([1, 1, 2]), rng.randint(5, 25))
        else:
            day = date(year, 9, rng.randint(1, 25))  # 提前召开: the yearly rule met, the Q4 timing not
        day = self.workday(day)
        if year < self.start.year and day < self.start:
            return
        if "member_appraisal" in kinds and not self._missing(o):
            d = self.workday(day - timedelta(days=rng.randint(0, 3)))
            if self.start <= d < self.today and _active(o, d):
                self._add(o, "member_appraisal", d, 150, f"{year}年度民主评议党员", self._members_on(o, d))
        if "life_meeting" in kinds and not self._missing(o) and day < self.today and _active(o, day):
            steps = {
                "theme": rng.choice(LIFE_THEMES),
                "talks_done": True,
                "criticism": "支部班子成员和党员逐一开展批评和自我批评，批评意见坦诚中肯。",
                "rectification": [
                    {"title": t, "due_on": (day + timedelta(days=90)).isoformat(), "duty_id": None}
                    for t in rng.sample(RECTIFICATIONS, 2)
                ],
            }
            self._add(
                o, "life_meeting", day, 180, f"{year}年度组织生活会", self._members_on(o, day), steps=steps
            )

    def _exemptions(self, o: OrgData, kinds: set[str]) -> None:
        """No committee → exempt from the 支委会 rule (most such branches registered it); founded mid-quarter."""
        if o.kind != "branch":
            return
        if "committee_meeting" in kinds and not o.has_committee and self.rng.random() < 0.8:
            for year in (self.start.year, self.today.year):
                self.plan.exemptions.append(("BR-MTG-2", o.id, str(year), EXEMPT_NO_COMMITTEE))
        f = o.founded_on
        if f and f >= self.start and f != _quarter_start(f) and "members_meeting" in kinds:
            key = f"{f.year}-Q{(f.month - 1) // 3 + 1}"
            reason = f"该支部于{f.year}年{f.month}月{f.day}日成立，本季度不足一个完整季度。"
            self.plan.exemptions.append(("BR-MTG-1", o.id, key, reason))

    # --- leading groups ---

    def _leading_group(self, o: OrgData, kinds: set[str]) -> None:
        """A 党组's 中心组学习 (1–3 a quarter) and yearly 民主生活会 with its report upward."""
        rng, today = self.rng, self.today
        people = [(p, True) for p in o.leaders]
        if not people:
            return
        if "central_group_study" in kinds:
            q = self.start
            while q < today:
                q_end = _month_end(q.year, q.month + 2)
                for _ in range(rng.choice([1, 2, 2, 3, 3])):
                    d = self._day(q, q_end)
                    if d and not self._missing(o) and _active(o, d):
                        topic = rng.choice(STUDY_THEMES)
                        self._add(o, "central_group_study", d, rng.choice([150, 180, 210, 240]), topic, people,
                                  lg=True, agenda=f"1. 集体学习：{topic}\n2. 中心组成员交流研讨\n3. 党组书记讲话")  # fmt: skip
                q = q_end + timedelta(days=1)
        if "democratic_life_meeting" in kinds:
            for year in (self.start.year - 1, self.start.year, today.year):
                r = rng.random()
                if r < 0.88:
                    day = (
                        date(year, 12, rng.randint(1, 28))
                        if rng.random() < 0.8
                        else date(year, 11, rng.randint(10, 28))
                    )
                else:
                    day = date(year + 1, 1, rng.randint(5, 28))
                day = self.workday(day)
                if not (self.start <= day < today) or self._missing(o) or not _active(o, day):
                    continue
                due = day + timedelta(days=15)
                x = rng.random()
                reported = (
                    day + timedelta(days=rng.randint(3, 14))
                    if x < 0.85
                    else due + timedelta(days=rng.randint(1, 15))
                )
                if reported >= today:
                    reported = None
                steps = {"theme": rng.choice(DLM_THEMES), "talks_done": True,
                         "criticism": "班子成员逐一进行对照检查，相互批评开门见山，自我批评深刻。",
                         "rectification": [{"title": t, "due_on": (day + timedelta(days=120)).isoformat(),
                                            "duty_id": None} for t in rng.sample(RECTIFICATIONS, 3)]}  # fmt: skip
                self._add(o, "democratic_life_meeting", day, rng.choice([240, 420, 480]), f"{year}年度民主生活会",
                          people, lg=True, steps=steps, report_due_on=due, reported_on=reported)  # fmt: skip


def plan_life(rng: random.Random, orgs: list[OrgData], binds: dict[str, set[str]], today: date,
              workday, tz, *, strong=(), weak=(), gap_org=None) -> LifePlan:  # fmt: skip
    """Two years of meetings and exemptions for these orgs (pure: no database)."""
    return _Planner(rng, orgs, binds, today, workday, tz, strong=strong, weak=weak, gap_org=gap_org).run()


# --- appraisals (pure) ---------------------------------------------------------------------------


@dataclass
class AppraisalPlan:
    """One branch's appraisal: entries are (person, self, peer, rating, proposed, final)."""

    org_id: int
    year: int
    state: str
    excellent_reason: str = ""
    is_flagged: bool = False
    entries: list[tuple[int, str, str, dict, str, str]] = field(default_factory=list)


def plan_appraisals(
    rng: random.Random, orgs: list[OrgData], today: date, *, flagged: int = 2
) -> list[AppraisalPlan]:
    """Last year's approved appraisals for most branches, this year's open or proposed for some."""
    out: list[AppraisalPlan] = []
    branches = [
        o
        for o in orgs
        if o.kind == "branch" and o.dissolved_on is None and len([m for m in o.members if m[1]]) >= 3
    ]
    over = set(rng.sample([o.id for o in branches], min(flagged, len(branches))))
    for o in branches:
        full = [p for p, voting, _ in o.members if voting]
        if rng.random() < 0.92:
            out.append(_appraisal(rng, o.id, full, today.year - 1, "approved", over=o.id in over))
        r = rng.random()
        if today.month >= 10 and r < 0.35:
            out.append(_appraisal(rng, o.id, full, today.year, "open" if r < 0.2 else "proposed", over=False))
    return out


def _appraisal(
    rng: random.Random, org_id: int, full: list[int], year: int, state: str, *, over: bool
) -> AppraisalPlan:
    """Grades: about a quarter 优秀 (above 1/3 only with a reason), rare 基本合格, very rare 不合格."""
    n = len(full)
    share = rng.uniform(0.36, 0.45) if over else rng.uniform(0.15, 0.32)
    k = min(n, max(1 if over else 0, round(n * share)))
    if not over:
        k = min(k, n // 3)
    elif k * 3 <= n:
        k = n // 3 + 1
    people = list(full)
    rng.shuffle(people)
    grades = dict.fromkeys(people[:k], "excellent")
    for p in people[k:]:
        x = rng.random()
        grades[p] = "unqualified" if x < 0.003 else "basic" if x < 0.025 else "qualified"
    a = AppraisalPlan(org_id, year, state)
    if over:
        a.excellent_reason, a.is_flagged = rng.choice(EXCELLENT_REASONS), True
    voters = max(1, n - rng.randint(0, max(1, n // 10)))
    for p in full:
        g = grades[p]
        self_text = rng.choice(SELF_ASSESSMENTS) if state != "open" or rng.random() < 0.6 else ""
        if state == "open":
            a.entries.append((p, self_text, "", {}, "", ""))
            continue
        main = round(voters * rng.uniform(0.55, 0.9))
        rating = {g: main}
        second = "qualified" if g != "qualified" else "excellent"
        rating[second] = voters - main
        a.entries.append(
            (p, self_text, rng.choice(PEER_SUMMARIES), rating, g, g if state == "approved" else "")
        )
    return a


# --- reading the city and writing ----------------------------------------------------------------


def load_orgs(today: date) -> list[OrgData]:
    """The orgs with their roster, leadership and posts, in a handful of queries (path order)."""
    from sizheng.org.models import Org, OrgRole, Person

    orgs = {
        r["id"]: OrgData(r["id"], r["kind"], r["name"], r["parent_id"], r["founded_on"], r["dissolved_on"])
        for r in Org.objects.order_by("path").values(
            "id", "kind", "name", "parent_id", "founded_on", "dissolved_on"
        )
    }
    units: dict[int, list[int]] = defaultdict(list)
    for org_id, unit_id in Org.units.through.objects.order_by("org_id", "unit_id").values_list(
        "org_id", "unit_id"
    ):
        units[org_id].append(unit_id)
    leaders_of_unit: dict[int, list[int]] = defaultdict(list)
    people = Person.objects.filter(left_on__isnull=True).order_by("pk")
    for pid, org_id, unit_id, status, joined, leader in people.values_list(
        "pk", "org_id", "unit_id", "political_status", "joined_on", "is_leader"
    ):
        if status in ("cpc_member", "cpc_probationary") and org_id in orgs:
            orgs[org_id].members.append((pid, status == "cpc_member", joined))
        if leader:
            leaders_of_unit[unit_id].append(pid)
    for org_id, pid, title, starts, ends in OrgRole.objects.order_by("pk").values_list(
        "org_id", "person_id", "title", "starts_on", "ends_on"
    ):
        o = orgs[org_id]
        o.posts.append((pid, title, starts, ends))
        if title in ("organization", "publicity"):
            o.has_committee = True
    for o in orgs.values():
        if o.kind == "leading_group":
            o.leaders = [p for u in units[o.id] for p in leaders_of_unit[u]]
    # A 党小组's members stay on the branch's roll: each group gets its share of them (and its leader).
    groups: dict[int, list[OrgData]] = defaultdict(list)
    for o in orgs.values():
        if o.kind == "group" and o.parent_id is not None and o.parent_id in orgs:
            groups[o.parent_id].append(o)
    for parent_id, gs in groups.items():
        members = orgs[parent_id].members
        for i, g in enumerate(gs):
            g.members = members[i :: len(gs)]
            mine = {m[0] for m in g.members}
            g.members += [m for m in members if m[0] not in mine and any(m[0] == p for p, *_ in g.posts)]
    return list(orgs.values())


def rule_binds() -> dict[str, set[str]]:
    """Activity → the org kinds the active national rules bind it to."""
    from sizheng.life.models import ComplianceRule

    binds: dict[str, set[str]] = defaultdict(set)
    for activity, kinds in ComplianceRule.objects.filter(is_active=True, scope_org__isnull=True).values_list(
        "activity", "org_kinds"
    ):
        binds[activity] |= {k.strip() for k in kinds.split(",") if k.strip()}
    return dict(binds)


def insert_rows(model, names: list[str], rows: list[tuple]) -> None:
    """Plain multi-row INSERTs: the ORM's per-field preparation would take most of the demo's time
    for the hundreds of thousands of attendance rows (values must already be database-ready)."""
    from django.db import connection

    fields = [model._meta.get_field(n) for n in names]
    qn = connection.ops.quote_name
    # Only quoted model metadata goes into the statement; every value is a parameter.
    head = f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) VALUES "  # noqa: S608
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # SQLite allows 32,766 variables per statement (999 before 3.32); stay well below.
    step = max(1, 900 // len(fields))
    with connection.cursor() as cursor:
        for i in range(0, len(rows), step):
            chunk = rows[i : i + step]
            cursor.execute(head + ", ".join([one] * len(chunk)), [v for row in chunk for v in row])


def write_life(
    plan: LifePlan, appraisals: list[AppraisalPlan], *, users: dict[int, int], approver: int | None, now
):
    """Bulk-insert the plan; returns (meetings, attendance rows, exemptions, appraisals, entries)."""
    from django.db import connection

    from sizheng.life import compliance
    from sizheng.life.models import Appraisal, AppraisalEntry, Attendance, ComplianceRule, Exemption, Meeting

    meetings = [
        Meeting(
            org_id=m.org_id, kind=m.kind, topic=m.topic, starts_at=m.starts_at, ends_at=m.ends_at, place=m.place,
            chair_id=m.chair, recorder_id=m.recorder, speaker_id=m.speaker, agenda=m.agenda, minutes=m.minutes,
            resolutions=m.resolutions, votes=m.votes, steps=m.steps, report_due_on=m.report_due_on,
            reported_on=m.reported_on, state=m.state, return_opinion=m.return_opinion,
            created_by_id=users.get(m.recorder or 0) or users.get(m.chair or 0),
            created_at=min(now, m.ends_at + timedelta(hours=1)),
            submitted_at=min(now, m.submitted_at) if m.submitted_at else None,
        )
        for m in plan.meetings
    ]  # fmt: skip
    Meeting.objects.bulk_create(meetings, batch_size=BATCH)
    adapt = connection.ops.adapt_datefield_value
    rows = [
        (obj.pk, pid, status, reason, voting, adapt(made), note)
        for obj, m in zip(meetings, plan.meetings, strict=True)
        for pid, status, reason, voting, made, note in m.attendees
    ]
    insert_rows(
        Attendance, ["meeting", "person", "status", "reason", "is_voting", "made_up_on", "make_up_note"], rows
    )
    rules = dict(ComplianceRule.objects.values_list("code", "pk"))
    seen, exemptions = set(), []
    for code, org_id, key, reason in plan.exemptions:
        if code in rules and (code, org_id, key) not in seen:
            seen.add((code, org_id, key))
            exemptions.append(Exemption(rule_id=rules[code], org_id=org_id, period_key=key, reason=reason,
                                        created_by_id=approver, created_at=now))  # fmt: skip
    Exemption.objects.bulk_create(exemptions, batch_size=BATCH)
    compliance.data_changed()  # the heatmap cache (a var dir's file cache outlives a regenerated database)
    # Each appraisal links to the branch's 民主评议党员 meeting of that year, when there was one.
    appraisal_meetings = {}
    for obj in meetings:
        if obj.kind == "member_appraisal":
            year = int(obj.topic[:4])
            appraisal_meetings[(obj.org_id, year)] = obj.pk
    objs = [
        Appraisal(org_id=a.org_id, year=a.year, state=a.state, meeting_id=appraisal_meetings.get((a.org_id, a.year)),
                  excellent_reason=a.excellent_reason, is_flagged=a.is_flagged,
                  approved_by_id=approver if a.state == "approved" else None,
                  approved_at=min(now, datetime.combine(date(a.year + 1, 1, 20), time(10), tzinfo=now.tzinfo))
                  if a.state == "approved" else None)
        for a in appraisals
    ]  # fmt: skip
    Appraisal.objects.bulk_create(objs, batch_size=BATCH)
    entries = [
        AppraisalEntry(appraisal_id=obj.pk, person_id=p, self_assessment=s, peer_summary=peer, rating=rating,
                       proposed_grade=proposed, final_grade=final)
        for obj, a in zip(objs, appraisals, strict=True)
        for p, s, peer, rating, proposed, final in a.entries
    ]  # fmt: skip
    AppraisalEntry.objects.bulk_create(entries, batch_size=BATCH)
    return len(meetings), len(rows), len(exemptions), len(objs), len(entries)


@generator("life.history", order=300, label="组织生活：两年的会议、评议")
def demo_life(ctx) -> None:
    """Two years of meetings, exemptions and appraisals (skipped when meetings already exist)."""
    from django.db import transaction
    from django.utils import timezone

    from sizheng.core.calendar import get_calendar
    from sizheng.life.models import Meeting
    from sizheng.org.models import Person

    if Meeting.objects.exists():
        ctx.log("  已有会议记录，跳过组织生活。")
        return
    now = timezone.now()
    today = timezone.localdate(now)
    cal = get_calendar()
    cache: dict[date, date] = {}

    def workday(d: date) -> date:
        """The day itself or the next workday (cached: the planner asks for the same days often)."""
        if d not in cache:
            cache[d] = cal.add_workdays(d, 0)
        return cache[d]

    orgs = load_orgs(today)
    if not orgs:
        ctx.log("  没有党组织，跳过组织生活。")
        return
    demo_people = ctx.shared.get("demo_person_ids") or {}
    branch_of = dict(Person.objects.filter(pk__in=demo_people.values()).values_list("pk", "org_id"))
    strong = [branch_of[demo_people["shuji_a"]]] if demo_people.get("shuji_a") in branch_of else []
    weak = [branch_of[demo_people["shuji_b"]]] if demo_people.get("shuji_b") in branch_of else []
    plan = plan_life(ctx.rng, orgs, rule_binds(), today, workday, timezone.get_current_timezone(),
                     strong=strong, weak=weak, gap_org=strong[0] if strong else None)  # fmt: skip
    appraisals = plan_appraisals(ctx.rng, orgs, today, flagged=max(2, round(2 * ctx.scale)))
    users = dict(Person.objects.filter(user__isnull=False).values_list("pk", "user_id"))
    approver = (ctx.shared.get("accounts") or {}).get("gongwei")
    with transaction.atomic():
        n_m, n_a, n_e, n_ap, n_en = write_life(plan, appraisals, users=users, approver=approver, now=now)
    ctx.log(f"  会议记录 {n_m} 条，出席记录 {n_a} 条，豁免 {n_e} 项，民主评议 {n_ap} 次（{n_en} 人次）。")
