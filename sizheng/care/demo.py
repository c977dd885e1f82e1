"""Demo data: two years of care cases (困难诉求) and of the wellbeing pathway across the demo city.

Care cases — about one per 15 people over last year and this year:

- opened by the person (本人反映), by the 书记 after a 关爱谈话 with the person's consent recorded
  (who, when, how; the talk is written too and linked as the case's source), or by the union handler
  (工会登记) where a union grant covers the org — elsewhere the 书记 handles it;
- categories and tiers spread the way they come up in a 机关 (medical, elder care and children's
  schooling most often), descriptions and action notes from phrase banks;
- each case's life follows ``care.workflow`` (受理 → 处理中 → 已解决 → 已回访) with visits and help
  recorded on the way, cut at now: the older ones are followed up with a satisfaction (mostly 4–5),
  a few were reopened after a relapse, lasting hardship is re-checked yearly (``recheck_on``), and the
  recent ones are open in every state; an open case handled by a 书记 has its "关爱跟进" duty, opened
  through ``duties.services.duty_open``.

Wellbeing (T3):

- named screenings of a few percent of the staff (after their health-data consent), with the band
  distribution of a working population (PHQ-9: about 70 % minimal, 18 % mild, 7 % moderate, 3 %
  moderately severe, 2 % severe; GAD-7 alike) and answers that add up to the score;
- anonymous screenings every month (more in May and October, the mental-health months), stored the
  way ``core.anonymous`` flushes them (random key, month only, reporting group, shuffled), with their
  ``AnonymousTally`` counts — nothing is left pending in a pool;
- a few crisis alerts in the counselors' queue: open ones raised in the last hour (named screenings
  with item 9 positive or a severe band, and a contact request), one escalated to the backup after
  the acknowledgement time ran out, acknowledged ones with a counseling case, session notes and an
  appointment, and older ones closed (one referred);
- a few contact requests (请心理咨询员联系我) in every state.

History is written with bulk inserts, not through ``services``: no notifications go out and no audit
rows are written (the open cases' duties aside, which ``duty_open`` audits with ids only).
Deterministic: everything is drawn from the generator's seeded stream in a fixed order.
"""

from __future__ import annotations

import json
import random
import secrets
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sizheng.care import instruments
from sizheng.core.demo import generator

BATCH = 1000

# The same values as ``care.wellbeing`` (a test checks they agree): the pool / tally kind, and the
# blind-index purpose of a deletion code.
ANON_KIND = "wellbeing"
DELETE_PURPOSE = "wellbeing-delete"
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

# --- phrase banks ---------------------------------------------------------------------------

# Category → (weight, descriptions).
CATEGORIES: dict[str, tuple[int, list[str]]] = {
    "living": (14, [
        "爱人无固定收入，两个孩子都在上学，家庭日常开支压力较大，希望组织给予帮助。",
        "家中有重病老人需长期治疗，家庭经济负担较重，生活较为困难。",
        "本人是家中唯一收入来源，近期家中接连发生变故，生活出现困难。",
    ]),
    "housing": (7, [
        "一直租房居住，房东近期收回房屋，急需另寻住处，希望协助了解公租房政策。",
        "家中老房屋年久失修，雨季漏水严重，维修费用较高。",
    ]),
    "education": (12, [
        "孩子今年小学入学，户籍与居住地不一致，入学手续办理遇到困难，希望协调咨询政策。",
        "孩子患有读写障碍，需要特殊教育支持，希望了解相关资源。",
        "异地交流任职，孩子随迁转学手续办理遇到困难。",
    ]),
    "medical": (18, [
        "本人确诊慢性病，需长期服药和定期复查，医疗费用负担较重。",
        "爱人突发重病住院手术，需要大额医疗费用，本人需请假陪护。",
        "孩子患病需到省城医院长期治疗，往返就医花费较大。",
    ]),
    "family": (9, [
        "父亲突发疾病去世，家中需处理较多事务，本人情绪较为低落。",
        "家庭发生重大变故，需要组织关心和帮助。",
        "家中遭遇意外事故，房屋和财产受损。",
    ]),
    "pressure": (12, [
        "长期承担重点专项任务，加班较多，感到身心疲惫，希望适当调整工作安排。",
        "新岗位业务不熟悉，任务重、节奏快，压力较大。",
    ]),
    "career": (7, [
        "岗位调整后专业不对口，希望得到业务培训和指导。",
        "从基层遴选到机关后适应较慢，希望组织帮助规划发展。",
    ]),
    "elder_care": (14, [
        "母亲患阿尔茨海默病，需要专人照护，白天家中无人看护。",
        "双方老人均年迈多病，异地就医往返奔波，难以兼顾工作。",
        "父亲中风后行动不便，需要长期康复护理。",
    ]),
    "other": (5, [
        "住处离单位较远，每天通勤时间超过三小时，希望协调解决。",
        "爱人在外地工作，长期两地分居，希望了解有关照顾政策。",
    ]),
}  # fmt: skip
START_NOTES = ["已与本人联系，了解具体情况。", "已电话联系本人，约定上门走访。", ""]
VISIT_NOTES = [
    "支部书记和工会负责同志上门走访慰问，详细了解家庭情况。",
    "到医院看望慰问，转达组织关心，了解治疗和费用情况。",
    "与本人面谈，听取具体困难和诉求，研究帮扶办法。",
]
HELP_NOTES: dict[str, list[str]] = {
    "living": ["协调单位工会发放困难帮扶金。", "按规定申报困难职工帮扶，已纳入帮扶台账。"],
    "housing": ["协助了解公租房申请政策并准备材料，已提交申请。", "协调单位后勤协助联系维修，帮助解决住房问题。"],
    "education": ["协助联系教育部门咨询入学政策，已办理入学手续。", "联系有关学校了解特殊教育资源，已为孩子联系专业机构。"],
    "medical": ["协助申请职工医疗互助保障补助。", "协调处室调整工作安排，方便其陪护就医。"],
    "family": ["组织慰问，协调调整工作安排，给予假期照顾。", "工会按规定发放慰问金，支部持续关心其思想状况。"],
    "pressure": ["与处室负责同志沟通，适当调整工作分工。", "安排带薪年休假，建议参加单位组织的减压活动。"],
    "career": ["推荐参加单位组织的业务培训，安排业务骨干结对帮带。", "与本人谈心，帮助制定个人学习计划。"],
    "elder_care": ["联系社区养老服务机构，提供日间照料服务。", "协调安排弹性上下班时间，方便照顾老人。"],
    "other": ["协调纳入单位通勤班车，缩短通勤时间。", "按规定协调有关照顾政策，已向上级反映。"],
}  # fmt: skip
RESOLVE_NOTES = ["困难已基本解决。", "帮扶措施已落实到位。", "经协调，有关问题已解决。"]
FOLLOW_UP_NOTES = [
    "回访时本人表示困难已得到解决，对组织的帮助表示感谢。",
    "回访了解到家庭情况已基本稳定，本人工作状态良好。",
    "电话回访，本人对办理情况表示满意。",
]
REOPEN_NOTES = ["本人反映困难再次出现，重新打开办理。", "回访发现病情反复，治疗费用再次增加，重新打开办理。"]
CARE_TALK_SUMMARIES = [
    "了解到本人家中{what}，本人同意由支部代为登记困难诉求，支部将及时跟进帮扶。",
    "谈话中本人谈到{what}，经本人同意，支部登记困难诉求并协调有关方面帮助解决。",
]
CARE_TALK_WHAT = {
    "living": "经济负担较重",
    "housing": "住房遇到困难",
    "education": "孩子入学遇到困难",
    "medical": "有人患病需要长期治疗",
    "family": "发生变故",
    "pressure": "工作压力较大",
    "career": "岗位调整后适应较慢",
    "elder_care": "老人需要照护",
    "other": "有实际困难",
}
CATEGORY_TAGS = {
    "living": ["生活困难"],
    "housing": ["生活困难", "家庭"],
    "education": ["家庭"],
    "medical": ["健康", "家庭"],
    "family": ["家庭"],
    "pressure": ["工作", "心理压力"],
    "career": ["职业发展"],
    "elder_care": ["家庭", "健康"],
    "other": ["生活困难"],
}
SESSION_NOTES = [
    "首次访谈，了解近期睡眠和情绪状况，完成风险评估，约定一周后再次面谈。",
    "与本人共同制定安全计划，提供了12356心理援助热线和就近医院精神心理科信息。",
    "本人情绪较前平稳，能够规律作息，继续进行认知行为辅导。",
    "讨论了工作压力的来源和应对方法，布置了放松训练练习。",
    "本人反馈近两周睡眠改善，家人支持较好，下次面谈改为两周一次。",
]
REFERRALS = ["经本人同意，转介至市精神卫生中心心理门诊就诊，已协助预约。"]
CLOSING_NOTES = [
    "经过四次辅导，本人情绪稳定、工作生活恢复正常，经本人同意结案，约定有需要时随时联系。",
    "本人状态明显改善，已完成辅导计划，经本人同意结案。",
]
CONTACT_HOW = [
    "工作日午休时间打手机联系",
    "请在平台上留言约时间，下班后方便",
    "周三下午方便，可以电话联系",
    "",
]
PLACES = ["市直机关心理咨询室（机关服务中心三楼 306 室）", "线上视频", "单位谈心谈话室"]

# Band shares of a working population (issue 6 §9) and the chance of a positive PHQ-9 item 9 per band.
BAND_SHARES = {
    instruments.PHQ9: [("minimal", 0.70), ("mild", 0.18), ("moderate", 0.07), ("moderately_severe", 0.03),
                       ("severe", 0.02)],
    instruments.GAD7: [("minimal", 0.72), ("mild", 0.18), ("moderate", 0.07), ("severe", 0.03)],
}  # fmt: skip
ITEM9_SHARE = {"minimal": 0.0, "mild": 0.02, "moderate": 0.06, "moderately_severe": 0.2, "severe": 0.45}


def _pick(rng: random.Random, weighted):
    """One value of ``(value, weight)`` rows, drawn by weight."""
    total = sum(w for _v, w in weighted)
    r = rng.random() * total
    for value, w in weighted:
        r -= w
        if r < 0:
            return value
    return weighted[-1][0]


# --- screenings (pure) ----------------------------------------------------------------------


def answers_for(rng: random.Random, code: str, total: int, item9: int = 0) -> list[int]:
    """Item scores 0–3 that add up to ``total`` (PHQ-9 item 9 set to ``item9``)."""
    inst = instruments.get(code)
    n = len(inst.items)
    values = [0] * n
    free = [i for i in range(n) if not (code == instruments.PHQ9 and i == instruments.ITEM9)]
    if code == instruments.PHQ9:
        values[instruments.ITEM9] = item9
    rest = total - sum(values)
    if rest < 0 or rest > 3 * len(free):
        raise ValueError(f"cannot spread {total} over {code} with item 9 = {item9}")
    while rest:
        i = rng.choice([j for j in free if values[j] < 3])
        values[i] += 1
        rest -= 1
    return values


def draw(rng: random.Random, code: str, *, band: str | None = None, crisis: bool | None = None):
    """A scored screening drawn from the population's bands (``instruments.Result``).

    ``band`` fixes the band; ``crisis`` False redraws until neither item 9 nor a severe band, True
    forces item 9 positive or a severe band."""
    inst = instruments.get(code)
    while True:
        b = band or _pick(rng, BAND_SHARES[code])
        rng_band = next(x for x in inst.bands if x.code == b)
        total = rng.randint(rng_band.low, rng_band.high)
        item9 = 0
        if code == instruments.PHQ9 and (rng.random() < ITEM9_SHARE[b] or (crisis and b != "severe")):
            item9 = min(total, rng.choice([1, 1, 1, 2, 2, 3]))
        if code == instruments.PHQ9 and total - item9 > 24:
            item9 = total - 24
        result = instruments.score(code, answers_for(rng, code, total, item9))
        if crisis is None or result.crisis == crisis:
            return result


# --- care cases (pure) ----------------------------------------------------------------------


@dataclass
class Step:
    """One action of a case's life: kind, when, the state after it, note, satisfaction (follow-ups)."""

    kind: str
    at: datetime
    to_state: str
    note: str = ""
    satisfaction: int | None = None


def one_year_after(day: date) -> date:
    """The same day a year later (29 February → 28 February), as ``care.services`` computes it."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def case_life(
    rng: random.Random,
    opened: datetime,
    *,
    category: str,
    ongoing: bool = False,
    reopen: bool = False,
    slow: bool = False,
    resolve_in: int | None = None,
    follow_in: int | None = None,
) -> list[Step]:
    """A case's whole life from 受理 to 回访 (and a relapse, and yearly re-checks), as ``care.workflow`` allows."""
    steps = [Step("accept", opened, "accepted")]
    t = opened + timedelta(hours=rng.randint(12, 96))
    steps.append(Step("transition", t, "in_progress", rng.choice(START_NOTES)))
    t += timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 6))
    steps.append(Step("visit", t, "in_progress", rng.choice(VISIT_NOTES)))
    for note in rng.sample(HELP_NOTES[category], rng.randint(1, len(HELP_NOTES[category]))):
        t += timedelta(days=rng.randint(2, 12), hours=rng.randint(0, 6))
        steps.append(Step("help", t, "in_progress", note))
    days = resolve_in if resolve_in is not None else rng.randint(90, 200) if slow else rng.randint(10, 45)
    resolved = max(t + timedelta(hours=2), opened + timedelta(days=days))
    steps.append(Step("transition", resolved, "resolved", rng.choice(RESOLVE_NOTES)))
    follow = resolved + timedelta(days=follow_in if follow_in is not None else rng.randint(7, 30))
    steps.append(Step("follow_up", follow, "followed_up", rng.choice(FOLLOW_UP_NOTES), _satisfaction(rng)))
    if reopen:
        t = follow + timedelta(days=rng.randint(30, 150))
        steps.append(Step("reopen", t, "in_progress", rng.choice(REOPEN_NOTES)))
        t += timedelta(days=rng.randint(3, 10))
        steps.append(Step("help", t, "in_progress", rng.choice(HELP_NOTES[category])))
        t += timedelta(days=rng.randint(15, 40))
        steps.append(Step("transition", t, "resolved", rng.choice(RESOLVE_NOTES)))
        t += timedelta(days=rng.randint(7, 20))
        steps.append(Step("follow_up", t, "followed_up", rng.choice(FOLLOW_UP_NOTES), _satisfaction(rng)))
    if ongoing:
        # Lasting hardship: re-checked a year after it was resolved, and every year after.
        day = one_year_after(resolved.date())
        for _ in range(3):
            at = datetime.combine(day, time(8), tzinfo=opened.tzinfo)
            steps.append(Step("recheck", at, "followed_up"))
            day = one_year_after(day)
    return steps


def _satisfaction(rng: random.Random) -> int:
    return _pick(rng, [(5, 0.6), (4, 0.3), (3, 0.07), (2, 0.03)])


def replay(steps: list[Step], *, ongoing: bool) -> dict:
    """The case's fields after these steps (any prefix of a life), as ``care.services`` would leave them."""
    f = {"state": "accepted", "version": 1, "resolved_at": None, "followed_up_at": None, "satisfaction": None,
         "reopen_count": 0, "recheck_on": None, "is_ongoing": False}  # fmt: skip
    for s in steps[1:]:
        if s.kind == "recheck":
            # A re-check leaves the state alone and moves the next one a year on.
            f["version"] += 1
            f["recheck_on"] = one_year_after(s.at.date())
            continue
        if s.kind in ("visit", "help"):
            continue
        f["version"] += 1
        if s.to_state == "resolved":
            f.update(
                resolved_at=s.at,
                is_ongoing=ongoing,
                recheck_on=one_year_after(s.at.date()) if ongoing else None,
            )
        elif s.kind == "follow_up":
            f.update(satisfaction=s.satisfaction, followed_up_at=s.at)
        elif s.kind == "reopen":
            f.update(reopen_count=f["reopen_count"] + 1, resolved_at=None, followed_up_at=None, satisfaction=None,
                     recheck_on=None)  # fmt: skip
        f["state"] = s.to_state
    return f


def cut(steps: list[Step], now: datetime) -> list[Step]:
    """The part of a life that has happened by ``now`` (re-check steps keep the state they find)."""
    kept = [s for s in steps if s.at <= now]
    state = "accepted"
    for s in kept:
        if s.kind == "recheck":
            s.to_state = state
        elif s.kind not in ("visit", "help"):
            state = s.to_state
        else:
            s.to_state = state
    return kept


@dataclass
class CasePlan:
    """One care case to write (pks of people, orgs and users)."""

    person: int
    org_id: int
    unit_id: int
    opened_via: str
    handler: str
    handler_org: int
    category: str
    tier: str
    description: str
    opened: datetime
    steps: list[Step]
    fields: dict
    opened_by: int | None = None
    consent: tuple[date, str, int | None] | None = None  # (on, method, recorded by)
    talk: tuple[int, date, str, list[str]] | None = None  # (initiator, held on, summary, tags)
    secretary: int | None = None  # the 书记 owning the duty of an open case


@dataclass
class CareCity:
    """What the care planner knows (plain values)."""

    people: list[tuple[int, int, int, int | None]]  # (person, unit, case org, user)
    secretary_org: Callable[[int, int, date], tuple[int, int | None]]  # (person, org, day) → (org, 书记)
    union_org: Callable[[int], int | None]  # org → the org whose union handlers cover it
    union_user: int | None = None
    pinned: dict[str, int] = field(default_factory=dict)  # role → person (dangyuan, shuji_b's member)


def plan_cases(rng: random.Random, city: CareCity, now: datetime, *, n: int) -> list[CasePlan]:
    """About ``n`` cases over the two years, the last few pinned so that every state shows today."""
    tz = now.tzinfo
    start = datetime.combine(date(now.year - 1, 1, 1), time(9), tzinfo=tz)
    pool = list(city.people)
    rng.shuffle(pool)
    by_person = {p[0]: p for p in city.people}
    pinned = [by_person[p] for p in city.pinned.values() if p in by_person]
    chosen = pinned + [p for p in pool if p not in pinned][: max(0, n - len(pinned))]
    # (days ago, resolve in, follow in) for the most recent cases: two 受理, two 处理中, one 已解决.
    recent = [(0.15, None, None), (1.5, 30, None), (6, 25, None), (12, 40, None), (20, 12, 30)]
    span = (now - start).total_seconds()
    cases: list[CasePlan] = []
    for i, (pid, unit_id, org_id, user_id) in enumerate(chosen):
        resolve_in = follow_in = None
        if pid == city.pinned.get("dangyuan"):
            opened = now - timedelta(days=210)
        elif i - len(pinned) < len(recent) and i >= len(pinned):
            days, resolve_in, follow_in = recent[i - len(pinned)]
            opened = now - timedelta(days=days)
        elif pid == city.pinned.get("shuji_b_member"):
            opened = now - timedelta(days=9)
            resolve_in = 60
        else:
            opened = start + timedelta(seconds=rng.random() * span * 0.97)
            opened = opened.replace(hour=rng.randint(8, 17), minute=rng.choice([0, 15, 30, 45]))
        opened = min(opened, now - timedelta(hours=1))
        category = _pick(rng, [(c, w) for c, (w, _d) in CATEGORIES.items()])
        tier = _tier(rng, category)
        ongoing = (
            tier == "deep"
            and category in ("living", "medical", "elder_care", "family")
            and rng.random() < 0.7
        )
        reopen = not ongoing and rng.random() < 0.06
        slow = rng.random() < 0.1
        steps = cut(
            case_life(rng, opened, category=category, ongoing=ongoing, reopen=reopen, slow=slow,
                      resolve_in=resolve_in, follow_in=follow_in),
            now,
        )  # fmt: skip
        via = _pick(rng, [("self", 0.4), ("secretary", 0.4), ("union", 0.2)])
        if pid == city.pinned.get("dangyuan"):
            via = "self"
        union = city.union_org(org_id)
        if via == "union" and union is None:
            via = "secretary"
        handler = (
            "union" if via == "union" or (via == "self" and union and rng.random() < 0.2) else "secretary"
        )
        if pid == city.pinned.get("shuji_b_member"):
            via, handler = "self", "secretary"
        sec_org, secretary = city.secretary_org(pid, org_id, opened.date())
        if via == "secretary" and (secretary is None or secretary == pid):
            via = "self"
        plan = CasePlan(
            person=pid, org_id=org_id, unit_id=unit_id, opened_via=via, handler=handler,
            handler_org=union if handler == "union" else sec_org, category=category, tier=tier,
            description=rng.choice(CATEGORIES[category][1]), opened=opened, steps=steps,
            fields=replay(steps, ongoing=ongoing), secretary=secretary,
        )  # fmt: skip
        if via == "self":
            plan.opened_by = user_id
        elif via == "union":
            plan.opened_by = city.union_user
            plan.consent = (opened.date(), _pick(rng, [("written", 0.6), ("oral", 0.4)]), city.union_user)
        else:
            talk_day = (opened - timedelta(days=rng.randint(0, 3))).date()
            summary = rng.choice(CARE_TALK_SUMMARIES).format(what=CARE_TALK_WHAT[category])
            plan.talk = (secretary, talk_day, summary, CATEGORY_TAGS[category])
            plan.consent = (talk_day, _pick(rng, [("oral", 0.5), ("written", 0.35), ("online", 0.15)]), None)
        cases.append(plan)
    return cases


def _tier(rng: random.Random, category: str) -> str:
    """深度 / 相对 / 意外 where it applies; none for work pressure and career questions mostly."""
    if category in ("pressure", "career", "other"):
        return "" if rng.random() < 0.8 else "relative"
    if category == "family":
        return _pick(rng, [("sudden", 0.5), ("deep", 0.2), ("relative", 0.3)])
    if category == "medical":
        return _pick(rng, [("sudden", 0.3), ("deep", 0.25), ("relative", 0.45)])
    return _pick(rng, [("deep", 0.15), ("relative", 0.75), ("sudden", 0.1)])


# --- reading the city and writing ------------------------------------------------------------


class _Roster:
    """People, orgs, posts and grants, read once."""

    def __init__(self, today: date) -> None:
        from sizheng.core.models import Role, RoleGrant
        from sizheng.org.models import Org, OrgRole, Person

        self.orgs = {pk: (path, parent, kind, dissolved) for pk, path, parent, kind, dissolved in
                     Org.objects.values_list("pk", "path", "parent_id", "kind", "dissolved_on")}  # fmt: skip
        roots: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for org_id, unit_id in Org.units.through.objects.values_list("org_id", "unit_id"):
            path, _parent, kind, dissolved = self.orgs[org_id]
            if path.count(".") == 2 and kind != Org.Kind.LEADING_GROUP:
                roots[unit_id].append((path, org_id))
        self.unit_root = {u: sorted(v)[0][1] for u, v in roots.items()}
        self.people: list[tuple[int, int, int, int | None]] = []
        for pid, unit_id, org_id, user_id in (
            Person.objects.filter(left_on__isnull=True)
            .order_by("pk")
            .values_list("pk", "unit_id", "org_id", "user_id")
        ):
            org = org_id or self.unit_root.get(unit_id)
            if org is not None:
                self.people.append((pid, unit_id, org, user_id))
        self.users = {p: u for p, _unit, _org, u in self.people if u}
        self.posts: dict[int, list[tuple[int, date, date | None]]] = defaultdict(list)
        for org_id, pid, s, e in OrgRole.objects.filter(title=OrgRole.Title.SECRETARY).values_list(
            "org_id", "person_id", "starts_on", "ends_on"
        ):
            self.posts[org_id].append((pid, s, e))
        grants = RoleGrant.objects.in_force(today).filter(role__in=[Role.UNION, Role.COUNSELOR])
        self.union_orgs, self.union_all, self.union_user = set(), False, None
        self.counselors: dict[int, int] = {}  # org → primary counselor user (ORG grants)
        self.counselor_all: int | None = None
        for role, kind, scope, backup, user in grants.order_by("user_id").values_list(
            "role", "scope_kind", "scope_id", "is_backup", "user_id"
        ):
            if role == Role.UNION:
                self.union_user = self.union_user or user
                if kind == RoleGrant.ScopeKind.ALL:
                    self.union_all = True
                elif kind == RoleGrant.ScopeKind.ORG:
                    self.union_orgs.add(scope)
            elif not backup and kind == RoleGrant.ScopeKind.ORG:
                self.counselors.setdefault(scope, user)
            elif not backup and kind == RoleGrant.ScopeKind.ALL:
                self.counselor_all = self.counselor_all or user

    def chain(self, org_id: int) -> list[int]:
        """The org and its ancestors, deepest first."""
        return [int(s) for s in self.orgs[org_id][0].split(".") if s][::-1]

    def secretary(self, org_id: int, day: date) -> int | None:
        return next(
            (p for p, s, e in self.posts.get(org_id, []) if s <= day and (e is None or e >= day)), None
        )

    def secretary_org(self, person: int, org_id: int, day: date) -> tuple[int, int | None]:
        """The nearest org (the person's own first) with a 书记 in office who is not the person."""
        for candidate in self.chain(org_id):
            sec = self.secretary(candidate, day)
            if sec is not None and sec != person:
                return candidate, sec
        return org_id, None

    def union_org(self, org_id: int) -> int | None:
        """Like ``care.services.union_org_for``: the nearest org with union handlers, else the root."""
        chain = self.chain(org_id)
        hit = next((o for o in chain if o in self.union_orgs), None)
        if hit is None and self.union_all and chain:
            hit = chain[-1]
        return hit

    def primary_counselor(self, org_id: int | None) -> int | None:
        """Like ``care.wellbeing.primary_counselor``: the nearest covering org's, else an all-scope one."""
        for candidate in self.chain(org_id) if org_id else []:
            if candidate in self.counselors:
                return self.counselors[candidate]
        return self.counselor_all


def write_cases(cases: list[CasePlan], *, roster: _Roster, now, tz) -> tuple[int, int, int, int]:
    """Bulk-insert the cases, their actions and source talks; open duties for open 书记 cases.

    Returns (cases, actions, talks, duties)."""
    from sizheng.care.models import CareAction, CareCase
    from sizheng.duties.models import Duty, DutyEvent, SourceKind
    from sizheng.duties.services import duty_open
    from sizheng.life.demo import insert_rows
    from sizheng.org.models import Org, Person
    from sizheng.talks.models import Talk, TalkParticipant

    with_talk = [c for c in cases if c.talk]
    talks = [
        Talk(org_id=c.handler_org, initiator_id=c.talk[0], held_on=c.talk[1], mode="in_person", status="held",
             kind="care", tags=json.dumps(c.talk[3], ensure_ascii=False), summary=c.talk[2],
             content=c.talk[2] + c.description, created_by_id=roster.users.get(c.talk[0]),
             created_at=min(now, datetime.combine(c.talk[1], time(17), tzinfo=tz)))
        for c in with_talk
    ]  # fmt: skip
    Talk.objects.bulk_create(talks, batch_size=BATCH)
    rows = []
    for t, c in zip(talks, with_talk, strict=True):
        rows += [(t.pk, c.talk[0], True), (t.pk, c.person, False)]
    insert_rows(TalkParticipant, ["talk", "person", "is_initiator"], rows)
    talk_of = {id(c): t.pk for t, c in zip(talks, with_talk, strict=True)}

    objs = []
    for c in cases:
        f = c.fields
        opener = roster.users.get(c.talk[0]) if c.talk else c.opened_by
        consent = c.consent
        objs.append(
            CareCase(person_id=c.person, org_id=c.org_id, unit_id=c.unit_id, opened_via=c.opened_via,
                     handler=c.handler, handler_org_id=c.handler_org, category=c.category, tier=c.tier,
                     description=c.description, consent_on=consent[0] if consent else None,
                     consent_method=consent[1] if consent else "",
                     consent_recorded_by_id=opener if consent else None, source_talk_id=talk_of.get(id(c)),
                     state=f["state"], satisfaction=f["satisfaction"], is_ongoing=f["is_ongoing"],
                     recheck_on=f["recheck_on"], reopen_count=f["reopen_count"], opened_by_id=opener,
                     opened_at=c.opened, resolved_at=f["resolved_at"], followed_up_at=f["followed_up_at"],
                     version=f["version"])
        )  # fmt: skip
    CareCase.objects.bulk_create(objs, batch_size=BATCH)
    actions = []
    for obj, c in zip(objs, cases, strict=True):
        handler_user = roster.union_user if c.handler == "union" else roster.users.get(c.secretary or 0)
        for s in c.steps:
            actor = obj.opened_by_id if s.kind == "accept" else None if s.kind == "recheck" else handler_user
            kind = {"accept": "accept", "transition": "transition", "visit": "visit", "help": "help",
                    "follow_up": "follow_up", "reopen": "reopen", "recheck": "recheck"}[s.kind]  # fmt: skip
            actions.append(
                CareAction(case=obj, kind=kind, note=s.note, to_state=s.to_state, actor_id=actor, at=s.at)
            )
    CareAction.objects.bulk_create(actions, batch_size=BATCH)

    # An open case handled by a 书记 has its "关爱跟进" duty, through the one entry point.
    from sizheng.core.calendar import add_workdays

    open_cases = [(o, c) for o, c in zip(objs, cases, strict=True) if o.state in ("accepted", "in_progress")
                  and c.handler == "secretary"]  # fmt: skip
    orgs = Org.objects.in_bulk({c.handler_org for _o, c in open_cases})
    owners = Person.objects.in_bulk({c.secretary for _o, c in open_cases if c.secretary})
    for obj, c in open_cases:
        duty = duty_open(org=orgs[c.handler_org], title="关爱跟进", due_on=add_workdays(c.opened.date(), 10),
                         source=(SourceKind.CARE, obj.pk), actor=None, owner=owners.get(c.secretary))  # fmt: skip
        Duty.objects.filter(pk=duty.pk).update(created_at=c.opened)
        DutyEvent.objects.filter(duty=duty).update(at=c.opened)
        obj.duty_id = duty.pk
    CareCase.objects.bulk_update([o for o, _c in open_cases], ["duty_id"], batch_size=BATCH)
    return len(objs), len(actions), len(talks), len(open_cases)


# --- wellbeing ------------------------------------------------------------------------------


def _deletion_key() -> str:
    """The blind index of a deletion code nobody was shown (as ``care.wellbeing.deletion_key`` stores it).

    Drawn from ``secrets``, not the seeded stream: knowing the seed must not let anyone delete an answer."""
    from sizheng.core.crypto import blind_index

    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(16))
    return blind_index(code, purpose=DELETE_PURPOSE, normalizer=None)


def _month_waves(start: date, end: date) -> list[str]:
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def plan_anonymous(rng: random.Random, people: list[tuple[int, int, int, int | None]], waves: list[str]):
    """Anonymous screenings per wave: (wave, group, result) — about 1 % of staff a month, 6–7 % in May
    and October; most take both questionnaires."""
    out = []
    for wave in waves:
        month = int(wave[5:])
        share = 0.065 if month in (5, 10) else 0.012
        for _pid, _unit, org_id, _user in people:
            if rng.random() >= share:
                continue
            out.append((wave, f"org:{org_id}", draw(rng, instruments.PHQ9)))
            if rng.random() < 0.75:
                out.append((wave, f"org:{org_id}", draw(rng, instruments.GAD7)))
    return out


def write_wellbeing(rng: random.Random, roster: _Roster, *, now, tz, scale: float, pinned: dict) -> dict:
    """Consents, named and anonymous screenings, contact requests, crisis alerts and caseloads."""
    from sizheng.care.models import (
        AnonymousScreening,
        Appointment,
        ContactRequest,
        CounselingCase,
        CrisisAlert,
        HealthConsent,
        Screening,
        SessionNote,
    )
    from sizheng.core.models import AnonymousTally

    today = now.date()
    start = datetime.combine(date(today.year - 1, 1, 1), time(9), tzinfo=tz)
    people = roster.people
    by_person = {p[0]: p for p in people}
    pool = list(people)
    rng.shuffle(pool)
    n_named = max(6, round(len(people) * 0.035))
    named = [by_person[pinned["dangyuan"]]] if pinned.get("dangyuan") in by_person else []
    named += [p for p in pool if p not in named][: n_named - len(named)]
    used = {p[0] for p in named}
    rest = [p for p in pool if p[0] not in used]

    consents, screenings = [], []
    for pid, _unit, org_id, _user in named:
        given = start + timedelta(seconds=rng.random() * (now - start).total_seconds() * 0.9)
        consents.append(HealthConsent(person_id=pid, given_at=given))
        at = given
        for _ in range(rng.choice([1, 1, 2, 3])):
            at += timedelta(minutes=rng.randint(2, 10))
            if at >= now:
                break
            for code in (instruments.PHQ9, instruments.GAD7) if rng.random() < 0.7 else (instruments.PHQ9,):
                r = draw(rng, code, band="minimal" if pid == pinned.get("dangyuan") else None, crisis=False)
                screenings.append(Screening(person_id=pid, org_id=org_id, instrument=code, answers=json.dumps(list(r.answers)),
                                            score=str(r.score), band=r.band, crisis="0", wave=at.strftime("%Y-%m"),
                                            taken_at=at))  # fmt: skip
            at += timedelta(days=rng.randint(60, 240))
    # A couple of people later withdrew their consent (their earlier screenings stay until they delete them).
    for c in consents[1:3]:
        c.withdrawn_at = min(now - timedelta(days=1), c.given_at + timedelta(days=rng.randint(30, 200)))

    # The crisis scenarios: (reason, hours ago raised, what happened since).
    n_open = max(2, round(2 * scale))
    n_closed = max(1, round(3 * scale))
    script = (
        [("item9" if i % 2 == 0 else "severe", 0.4 + 0.3 * i, "open") for i in range(n_open)]
        + [("item9", 26, "escalated"), ("severe", 72, "acknowledged"), ("item9", 12 * 24, "referred")]
        + [("severe" if i % 2 else "item9", 24 * rng.randint(40, 500), "closed") for i in range(n_closed)]
        + [("contact_request", 0.6, "open"), ("contact_request", 5 * 24, "acknowledged")]
        + [("contact_request", 24 * rng.randint(30, 400), "closed") for _ in range(max(1, round(2 * scale)))]
    )
    alerts, cases, case_notes, appointments, requests = [], [], [], [], []
    ack = timedelta(minutes=_ack_minutes())
    for reason, hours, fate in script:
        pid, _unit, org_id, _user = rest.pop()
        raised = now - timedelta(hours=hours)
        screening = request = None
        if reason == "contact_request":
            state = {"open": "open", "acknowledged": "contacted", "closed": "closed"}[fate]
            request = ContactRequest(person_id=pid, org_id=org_id, how=rng.choice(CONTACT_HOW), state=state,
                                     created_at=raised)  # fmt: skip
            requests.append(request)
        else:
            consents.append(HealthConsent(person_id=pid, given_at=raised - timedelta(minutes=6)))
            r = draw(rng, instruments.PHQ9, band="severe" if reason == "severe" else None, crisis=True)
            if reason == "item9" and not r.item9_positive:
                reason = "severe"
            elif reason == "severe" and r.item9_positive:
                reason = "item9"
            screening = Screening(person_id=pid, org_id=org_id, instrument=instruments.PHQ9,
                                  answers=json.dumps(list(r.answers)), score=str(r.score), band=r.band, crisis="1",
                                  wave=raised.strftime("%Y-%m"), taken_at=raised - timedelta(minutes=1))  # fmt: skip
            screenings.append(screening)
        counselor = roster.primary_counselor(org_id)
        # Unsaved related rows are fine here: bulk_create takes their pks once they are written.
        alert = CrisisAlert(person_id=pid, org_id=org_id, reason=reason, counselor_id=counselor, raised_at=raised,
                            ack_due_at=raised + ack, state="open", screening=screening, contact_request=request)  # fmt: skip
        alerts.append(alert)
        if fate == "escalated":
            alert.state, alert.escalated_at, alert.version = "escalated", raised + ack, 2
        elif fate in ("acknowledged", "referred", "closed"):
            acked = raised + timedelta(minutes=rng.randint(8, 90))
            alert.state, alert.acknowledged_at, alert.acknowledged_by_id, alert.version = (
                "closed" if fate == "closed" else "acknowledged",
                acked,
                counselor,
                3 if fate == "closed" else 2,
            )
            case = CounselingCase(person_id=pid, org_id=org_id, counselor_id=counselor, opened_at=acked,
                                  state={"acknowledged": "open", "referred": "referred", "closed": "closed"}[fate],
                                  alert=alert, contact_request=request)  # fmt: skip
            if fate == "referred":
                case.referral, case.version = REFERRALS[0], 2
            notes = 1 if fate == "acknowledged" else rng.randint(2, 4)
            at = acked + timedelta(hours=rng.randint(2, 24))
            for i in range(notes):
                note_at = min(at, now - timedelta(minutes=5))
                case_notes.append((case, SESSION_NOTES[i % len(SESSION_NOTES)], note_at))
                appointments.append((case, note_at - timedelta(minutes=50), rng.choice(PLACES), True))
                at += timedelta(days=rng.randint(5, 14))
            if fate == "closed":
                case.closing_note, case.closed_at = rng.choice(CLOSING_NOTES), min(now, at)
                case.version = 2
            else:
                nxt = datetime.combine(today + timedelta(days=rng.randint(2, 6)), time(15), tzinfo=tz)
                appointments.append((case, nxt, rng.choice(PLACES), False))
            cases.append(case)

    HealthConsent.objects.bulk_create(consents, batch_size=BATCH)
    Screening.objects.bulk_create(screenings, batch_size=BATCH)
    ContactRequest.objects.bulk_create(requests, batch_size=BATCH)
    CrisisAlert.objects.bulk_create(alerts, batch_size=BATCH)
    CounselingCase.objects.bulk_create(cases, batch_size=BATCH)
    SessionNote.objects.bulk_create(
        [SessionNote(case=c, note=text, author_id=c.counselor_id, at=at) for c, text, at in case_notes],
        batch_size=BATCH,
    )
    Appointment.objects.bulk_create(
        [Appointment(case=c, starts_at=at, place=place, done=done) for c, at, place, done in appointments],
        batch_size=BATCH,
    )

    # Anonymous screenings, written the way the pool flushes them: shuffled within each wave.
    anon = plan_anonymous(rng, people, _month_waves(start.date(), today))
    by_wave: dict[str, list] = defaultdict(list)
    for wave, group, r in anon:
        by_wave[wave].append((group, r))
    rows, counts = [], Counter()
    for wave in sorted(by_wave):
        items = by_wave[wave]
        rng.shuffle(items)
        for group, r in items:
            rows.append(AnonymousScreening(key=uuid.UUID(int=rng.getrandbits(128), version=4), instrument=r.instrument,
                                           answers=json.dumps(list(r.answers)), score=str(r.score), band=r.band,
                                           crisis="1" if r.crisis else "0", wave=wave, group=group,
                                           deletion_key=_deletion_key()))  # fmt: skip
            counts[(wave, group)] += 1
    AnonymousScreening.objects.bulk_create(rows, batch_size=BATCH)
    AnonymousTally.objects.bulk_create(
        [AnonymousTally(kind=ANON_KIND, wave=w, group=g, count=n) for (w, g), n in sorted(counts.items())],
        batch_size=BATCH,
    )
    return {
        "consents": len(consents),
        "named": len(screenings),
        "anonymous": len(rows),
        "requests": len(requests),
        "alerts": len(alerts),
        "open_alerts": sum(a.state == "open" for a in alerts),
        "cases": len(cases),
    }


def _ack_minutes() -> int:
    from django.conf import settings

    return settings.CRISIS_ACK_MINUTES


def ensure_counselors(shared: dict) -> None:
    """The demo counselors (``xinli`` primary, ``xinli2`` backup, over the whole tree) when the city has none."""
    from sizheng.core import services as core_services
    from sizheng.core.demo import ensure_demo_user
    from sizheng.core.models import Role, RoleGrant
    from sizheng.org.models import Org

    if RoleGrant.objects.in_force().filter(role=Role.COUNSELOR, is_backup=False).exists():
        return
    root = Org.objects.filter(parent__isnull=True).order_by("pk").first()
    if root is None:
        return
    for username, display, backup in (("xinli", "心理咨询员", False), ("xinli2", "备岗心理咨询员", True)):
        user = ensure_demo_user(username, display_name=display)
        core_services.role_grant(user=user, role=Role.COUNSELOR, actor=None, scope_kind=RoleGrant.ScopeKind.ORG,
                                 scope_id=root.pk, is_backup=backup)  # fmt: skip
        shared.setdefault("accounts", {})[username] = user.pk


@generator("care.history", order=330, label="关爱帮扶与心理关怀：困难诉求、心理自评、危机预警")
def demo_care(ctx) -> None:
    """Two years of care cases and wellbeing data (each part skipped when it already exists)."""
    from django.db import transaction
    from django.utils import timezone

    from sizheng.care.models import CareCase, CrisisAlert, Screening

    now = timezone.now()
    tz = timezone.get_current_timezone()
    rng = ctx.rng
    # Two streams, so a change in one part does not reshuffle the other.
    case_rng = random.Random(rng.getrandbits(64))  # noqa: S311 (demo data)
    wellbeing_rng = random.Random(rng.getrandbits(64))  # noqa: S311 (demo data)
    ensure_counselors(ctx.shared)
    roster = _Roster(timezone.localdate(now))
    if not roster.people:
        ctx.log("  没有人员，跳过关爱帮扶与心理关怀。")
        return
    demo = ctx.shared.get("demo_person_ids") or {}
    pinned = {"dangyuan": demo["dangyuan"]} if demo.get("dangyuan") else {}
    if demo.get("shuji_b"):
        org_of = {p: o for p, _u, o, _user in roster.people}
        mates = [
            p
            for p, _u, o, _user in roster.people
            if o == org_of.get(demo["shuji_b"]) and p != demo["shuji_b"]
        ]
        if mates:
            pinned["shuji_b_member"] = mates[len(mates) // 2]
    with transaction.atomic():
        if CareCase.objects.exists():
            ctx.log("  已有困难诉求，跳过。")
        else:
            city = CareCity(roster.people, roster.secretary_org, roster.union_org, roster.union_user, pinned)
            cases = plan_cases(case_rng, city, now, n=max(8, round(len(roster.people) / 15)))
            n_cases, n_actions, n_talks, n_duties = write_cases(cases, roster=roster, now=now, tz=tz)
            ctx.log(f"  困难诉求 {n_cases} 件（帮扶记录 {n_actions} 条，书记代为登记时的关爱谈话 {n_talks} 次，"
                    f"待办关爱跟进 {n_duties} 项）。")  # fmt: skip
        if Screening.objects.exists() or CrisisAlert.objects.exists():
            ctx.log("  已有心理自评记录，跳过。")
            return
        n = write_wellbeing(wellbeing_rng, roster, now=now, tz=tz, scale=ctx.scale, pinned=pinned)
    ctx.log(f"  心理自评：实名 {n['named']} 份（{n['consents']} 人次同意），匿名 {n['anonymous']} 份；联系请求 "
            f"{n['requests']} 个，危机预警 {n['alerts']} 条（待确认 {n['open_alerts']} 条），辅导个案 {n['cases']} 个。")  # fmt: skip
