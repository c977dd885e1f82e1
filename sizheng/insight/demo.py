"""Demo data: two years of survey waves (思想动态调查, 满意度测评, 民主测评) whose answers carry real
themes and seasonal shifts, so the analysis finds something true.

What it writes (everything above ``write_waves`` is pure planning; ``demo_insight`` reads the city and
bulk-inserts):

- the 机关工委 (root org) runs a quarterly anonymous 思想动态调查 over the whole org tree (hierarchy
  ``org``): the last eight quarters up to the current one, the current wave open (answers so far),
  the earlier ones closed;
- each unit's own root org (机关党委, 党总支 or 党支部; joint branches aside) runs a half-yearly
  anonymous 满意度测评 over its unit (hierarchy ``unit`` → offices): the last four halves, the
  current one open;
- one named 民主测评 of a leading group (the demo leader's unit's 党组) once a year, for the last two
  years, answered by the unit's staff.

Questions come from ``insight.survey_templates`` (the same data ``survey_create`` copies). Every
reporting group's participation is 60–90 % (a few small branches much lower, so suppression shows);
each anonymous wave has one :class:`AnswerLedger` row per respondent and one
:class:`AnonymousResponse` per answer sheet — the sheets inserted in a shuffled order with their
own random keys, never in the ledger's order — and :class:`AnonymousTally` counts per
(wave, group), exactly what ``core.anonymous`` leaves after a flush (nothing pending).

The answers follow one model of each respondent: a stable mood (person and group climate), traits
from the roster (age → young / senior; school-age children, old parents drawn once), and per wave a
few *concerns* — lexicon themes drawn with seasonal weights:

- 形式主义负担 (文山会海, 填表报数, 督查检查) rises in Q4 (年底迎检) and falls in Q1 after the yearly
  基层减负 measures (with some positive 减负 comments); **planted trend: in the latest closed quarter a
  round of 专项督查检查 and a new 打卡/截图 app make it the talk of the quarter — its share of comments
  rises from about 10–15 % the quarter before to about a third** (the emerging-theme test finds it);
- 子女教育 peaks in Q3 (the wave opens in August: 入学, 暑假托管), a little in Q2 (中高考);
- 工作压力 (加班加点) higher in Q4 (年终考核) and in three heavy units;
- 住房 in two units with many young staff; 职业发展 (职级晋升, 职称评定) steady, more among the young;
- 医疗健康 among seniors, 家庭照护 where parents are old; some positive comments (学习教育 收获大 —
  more in the first year's Q2, a 学习教育 campaign; 关心关爱 暖心) and a few negations (不太满意,
  并不觉得累).

Likert and 0–10 answers drop on the questions linked to a respondent's concerns (by what the
question asks: 任务量 → 工作压力, 形式主义 → 形式主义负担 …) and rise with mood; multiple-choice
困扰 ticks the concerns. About 30–40 % write a comment (more of those with a concern). Three comments
carry a colleague's name or a phone number (for the scrubber) and exactly one — in the latest closed
思想动态 wave, in a group well above the anonymity threshold — a risk phrase: its :class:`RiskAlert`
comes from ``insight.services.wave_close`` when that exists (the wave is written open and closed
through it, as the daily job would: one ``wave_close`` and one ``risk_alert`` audit row, the
counselors notified), else it is written directly.

Answer values: likert 1–5, rating 0–10, single choice the option's index, multiple choice a sorted
list of indexes, text a string; unanswered optional questions are left out (the forms
``services.clean_answers`` stores). History is written with bulk inserts: no notifications and no
audit rows but the risk wave's close (nobody did these things). Deterministic: everything is drawn
from the generator's seeded stream in a fixed order (the random keys too; ``wave_close`` re-keys the
risk wave's ledger with fresh random keys).
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sizheng.core.demo import generator

BATCH = 2000
ANON_KIND = "survey"  # core.anonymous kind for survey answers (wave = str(wave.pk))
QUARTER_WAVES = 8
HALF_WAVES = 4
WAVE_DAYS = 21
DEMOCRATIC_DAYS = 10
PLANTED_THEME = "形式主义负担"

# --- phrase banks -------------------------------------------------------------------------------
# Theme → [(comment, quarters it fits or None for any)]. Every comment carries its theme by the
# lexicon (a test checks it), so the analysis classifies what was meant.
CONCERNS: dict[str, list[tuple[str, tuple[int, ...] | None]]] = {
    "形式主义负担": [
        ("各类会议还是偏多，有时一个上午连开三个会，文山会海的问题没有根本改变", None),
        ("填表报数太多，同一组数据要向不同部门重复填报", None),
        ("督查检查过多过频，迎检准备占用了大量业务时间", None),
        ("工作群里通知太多，动不动就要截图留痕，下班后也不得安宁", None),
        ("台账要求越来越细，感觉很多时候是在为留痕而工作，很无奈", None),
        ("有的考核评比层层加码，基层疲于应付", None),
        ("年底各类总结、检查、考核扎堆，迎检材料一套接一套，负担很重", (4,)),
        ("年终各条线都要报表格、报总结，重复报送的情况比较突出", (4,)),
        ("年底会议太多，真正用在业务上的时间被挤占了", (4,)),
    ],
    "工作压力": [
        ("任务重、人手紧张，经常白加黑、五加二", None),
        ("处室人少事多，一个人顶几个岗位，工作量太大", None),
        ("临时任务、紧急任务多，周末加班比较多，休息不好", None),
        ("工作节奏快、时间紧，有时感到力不从心", None),
        ("年底各项工作集中收尾，加班加点成了常态，大家都很辛苦", (4,)),
        ("年终考核前各种总结赶在一起，连续熬夜，身心疲惫", (4,)),
        ("汛期值班和应急任务多，连轴转有些吃不消", (3,)),
    ],
    "子女教育": [
        ("孩子九月上小学，入学报名的各种手续要跑，请假比较难", (3,)),
        ("暑假孩子没人带，只能送托管班，双职工家庭很头疼", (3,)),
        ("开学前后接送孩子的时间和上班冲突，很为难", (3,)),
        ("孩子小升初择校压力大，牵扯了不少精力", (3,)),
        ("孩子今年中考，晚上辅导作业顾不上休息", (2,)),
        ("孩子面临中高考，全家压力大，顾不上休息", (2,)),
        ("课后服务结束得早，接送孩子和加班时间经常冲突，很头疼", None),
        ("希望单位能协调解决干部子女入学的实际困难", None),
    ],
    "职业发展": [
        ("职级晋升名额有限，上升通道比较窄，有些失望", None),
        ("专业技术岗位职称评定周期长，希望畅通渠道", None),
        ("希望多给年轻干部交流轮岗、挂职锻炼的机会", None),
        ("工作多年职务职级没有变化，对个人成长有些担忧", None),
        ("论资排辈的现象还存在，年轻人发展空间有限", None),
        ("希望多组织业务培训，提升专业能力", None),
    ],
    "住房": [
        ("单位离家远，每天通勤两个多小时，很辛苦", None),
        ("房贷负担重，希望住房公积金政策能再优化", None),
        ("新入职的同志租房成本高，负担重，希望提供周转房或人才公寓", None),
        ("房价和房租都不低，年轻同志买房难", None),
    ],
    "薪酬待遇": [
        ("绩效工资和车补多年没有调整，收入偏低，生活成本上升明显", None),
        ("加班多但没有加班费，也很难调休", None),
        ("收入偏低，和付出不成正比，有些失望", None),
    ],
    "医疗健康": [
        ("长期伏案，颈椎腰椎都有问题，很难受", None),
        ("希望组织疗休养，定期安排健康讲座", None),
        ("最近睡眠不好，身体吃不消，希望能适当调整工作节奏", None),
    ],
    "家庭照护": [
        ("家里老人身体不好，照顾老人和工作难以兼顾", None),
        ("二孩家庭负担重，平时顾不上家", None),
        ("父母年迈多病，经常要请假陪护，工作和家庭两头顾不上", None),
    ],
    "人际关系": [
        ("处室内部沟通不畅，分工不够明确", None),
        ("希望多组织集体活动，增进同事之间的交流", None),
        ("上下级之间沟通不够，有想法不知道怎么反映，有些郁闷", None),
    ],
    "作风建设": [
        ("个别同志推诿扯皮，办事效率有待提高", None),
        ("有的科室服务意识不强，群众办事还是不方便", None),
    ],
    "思想认识": [
        ("有时觉得工作动力不足，有些职业倦怠", None),
        ("工作多年干劲不如从前，有些迷茫", None),
        ("年底事情多，干劲有些透支，身心疲惫", (4,)),
    ],
}
# The planted rise of 形式主义负担 in the latest closed quarter: what happened that quarter.
PLANTED: list[str] = [
    "这段时间各类专项督查检查扎堆，一个检查组刚走下一个又来，迎检材料准备占了大半精力，很无奈",
    "新推广的政务应用要求每天打卡签到、截图上报，指尖上的形式主义又抬头了，让人心累",
    "同一组数据这个季度被要求重复填报了好几次，表格一个比一个细，浪费时间",
    "检查多、报表多，台账要求层层加码，很多工作为了留痕而留痕",
    "工作群里每天都在催报表格，晚上十点还在填表，基层负担明显加重",
]
# Q1 after the year's 基层减负 measures: the same theme, said with relief.
RELIEF: list[str] = [
    "今年会议和发文明显减少，基层减负措施见到了实效，点赞",
    "督查检查统筹合并后，迎检负担减轻了不少，大家都很认可",
    "表格少了、会也少了，能把更多精力放在业务上，减负很实在",
]
# Positive comments (学习教育 收获大, 关心关爱 暖心) and plain ones; a few negations.
POSITIVE_STUDY: list[str] = [
    "今年的学习教育联系实际，收获很大",
    "支部主题党日形式新颖，参加后很受启发",
    "理论学习的专题讲座很有帮助，希望多组织",
    "集中学习和业务工作结合得好，学以致用，收获大",
    "读书班安排得好，学习效果比以往明显",
]
POSITIVE_CARE: list[str] = [
    "家里有困难时支部书记主动上门看望，组织的关心关爱很暖心",
    "单位关心干部职工，生病住院时领导和同事都来看望，很感动",
    "工会组织的活动丰富，大家很有归属感，很开心",
    "总体满意，单位氛围和谐融洽",
    "对单位的关心关爱表示感谢，工作很顺心",
]
NEGATED: list[str] = [
    "工作虽然忙，但并不觉得累，干得很充实",
    "对食堂伙食不太满意，品种比较单一",
    "没有什么不满意的，总体挺好",
    "工作强度不算太大，节奏还可以",
    "对办公条件不是很满意，会议室经常不够用",
]
OPENERS = ["", "", "", "个人感觉", "说实话，", "近期", "希望组织关注：", "反映一个问题："]
# Theme → a suggestion (the second comment, or appended to the first).
SUGGESTIONS: dict[str, list[str]] = {
    "形式主义负担": [
        "建议统筹规范督查检查，切实为基层减负",
        "建议精简会议文件，杜绝重复填报",
        "希望少一些表格，多一些实干，真正落实基层减负",
    ],
    "工作压力": ["建议合理调配人手，减少不必要的加班", "希望科学安排任务，减少周末加班"],
    "子女教育": ["希望工会在暑假组织托管班，帮助解决接送孩子的难题", "建议协调解决干部子女入学问题"],
    "职业发展": ["建议完善职级晋升办法，畅通年轻干部的上升通道", "希望在职称评定上给予更多指导"],
    "住房": ["建议协调周转房或人才公寓，缓解租房压力", "希望开通通勤班车，方便住得远的同志"],
    "薪酬待遇": ["希望及时落实绩效工资和津贴补贴政策"],
    "医疗健康": ["建议每年安排疗休养，关注干部身心健康"],
    "家庭照护": ["希望对家有老人需要照护的同志给予一些弹性安排"],
    "人际关系": ["建议多开展谈心交流，增进同事之间的了解"],
    "作风建设": ["建议加强作风建设，提高办事效率"],
    "思想认识": ["希望组织多关注年轻干部的思想动态，多些激励"],
}
# Democratic appraisal (named): short remarks on the leadership team.
DEMOCRATIC_REMARKS = [
    "希望班子进一步加强与干部职工的谈心交流",
    "班子团结务实，建议在年轻干部培养上再加力度",
    "建议班子成员多到处室听取意见",
    "希望持续推进基层减负，少开会、开短会",
    "班子作风扎实，希望保持",
]
# The few comments that carry a colleague's name or a phone number (the scrubber removes them).
PII_COMMENTS = [
    "希望{name}同志多关心一下新来的年轻同志，有事可以打我手机{mobile}",
    "{surname}处长布置任务经常临时加码，周末加班是常事，具体情况可以打{landline}找我",
    "孩子入学的事想当面反映，我是{name}，电话{mobile}",
]
# The one comment with a risk phrase (the alert goes to the group's counselors, with no identity).
RISK_COMMENT = "最近工作和家里的事情压得喘不过气，整夜失眠，有时候觉得活着没意思"

# Theme → (base share of respondents with the concern, {quarter: factor}).
THEME_BASE: dict[str, tuple[float, dict[int, float]]] = {
    "形式主义负担": (0.13, {1: 0.6, 2: 0.9, 3: 1.0, 4: 1.8}),
    "工作压力": (0.18, {1: 0.8, 2: 1.0, 3: 1.05, 4: 1.6}),
    "子女教育": (0.15, {1: 0.7, 2: 1.1, 3: 3.0, 4: 0.8}),  # among parents of school-age children
    "职业发展": (0.09, {}),
    "住房": (0.03, {}),
    "薪酬待遇": (0.05, {1: 1.2}),
    "医疗健康": (0.035, {}),
    "家庭照护": (0.05, {}),  # among those with old parents, tripled
    "人际关系": (0.03, {}),
    "作风建设": (0.02, {}),
    "思想认识": (0.03, {4: 1.3}),
}
PLANTED_FACTOR = 2.2
MAX_CONCERNS = 3

# What a question asks about → the concerns that lower its answer (a substring of its text).
QUESTION_LINKS: list[tuple[str, tuple[str, ...]]] = [
    ("任务量", ("工作压力",)),
    ("正常工作时间", ("工作压力",)),
    ("工作压力", ("工作压力", "形式主义负担")),
    ("充满热情", ("工作压力", "思想认识", "形式主义负担")),
    ("支持与指导", ("人际关系",)),
    ("创新理论", ("学习教育",)),
    ("发展前景", ("职业发展", "思想认识")),
    ("工作作风", ("作风建设", "人际关系", "形式主义负担")),
    ("听取并回应", ("形式主义负担", "职业发展")),
    ("推荐", ("职业发展", "薪酬待遇", "工作压力")),
    ("兼顾工作与家庭", ("子女教育", "家庭照护", "住房", "工作压力")),
    ("理论学习", ("学习教育",)),
    ("学习内容", ("学习教育",)),
    ("不必要的负担", ("形式主义负担",)),
    ("关心关爱", ("关爱",)),
    ("及时帮助", ("关爱", "家庭照护")),
    ("身心健康", ("医疗健康", "工作压力")),
    ("形式主义", ("形式主义负担",)),
    ("以身作则", ("作风建设",)),
    ("作风建设", ("作风建设", "形式主义负担")),
    ("后勤", ("住房",)),
]
# Positive voices raise the answers of the questions linked to them.
POSITIVE_VOICES = ("学习教育", "关爱")
# Multiple-choice 困扰 options → the concern that ticks them (a substring of the option).
OPTION_THEMES: list[tuple[str, str]] = [
    ("住房", "住房"),
    ("通勤", "住房"),
    ("子女", "子女教育"),
    ("老人", "家庭照护"),
    ("照护", "家庭照护"),
    ("健康", "医疗健康"),
    ("经济", "薪酬待遇"),
]


# --- periods (pure) -----------------------------------------------------------------------------


@dataclass
class WaveSpec:
    """One wave to write: its number, label, dates, state and what season its answers reflect."""

    number: int
    label: str
    opens_on: date
    closes_on: date
    state: str  # "open" | "closed"
    season: int  # the quarter (1–4) whose concerns the answers carry
    progress: float = 1.0  # share of the final participation reached so far (open waves)
    planted: bool = False  # the latest closed quarter: the planted rise


def _clamp_current(opens: date, closes: date, start: date, today: date) -> tuple[date, date]:
    """The current period's wave is open today: when today falls outside its usual dates, it opened
    a few days ago (not before the period) and runs its usual length, at least a few days more."""
    if opens <= today <= closes:
        return opens, closes
    length = closes - opens
    opens = max(start, today - timedelta(days=5))
    return opens, max(opens + length, today + timedelta(days=4))


def _progress(opens: date, closes: date, today: date) -> float:
    """How far an open wave's participation has come (slower at first, like reminders do)."""
    elapsed = ((today - opens).days + 1) / ((closes - opens).days + 1)
    return round(min(1.0, 0.35 + 0.65 * elapsed), 3)


def quarter_waves(today: date, n: int = QUARTER_WAVES, days: int = WAVE_DAYS) -> list[WaveSpec]:
    """The last ``n`` quarters up to today's: each opens on the 10th of its middle month (August for
    Q3, when school enrolment is on people's minds); the current one is open, the latest closed one
    carries the planted rise."""
    y, q = today.year, (today.month - 1) // 3 + 1
    quarters = []
    for _ in range(n):
        quarters.append((y, q))
        y, q = (y - 1, 4) if q == 1 else (y, q - 1)
    quarters.reverse()
    out = []
    for number, (y, q) in enumerate(quarters, start=1):
        start = date(y, 3 * q - 2, 1)
        opens = date(y, 3 * q - 1, 10)
        closes = opens + timedelta(days=days - 1)
        current = number == n
        if current:
            opens, closes = _clamp_current(opens, closes, start, today)
        label = f"{y}年第{'一二三四'[q - 1]}季度"
        spec = WaveSpec(number, label, opens, closes, "open" if current else "closed", q)
        if current:
            spec.progress = _progress(opens, closes, today)
        out.append(spec)
    if len(out) >= 2:
        out[-2].planted = True
    return out


def half_waves(today: date, n: int = HALF_WAVES, days: int = WAVE_DAYS) -> list[WaveSpec]:
    """The last ``n`` halves up to today's: opening on 15 May and 15 November, the current one open."""
    y, h = today.year, 1 if today.month <= 6 else 2
    halves = []
    for _ in range(n):
        halves.append((y, h))
        y, h = (y - 1, 2) if h == 1 else (y, 1)
    halves.reverse()
    out = []
    for number, (y, h) in enumerate(halves, start=1):
        start = date(y, 1 if h == 1 else 7, 1)
        opens = date(y, 5 if h == 1 else 11, 15)
        closes = opens + timedelta(days=days - 1)
        current = number == n
        if current:
            opens, closes = _clamp_current(opens, closes, start, today)
        spec = WaveSpec(number, f"{y}年{'上' if h == 1 else '下'}半年", opens, closes,
                        "open" if current else "closed", 2 if h == 1 else 4)  # fmt: skip
        if current:
            spec.progress = _progress(opens, closes, today)
        out.append(spec)
    return out


def year_waves(today: date, years: int = 2, days: int = DEMOCRATIC_DAYS) -> list[WaveSpec]:
    """The yearly appraisal of the last ``years`` full years, each held in the next January (closed)."""
    out = []
    for y in range(today.year - years - 1, today.year):
        opens = date(y + 1, 1, 8)
        closes = opens + timedelta(days=days - 1)
        if closes < today:
            out.append(WaveSpec(0, f"{y}年度", opens, closes, "closed", 4))
    out = out[-years:]
    for number, spec in enumerate(out, start=1):
        spec.number = number
    return out


# --- respondents and their answers (pure) -------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """A person in a survey's audience as the planner sees them."""

    pid: int
    group: str  # the leaf reporting group
    unit: int
    age: int | None
    name: str


@dataclass(frozen=True)
class Traits:
    """What stays the same about a person across waves."""

    mood: float  # person and group climate: shifts every answer
    parent: bool  # a child of school age
    elder: bool  # old parents to look after
    young: bool
    senior: bool


@dataclass(frozen=True)
class QSpec:
    """A question as the answer model sees it."""

    id: int
    kind: str
    text: str
    options: tuple[str, ...] = ()
    required: bool = True
    links: frozenset[str] = frozenset()  # the voices that move its answer
    mu: float = 3.9  # the mean Likert answer of a content respondent


@dataclass(frozen=True)
class Setting:
    """The context of one wave's answers."""

    season: int
    planted: bool = False
    campaign: bool = False  # the 学习教育 campaign quarter (more praise of study)
    heavy: frozenset[int] = frozenset()  # units with a heavy workload
    housing: frozenset[int] = frozenset()  # units with many young staff far from home


@dataclass
class WavePlan:
    """What one wave gets: audience counts, ledger, answer sheets (shuffled) or named sheets."""

    spec: WaveSpec
    audience_counts: dict[str, int]
    ledger: list[int] = field(default_factory=list)
    sheets: list[tuple[str, dict]] = field(default_factory=list)
    named: list[tuple[int, str, dict]] = field(default_factory=list)
    risk_group: str | None = None


def draw_traits(
    rng: random.Random, people: list[tuple[int, int | None]], climate: dict[int, float]
) -> dict[int, Traits]:
    """Stable traits per person ``(pid, age)``; ``climate`` adds a per-person offset (their group's)."""
    out = {}
    for pid, age in sorted(people, key=lambda p: p[0]):
        a = age if age is not None else 40
        mood = rng.gauss(0.0, 0.45) + climate.get(pid, 0.0)
        parent = rng.random() < (0.5 if 30 <= a < 50 else 0.08)
        elder = rng.random() < (0.3 if a >= 40 else 0.08)
        out[pid] = Traits(round(mood, 3), parent, elder, a < 35, a >= 50)
    return out


def question_specs(rng: random.Random, questions: list[tuple[int, str, str, list, bool]]) -> list[QSpec]:
    """``(id, kind, text, options, required)`` → specs with the voices each question reacts to."""
    out = []
    for qid, kind, text, options, required in questions:
        links: set[str] = set()
        for needle, voices in QUESTION_LINKS:
            if needle in text:
                links.update(voices)
        if "形式主义负担" in links:
            links.add("减负")
        out.append(QSpec(qid, kind, text, tuple(options or ()), required, frozenset(links),
                         round(3.9 + rng.gauss(0.0, 0.15), 3)))  # fmt: skip
    return out


def voices_for(
    rng: random.Random, traits: Traits, unit: int, setting: Setting
) -> tuple[list[str], list[str]]:
    """A respondent's concerns this wave (lexicon themes, at most three) and positive voices."""
    concerns = []
    for theme, (base, seasonal) in THEME_BASE.items():
        p = base * seasonal.get(setting.season, 1.0)
        if theme == "子女教育":
            p = p if traits.parent else p * 0.1
        elif theme == "家庭照护":
            p *= 3 if traits.elder else 0.5
        elif theme == "工作压力" and unit in setting.heavy:
            p *= 1.5
        elif theme == "住房":
            p *= (7 if unit in setting.housing else 1) * (1.5 if traits.young else 0.7)
        elif theme == "职业发展":
            p *= 1.7 if traits.young else 0.8
        elif theme == "医疗健康":
            p *= 2.2 if traits.senior else 0.7
        if theme == PLANTED_THEME and setting.planted:
            p *= PLANTED_FACTOR
        p *= 1.0 - 0.25 * max(-1.0, min(1.0, traits.mood))  # the content complain less
        if rng.random() < min(p, 0.6):
            concerns.append(theme)
    rng.shuffle(concerns)
    # The talk of the season comes first (what a comment is mostly about): the planted theme in its
    # quarter, then the themes this season raises most.
    concerns.sort(key=lambda t: -(THEME_BASE[t][1].get(setting.season, 1.0)
                                  * (PLANTED_FACTOR if setting.planted and t == PLANTED_THEME else 1.0)))  # fmt: skip
    positives = []
    if rng.random() < (0.16 if setting.campaign else 0.07) * (1 + 0.3 * traits.mood):
        positives.append("学习教育")
    if rng.random() < 0.06 * (1 + 0.3 * traits.mood):
        positives.append("关爱")
    if setting.season == 1 and rng.random() < 0.1:
        positives.append("减负")  # the year's 基层减负 measures were felt
    return concerns[:MAX_CONCERNS], positives


def _scale_single(q: QSpec) -> str | None:
    """How a single-choice question's options are ordered: "quality" (好 first), "burden" (least
    first, e.g. 工作压力 很小 → 很大) or None (unordered: drawn at random, the first options likelier)."""
    if q.options and q.options[0] in ("好", "优秀", "非常满意"):
        return "quality"
    if "压力" in q.text or "负担" in q.text:
        return "burden"
    return None


def answer_sheet(rng: random.Random, qs: list[QSpec], concerns: list[str], positives: list[str],
                 mood: float, setting: Setting) -> dict[str, object]:  # fmt: skip
    """The non-text answers of one respondent (``{str(question id): value}``)."""
    neg, pos = set(concerns), set(positives)
    out: dict[str, object] = {}
    for q in qs:
        hit, lift = min(2, len(q.links & neg)), len(q.links & pos)
        if q.kind == "likert":
            x = q.mu + mood - 0.9 * hit + 0.45 * lift
            if "工作压力" in q.links and setting.season == 4:
                x -= 0.2
            if "形式主义负担" in q.links and setting.planted:
                x -= 0.15
            out[str(q.id)] = max(1, min(5, round(x + rng.gauss(0.0, 0.55))))
        elif q.kind == "rating":
            x = 7.3 + 2.0 * (q.mu - 3.9) + 2.0 * mood - 1.5 * hit + 0.8 * lift
            out[str(q.id)] = max(0, min(10, round(x + rng.gauss(0.0, 1.1))))
        elif q.kind == "single" and q.options:
            n, scale = len(q.options), _scale_single(q)
            if scale == "quality":
                x = 0.45 - 0.8 * mood + 0.6 * (len(neg) > 1) + rng.gauss(0.0, 0.6)
            elif scale == "burden":
                x = (n - 1) / 2 - 0.5 * mood + 1.1 * ("工作压力" in neg) + 0.5 * (PLANTED_THEME in neg)
                x += {4: 0.4, 1: -0.2}.get(setting.season, 0.0) + rng.gauss(0.0, 0.7)
            else:
                x = rng.triangular(0, n - 1, (n - 1) / 3)
            out[str(q.id)] = max(0, min(n - 1, round(x)))
        elif q.kind == "multi" and q.options:
            if not q.required and rng.random() < 0.1:
                continue
            ticked = set()
            none_index = None
            for i, option in enumerate(q.options):
                if "暂无" in option or "没有" in option:
                    none_index = i
                    continue
                themes = {t for needle, t in OPTION_THEMES if needle in option}
                if (themes & neg and rng.random() < 0.85) or rng.random() < 0.03:
                    ticked.add(i)
            if not ticked and none_index is not None:
                ticked.add(none_index)
            if ticked:
                out[str(q.id)] = sorted(ticked)
    return out


def _pick(rng: random.Random, theme: str, season: int) -> str:
    """A comment on ``theme``; the ones written for this season weigh three times as much."""
    items = [(t, 3 if qs else 1) for t, qs in CONCERNS[theme] if qs is None or season in qs]
    return rng.choices([t for t, _ in items], weights=[w for _, w in items])[0]


def compose(rng: random.Random, concerns: list[str], positives: list[str],
            setting: Setting) -> tuple[str, str] | None:  # fmt: skip
    """A respondent's comment and suggestion (``""`` when none), or None when they write nothing.
    Those with a concern write more often; the comment is about their concerns."""
    if not rng.random() < (0.46 if concerns else 0.35 if positives else 0.18):
        return None
    suggestion = ""
    if concerns:
        theme = concerns[0]
        if theme == PLANTED_THEME and setting.planted and rng.random() < 0.7:
            text = rng.choice(PLANTED)
        else:
            text = _pick(rng, theme, setting.season)
        if len(concerns) > 1 and rng.random() < 0.3:
            text += "；另外，" + _pick(rng, concerns[1], setting.season)
        text = rng.choice(OPENERS) + text
        if rng.random() < 0.45:
            suggestion = rng.choice(SUGGESTIONS[theme]) + "。"
    elif positives:
        bank = {"学习教育": POSITIVE_STUDY, "关爱": POSITIVE_CARE, "减负": RELIEF}[positives[0]]
        text = rng.choice(bank)
    else:
        text = rng.choice(NEGATED if rng.random() < 0.5 else POSITIVE_CARE)
    return text + "。", suggestion


def plan_wave(rng: random.Random, spec: WaveSpec, members: list[Member], qs: list[QSpec],
              traits: dict[int, Traits], rates: dict[str, float], setting: Setting, *,
              named: bool = False) -> WavePlan:  # fmt: skip
    """One wave: who answers (each group at its rate, jittered; an open wave only so far), and
    their sheets. Anonymous sheets are shuffled so their order says nothing about the ledger's."""
    counts = Counter(m.group for m in members)
    plan = WavePlan(spec, dict(sorted(counts.items())))
    texts = [q for q in qs if q.kind == "text"]
    by_group: dict[str, list[Member]] = defaultdict(list)
    for m in sorted(members, key=lambda m: m.pid):
        by_group[m.group].append(m)
    for group in sorted(by_group):
        rate = max(0.05, min(0.97, rates[group] + rng.gauss(0.0, 0.04))) * spec.progress
        for m in by_group[group]:
            if not rng.random() < rate:
                continue
            t = traits[m.pid]
            concerns, positives = voices_for(rng, t, m.unit, setting)
            answers = answer_sheet(rng, qs, concerns, positives, t.mood, setting)
            if texts:
                if named:
                    if rng.random() < 0.12:
                        answers[str(texts[0].id)] = rng.choice(DEMOCRATIC_REMARKS) + "。"
                else:
                    comment = compose(rng, concerns, positives, setting)
                    if comment is not None:
                        text, suggestion = comment
                        if suggestion and len(texts) > 1:
                            answers[str(texts[1].id)] = suggestion
                        elif suggestion:
                            text = text[:-1] + "，" + suggestion
                        answers[str(texts[0].id)] = text
            if named:
                plan.named.append((m.pid, group, answers))
            else:
                plan.ledger.append(m.pid)
                plan.sheets.append((group, answers))
    rng.shuffle(plan.sheets)
    return plan


def participation_rates(
    rng: random.Random, sizes: dict[str, int], *, threshold: int, low: int
) -> dict[str, float]:
    """60–90 % per group; the ``low`` smallest groups (under three times the threshold) answer far
    less, so some of their waves fall under the threshold and suppression shows."""
    rates = {g: round(rng.uniform(0.6, 0.9), 3) for g in sorted(sizes)}
    small = sorted((n, g) for g, n in sizes.items() if n < 3 * threshold)
    for _n, g in small[:low]:
        rates[g] = round(rng.uniform(0.25, 0.45), 3)
    return rates


def plant_specials(rng: random.Random, plans: list[WavePlan], text_qid: int, names: dict[str, list[str]],
                   *, threshold: int) -> None:  # fmt: skip
    """Three comments naming a colleague or giving a phone number (for the scrubber), one per closed
    wave before the latest closed one, and the one risk comment in the latest closed wave — each in a
    group at or above the threshold (the risk one well above). Sets ``risk_group`` on that wave."""
    closed = [p for p in plans if p.spec.state == "closed"]
    if not closed:
        return
    key = str(text_qid)

    def slot(plan: WavePlan, minimum: int, taken: set[int]) -> int | None:
        n = Counter(g for g, _ in plan.sheets)
        eligible = sorted(g for g, c in n.items() if c >= minimum and names.get(g))
        if not eligible:
            return None
        group = rng.choice(eligible)
        choices = [i for i, (g, a) in enumerate(plan.sheets) if g == group and i not in taken]
        return rng.choice(choices) if choices else None

    latest = closed[-1]
    i = slot(latest, 2 * threshold, set())
    if i is not None:
        group, answers = latest.sheets[i]
        answers[key] = RISK_COMMENT + "。"
        latest.risk_group = group
    earlier = closed[-4:-1] or closed[-1:]
    for n, template in enumerate(PII_COMMENTS):
        plan = earlier[n % len(earlier)]
        taken = {i} if plan is latest and i is not None else set()
        j = slot(plan, threshold, taken)
        if j is None:
            continue
        group, answers = plan.sheets[j]
        name = rng.choice(names[group])
        answers[key] = template.format(
            name=name, surname=name[0], mobile=f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}",
            landline=f"0731-8{rng.randint(0, 9999999):07d}",
        ) + "。"  # fmt: skip


def theme_share(texts: list[str], keywords: list[str]) -> float:
    """The share of ``texts`` containing one of a theme's keywords (what a lexicon match counts)."""
    if not texts:
        return 0.0
    return sum(any(k in t for k in keywords) for t in texts) / len(texts)


def texts_of(plan: WavePlan, text_ids: set[str]) -> list[str]:
    """The free-text answers of a wave's sheets."""
    sheets = [a for _, a in plan.sheets] + [a for _, _, a in plan.named]
    return [a[k] for a in sheets for k in sorted(text_ids) if a.get(k)]


# --- writing (database) -------------------------------------------------------------------------


def _create_survey(*, title, template_key, mode, hierarchy, owner_org_id, schedule, wave_days, created_by_id,
                   created_at, audience_orgs=(), audience_units=()):  # fmt: skip
    """A published survey with the template's dimensions and questions; returns (survey, questions)."""
    from sizheng.insight import survey_templates
    from sizheng.insight.models import Dimension, Question, Survey, SurveyState

    tpl = survey_templates.template_for(template_key)
    survey = Survey.objects.create(
        title=title, description=tpl["description"], template=template_key, mode=mode, hierarchy=hierarchy,
        owner_org_id=owner_org_id, schedule=schedule, wave_days=wave_days, state=SurveyState.PUBLISHED,
        created_by_id=created_by_id, created_at=created_at,
    )  # fmt: skip
    if audience_orgs:
        survey.audience_orgs.set(audience_orgs)
    if audience_units:
        survey.audience_units.set(audience_units)
    dims = [Dimension(survey=survey, name=d["name"], order=i) for i, d in enumerate(tpl["dimensions"])]
    Dimension.objects.bulk_create(dims)
    questions, order = [], 0
    for dim, d in [*zip(dims, tpl["dimensions"], strict=True), (None, {"questions": tpl["questions"]})]:
        for q in d["questions"]:
            questions.append(Question(survey=survey, dimension=dim, kind=q["kind"], text=q["text"],
                                      options=list(q.get("options") or []), required=q.get("required", True),
                                      order=order))  # fmt: skip
            order += 1
    Question.objects.bulk_create(questions)
    return survey, [(q.pk, q.kind, q.text, q.options, q.required) for q in questions]


def _members(survey, people: dict[int, tuple[int, int | None, str]]) -> list[Member]:
    """The survey's audience with their leaf groups (people outside its hierarchy left out)."""
    from sizheng.insight import groups

    audience = list(groups.audience(survey).only("pk", "unit_id", "office_id", "org_id"))
    leaf = groups.leaf_groups(survey, audience)
    out = []
    for p in audience:
        g = leaf.get(p.pk)
        if g is not None and p.pk in people:
            unit, age, name = people[p.pk]
            out.append(Member(p.pk, g, unit, age, name))
    return sorted(out, key=lambda m: m.pid)


def _at(day: date, rng: random.Random, tz) -> datetime:
    """A moment during office hours on ``day``."""
    return datetime.combine(day, time(8 + rng.randint(0, 9), rng.randint(0, 59)), tzinfo=tz)


def write_waves(rng: random.Random, survey, plans: list[WavePlan], *, tz, now) -> dict[int, object]:
    """Waves, ledger, shuffled anonymous sheets with fresh random keys, tallies; named sheets.
    Returns the Wave rows by number."""
    from sizheng.core.models import AnonymousTally
    from sizheng.insight.models import AnonymousResponse, AnswerLedger, NamedResponse, Wave

    waves = [Wave(survey=survey, number=p.spec.number, label=p.spec.label, opens_on=p.spec.opens_on,
                  closes_on=p.spec.closes_on, state=p.spec.state, audience_counts=p.audience_counts)
             for p in plans]  # fmt: skip
    Wave.objects.bulk_create(waves)
    ledger, responses, tallies, named = [], [], [], []
    for wave, p in zip(waves, plans, strict=True):
        # The ledger in its own shuffled order, with keys drawn before the sheets' (the two share nothing).
        people = list(p.ledger)
        rng.shuffle(people)
        ledger += [AnswerLedger(key=uuid.UUID(int=rng.getrandbits(128), version=4), wave=wave, person_id=pid)
                   for pid in people]  # fmt: skip
        responses += [AnonymousResponse(key=uuid.UUID(int=rng.getrandbits(128), version=4), wave=wave, group=g,
                                        answers=json.dumps(a, ensure_ascii=False)) for g, a in p.sheets]  # fmt: skip
        counts = Counter(g for g, _ in p.sheets)
        tallies += [AnonymousTally(kind=ANON_KIND, wave=str(wave.pk), group=g, count=n)
                    for g, n in sorted(counts.items())]  # fmt: skip
        last = min(p.spec.closes_on, now.date())
        span = max(0, (last - p.spec.opens_on).days)
        named += [NamedResponse(wave=wave, person_id=pid, group=g, answers=a,
                                submitted_at=min(now, _at(p.spec.opens_on + timedelta(days=rng.randint(0, span)), rng, tz)))
                  for pid, g, a in p.named]  # fmt: skip
    AnswerLedger.objects.bulk_create(ledger, batch_size=BATCH)
    AnonymousResponse.objects.bulk_create(responses, batch_size=BATCH)
    AnonymousTally.objects.bulk_create(tallies, batch_size=BATCH)
    NamedResponse.objects.bulk_create(named, batch_size=BATCH)
    return {w.number: w for w in waves}


def _raise_alert(wave, group: str, *, tz) -> str:
    """The risk alert of the wave holding the risk comment: through ``services.wave_close`` when it
    exists (the wave was written open for it and is closed the way the daily job closes a due wave,
    ``actor=None``), else the row itself. Returns how it was made."""
    from sizheng.insight.models import RiskAlert, Wave, WaveState

    if wave.state == WaveState.OPEN and _services_close():
        from sizheng.insight.services import wave_close

        closes_on = wave.closes_on
        wave_close(actor=None, wave=wave)
        Wave.objects.filter(pk=wave.pk).update(closes_on=closes_on, state=WaveState.CLOSED)
        return "wave_close"
    at = datetime.combine(wave.closes_on, time(18, 0), tzinfo=tz)
    RiskAlert.objects.get_or_create(wave=wave, group=group, defaults={"count": 1, "created_at": at})
    return "direct"


def _services_close() -> bool:
    """Whether ``insight.services.wave_close`` is there to close the risk wave."""
    try:
        from sizheng.insight.services import wave_close  # noqa: F401
    except ImportError:
        return False
    return True


@generator("insight.history", order=340, label="思想动态分析：两年的调查、测评")
def demo_insight(ctx) -> None:
    """Two years of survey waves and answers (skipped when surveys already exist)."""
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from sizheng.insight import text
    from sizheng.insight.models import Hierarchy, Schedule, Survey, SurveyMode, Template
    from sizheng.org.models import Org, OrgRole, Person

    if Survey.objects.exists():
        ctx.log("  已有问卷，跳过思想动态分析。")
        return
    root = Org.objects.filter(parent__isnull=True).order_by("pk").first()
    if root is None:
        ctx.log("  没有党组织，跳过思想动态分析。")
        return
    rng = ctx.rng
    now = timezone.now()
    today = timezone.localdate(now)
    tz = timezone.get_current_timezone()
    threshold = settings.ANONYMITY_MIN_GROUP
    accounts = ctx.shared.get("accounts") or {}
    gongwei = accounts.get("gongwei")

    rows = (
        Person.objects.filter(left_on__isnull=True)
        .order_by("pk")
        .values_list("pk", "unit_id", "birth_date", "name")
    )
    people = {pk: (unit, (today.year - b.year) if b else None, name) for pk, unit, b, name in rows}
    if not people:
        ctx.log("  没有人员，跳过思想动态分析。")
        return
    staff = Counter(u for u, _a, _n in people.values())
    big = sorted(u for u, n in staff.items() if n >= 60)
    heavy = frozenset(rng.sample(big, min(3, len(big))))
    rest = sorted(u for u, n in staff.items() if n >= 40 and u not in heavy)
    housing = frozenset(rng.sample(rest, min(2, len(rest))))
    lexicon = text.load_lexicon()["themes"]
    log = {}

    with transaction.atomic():
        # 1. The committee's quarterly 思想动态调查 over the whole tree.
        qwaves = quarter_waves(today)
        survey, questions = _create_survey(
            title=f"{root.name}干部职工思想动态调查", template_key=Template.THOUGHT, mode=SurveyMode.ANONYMOUS,
            hierarchy=Hierarchy.ORG, owner_org_id=root.pk, schedule=Schedule.QUARTER, wave_days=WAVE_DAYS,
            created_by_id=gongwei, created_at=_at(qwaves[0].opens_on - timedelta(days=14), rng, tz),
            audience_orgs=[root.pk],
        )  # fmt: skip
        members = _members(survey, people)
        sizes = Counter(m.group for m in members)
        group_climate = {g: rng.gauss(0.0, 0.2) for g in sorted(sizes)}
        climate = {m.pid: group_climate[m.group] - (0.15 if m.unit in heavy else 0.0) for m in members}
        traits = draw_traits(rng, [(pk, age) for pk, (_u, age, _n) in people.items()], climate)
        qs = question_specs(rng, questions)
        rates = participation_rates(rng, sizes, threshold=threshold, low=max(2, round(len(sizes) * 0.03)))
        first_year = qwaves[0].opens_on.year
        plans = [
            plan_wave(rng, spec, members, qs, traits, rates,
                      Setting(spec.season, spec.planted, spec.season == 2 and spec.opens_on.year == first_year,
                              heavy, housing))
            for spec in qwaves
        ]  # fmt: skip
        names = defaultdict(list)
        for m in members:
            names[m.group].append(m.name)
        text_ids = [q.id for q in qs if q.kind == "text"]
        if text_ids:
            plant_specials(rng, plans, text_ids[0], names, threshold=threshold)
        risk_plan = next((p for p in plans if p.risk_group), None)
        closing_through_services = risk_plan is not None and _services_close()
        if closing_through_services:
            risk_plan.spec.state = "open"  # closed below through services.wave_close
        by_number = write_waves(rng, survey, plans, tz=tz, now=now)
        keys = {str(i) for i in text_ids}
        shares = [(p.spec.label, theme_share(texts_of(p, keys), lexicon[PLANTED_THEME])) for p in plans]
        log["thought"] = (
            len(plans),
            sum(len(p.sheets) for p in plans),
            sum(len(texts_of(p, keys)) for p in plans),
        )

        # 2. Each unit's half-yearly 满意度测评 over its unit (units sharing a joint branch aside).
        hwaves = half_waves(today)
        through = Org.units.through.objects.filter(org__depth=1).exclude(org__kind=Org.Kind.LEADING_GROUP)
        units_of: dict[int, list[int]] = defaultdict(list)
        for org_id, unit_id in through.values_list("org_id", "unit_id"):
            units_of[org_id].append(unit_id)
        owners = {units[0]: org_id for org_id, units in units_of.items() if len(units) == 1}
        secretaries = dict(
            OrgRole.objects.filter(org_id__in=owners.values(), title=OrgRole.Title.SECRETARY, ends_on__isnull=True,
                                   person__user__isnull=False).values_list("org_id", "person__user_id")
        )  # fmt: skip
        from sizheng.org.models import Unit

        n_sat = [0, 0, 0]
        for unit in Unit.objects.filter(pk__in=owners).order_by("order", "pk"):
            org_id = owners[unit.pk]
            s, questions = _create_survey(
                title=f"{unit.name}机关党建工作满意度测评", template_key=Template.SATISFACTION,
                mode=SurveyMode.ANONYMOUS, hierarchy=Hierarchy.UNIT, owner_org_id=org_id, schedule=Schedule.HALF,
                wave_days=WAVE_DAYS, created_by_id=secretaries.get(org_id),
                created_at=_at(hwaves[0].opens_on - timedelta(days=10), rng, tz), audience_units=[unit.pk],
            )  # fmt: skip
            ms = _members(s, people)
            if not ms:
                continue
            unit_qs = question_specs(rng, questions)
            base = rng.uniform(0.6, 0.9)
            unit_rates = {g: round(max(0.5, min(0.95, base + rng.gauss(0.0, 0.06))), 3)
                          for g in sorted({m.group for m in ms})}  # fmt: skip
            unit_plans = [plan_wave(rng, spec, ms, unit_qs, traits, unit_rates,
                                    Setting(spec.season, heavy=heavy, housing=housing)) for spec in hwaves]  # fmt: skip
            write_waves(rng, s, unit_plans, tz=tz, now=now)
            n_sat[0] += 1
            n_sat[1] += len(unit_plans)
            n_sat[2] += sum(len(p.sheets) for p in unit_plans)

        # 3. A named yearly 民主测评 of the demo leader's unit's leading group.
        demo_people = ctx.shared.get("demo_person_ids") or {}
        lead_unit = people.get(demo_people.get("lingdao"), (None,))[0] or staff.most_common(1)[0][0]
        lg = Org.objects.filter(kind=Org.Kind.LEADING_GROUP, units=lead_unit).order_by("pk").first()
        ywaves = year_waves(today)
        n_named = 0
        if lg is not None and ywaves:
            s, questions = _create_survey(
                title=f"{lg.name}领导班子民主测评", template_key=Template.DEMOCRATIC, mode=SurveyMode.NAMED,
                hierarchy=Hierarchy.UNIT, owner_org_id=root.pk, schedule=Schedule.YEAR, wave_days=DEMOCRATIC_DAYS,
                created_by_id=gongwei, created_at=_at(ywaves[0].opens_on - timedelta(days=7), rng, tz),
                audience_units=[lead_unit],
            )  # fmt: skip
            leaders = set(Person.objects.filter(unit=lead_unit, is_leader=True).values_list("pk", flat=True))
            ms = [m for m in _members(s, people) if m.pid not in leaders]  # the team does not rate itself
            d_qs = question_specs(rng, questions)
            d_rates = dict.fromkeys({m.group for m in ms}, 0.92)
            d_plans = [plan_wave(rng, spec, ms, d_qs, traits, d_rates, Setting(spec.season), named=True)
                       for spec in ywaves]  # fmt: skip
            for p in d_plans:  # expected respondents: the whole unit, as the wave fixed it
                p.audience_counts = dict(sorted(Counter(m.group for m in _members(s, people)).items()))
            write_waves(rng, s, d_plans, tz=tz, now=now)
            n_named = sum(len(p.named) for p in d_plans)

        # 4. The risk comment's alert.
        how = ""
        if risk_plan is not None:
            wave = by_number[risk_plan.spec.number]
            how = _raise_alert(wave, risk_plan.risk_group, tz=tz)

    n_waves, n_sheets, n_texts = log["thought"]
    ctx.log(f"  思想动态调查 {n_waves} 轮（匿名答卷 {n_sheets} 份，文字意见 {n_texts} 条）；满意度测评 {n_sat[0]} 个单位共 "
            f"{n_sat[1]} 轮（匿名答卷 {n_sat[2]} 份）；民主测评 {len(ywaves)} 轮（实名答卷 {n_named} 份）。")  # fmt: skip
    if len(shares) >= 3:
        (l1, s1), (l2, s2) = shares[-3], shares[-2]
        ctx.log(f"  “{PLANTED_THEME}”占文字意见：{l1} {s1:.0%} → {l2} {s2:.0%}"
                + (f"；风险提示 1 条（{'经 wave_close 生成' if how == 'wave_close' else '直接写入'}）。" if how else "。"))  # fmt: skip
