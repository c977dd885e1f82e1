"""Demo data: two years of 谈心谈话 across the demo city, with the 四必谈 triggers of the last weeks.

What it writes, for last year and this year up to yesterday (``plan_talks`` is pure, ``demo_talks``
reads the city and bulk-inserts):

- branches: each party member talks at least once a year with the 书记 or another 支委 in office
  that day, for about 85–90 % of the members (shuji_a's branch all of them, shuji_b's and a few weak
  branches fewer), so the coverage matrix shows some gaps; some have a second talk;
- before each 组织生活会 the 书记 talks with every other 支委 and the 支委 with a few members (kind
  ``pre_olm``, attached to the meeting, 1–20 days before it); before each 民主生活会 the principal
  leader talks with every member of the leadership team and some members with each other (``pre_dlm``);
- leadership teams (the unit's ``is_leader`` people): the principal leader (a position without
  "副", the 党组书记 first) with each team member at least once a year for most of them; the
  派驻纪检监察组组长 now and then on 廉洁自律;
- 党小组长 with some of the members of their group; branch secretaries with some non-party staff;
- modes mostly face to face, some online or by phone; about 3 % flagged wellbeing-related; kinds,
  tags, summaries and content combined from phrase banks; a next talk date on some;
- a few planned talks in the next three weeks and a few cancelled ones;
- 四必谈 triggers: done ones (position change, transfer, family change) with the talk that closed
  them and their closed "谈心谈话提醒" duty written as history; a few open ones of the last weeks,
  whose duties are opened through ``duties.services.duty_open`` (so the 书记 sees them today).

History is written with bulk inserts, not through ``services``: no notifications go out and no audit
rows are written for it (the open triggers' duties aside, which ``duty_open`` audits with ids only).
The encrypted columns (kind, tags, summary, content, a trigger's note) are encrypted by the fields
on insert. Deterministic: everything is drawn from the generator's seeded stream in a fixed order.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sizheng.core.demo import generator

BATCH = 1000

# --- phrase banks -------------------------------------------------------------------------------

PROJECTS = [
    "全市营商环境专项督查",
    "年度部门预算编制",
    "文明城市创建迎检",
    "政务服务“一网通办”改革",
    "审计反馈问题整改",
    "重大项目协调推进",
    "安全生产大检查",
    "年度综合考核材料汇总",
]
# Tag → what the counterpart said (the first part of a summary).
SITUATIONS: dict[str, list[str]] = {
    "工作": [
        "谈到近期承担{project}任务，加班较多，感到工作压力较大",
        "反映处室人手较紧，今年业务量明显增加，有时顾此失彼",
        "谈了今年重点工作的推进情况和遇到的困难",
        "刚调整到新岗位，业务还在熟悉中，希望多向老同志请教",
        "对处室内部工作分工提出了调整建议",
        "谈到基层调研中发现的问题，提出了改进工作的思路",
    ],
    "学习": [
        "谈了参加支部集中学习的体会，认为专题学习联系实际较紧",
        "正在参加在职学历教育，学习与工作时间安排有些紧张",
        "谈了学习党的二十届四中全会精神的认识和体会",
        "希望支部多组织业务知识交流和专题讲座",
        "谈了近期读原著、学原文的收获，表示要学以致用",
    ],
    "家庭": [
        "孩子今年面临小学入学，正在办理入学手续，有些事项需要请假处理",
        "孩子今年参加中考，家里比较牵挂，晚上辅导功课较多",
        "爱人在外地工作，家中老人孩子照顾不过来",
        "家中老人年事已高、身体不好，需要经常陪同就医",
        "二孩出生不久，家庭负担有所加重",
    ],
    "健康": [
        "父亲近期住院手术，经常需要请假陪护",
        "本人颈椎、腰椎不适，长时间伏案后加重",
        "体检发现个别指标异常，正在复查治疗",
        "母亲患慢性病需长期治疗，老人就医往返奔波",
    ],
    "职业发展": [
        "谈了岗位调整后的想法，表示服从组织安排、尽快进入角色",
        "对今后的职业发展有些迷茫，希望有轮岗交流锻炼的机会",
        "谈了职级晋升的想法，希望组织多给予指导",
        "刚从基层单位遴选进机关，对机关工作节奏还在适应",
    ],
    "思想认识": [
        "谈了对全面从严治党、加强作风建设的认识",
        "交流了对机构改革后职能调整的看法",
        "对工作中的形式主义问题谈了看法，希望进一步为基层减负",
        "谈了对树立和践行正确政绩观的理解",
    ],
    "人际关系": [
        "与同事在工作衔接上有过一些误会，经沟通已基本化解",
        "刚调入新处室，与同事还在磨合",
        "谈到与服务对象沟通时遇到的一些难题",
    ],
    "生活困难": [
        "家庭经济负担较重，每月房贷压力较大",
        "爱人失业待岗，家庭收入明显减少",
        "住处离单位较远，每天通勤时间较长",
    ],
    "心理压力": [
        "近期工作和家庭压力叠加，睡眠不好，情绪有些低落",
        "谈到最近常感到焦虑，注意力难以集中",
        "承担的任务时间紧、要求高，感到身心疲惫",
    ],
    "廉洁自律": [
        "谈了节假日期间严守中央八项规定精神的认识",
        "交流了在审批、采购等岗位上防范廉政风险的做法",
        "谈到亲友托办事项时如何把握原则的体会",
    ],
}
# Tag → what the one who initiated said or promised.
RESPONSES: dict[str, list[str]] = {
    "工作": [
        "建议合理安排工作节奏，遇到困难及时向组织反映",
        "表示将与处室负责同志沟通，适当调配人手",
        "肯定了其工作成绩，勉励其继续发挥业务骨干作用",
    ],
    "学习": [
        "建议结合岗位实际学以致用，把学习成果转化为工作成效",
        "鼓励其坚持学习，支部将尽量为其学习创造条件",
    ],
    "家庭": [
        "表示支部将在工作安排上适当照顾，帮助解决实际困难",
        "提醒其合理安排家庭事务，需要请假时及时履行手续",
    ],
    "健康": ["叮嘱其注意身体、按时复查，支部将在工作安排上给予照顾", "转达了组织的关心，请其安心照顾好家人"],
    "职业发展": [
        "帮助其分析自身优势，建议结合岗位多学习、多历练",
        "鼓励其安心本职，表示组织会统筹考虑干部交流",
    ],
    "思想认识": [
        "双方就有关问题深入交换了意见，进一步统一了思想认识",
        "勉励其坚定理想信念，在工作中发挥党员先锋模范作用",
    ],
    "人际关系": ["建议多换位思考、主动沟通，营造团结和谐的工作氛围"],
    "生活困难": ["了解具体情况后，表示将按规定向单位工会申请帮扶", "表示将协调有关方面帮助解决实际困难"],
    "心理压力": [
        "向其介绍了单位心理咨询服务和12356心理援助热线，建议必要时寻求专业帮助",
        "建议适当调整工作节奏、注意休息，表示组织会持续关心",
    ],
    "廉洁自律": ["提醒其严守纪律规矩，常怀敬畏之心", "勉励其在廉洁自律上严格要求自己，做到干净干事"],
}
# The counterpart's suggestions on the org's work (对支部工作的建议).
SUGGESTIONS = [
    "对支部工作提出建议：主题党日活动形式可以更加多样",
    "建议支部多组织业务交流和调研活动",
    "建议支部集中学习尽量避开业务高峰期",
    "建议谈心谈话常态化开展，多关心年轻同志",
    "建议支部加强与基层党组织的结对共建",
]
CLOSINGS = [
    "双方约定保持经常性沟通",
    "本人表示将以更饱满的状态投入工作",
    "谈话气氛融洽，达到了沟通思想、增进了解的目的",
    "本人对组织的关心表示感谢",
]
# Criticisms exchanged before a 组织生活会 (branch) and a 民主生活会 (leadership team).
OLM_CRITICISMS = [
    "理论学习的系统性还不够",
    "调查研究不够深入，解决实际问题的办法不多",
    "工作中有时存在畏难情绪",
    "创新意识不够强，习惯按老办法办事",
    "联系服务群众不够主动",
    "参加支部活动的积极性有待提高",
    "对年轻同志的传帮带不够",
]
DLM_CRITICISMS = [
    "分管领域调查研究不够深入",
    "抓工作落实的韧劲还不够",
    "对分管处室干部的关心关爱不够",
    "推动改革创新的办法不多",
    "落实“一岗双责”还有差距",
    "深入基层一线的次数偏少",
]
TRIGGER_NOTES = {
    "family_change": ["家中老人病故，本人需料理后事", "爱人重病住院，家庭负担加重", "家中遭遇意外变故"],
}
ROLE_LABELS = {
    "secretary": "支部书记",
    "deputy_secretary": "支部副书记",
    "organization": "组织委员",
    "publicity": "宣传委员",
    "discipline": "纪检委员",
    "committee_member": "支部委员",
    "group_leader": "党小组长",
    "principal": "主要负责同志",
    "team": "班子成员",
    "discipline_lead": "纪检监察组组长",
}
COMMITTEE_TITLES = frozenset(
    {"secretary", "deputy_secretary", "organization", "publicity", "discipline", "committee_member"}
)
# Kind → (weight among everyday talks, the tags it usually carries).
DAILY_KINDS = [
    ("daily", 0.78, None),
    ("family", 0.06, ["家庭", "生活困难", "健康"]),
    ("job_change", 0.06, ["工作", "职业发展"]),
    ("care", 0.05, ["生活困难", "健康", "家庭"]),
    ("warning", 0.03, ["思想认识", "心理压力", "人际关系"]),
    ("discipline", 0.02, ["廉洁自律", "思想认识"]),
]
# Everyday topics, weighted: work and study come up most.
DAILY_TAGS = [
    ("工作", 30),
    ("学习", 16),
    ("思想认识", 14),
    ("职业发展", 10),
    ("家庭", 10),
    ("健康", 6),
    ("人际关系", 5),
    ("生活困难", 4),
    ("廉洁自律", 5),
]
MODES = [("in_person", 0.80), ("online", 0.12), ("phone", 0.08)]


# --- the plan (pure) -----------------------------------------------------------------------------


@dataclass
class TalkPlan:
    """One talk to write."""

    org_id: int
    initiator: int
    counterparts: list[int]
    held_on: date
    kind: str
    tags: list[str]
    summary: str = ""
    content: str = ""
    mode: str = "in_person"
    status: str = "held"
    is_wellbeing: bool = False
    next_talk_on: date | None = None
    meeting_id: int | None = None
    pk: int | None = None  # set once written


@dataclass
class Team:
    """A unit's leadership team: where its talks are recorded, its principal and members."""

    org_id: int
    principal: int
    members: list[int]
    discipline_lead: int | None = None
    founded_on: date | None = None
    dissolved_on: date | None = None


@dataclass
class TriggerPlan:
    """A 四必谈 trigger: done ones point at the talk (index into the plan's talks) that closed them."""

    person: int
    org_id: int
    secretary: int | None
    reason: str
    occurred_on: date
    due_on: date
    state: str
    talk: int | None = None
    note: str = ""


@dataclass
class TalkCity:
    """What the planner knows about the city (plain values, no database)."""

    branches: list  # life.demo.OrgData of the branches (members, posts)
    groups: list  # life.demo.OrgData of the 党小组 (their share of the branch's members, posts)
    teams: list[Team]
    meetings: dict[int, list[tuple[int, str, date]]]  # org → (meeting id, kind, day)
    staff: list[tuple[int, int]]  # non-party staff: (person, branch of their unit)
    strong: set[int] = field(default_factory=set)  # branches with (near) full coverage
    weak: set[int] = field(default_factory=set)  # branches with visible gaps
    always: set[int] = field(default_factory=set)  # people talked with every year (demo accounts)


@dataclass
class TalksPlan:
    """Everything ``write_talks`` inserts."""

    talks: list[TalkPlan] = field(default_factory=list)
    triggers: list[TriggerPlan] = field(default_factory=list)


def _pick(rng: random.Random, weighted):
    """One value of ``(value, weight, …)`` rows, drawn by weight."""
    total = sum(w[1] for w in weighted)
    r = rng.random() * total
    for row in weighted:
        r -= row[1]
        if r < 0:
            return row[0]
    return weighted[-1][0]


def _tags(rng: random.Random, kind: str) -> list[str]:
    """One to three topic tags that fit the kind."""
    preferred = next((t for k, _w, t in DAILY_KINDS if k == kind), None)
    tags = [rng.choice(preferred)] if preferred else [_pick(rng, DAILY_TAGS)]
    for _ in range(rng.choice([0, 1, 1, 2])):
        tag = _pick(rng, DAILY_TAGS)
        if tag not in tags:
            tags.append(tag)
    return tags


def compose(rng: random.Random, tags: list[str], role: str, *, suggestion: bool = True) -> tuple[str, str]:
    """A summary and a longer content for an everyday talk about ``tags`` led by ``role``."""
    said = [rng.choice(SITUATIONS[t]).format(project=rng.choice(PROJECTS)) for t in tags[:2]]
    answers = [rng.choice(RESPONSES[t]) for t in tags[:2]]
    summary = f"{said[0]}。{role}{answers[0]}。"
    parts = [f"谈话围绕{'、'.join(tags)}等方面进行。", "本人" + "；".join(said) + "。"]
    parts.append(f"{role}" + "；".join(answers) + "。")
    if suggestion and rng.random() < 0.35:
        parts.append(rng.choice(SUGGESTIONS) + "。")
    parts.append(rng.choice(CLOSINGS) + "。")
    return summary, "".join(parts)


def compose_pre_meeting(rng: random.Random, kind: str) -> tuple[str, list[str], str, str]:
    """(kind, tags, summary, content) of a talk before a 组织生活会 or 民主生活会."""
    if kind == "pre_dlm":
        picked = rng.sample(DLM_CRITICISMS, 2)
        summary = f"民主生活会前谈心谈话，交流思想、征求意见，互相提出批评意见：{picked[0]}，{picked[1]}。"
        content = (
            "围绕民主生活会主题，双方开诚布公交流思想，逐一反馈了征求到的意见建议。"
            f"互相提出的批评意见主要有：{picked[0]}；{picked[1]}。双方表示将在对照检查材料中深刻剖析、"
            "在会上认真开展批评和自我批评，会后抓好整改落实。"
        )
        return kind, ["思想认识", "工作"], summary, content
    picked = rng.sample(OLM_CRITICISMS, 2)
    summary = f"组织生活会前谈心谈话，互相指出了不足：{picked[0]}，{picked[1]}。"
    content = (
        "按照组织生活会要求，会前开展谈心谈话，听取对支部工作和本人的意见建议。"
        f"互相指出的问题主要有：{picked[0]}；{picked[1]}。"
        f"{rng.choice(SUGGESTIONS)}。本人表示将在对照检查中认真查摆、深刻剖析，会后抓好整改。"
    )
    return kind, ["思想认识", "学习"], summary, content


def compose_wellbeing(rng: random.Random, role: str) -> tuple[list[str], str, str]:
    """(tags, summary, content) of a talk that touched on the person's wellbeing."""
    tags = ["心理压力", rng.choice(["工作", "家庭", "健康"])]
    said = rng.choice(SITUATIONS["心理压力"])
    answer = RESPONSES["心理压力"][0]
    summary = f"{said}。{role}{answer}。"
    content = (
        f"谈话围绕{'、'.join(tags)}进行。本人{said}，{rng.choice(SITUATIONS[tags[1]])}。"
        f"{role}耐心倾听，{answer}；{RESPONSES['心理压力'][1]}。双方约定近期再次沟通。"
    )
    return tags, summary, content


class _Planner:
    """Draws the two years for every branch, group, team and staff member in a fixed order."""

    def __init__(self, rng: random.Random, city: TalkCity, today: date, workday: Callable[[date], date]):
        self.rng, self.city, self.today, self.workday = rng, city, today, workday
        self.start = date(today.year - 1, 1, 1)
        self.plan = TalksPlan()

    # --- helpers ---

    def _day(self, lo: date, hi: date) -> date | None:
        """A workday between ``lo`` and ``hi`` before today (None when there is none)."""
        hi = min(hi, self.today - timedelta(days=1))
        if lo > hi:
            return None
        d = self.workday(lo + timedelta(days=self.rng.randint(0, (hi - lo).days)))
        return d if lo <= d < self.today else None

    def _before(self, meeting_day: date) -> date | None:
        """A day 1–20 days before a meeting (a workday when one fits), within the two years."""
        d = self.workday(meeting_day - timedelta(days=self.rng.randint(1, 20)))
        if d >= meeting_day:
            d = meeting_day - timedelta(days=1)
        return d if self.start <= d < self.today else None

    def _mode(self, pre_meeting: bool = False) -> str:
        return "in_person" if pre_meeting and self.rng.random() < 0.95 else _pick(self.rng, MODES)

    def _span(self, o, year: int) -> tuple[date, date] | None:
        """The part of ``year`` the org existed, up to yesterday."""
        lo = max(date(year, 1, 1), self.start, o.founded_on or self.start)
        hi = min(date(year, 12, 31), self.today - timedelta(days=1))
        if o.dissolved_on is not None:
            hi = min(hi, o.dissolved_on - timedelta(days=1))
        return (lo, hi) if lo <= hi else None

    def _posts(self, o, day: date, titles=COMMITTEE_TITLES) -> dict[int, str]:
        """Post holders (person → title) of the org on ``day``; the nearest term's when none is in office."""
        now = {p: t for p, t, s, e in o.posts if t in titles and s <= day and (e is None or e >= day)}
        if now:
            return now
        near = sorted(
            ((abs((s - day).days), p, t) for p, t, s, e in o.posts if t in titles), key=lambda x: x[:2]
        )
        return {near[0][1]: near[0][2]} if near else {}

    def _initiator(self, o, day: date, other: int) -> tuple[int, str] | None:
        """The 书记 (about half the time) or another 支委 in office, never ``other`` themself."""
        posts = {p: t for p, t in self._posts(o, day).items() if p != other}
        if not posts:
            return None
        secretary = [p for p, t in posts.items() if t == "secretary"]
        if secretary and (self.rng.random() < 0.55 or len(posts) == 1):
            return secretary[0], "secretary"
        p = self.rng.choice(sorted(posts))
        return p, posts[p]

    def _everyday(self, org_id: int, initiator: int, role: str, other: int, day: date) -> TalkPlan:
        """An everyday talk (kind drawn: mostly 日常谈心), about 3 % of them wellbeing-related."""
        rng = self.rng
        kind = _pick(rng, DAILY_KINDS)
        label = ROLE_LABELS.get(role, "支部书记")
        wellbeing = kind in ("daily", "care", "warning", "family") and rng.random() < 0.035
        if wellbeing:
            tags, summary, content = compose_wellbeing(rng, label)
        else:
            tags = _tags(rng, kind)
            summary, content = compose(rng, tags, label, suggestion=role in COMMITTEE_TITLES)
        talk = TalkPlan(org_id, initiator, [other], day, kind, tags, summary, content, mode=self._mode(),
                        is_wellbeing=wellbeing)  # fmt: skip
        if rng.random() < 0.12:
            talk.next_talk_on = day + timedelta(days=rng.randint(30, 120))
        return talk

    def _add(self, talk: TalkPlan | None) -> int | None:
        if talk is None:
            return None
        self.plan.talks.append(talk)
        return len(self.plan.talks) - 1

    def _pre(self, org_id: int, kind: str, initiator: int, other: int, day: date, meeting_id: int) -> None:
        k, tags, summary, content = compose_pre_meeting(self.rng, kind)
        self._add(TalkPlan(org_id, initiator, [other], day, k, tags, summary, content,
                           mode=self._mode(pre_meeting=True), meeting_id=meeting_id))  # fmt: skip

    # --- the orgs ---

    def run(self) -> TalksPlan:
        for o in self.city.branches:
            self._branch(o)
        for g in self.city.groups:
            self._group(g)
        for team in self.city.teams:
            self._team(team)
        self._staff()
        return self.plan

    def _branch(self, o) -> None:
        """Pre-meeting talks before each 组织生活会, then everyday talks for the members not yet covered."""
        rng, city = self.rng, self.city
        members = [m[0] for m in o.members]
        if not members or not o.posts:
            return
        if o.id in city.strong:
            share = 1.0
        elif o.id in city.weak:
            share = rng.uniform(0.6, 0.72)
        else:
            share = rng.uniform(0.78, 0.93)
        covered: dict[int, set[int]] = defaultdict(set)  # year → people talked with a 支委
        for meeting_id, kind, day in city.meetings.get(o.id, []):
            if kind != "life_meeting":
                continue
            posts = self._posts(o, day - timedelta(days=10))
            secretary = next((p for p, t in posts.items() if t == "secretary"), None)
            if secretary is None:
                continue
            pairs = [(secretary, p) for p in sorted(posts) if p != secretary]
            for m in rng.sample(members, min(len(members), rng.randint(2, 5))):
                who = self._initiator(o, day - timedelta(days=10), m)
                if who and (m in city.always or rng.random() < share):
                    pairs.append((who[0], m))
            for initiator, other in pairs:
                d = self._before(day)
                if d is not None and self._span(o, d.year):
                    self._pre(o.id, "pre_olm", initiator, other, d, meeting_id)
                    covered[d.year] |= {initiator, other}
        for year in (self.start.year, self.today.year):
            span = self._span(o, year)
            if span is None:
                continue
            for m in members:
                talks = 0
                if m not in covered[year] and (m in city.always or rng.random() < share):
                    talks = 1
                if rng.random() < 0.18:
                    talks += 1
                for _ in range(talks):
                    day = self._day(*span)
                    who = self._initiator(o, day, m) if day else None
                    if who:
                        self._add(self._everyday(o.id, who[0], who[1], m, day))

    def _group(self, g) -> None:
        """A 党小组长 talks with some of the group's members each year."""
        for year in (self.start.year, self.today.year):
            span = self._span(g, year)
            if span is None:
                continue
            for m, *_ in g.members:
                if self.rng.random() >= 0.35:
                    continue
                day = self._day(*span)
                leader = self._posts(g, day, {"group_leader"}) if day else {}
                leader.pop(m, None)
                if leader:
                    self._add(self._everyday(g.id, next(iter(leader)), "group_leader", m, day))

    def _team(self, team: Team) -> None:
        """The principal leader with each team member: before the 民主生活会, else an everyday talk."""
        rng = self.rng
        members = [m for m in team.members if m != team.principal]
        covered: dict[int, set[int]] = defaultdict(set)
        for meeting_id, kind, day in self.city.meetings.get(team.org_id, []):
            if kind != "democratic_life_meeting":
                continue
            for m in members:
                d = self._before(day)
                if d and rng.random() < 0.9:
                    self._pre(team.org_id, "pre_dlm", team.principal, m, d, meeting_id)
                    covered[d.year].add(m)
            for _ in range(rng.randint(1, 3) if len(members) >= 2 else 0):
                a, b = rng.sample(members, 2)
                d = self._before(day)
                if d:
                    self._pre(team.org_id, "pre_dlm", a, b, d, meeting_id)
        for year in (self.start.year, self.today.year):
            span = self._span(team, year)
            if span is None:
                continue
            for m in members:
                talks = int(m not in covered[year] and rng.random() < 0.6) + int(rng.random() < 0.15)
                for _ in range(talks):
                    day = self._day(*span)
                    if day:
                        self._add(self._everyday(team.org_id, team.principal, "principal", m, day))
            lead = team.discipline_lead
            if lead and lead != team.principal and members and rng.random() < 0.6:
                day = self._day(*span)
                other = rng.choice([m for m in members if m != lead] or [team.principal])
                if day:
                    summary, content = compose(
                        rng, ["廉洁自律"], ROLE_LABELS["discipline_lead"], suggestion=False
                    )
                    self._add(TalkPlan(team.org_id, lead, [other], day, "discipline", ["廉洁自律"], summary,
                                       content, mode="in_person"))  # fmt: skip

    def _staff(self) -> None:
        """Branch secretaries talk with some non-party staff of their unit (思政 covers all staff)."""
        branches = {o.id: o for o in self.city.branches}
        for pid, org_id in self.city.staff:
            o = branches.get(org_id)
            if o is None:
                continue
            for year in (self.start.year, self.today.year):
                span = self._span(o, year)
                if span is None or self.rng.random() >= 0.2:
                    continue
                day = self._day(*span)
                posts = self._posts(o, day, {"secretary"}) if day else {}
                posts.pop(pid, None)
                if posts:
                    self._add(self._everyday(o.id, next(iter(posts)), "secretary", pid, day))


def plan_talks(rng: random.Random, city: TalkCity, today: date, workday: Callable[[date], date]) -> TalksPlan:
    """Two years of talks for the city (pure: no database)."""
    return _Planner(rng, city, today, workday).run()


def plan_extras(
    rng: random.Random,
    city: TalkCity,
    plan: TalksPlan,
    today: date,
    add_workdays: Callable[[date, int], date],
    *,
    trigger_workdays: int = 10,
    first: int | None = None,
) -> None:
    """Planned and cancelled talks, and 四必谈 triggers (done with their talk, or open), added to ``plan``.

    ``first``: a branch that gets the first planned talk and an open trigger (shuji_a's)."""
    people = sum(len(o.members) for o in city.branches) + len(city.staff)
    branches = [o for o in city.branches if o.members and o.dissolved_on is None]
    if not branches:
        return
    if first is not None:
        branches.sort(key=lambda o: o.id != first)  # stable: the rest keep their order

    def secretary(o, day: date) -> int | None:
        posts = [p for p, t, s, e in o.posts if t == "secretary" and s <= day and (e is None or e >= day)]
        return posts[0] if posts else None

    def plain(o) -> list[int]:
        holders = {p for p, *_ in o.posts}
        return [m for m, *_ in o.members if m not in holders]

    # Planned talks in the next three weeks, a few cancelled ones in the last two months.
    for i in range(max(3, round(people * 0.004))):
        o = branches[0] if i == 0 else rng.choice(branches)
        sec, pool = secretary(o, today), plain(o)
        if sec is None or not pool:
            continue
        kind = _pick(rng, DAILY_KINDS)
        plan.talks.append(
            TalkPlan(o.id, sec, [rng.choice(pool)], add_workdays(today, rng.randint(1, 15)), kind,
                     _tags(rng, kind), mode=_pick(rng, MODES), status="planned")
        )  # fmt: skip
    for _ in range(max(2, round(people * 0.001))):
        o = rng.choice(branches)
        day = add_workdays(today, -rng.randint(3, 40))
        sec, pool = secretary(o, day), plain(o)
        if sec is not None and pool:
            plan.talks.append(TalkPlan(o.id, sec, [rng.choice(pool)], day, "daily", [_pick(rng, DAILY_TAGS)],
                                       status="cancelled"))  # fmt: skip

    # Done triggers over the two years: the 书记 talked with the person, mostly within the time allowed.
    start = date(today.year - 1, 1, 1)
    used: set[int] = set()
    for _ in range(max(3, round(people / 150))):
        o = rng.choice(branches)
        occurred = add_workdays(start + timedelta(days=rng.randint(0, max(0, (today - start).days - 45))), 0)
        sec, pool = secretary(o, occurred), [p for p in plain(o) if p not in used]
        if sec is None or not pool:
            continue
        person = rng.choice(pool)
        used.add(person)
        reason = _pick(rng, [("position_change", 0.5), ("transfer", 0.3), ("family_change", 0.2)])
        due = add_workdays(occurred, trigger_workdays)
        held = add_workdays(occurred, rng.randint(1, trigger_workdays + (4 if rng.random() < 0.15 else 0)))
        held = min(held, today - timedelta(days=1))
        kind = "family" if reason == "family_change" else "job_change"
        tags = ["家庭", "生活困难"] if kind == "family" else ["工作", "职业发展"]
        summary, content = compose(rng, tags, ROLE_LABELS["secretary"])
        plan.talks.append(TalkPlan(o.id, sec, [person], held, kind, tags, summary, content))
        note = rng.choice(TRIGGER_NOTES[reason]) if reason in TRIGGER_NOTES else ""
        plan.triggers.append(
            TriggerPlan(person, o.id, sec, reason, occurred, due, "done", talk=len(plan.talks) - 1, note=note)
        )
    # Open triggers of the last weeks (position changes and transfers from the roster), some overdue.
    for i in range(max(2, round(people / 300))):
        o = branches[0] if i == 0 else rng.choice(branches)
        occurred = add_workdays(today, -rng.randint(1, 16))
        sec, pool = secretary(o, today), [p for p in plain(o) if p not in used]
        if sec is None or not pool:
            continue
        person = rng.choice(pool)
        used.add(person)
        reason = "position_change" if rng.random() < 0.6 else "transfer"
        due = add_workdays(occurred, trigger_workdays)
        plan.triggers.append(TriggerPlan(person, o.id, sec, reason, occurred, due, "open"))


# --- reading the city and writing ----------------------------------------------------------------


def load_city(today: date, shared: dict) -> TalkCity:
    """Branches, groups, leadership teams, meetings and non-party staff, in a handful of queries."""
    from sizheng.life.demo import load_orgs
    from sizheng.life.models import Meeting
    from sizheng.org.models import Org, OrgRole, Person

    orgs = load_orgs(today)
    by_id = {o.id: o for o in orgs}
    root_id = next((o.id for o in orgs if o.parent_id is None), None)
    branches = [o for o in orgs if o.kind == "branch"]
    groups = [o for o in orgs if o.kind == "group" and any(t == "group_leader" for _p, t, *_ in o.posts)]
    meetings: dict[int, list[tuple[int, str, date]]] = defaultdict(list)
    for pk, org_id, kind, starts in (
        Meeting.objects.filter(kind__in=["life_meeting", "democratic_life_meeting"])
        .order_by("starts_at", "pk")
        .values_list("pk", "org_id", "kind", "starts_at")
    ):
        meetings[org_id].append((pk, kind, starts.date()))

    # Units → their root org (not the 党组), their 党组, and the branches holding their people.
    unit_orgs: dict[int, list[int]] = defaultdict(list)
    for org_id, unit_id in Org.units.through.objects.order_by("org_id", "unit_id").values_list(
        "org_id", "unit_id"
    ):
        unit_orgs[unit_id].append(org_id)
    lg_secretary = dict(
        OrgRole.objects.filter(
            title="secretary", org__kind="leading_group", ends_on__isnull=True
        ).values_list("org_id", "person_id")
    )
    leaders: dict[int, list[tuple[int, str]]] = defaultdict(list)
    staff: list[tuple[int, int]] = []
    branch_ids = [o.id for o in branches if o.dissolved_on is None]
    unit_branches: dict[int, list[int]] = defaultdict(list)
    for unit_id, org_ids in unit_orgs.items():
        unit_branches[unit_id] = [o for o in org_ids if o in set(branch_ids)]
    # Non-party staff talk with the 书记 of a branch of their unit (branches carry their unit's link).
    for pid, unit_id, office_id, org_id, leader, position in (
        Person.objects.filter(left_on__isnull=True)
        .order_by("pk")
        .values_list("pk", "unit_id", "office_id", "org_id", "is_leader", "position")
    ):
        if leader:
            leaders[unit_id].append((pid, position or ""))
        if org_id is None and unit_branches.get(unit_id):
            options = unit_branches[unit_id]
            staff.append((pid, options[(office_id or 0) % len(options)]))

    teams: list[Team] = []
    for unit_id in sorted(leaders):
        people = leaders[unit_id]
        lgs = [o for o in unit_orgs[unit_id] if by_id.get(o) and by_id[o].kind == "leading_group"]
        roots = [o for o in unit_orgs[unit_id] if by_id.get(o) and by_id[o].kind != "leading_group"]
        tops = [o for o in roots if by_id[o].parent_id == root_id]
        home = by_id[lgs[0]] if lgs else (by_id[tops[0]] if tops else None)
        if home is None or len(people) < 2:
            continue
        ids = [p for p, _ in people]
        principal = lg_secretary.get(home.id) if lgs else None
        if principal not in ids:
            plain = [p for p, pos in people if pos and "副" not in pos and "纪检" not in pos]
            principal = (plain or ids)[0]
        lead = next((p for p, pos in people if "纪检" in pos), None)
        teams.append(Team(home.id, principal, ids, lead, home.founded_on, home.dissolved_on))

    demo = shared.get("demo_person_ids") or {}
    branch_of = dict(Person.objects.filter(pk__in=demo.values()).values_list("pk", "org_id"))
    strong = {branch_of[demo["shuji_a"]]} if demo.get("shuji_a") in branch_of else set()
    weak = {branch_of[demo["shuji_b"]]} if demo.get("shuji_b") in branch_of else set()
    always = {demo["dangyuan"]} if demo.get("dangyuan") else set()
    return TalkCity(branches, groups, teams, dict(meetings), staff, strong, weak, always)


def _weak_branches(rng: random.Random, city: TalkCity) -> None:
    """About one branch in ten (besides shuji_b's) with visible gaps."""
    pool = [o.id for o in city.branches if o.id not in city.strong and o.members]
    city.weak |= set(rng.sample(pool, min(len(pool), max(1, round(len(pool) * 0.1)))))


def write_talks(plan: TalksPlan, *, users: dict[int, int], now, tz) -> tuple[int, int]:
    """Bulk-insert the talks and their participants; returns (talks, participant rows)."""
    from sizheng.life.demo import insert_rows
    from sizheng.talks.models import Talk, TalkParticipant

    objs = []
    for t in plan.talks:
        at = datetime.combine(t.held_on, time(16, 30), tzinfo=tz)
        if t.status == "planned":
            at = now - timedelta(days=2)
        objs.append(
            Talk(org_id=t.org_id, initiator_id=t.initiator, held_on=t.held_on, mode=t.mode, status=t.status,
                 is_wellbeing=t.is_wellbeing, kind=t.kind, tags=json.dumps(t.tags, ensure_ascii=False),
                 summary=t.summary, content=t.content, next_talk_on=t.next_talk_on, meeting_id=t.meeting_id,
                 created_by_id=users.get(t.initiator), created_at=min(now, at))
        )  # fmt: skip
    Talk.objects.bulk_create(objs, batch_size=BATCH)
    rows = []
    for obj, t in zip(objs, plan.talks, strict=True):
        rows.append((obj.pk, t.initiator, True))
        rows += [(obj.pk, p, False) for p in t.counterparts if p != t.initiator]
    insert_rows(TalkParticipant, ["talk", "person", "is_initiator"], rows)
    for obj, t in zip(objs, plan.talks, strict=True):
        t.pk = obj.pk
    return len(objs), len(rows)


def write_triggers(plan: TalksPlan, *, users: dict[int, int], now, tz) -> tuple[int, int]:
    """The triggers: done ones with their closed duty as history, open ones through ``duty_open``.

    Returns (triggers, duties opened today)."""
    from sizheng.duties.models import Duty, DutyEvent, SourceKind
    from sizheng.duties.services import duty_open
    from sizheng.org.models import Org, Person
    from sizheng.talks.models import TalkTrigger

    objs = [
        TalkTrigger(person_id=tr.person, org_id=tr.org_id, reason=tr.reason, note=tr.note, occurred_on=tr.occurred_on,
                    due_on=tr.due_on, state=tr.state,
                    talk_id=plan.talks[tr.talk].pk if tr.talk is not None else None,
                    created_at=min(now, datetime.combine(tr.occurred_on, time(9, 30), tzinfo=tz)))
        for tr in plan.triggers
    ]  # fmt: skip
    TalkTrigger.objects.bulk_create(objs, batch_size=BATCH)
    parents = dict(
        Org.objects.filter(pk__in={tr.org_id for tr in plan.triggers}).values_list("pk", "parent_id")
    )
    duties, lives = [], []
    for obj, tr in zip(objs, plan.triggers, strict=True):
        if tr.state != "done":
            continue
        held = plan.talks[tr.talk].held_on
        opened = datetime.combine(tr.occurred_on, time(9, 30), tzinfo=tz)
        closed = datetime.combine(held, time(16, 45), tzinfo=tz)
        duties.append(
            Duty(title="谈心谈话提醒", assignee_org_id=tr.org_id, owner_id=tr.secretary,
                 assigning_org_id=parents.get(tr.org_id) or tr.org_id, due_on=tr.due_on,
                 source_kind=SourceKind.TALK_TRIGGER, source_id=obj.pk, is_sensitive=True, state="closed",
                 version=2, evidence=f"已登记谈心谈话（记录编号 #{obj.talk_id}）。", reported_on=held,
                 closed_on=held, is_late=held > tr.due_on, created_at=opened)
        )  # fmt: skip
        lives.append((opened, closed, users.get(tr.secretary)))
    Duty.objects.bulk_create(duties, batch_size=BATCH)
    events = []
    for duty, (opened, closed, actor) in zip(duties, lives, strict=True):
        events.append(DutyEvent(duty=duty, action="open", to_state="assigned", at=opened,
                                payload={"source": SourceKind.TALK_TRIGGER}))  # fmt: skip
        events.append(DutyEvent(duty=duty, action="pass", from_state="assigned", to_state="closed", actor_id=actor,
                                at=closed, comment="系统自动销号：" + duty.evidence, payload={"auto": True}))  # fmt: skip
    DutyEvent.objects.bulk_create(events, batch_size=BATCH)
    by_trigger = {d.source_id: d.pk for d in duties}
    # Open triggers: their duties go through the one entry point, so the 书记 is told today.
    owners = Person.objects.in_bulk(
        [tr.secretary for tr in plan.triggers if tr.state == "open" and tr.secretary]
    )
    orgs = Org.objects.in_bulk([tr.org_id for tr in plan.triggers if tr.state == "open"])
    opened_now = 0
    for obj, tr in zip(objs, plan.triggers, strict=True):
        if tr.state == "open":
            duty = duty_open(org=orgs[tr.org_id], title="谈心谈话提醒", due_on=tr.due_on,
                             source=(SourceKind.TALK_TRIGGER, obj.pk), actor=None, owner=owners.get(tr.secretary))  # fmt: skip
            at = min(now, datetime.combine(tr.occurred_on, time(9, 30), tzinfo=tz))
            Duty.objects.filter(pk=duty.pk).update(created_at=at)
            DutyEvent.objects.filter(duty=duty).update(at=at)
            by_trigger[obj.pk] = duty.pk
            opened_now += 1
    for obj in objs:
        if obj.pk in by_trigger:
            obj.duty_id = by_trigger[obj.pk]
    TalkTrigger.objects.bulk_update([o for o in objs if o.duty_id], ["duty_id"], batch_size=BATCH)
    return len(objs), opened_now


@generator("talks.history", order=320, label="谈心谈话：两年的谈话、必谈提醒")
def demo_talks(ctx) -> None:
    """Two years of talks and the 四必谈 triggers (skipped when talks already exist)."""
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from sizheng.core.calendar import get_calendar
    from sizheng.org.models import Person
    from sizheng.talks.models import Talk

    if Talk.objects.exists():
        ctx.log("  已有谈心谈话记录，跳过。")
        return
    now = timezone.now()
    today = timezone.localdate(now)
    tz = timezone.get_current_timezone()
    cal = get_calendar()
    cache: dict[date, date] = {}

    def workday(d: date) -> date:
        """The day itself or the next workday (cached: the planner asks for the same days often)."""
        if d not in cache:
            cache[d] = cal.add_workdays(d, 0)
        return cache[d]

    city = load_city(today, ctx.shared)
    if not city.branches:
        ctx.log("  没有党支部，跳过谈心谈话。")
        return
    _weak_branches(ctx.rng, city)
    plan = plan_talks(ctx.rng, city, today, workday)
    first = next(iter(city.strong), None)
    plan_extras(ctx.rng, city, plan, today, cal.add_workdays,
                trigger_workdays=settings.TALK_TRIGGER_WORKDAYS, first=first)  # fmt: skip
    users = dict(Person.objects.filter(user__isnull=False).values_list("pk", "user_id"))
    with transaction.atomic():
        n_talks, n_rows = write_talks(plan, users=users, now=now, tz=tz)
        n_triggers, n_open = write_triggers(plan, users=users, now=now, tz=tz)
    ctx.log(
        f"  谈心谈话 {n_talks} 次（参与人 {n_rows} 人次），必谈提醒 {n_triggers} 项（其中待谈话 {n_open} 项）。"
    )
