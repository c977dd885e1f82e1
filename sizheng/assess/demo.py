"""Demo data of assessment (测评考核): two years of indicator systems, expert weighting and rounds.

Everything a person would have done goes through the app's services (systems, weighting, rounds,
engine, results, the duties workflow), so the audit trail, notifications and duty timelines are
real; the dates are then moved back to when it happened, as the other generators date their
history. Per year (last year ``Y0``, this year ``Y1``):

- **Systems.** The two shipped systems for Y0 (基层党组织分类定级, 思想政治工作测评); for Y1 a new version
  of each copied from Y0's (``systems.copy_as_new_version``) and published.
- **Expert weighting.** zhuanjia and three more experts weigh Y0's 思想政治工作测评: every form, pairs
  drawn around a "true" weight vector (the table's points) with each expert's bias and noise, on
  Saaty's 1–9 scale, consistent (CR < 0.1) — but one expert hands in one indicator group
  inconsistent ("仍然提交"). Aggregated (AIJ) into an AHP weight set; after Y0's round an entropy
  set from its scores and a combination (linear, α = 0.5); Y1's version takes the combined weights.
- **民主测评.** A yearly anonymous 民主测评 of the basic orgs by their members and staff (the template's
  aspects asked as five-point statements, so the engine can score them): a wave in December Y0 and
  one closing just before the end of Y1's last complete quarter. Each org's satisfaction rate is
  drawn from its plan; it feeds 7.1 (分类定级) and 6.1 (思想政治工作测评, per unit-level subtree).
- **Rounds.** Y0 分类定级 (every branch and general branch) and Y0 思想政治工作测评 (the unit-level orgs:
  depth 1, no 党组): opened, filled, locked, computed, published with rectification duties; about
  two thirds of those duties were closed during Y1 (``duty_transition`` where the org's secretary
  has an account, else written as history like the duties generator's), some are under way and
  some overdue. Y1 思想政治工作测评 (Jan 1 to the end of the last complete quarter) published, computed
  on the platform's own data plus entries. Y1 分类定级 left **open**: about half the branches have
  started their self-assessment, some handed it in; kaohe scores several branches, among them
  shuji_a's, whose self-assessment shuji_a has begun (with an evidence PDF) for a visitor to finish.
  kaohe is assigned in every round (with two more assessors, kaohe2 and kaohe3).

**Grades** of each 分类定级 round follow a county's published distribution (好 10 %, 较好 61 %,
一般 20 %, 较差 9 %): each branch gets a latent quality; grades are allotted by quality (largest
remainders); one branch has a veto (班子成员严重违纪) and a few with a satisfaction rate under 90 %
are capped to 一般 (their totals are in the 较好 band). The entries are drawn around a total inside
the allotted band and nudged leaf by leaf until ``scoring`` (the engine's rules) puts it there.

Deterministic from the generator's seeded stream; skipped when indicator systems exist.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sizheng.core.demo import ensure_demo_user, generator

#: The target grade distribution of a 分类定级 round (a county's 533 orgs, best first).
SHARES: dict[str, float] = {"好": 0.10, "较好": 0.61, "一般": 0.20, "较差": 0.09}
GRADES = tuple(SHARES)
#: Where a planned total lies, by plan; the edges keep clear of the band limits.
WINDOWS: dict[str, tuple[float, float]] = {
    "好": (90.6, 96.5),
    "较好": (80.6, 89.4),
    "一般": (62.0, 79.4),
    "较差": (42.0, 59.4),
    "capped": (81.0, 89.0),  # 较好 on points, capped to 一般 by a satisfaction rate under 90 %
    "veto": (74.0, 86.0),  # a decent total, but a veto
}
#: Planned satisfaction rate (%) by plan.
RATES: dict[str, tuple[float, float]] = {
    "好": (94.0, 99.5),
    "较好": (90.5, 98.5),
    "一般": (86.0, 97.0),
    "较差": (80.0, 93.0),
    "capped": (80.5, 88.5),
    "veto": (88.0, 96.0),
}
CAPPED_SHARE = 0.035  # of the targets: capped to 一般 by the satisfaction rate (at least one)
SATISFIED_MEAN = 3.4  # a sheet is satisfied when its mean Likert answer reaches this (60 on 0–100)
SAATY = tuple([1 / k for k in range(9, 1, -1)] + list(range(1, 10)))
EXPERTS = (
    ("zhuanjia2", "评估专家（市委党校）"),
    ("zhuanjia3", "评估专家（市委组织部）"),
    ("zhuanjia4", "评估专家（高校马克思主义学院）"),
)
ASSESSORS = (("kaohe2", "考核组成员（组织部）"), ("kaohe3", "考核组成员（机关工委）"))
#: The 民主测评 template's aspects as five-point statements (1 非常不同意 … 5 非常同意).
DEMOCRATIC_STATEMENTS = {
    "班子整体评价": "我对本党组织班子的整体工作感到满意。",
    "落实全面从严治党主体责任": "本党组织认真落实全面从严治党主体责任。",
    "贯彻执行民主集中制": "本党组织坚持和贯彻执行民主集中制。",
    "抓思想政治工作和理论学习": "本党组织抓思想政治工作和理论学习有成效。",
    "联系服务群众": "本党组织经常联系服务党员群众。",
    "作风建设": "本党组织作风建设扎实。",
    "廉洁自律": "本党组织班子成员廉洁自律。",
}
DEDUCTION_NOTES = {
    "1.2": "组织委员缺额超过三个月未补选",
    "3.1": "抽查会议记录，有党小组会未按期召开",
    "3.3": "班子成员中有人年度集中学习学时不足 56 学时",
    "3.4": "有党员年度集中学习学时不足 32 学时",
    "5.1": "党员 50 名以上，未配备专职党务干部",
    "6.4": "上年巡察反馈问题有逾期未整改事项",
}
VETO_NOTE = "领导班子成员一人因严重违纪被立案审查（考核年度内），按规定一票否决。"
BONUS_NOTES = {
    4: "受到市直机关工委表彰（市级先进基层党组织）",
    6: "受到省直机关工委表彰（省级先进基层党组织）",
}
RECTIFY_EVIDENCE = [
    "已召开支部委员会专题研究整改，制定整改措施并逐项落实，相关制度已修订印发，佐证材料已上传。",
    "已对照评分要点查找差距，补齐会议记录和学习台账，整改情况已在党员大会上通报。",
    "已完成整改：明确责任人和时限，按月跟踪，整改前后对比材料已上传。",
]


# --- pure planning -------------------------------------------------------------------------------


def allot(n: int, shares: dict[str, float] = SHARES) -> dict[str, int]:
    """How many of ``n`` targets get each grade: the shares, rounded by largest remainders."""
    raw = {g: n * s for g, s in shares.items()}
    counts = {g: int(math.floor(v)) for g, v in raw.items()}
    order = sorted(raw, key=lambda g: (-(raw[g] - counts[g]), list(shares).index(g)))
    for g in order[: n - sum(counts.values())]:
        counts[g] += 1
    return counts


def plan_grades(rng: random.Random, qualities: list[float]) -> list[str]:
    """Each target's plan (a grade, ``capped`` or ``veto``) from its quality, best quality first.

    The grades follow :func:`allot`; a few 一般 slots (the better of them) are ``capped`` — 较好 on
    points but a satisfaction rate under 90 % — and one 较差 slot, drawn at random, is a ``veto``."""
    n = len(qualities)
    counts = allot(n)
    order = sorted(range(n), key=lambda i: -qualities[i])
    plans = [""] * n
    k = 0
    for grade in GRADES:
        for i in order[k : k + counts[grade]]:
            plans[i] = grade
        k += counts[grade]
    middling = [i for i in order if plans[i] == "一般"]
    n_capped = min(len(middling), max(1, round(n * CAPPED_SHARE))) if n >= 8 else 0
    for i in middling[:n_capped]:
        plans[i] = "capped"
    poor = [i for i in order if plans[i] == "较差"]
    if poor:
        plans[rng.choice(poor)] = "veto"
    return plans


def grade_of_plan(plan: str) -> str:
    return {"capped": "一般", "veto": "较差"}.get(plan, plan)


def snap(ratio: float) -> float:
    """The value of Saaty's 1–9 scale nearest to ``ratio`` (in log space)."""
    return min(SAATY, key=lambda v: abs(math.log(v) - math.log(ratio)))


def expert_pairs(
    rng: random.Random, keys: list, weights: list[float], *, bias: float, noise: float, gamma: float
) -> list[list]:
    """[[a, b, value], …] for every pair: (w_a / w_b)^γ with the expert's bias and noise, snapped."""
    w = [max(1e-6, x) * math.exp(rng.gauss(0.0, bias)) for x in weights]
    out = []
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            ratio = (w[i] / w[j]) ** gamma * math.exp(rng.gauss(0.0, noise))
            out.append([keys[i], keys[j], snap(ratio)])
    return out


def spoil(pairs: list[list], k: int = 1) -> list[list]:
    """The same pairs with the ``k`` strongest judgments turned round (an inconsistent form)."""
    out = [list(p) for p in pairs]
    strongest = sorted(range(len(out)), key=lambda i: -abs(math.log(out[i][2])))[:k]
    for i in strongest:
        out[i][2] = snap(1.0 / out[i][2]) if out[i][2] != 1 else 5.0
    return out


def sheet_answers(rng: random.Random, qids: list[int], satisfied: bool) -> dict[str, int]:
    """A 民主测评 sheet: Likert 1–5 per statement whose mean is ≥ 3.4 (satisfied) or below."""
    base = rng.choice((4, 4, 5, 5, 5)) if satisfied else rng.choice((2, 3, 3))
    values = [min(5, max(1, base + rng.choice((-1, 0, 0, 0, 1)))) for _ in qids]
    need = math.ceil(SATISFIED_MEAN * len(qids) - 1e-9)
    while satisfied and sum(values) < need:
        values[values.index(min(values))] += 1
    while not satisfied and sum(values) >= need:
        values[values.index(max(values))] -= 1
    return {str(q): v for q, v in zip(qids, values, strict=True)}


def raw_for(rule_kind: str, rule: dict, max_score: float, score: float) -> float:
    """A raw value on the indicator's input lattice whose score is near ``score`` (0–100)."""
    score = min(100.0, max(0.0, score))
    if rule_kind == "deduction":
        per = float(rule.get("per_event", 1) or 1)
        most = math.ceil(max_score / per)
        return float(min(most, max(0, round((100.0 - score) / 100.0 * max_score / per))))
    if rule_kind == "bands":
        bands = rule.get("bands") or []
        best = min(bands, key=lambda b: abs(float(b.get("score", 0)) - score))
        return float(best["min"]) if best.get("min") is not None else 0.0
    if rule_kind == "linear":
        zero, full = float(rule["zero_at"]), float(rule["full_at"])
        return round(zero + score / 100.0 * (full - zero), 1)
    return min(max_score, max(0.0, round(score / 100.0 * max_score * 2) / 2))


def step(rule_kind: str, rule: dict, max_score: float, raw: float, up: bool) -> float | None:
    """The next raw value that scores higher (``up``) or lower, or None at the end of the lattice."""
    if rule_kind == "deduction":
        per = float(rule.get("per_event", 1) or 1)
        new = raw - 1 if up else raw + 1
        return new if 0 <= new <= math.ceil(max_score / per) else None
    if rule_kind == "bands":
        mins = sorted({float(b["min"]) if b.get("min") is not None else 0.0 for b in rule.get("bands") or []})
        higher = [m for m in mins if m > raw]
        lower = [m for m in mins if m < raw]
        return (higher[0] if higher else None) if up else (lower[-1] if lower else None)
    if rule_kind == "linear":
        zero, full = float(rule["zero_at"]), float(rule["full_at"])
        new = raw + (full - zero) / 20 * (1 if up else -1)
        return round(new, 1) if min(zero, full) <= new <= max(zero, full) else None
    new = raw + (0.5 if up else -0.5)
    return new if 0 <= new <= max_score else None


# --- scoring a plan (the engine's rules, pure) ---------------------------------------------------


class Scorer:
    """A system's tree and rules, to predict a target's total and grade from raw values."""

    def __init__(self, system, weight_set=None) -> None:
        from sizheng.assess import engine
        from sizheng.assess.models import IndicatorKind

        inds = sorted(system.indicators.all(), key=lambda i: (i.order, i.pk))
        scored = [i for i in inds if i.kind == IndicatorKind.SCORED]
        ids = {i.pk for i in scored}
        self.parents = {i.pk: (i.parent_id if i.parent_id in ids else None) for i in scored}
        inner = {p for p in self.parents.values() if p is not None}
        self.leaves = [i for i in scored if i.pk not in inner]
        self.bonus = [i for i in inds if i.kind == IndicatorKind.BONUS]
        self.vetoes = [i for i in inds if i.kind == IndicatorKind.VETO]
        self.all = inds
        self.by_code = {i.code: i for i in inds}
        self.local = engine.local_weights(system, weight_set)
        self.system = system
        self.share = float(system.self_share)

    def combine(self, self_v: float | None, assessor_v: float | None) -> float | None:
        if self_v is not None and assessor_v is not None:
            return self_v * self.share + assessor_v * (1 - self.share)
        return self_v if assessor_v is None else assessor_v

    def result(self, raws: dict[int, float | None]) -> tuple[float, str]:
        """(total, grade after caps and vetoes) as the engine computes them."""
        from sizheng.assess import scoring

        scores = {
            leaf.pk: None
            if raws.get(leaf.pk) is None
            else round(scoring.score_leaf(leaf.rule_kind, leaf.rule or {}, leaf.max_score, raws[leaf.pk]), 2)
            for leaf in self.leaves
        }
        totals = scoring.compute_totals(self.parents, self.local, scores, policy=self.system.missing_policy)
        bonus = sum(
            round(scoring.bonus_points(b.rule or {}, b.max_score, raws[b.pk]), 2)
            for b in self.bonus
            if raws.get(b.pk) is not None
        )
        total = round(round(totals.base_total, 2) + round(min(float(self.system.bonus_cap), bonus), 2), 2)
        bands = list(self.system.grade_bands)
        grade = scoring.grade_of(total, bands)
        vetoes = [(v.code, v.name, raws.get(v.pk)) for v in self.vetoes]
        by_code = {i.code: raws.get(i.pk) for i in self.all}
        grade, _reason = scoring.apply_caps(grade, bands, self.system.caps or [], by_code, vetoes)
        return total, grade


@dataclass
class Card:
    """One target's entries while planning: self and assessor raw values, fixed values, notes."""

    target: object
    self_raw: dict[int, float] = field(default_factory=dict)
    assessor_raw: dict[int, float] = field(default_factory=dict)
    fixed: dict[int, float | None] = field(default_factory=dict)  # democratic / metric values
    notes: dict[int, str] = field(default_factory=dict)  # assessor notes

    def raws(self, scorer: Scorer) -> dict[int, float | None]:
        from sizheng.assess.models import ValueSource

        out: dict[int, float | None] = dict(self.fixed)
        for ind in scorer.all:
            if ind.source == ValueSource.SELF:
                out[ind.pk] = self.self_raw.get(ind.pk)
            elif ind.source == ValueSource.ASSESSOR:
                out[ind.pk] = self.assessor_raw.get(ind.pk)
            elif ind.source == ValueSource.SELF_ASSESSOR:
                out[ind.pk] = scorer.combine(self.self_raw.get(ind.pk), self.assessor_raw.get(ind.pk))
        return out


def fill_card(rng: random.Random, card: Card, scorer: Scorer, mean: float, *, fixed_ids=()) -> None:
    """Draw the card's self and assessor values of every entered leaf around ``mean`` (0–100).

    Scores (direct, linear): the assessor's spread ±6, the unit rates itself a few points higher.
    Events (deductions): each possible event happens with a chance that grows as ``mean`` falls, the
    unit reporting one fewer now and then. Bands: the top band but for weaker orgs."""
    from sizheng.assess.models import ValueSource

    p_event = min(0.6, max(0.01, (88.0 - mean) / 80.0))
    for leaf in scorer.leaves:
        if leaf.source not in (ValueSource.SELF, ValueSource.ASSESSOR, ValueSource.SELF_ASSESSOR):
            continue
        if leaf.pk in fixed_ids:
            continue
        rk, rule, top = leaf.rule_kind, leaf.rule or {}, leaf.max_score
        if rk == "deduction":
            most = math.ceil(top / float(rule.get("per_event", 1) or 1))
            a = float(sum(rng.random() < p_event for _ in range(most)))
            s = max(0.0, a - 1) if a and rng.random() < 0.4 else a
        elif rk == "bands":
            a = raw_for(rk, rule, top, 100.0 if rng.random() > p_event else rng.choice((40.0, 40.0, 0.0)))
            s = raw_for(rk, rule, top, 100.0) if rng.random() < 0.7 else a
        else:
            score = rng.gauss(mean, 6.0)
            a = raw_for(rk, rule, top, score)
            s = raw_for(rk, rule, top, score + abs(rng.gauss(4.0, 5.0)))
        if leaf.source != ValueSource.SELF:
            card.assessor_raw[leaf.pk] = a
        if leaf.source != ValueSource.ASSESSOR:
            card.self_raw[leaf.pk] = s


def _score(leaf, raw: float | None) -> float:
    from sizheng.assess import scoring

    return 0.0 if raw is None else scoring.score_leaf(leaf.rule_kind, leaf.rule or {}, leaf.max_score, raw)


def nudge(rng: random.Random, card: Card, scorer: Scorer, low: float, high: float, *, fixed_ids=()) -> float:
    """Move the assessor's values (then the unit's) one lattice step at a time until the total lies
    in [low, high]; returns the final total (the closest reached if the window cannot be reached)."""
    from sizheng.assess.models import ValueSource

    movable = [
        leaf
        for leaf in scorer.leaves
        if leaf.pk not in fixed_ids
        and leaf.source in (ValueSource.ASSESSOR, ValueSource.SELF_ASSESSOR, ValueSource.SELF)
    ]
    raws = card.raws(scorer)
    total, _ = scorer.result(raws)
    for _ in range(400):
        if low <= total <= high:
            break
        up = total < low
        options = []
        for leaf in movable:
            for side in (card.assessor_raw, card.self_raw):
                if leaf.pk in side:
                    new = step(leaf.rule_kind, leaf.rule or {}, leaf.max_score, side[leaf.pk], up)
                    if new is not None:
                        options.append((leaf, side, new))
        if not options:
            break
        fine = [o for o in options if o[0].rule_kind in ("direct", "linear")]
        options = fine or options  # events and bands only when the scores cannot get there
        # Move a leaf among those furthest on the other side (lowest when raising, highest when
        # lowering), so the leaves stay close together; the assessor's values before the unit's.
        options.sort(
            key=lambda o: (_score(o[0], raws.get(o[0].pk)) * (1 if up else -1), o[1] is card.self_raw)
        )
        leaf, side, new = rng.choice(options[:3])
        side[leaf.pk] = new
        raws = card.raws(scorer)
        total, _ = scorer.result(raws)
    return total


def needed_mean(scorer: Scorer, fixed_leaves: list, value: float | None, goal: float) -> float:
    """The mean score the entered leaves need for a base total of ``goal``, given the fixed leaves'
    common raw ``value`` (None: no data, their weight goes to the others)."""
    from sizheng.assess import scoring

    if value is None or not fixed_leaves:
        return min(100.0, max(0.0, goal))
    gw = scoring.global_weights(scorer.parents, scorer.local, [leaf.pk for leaf in fixed_leaves])
    w = min(0.95, sum(gw.values()))
    fixed = sum(gw[leaf.pk] * scoring.score_leaf(leaf.rule_kind, leaf.rule or {}, leaf.max_score, value)
                for leaf in fixed_leaves)  # fmt: skip
    return min(100.0, max(0.0, (goal - fixed) / (1 - w)))


def half_label(q_end: date) -> str:
    """The part of the year up to ``q_end`` (a quarter's last day) in words."""
    return {3: "第一季度", 6: "上半年", 9: "前三季度", 12: "全年"}.get(q_end.month, f"1—{q_end.month}月")


def last_quarter_end(today: date) -> date:
    """The last day of the last complete quarter before ``today``."""
    first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return first - timedelta(days=1)


# --- writing -------------------------------------------------------------------------------------


class _Clock:
    """Datetimes on given days during office hours (the generator's timezone)."""

    def __init__(self, rng: random.Random, tz) -> None:
        self.rng, self.tz = rng, tz

    def at(self, day: date, hour: int | None = None) -> datetime:
        h = hour if hour is not None else self.rng.randint(9, 17)
        return datetime.combine(day, time(h, self.rng.randint(0, 59)), tzinfo=self.tz)


def _demo_user(username: str, display_name: str, *, like):
    """A demo account created once, with the demo password: the hash of ``like`` (a demo account
    that has it) is reused, so no new hash is computed; demo mode only."""
    from django.conf import settings

    from sizheng.core.models import User

    if like is None or not like.has_usable_password():
        return ensure_demo_user(username, display_name=display_name)
    if not settings.DEMO:
        raise RuntimeError("演示账号只能在演示模式下创建。")
    user, _ = User.objects.get_or_create(
        username=username, defaults={"display_name": display_name, "password": like.password}
    )
    return user


def _users(accounts: dict) -> dict:
    """The demo users this generator acts as: gongwei, the assessors and the experts."""
    from sizheng.core import services as core_services
    from sizheng.core.models import Role, RoleGrant, User

    out = {
        u.username: u for u in User.objects.filter(username__in=["gongwei", "kaohe", "zhuanjia", *accounts])
    }
    for names, role, like in (
        (ASSESSORS, Role.ASSESSOR, out.get("kaohe")),
        (EXPERTS, Role.EXPERT, out.get("zhuanjia")),
    ):
        for username, label in names:
            out[username] = _demo_user(username, label, like=like)
            core_services.role_grant(
                user=out[username], role=role, actor=None, scope_kind=RoleGrant.ScopeKind.ALL
            )
    return out


def _managers(today: date) -> dict[int, object]:
    """org id → a user holding the secretary or 党务干部 post of that very org (demo accounts only)."""
    from sizheng.core.models import Role, RoleGrant

    out: dict[int, object] = {}
    grants = (
        RoleGrant.objects.in_force(today)
        .filter(role__in=[Role.SECRETARY, Role.ORG_ADMIN], scope_kind=RoleGrant.ScopeKind.ORG)
        .select_related("user")
        .order_by("-role", "pk")  # the secretary before the 党务干部
    )
    for g in grants:
        if g.user.is_active:
            out.setdefault(g.scope_id, g.user)
    return out


def _weighting(rng: random.Random, system, *, gongwei, experts: list, clock: _Clock, y0: int) -> tuple:
    """The expert session of ``system``: every expert hands in every form; one form inconsistent.
    Returns (session, AHP weight set)."""
    from sizheng.assess import weighting
    from sizheng.assess.models import Judgment, WeightingSession, WeightSet

    session = weighting.create_session(
        system, actor=gongwei, title=f"{y0}年思想政治工作测评指标专家赋权", experts=experts,
        instructions="请按 1—9 标度对同一组内的指标两两比较相对重要性；一致性比率 CR 应小于 0.1。",
    )  # fmt: skip
    forms = weighting.parents(system)
    big = [p for p in forms if len(weighting.elements_of(system, p)) >= 4]
    spoiled = (len(experts) - 1, rng.randrange(len(big))) if big else None
    start = date(y0, 2, 24)
    for e, expert in enumerate(experts):
        bias, noise, gamma = rng.uniform(0.1, 0.25), rng.uniform(0.1, 0.25), rng.uniform(1.3, 1.9)
        for parent in forms:
            elements = weighting.elements_of(system, parent)
            keys = [el.pk for el in elements]
            true = [el.weight for el in elements]
            for _ in range(30):
                pairs = expert_pairs(rng, keys, true, bias=bias, noise=noise, gamma=gamma)
                if _cr(keys, pairs) < 0.08:
                    break
                noise *= 0.8
            bad = spoiled is not None and e == spoiled[0] and parent is big[spoiled[1]]
            if bad:
                for k in range(1, len(pairs) + 1):
                    worse = spoil(pairs, k)
                    if _cr(keys, worse) >= 0.1:
                        pairs = worse
                        break
            weighting.save_judgment(
                session, expert=expert, parent=parent, pairs=pairs, submit=True, accept_inconsistent=bad
            )
        day = start + timedelta(days=3 * e + rng.randint(0, 2))
        Judgment.objects.filter(session=session, expert=expert).update(
            submitted_at=clock.at(day), updated_at=clock.at(day, 18)
        )
    ahp = weighting.aggregate(session, actor=gongwei, name=f"{y0}年专家赋权（层次分析法汇总）")
    WeightingSession.objects.filter(pk=session.pk).update(
        created_at=clock.at(date(y0, 2, 20)), due_on=date(y0, 3, 10)
    )
    WeightSet.objects.filter(pk=ahp.pk).update(created_at=clock.at(date(y0, 3, 16)))
    return session, ahp


def _cr(keys: list, pairs: list[list]) -> float:
    from sizheng.assess import methods

    return methods.ahp_from_pairs([str(k) for k in keys], [(str(a), str(b), v) for a, b, v in pairs]).cr


def _democratic(rng: random.Random, *, root, gongwei_id, plans: list[tuple], clock: _Clock, today: date):
    """The yearly anonymous 民主测评 of the basic orgs with one wave per ``plans`` entry
    ``(spec, rate_of)``: ``rate_of(org path) → %`` is the planned satisfaction rate of the org whose
    subtree holds a respondent's group. Returns the survey."""
    from sizheng.insight import demo as insight_demo
    from sizheng.insight.models import Hierarchy, Question, QuestionKind, Schedule, SurveyMode, Template
    from sizheng.org.models import Org, Person

    first = plans[0][0]
    survey, questions = insight_demo._create_survey(
        title=f"{root.name}基层党组织民主测评", template_key=Template.DEMOCRATIC, mode=SurveyMode.ANONYMOUS,
        hierarchy=Hierarchy.ORG, owner_org_id=root.pk, schedule=Schedule.YEAR, wave_days=10,
        created_by_id=gongwei_id, created_at=clock.at(first.opens_on - timedelta(days=7)), audience_orgs=[root.pk],
    )  # fmt: skip
    # The template's aspects become five-point statements the satisfaction rate can be computed from.
    scored = []
    for qid, kind, text, _options, _required in questions:
        if kind == QuestionKind.SINGLE:
            Question.objects.filter(pk=qid).update(
                kind=QuestionKind.LIKERT, options=[], text=DEMOCRATIC_STATEMENTS.get(text, text)
            )
            scored.append(qid)
    texts = [qid for qid, kind, *_ in questions if kind == QuestionKind.TEXT]
    rows = (
        Person.objects.filter(left_on__isnull=True)
        .order_by("pk")
        .values_list("pk", "unit_id", "birth_date", "name")
    )
    people = {pk: (unit, (today.year - b.year) if b else None, name) for pk, unit, b, name in rows}
    members = insight_demo._members(survey, people)
    paths = dict(Org.objects.values_list("pk", "path"))
    wave_plans = []
    for spec, rate_of in plans:
        plan = insight_demo.WavePlan(spec, dict(sorted(Counter(m.group for m in members).items())))
        by_group: dict[str, list] = defaultdict(list)
        for m in members:
            by_group[m.group].append(m)
        for group in sorted(by_group):
            path = paths.get(int(group.split(":")[1]), "")
            who = [m for m in by_group[group] if rng.random() < rng.uniform(0.85, 0.97)]
            # Exactly the planned share of satisfied sheets (so a small branch's rate is the plan's).
            n_ok = round(len(who) * rate_of(path) / 100.0)
            marks = [True] * n_ok + [False] * (len(who) - n_ok)
            rng.shuffle(marks)
            for m, ok in zip(who, marks, strict=True):
                answers = sheet_answers(rng, scored, ok)
                if texts and rng.random() < 0.08:
                    answers[str(texts[0])] = rng.choice(insight_demo.DEMOCRATIC_REMARKS) + "。"
                plan.ledger.append(m.pid)
                plan.sheets.append((group, answers))
        rng.shuffle(plan.sheets)
        wave_plans.append(plan)
    insight_demo.write_waves(rng, survey, wave_plans, tz=clock.tz, now=clock.at(today))
    return survey


def _rate_of(rates: dict[str, float], default: float):
    """A function org path → the planned rate of the deepest planned org holding it."""

    def rate(path: str) -> float:
        best, depth = default, -1
        for p, r in rates.items():
            if path.startswith(p) and len(p) > depth:
                best, depth = r, len(p)
        return best

    return rate


def _bulk_entries(
    cards: list[Card], *, self_user: dict[int, object], assessor_of: dict[int, object], self_only=None
) -> int:
    """Write the cards' entries (history: no audit rows). Returns how many."""
    from sizheng.assess.models import Entry

    rows = []
    for card in cards:
        t = card.target
        for ind_id, value in card.self_raw.items():
            if self_only is not None and ind_id not in self_only.get(t.pk, ()):
                continue
            user = self_user.get(t.org_id)
            rows.append(Entry(target=t, indicator_id=ind_id, side=Entry.Side.SELF, value=value,
                              entered_by_id=getattr(user, "pk", None)))  # fmt: skip
        if self_only is not None:
            continue
        for ind_id, value in card.assessor_raw.items():
            rows.append(Entry(target=t, indicator_id=ind_id, side=Entry.Side.ASSESSOR, value=value,
                              note=card.notes.get(ind_id, ""), entered_by_id=assessor_of[t.pk].pk))  # fmt: skip
    Entry.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _extras(card: Card, scorer: Scorer, *, bonus: float = 0.0, veto: bool = False) -> None:
    """The assessor's bonus and veto items, and notes on the deductions they found."""
    for b in scorer.bonus:
        card.assessor_raw[b.pk] = bonus
        if bonus:
            card.notes[b.pk] = BONUS_NOTES.get(int(bonus), "工作经验做法在市直机关交流推广。")
    for i, v in enumerate(scorer.vetoes):
        card.assessor_raw[v.pk] = 1.0 if veto and i == 0 else 0.0
        if veto and i == 0:
            card.notes[v.pk] = VETO_NOTE


def _deduction_notes(card: Card, scorer: Scorer) -> None:
    for leaf in scorer.leaves:
        if (
            leaf.rule_kind == "deduction"
            and card.assessor_raw.get(leaf.pk, 0) > 0
            and leaf.code in DEDUCTION_NOTES
        ):
            card.notes[leaf.pk] = f"{DEDUCTION_NOTES[leaf.code]}（{int(card.assessor_raw[leaf.pk])} 项）。"


def _run_round(assessment, *, gongwei, cards, managers, assessor_of, clock, days) -> None:
    """Open, fill (bulk), hand in, lock, compute and publish a round; then date it back."""
    from sizheng.assess import rounds
    from sizheng.assess.models import Assessment, AssessorAssignment, Entry, Target

    for card in cards:
        rounds.assign(assessment, target=card.target, user=assessor_of[card.target.pk], actor=gongwei)
    rounds.open_round(assessment, actor=gongwei, version=assessment.version)
    _bulk_entries(cards, self_user=managers, assessor_of=assessor_of)
    rng = clock.rng
    targets = [card.target for card in cards]
    for t in targets:
        t.self_submitted_at = clock.at(days["self"] - timedelta(days=rng.randint(0, 9)))
    Target.objects.bulk_update(targets, ["self_submitted_at"], batch_size=500)
    handed = list(AssessorAssignment.objects.filter(target__assessment=assessment).order_by("pk"))
    for x in handed:
        x.submitted_at = clock.at(days["scoring"] - timedelta(days=rng.randint(0, 6)))
    AssessorAssignment.objects.bulk_update(handed, ["submitted_at"], batch_size=500)
    Entry.objects.filter(target__assessment=assessment).update(
        updated_at=clock.at(days["self"] - timedelta(days=10))
    )
    rounds.lock(assessment, actor=gongwei, version=assessment.version)
    rounds.compute(assessment, actor=gongwei)
    rounds.publish(assessment, actor=gongwei, version=assessment.version)
    computed_at = clock.at(days["published"] - timedelta(days=5))
    record = {**assessment.record, "computed_at": computed_at.isoformat()}  # the record says the same day
    Assessment.objects.filter(pk=assessment.pk).update(
        created_at=clock.at(days["created"]),
        computed_at=computed_at,
        published_at=clock.at(days["published"]),
        record=record,
    )
    assessment.refresh_from_db()


def _settle(rng: random.Random, assessment, *, gongwei, managers, clock: _Clock, now: datetime) -> Counter:
    """Date the round's rectification duties back to its publication and play out their year:
    about two thirds closed, some reported or under way, the rest not started (overdue by now)."""
    from sizheng.assess.results import RECTIFY_DAYS
    from sizheng.core.calendar import get_calendar
    from sizheng.duties import demo as duties_demo
    from sizheng.duties.models import Duty, DutyEvent
    from sizheng.duties.services import due_date, duty_transition
    from sizheng.duties.workflow import OWNER, TRANSITIONS

    cal = get_calendar()
    published = assessment.published_at.astimezone(clock.tz).date()
    due = due_date(published + timedelta(days=RECTIFY_DAYS))
    duties = list(
        Duty.objects.filter(source_kind="indicator", source_id__in=assessment_lines(assessment)).order_by(
            "pk"
        )
    )
    Duty.objects.filter(pk__in=[d.pk for d in duties]).update(created_at=clock.at(published), due_on=due)
    DutyEvent.objects.filter(duty__in=duties, action="open").update(at=clock.at(published))
    outcomes: Counter = Counter()
    events = []
    for duty in duties:
        duty.refresh_from_db()
        r = rng.random()
        stop = "pass" if r < 0.66 else ("report" if r < 0.74 else ("start" if r < 0.86 else "open"))
        life = duties_demo.lifecycle(
            rng, opened=published, due=due, evidence=rng.choice(RECTIFY_EVIDENCE),
            outcome=rng.choice(("on_time", "on_time", "on_time", "late", "returned")),
            workday=lambda d: cal.add_workdays(d, 0), tz=clock.tz,
        )  # fmt: skip
        steps = []
        for s in life:
            if s.at >= now - timedelta(hours=1):
                break
            steps.append(s)
            if s.action == stop and stop != "open":
                break
        if stop == "open":
            steps = steps[:1]
        outcomes[steps[-1].action if len(steps) > 1 else "open"] += 1
        owner = managers.get(duty.assignee_org_id)
        if owner is not None:  # the org's secretary has an account: the real workflow
            for s in steps[1:]:
                actor = owner if s.side == OWNER else gongwei
                duty = duty_transition(
                    duty=duty, action=s.action, actor=actor, version=duty.version, comment=s.comment,
                    evidence=s.evidence, late_reason=s.late_reason, reason=s.payload.get("reason", ""),
                    today=s.day,
                )  # fmt: skip
                last = DutyEvent.objects.filter(duty=duty).latest("pk")
                DutyEvent.objects.filter(pk=last.pk).update(at=s.at)
            continue
        fields = duties_demo.replay(steps, due)
        Duty.objects.filter(pk=duty.pk).update(**fields)
        state = "assigned"
        for s in steps[1:]:
            target = TRANSITIONS[s.action].target or state
            events.append(DutyEvent(duty=duty, action=s.action, from_state=state, to_state=target,
                                    actor=None if s.side == OWNER else gongwei, at=s.at, comment=s.comment,
                                    payload=s.payload))  # fmt: skip
            state = target
    DutyEvent.objects.bulk_create(events, batch_size=1000)
    return outcomes


def assessment_lines(assessment) -> list[int]:
    from sizheng.assess.models import ResultLine

    return list(
        ResultLine.objects.filter(target__assessment=assessment, duty__isnull=False).values_list(
            "pk", flat=True
        )
    )


# --- the generator -------------------------------------------------------------------------------


@generator("assess.rounds", order=900, label="测评考核：指标体系、专家赋权、两年的考核")
def demo_assess(ctx) -> None:  # noqa: C901, PLR0915 (one pass, in order)
    """Two years of systems, weighting and rounds (skipped when indicator systems exist)."""
    from django.db import transaction
    from django.utils import timezone

    from sizheng.assess.models import IndicatorSystem
    from sizheng.org.models import Org

    if IndicatorSystem.objects.exists():
        ctx.log("  已有指标体系，跳过测评考核。")
        return
    root = Org.objects.filter(parent__isnull=True).order_by("pk").first()
    if root is None or not Org.objects.filter(kind__in=[Org.Kind.BRANCH, Org.Kind.GENERAL_BRANCH]).exists():
        ctx.log("  没有基层党组织，跳过测评考核。")
        return
    with transaction.atomic():
        log = _generate(ctx, root, timezone.now())
    for line in log:
        ctx.log("  " + line)


def _generate(ctx, root, now: datetime) -> list[str]:  # noqa: C901, PLR0915
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from sizheng.assess import rounds, systems, weighting
    from sizheng.assess.models import (
        Assessment,
        AssessorAssignment,
        Entry,
        IndicatorSystem,
        Target,
        ValueSource,
        WeightSet,
    )
    from sizheng.core import files
    from sizheng.insight.demo import WaveSpec
    from sizheng.insight.metrics import democratic_rating_for
    from sizheng.library.demo import pdf_bytes
    from sizheng.org.models import Org, Person

    rng = ctx.rng
    tz = timezone.get_current_timezone()
    today = timezone.localdate(now)
    clock = _Clock(rng, tz)
    y0, y1 = today.year - 1, today.year
    accounts = ctx.shared.get("accounts") or {}
    users = _users(accounts)
    gongwei = users["gongwei"]
    assessors = [users["kaohe"], users["kaohe2"], users["kaohe3"]]
    experts = [users["zhuanjia"], *(users[u] for u, _ in EXPERTS)]
    managers = _managers(today)
    log: list[str] = []

    # 1. Y0's systems (shipped), the expert weighting of the 思想政治工作测评.
    classify0 = systems.builtin("classify", y0, actor=gongwei, owner_org=root)
    thought0 = systems.builtin("thought", y0, actor=gongwei, owner_org=root)
    IndicatorSystem.objects.filter(pk__in=[classify0.pk, thought0.pk]).update(
        created_at=clock.at(date(y0, 1, 8))
    )
    session, ahp = _weighting(rng, thought0, gongwei=gongwei, experts=experts, clock=clock, y0=y0)
    bad = [(d["name"], x["cr"]) for d in ahp.details["parents"] for x in d["experts"] if not x["consistent"]]
    log.append(f"指标体系 2 个（{y0} 年），专家赋权 1 次：{len(experts)} 位专家各提交 {len(weighting.parents(thought0))} 张判断表"
               + (f"，其中 1 张未通过一致性检验（{bad[0][0]}，CR = {bad[0][1]:.3f}）" if bad else "") + "，汇总为层次分析法权重。")  # fmt: skip

    # 2. The targets and their latent quality.
    branches = list(
        Org.objects.filter(
            kind__in=[Org.Kind.BRANCH, Org.Kind.GENERAL_BRANCH], dissolved_on__isnull=True
        ).order_by("path")
    )
    units = list(
        Org.objects.filter(depth=1, dissolved_on__isnull=True)
        .exclude(kind=Org.Kind.LEADING_GROUP)
        .order_by("path")
    )
    members = Counter(
        Person.objects.filter(left_on__isnull=True, org__isnull=False).values_list("org_id", flat=True)
    )
    quality = {o.pk: rng.gauss(0.0, 1.0) for o in [*branches, *units]}
    plans0 = dict(
        zip([o.pk for o in branches], plan_grades(rng, [quality[o.pk] for o in branches]), strict=True)
    )
    # Next year the orgs move a little: quality drifts, rectification helps the weaker ones.
    quality1 = {k: 0.8 * q + rng.gauss(0.15, 0.5) for k, q in quality.items()}
    plans1 = dict(
        zip([o.pk for o in branches], plan_grades(rng, [quality1[o.pk] for o in branches]), strict=True)
    )

    # 3. The 民主测评 (two yearly waves): rates from each year's plan.
    q_end = last_quarter_end(today)
    wave0 = WaveSpec(1, f"{y0}年度", date(y0, 12, 1), date(y0, 12, 10), "closed", 4)
    specs = [(wave0, plans0)]
    has_y1 = q_end.year == y1 and (q_end - date(y1, 1, 1)).days > 60
    if has_y1:
        specs.append(
            (
                WaveSpec(2, f"{y1}年度", q_end - timedelta(days=24), q_end - timedelta(days=15), "closed", 3),
                plans1,
            )
        )
    paths = {o.pk: o.path for o in [*branches, *units]}
    wave_rates = []
    for spec, plans in specs:
        rates = {paths[pk]: round(rng.uniform(*RATES[p]), 1) for pk, p in plans.items()}
        wave_rates.append((spec, _rate_of(rates, rng.uniform(90.0, 97.0))))
    survey = _democratic(rng, root=root, gongwei_id=gongwei.pk, plans=wave_rates, clock=clock, today=today)

    # 4. Y0's 分类定级 round.
    def classify_round(system, year, plans, survey_period, quality_of, *, title, days, publish=True):
        assessment = rounds.create_round(
            actor=gongwei, title=title, system=system, owner_org=root, period_start=date(year, 1, 1),
            period_end=date(year, 12, 31), orgs=branches, democratic_survey=survey, self_due_on=days["self"],
            scoring_due_on=days["scoring"],
        )  # fmt: skip
        targets = list(
            Target.objects.filter(assessment=assessment).select_related("org").order_by("org__path")
        )
        scorer = Scorer(system)
        rates = democratic_rating_for([t.org_id for t in targets], survey_period, [survey.pk])
        dem = [leaf for leaf in scorer.leaves if leaf.source == ValueSource.DEMOCRATIC]
        cards, planned = [], {}
        fixed_ids = set()
        five_one = scorer.by_code.get("5.1")
        for t in targets:
            plan = plans[t.org_id]
            value = rates.get(t.org_id)
            rate = float(value) if isinstance(value, int | float) else None
            # The plan meets the actual rate: a 好/较好 needs ≥ 90 %; a planned cap without one is plain 一般.
            if rate is not None and rate < 90 and plan in ("好", "较好"):
                plan = "capped"
            if plan == "capped" and (rate is None or rate >= 90):
                plan = "一般"
            planned[t.pk] = plan
            card = Card(t, fixed={leaf.pk: rate for leaf in dem})
            low, high = WINDOWS[plan]
            goal = rng.uniform(low + 0.5, high - 0.5)
            bonus = 0.0
            if plan == "好" and rng.random() < 0.5:
                bonus = rng.choice((4.0, 4.0, 6.0))
            _extras(card, scorer, bonus=bonus, veto=plan == "veto")
            fill_card(rng, card, scorer, needed_mean(scorer, dem, rate, goal - bonus))
            if five_one is not None:  # only an org of 50 members or more can lack a full-time 党务干部
                lacking = members.get(t.org_id, 0) >= 50 and quality_of(t.org_id) < -0.8
                card.assessor_raw[five_one.pk] = card.self_raw[five_one.pk] = 1.0 if lacking else 0.0
                fixed_ids.add(five_one.pk)
            nudge(rng, card, scorer, max(low, goal - 1.5), min(high, goal + 1.5), fixed_ids=fixed_ids)
            _deduction_notes(card, scorer)
            cards.append(card)
        assessor_of = {c.target.pk: assessors[i % len(assessors)] for i, c in enumerate(cards)}
        return assessment, targets, cards, scorer, planned, assessor_of

    days0 = {"created": date(y0, 11, 20), "self": date(y0, 12, 20), "scoring": date(y1, 1, 10),
             "published": min(date(y1, 1, 20), today - timedelta(days=1))}  # fmt: skip
    c0, c0_targets, c0_cards, c0_scorer, c0_planned, c0_assessors = classify_round(
        classify0, y0, plans0, _Span(date(y0, 1, 1), date(y0, 12, 31)), quality.get,
        title=f"{y0}年度基层党组织分类定级", days=days0,
    )  # fmt: skip
    _run_round(c0, gongwei=gongwei, cards=c0_cards, managers=managers, assessor_of=c0_assessors,
               clock=clock, days=days0)  # fmt: skip
    got = dict(Target.objects.filter(assessment=c0).values_list("pk", "grade"))
    off = sum(1 for pk, plan in c0_planned.items() if got.get(pk) != grade_of_plan(plan))
    dist = Counter(got.values())
    log.append(f"{c0.title}：{len(got)} 个党组织，" + "、".join(f"{g} {dist.get(g, 0)}" for g in GRADES)
               + (f"（{off} 个与计划不符）" if off else "") + "。")  # fmt: skip

    # 5. Y0's 思想政治工作测评 round (unit-level orgs, AHP weights, TOPSIS).
    def thought_round(system, weight_set, start, end, *, title, days, quality_of):
        assessment = rounds.create_round(
            actor=gongwei, title=title, system=system, owner_org=root, period_start=start, period_end=end,
            orgs=units, weight_set=weight_set, use_topsis=True, self_due_on=days["self"], scoring_due_on=days["scoring"],
        )  # fmt: skip
        targets = list(
            Target.objects.filter(assessment=assessment).select_related("org").order_by("org__path")
        )
        scorer = Scorer(system, weight_set)
        cards = []
        for t in targets:
            q = quality_of(t.org_id)
            card = Card(t)
            _extras(card, scorer, bonus=float(rng.choice((2, 3))) if q > 1.2 else 0.0)
            fill_card(rng, card, scorer, min(98.0, 78.0 + 9.0 * q))
            cards.append(card)
        assessor_of = {c.target.pk: assessors[i % len(assessors)] for i, c in enumerate(cards)}
        _run_round(assessment, gongwei=gongwei, cards=cards, managers=managers,
                   assessor_of=assessor_of, clock=clock, days=days)  # fmt: skip
        return assessment

    days_t0 = {"created": date(y0, 11, 22), "self": date(y0, 12, 25), "scoring": date(y1, 1, 12),
               "published": min(date(y1, 1, 22), today - timedelta(days=1))}  # fmt: skip
    t0 = thought_round(thought0, ahp, date(y0, 1, 1), date(y0, 12, 31), title=f"{y0}年度思想政治工作测评",
                       days=days_t0, quality_of=quality.get)  # fmt: skip
    t0_dist = Counter(Target.objects.filter(assessment=t0).values_list("grade", flat=True))
    log.append(f"{t0.title}：{sum(t0_dist.values())} 个单位党组织，"
               + "、".join(f"{g} {t0_dist.get(g, 0)}" for g in GRADES) + "。")  # fmt: skip

    # 6. Entropy weights from Y0's round, combined with the experts' (linear, α = 0.5).
    entropy = weighting.entropy_from_round(t0, actor=gongwei, name=f"{y0}年度测评结果熵权")
    combined = weighting.combine(ahp, entropy, actor=gongwei, method="linear", alpha=0.5,
                                 name=f"{y0}年组合赋权（专家 50% + 熵权 50%）")  # fmt: skip
    WeightSet.objects.filter(pk=entropy.pk).update(
        created_at=clock.at(days_t0["published"] + timedelta(days=14))
    )
    WeightSet.objects.filter(pk=combined.pk).update(
        created_at=clock.at(days_t0["published"] + timedelta(days=15))
    )

    # 7. The year of rectification.
    settled = Counter()
    for a in (c0, t0):
        settled += _settle(rng, a, gongwei=gongwei, managers=managers, clock=clock, now=now)
    total_duties = sum(settled.values())
    log.append(f"整改事项 {total_duties} 项：已销号 {settled.get('pass', 0)} 项，已报送待督查 "
               f"{settled.get('report', 0) + settled.get('review', 0)} 项，其余仍在整改或未认领。")  # fmt: skip

    # 8. Y1's versions (copied from Y0's, published); the 思想政治工作测评 takes the combined weights.
    copied = {}
    for old in (classify0, thought0):
        new = systems.copy_as_new_version(old, actor=gongwei, year=y1)
        new = systems.publish(new, actor=gongwei, version=new.version)
        copied[old.kind] = new
    IndicatorSystem.objects.filter(pk__in=[s.pk for s in copied.values()]).update(
        created_at=clock.at(date(y1, 2, 16))
    )
    classify1, thought1 = copied["classify"], copied["thought"]
    by_code = {i.code: i.pk for i in thought1.indicators.all()}
    old_code = dict(thought0.indicators.values_list("pk", "code"))
    carried = {
        by_code[old_code[int(k)]]: w for k, w in combined.weights.items() if old_code.get(int(k)) in by_code
    }
    direct = weighting.save_direct(thought1, carried, actor=gongwei, name=f"沿用{y0}年组合赋权结果")
    WeightSet.objects.filter(pk=direct.pk).update(created_at=clock.at(date(y1, 2, 18)))
    log.append(
        f"{y1} 年指标体系 2 个（由 {y0} 年体系复制为新版本并发布）；权重方案 {WeightSet.objects.count()} 个。"
    )

    # 9. Y1's 思想政治工作测评 (published) up to the last complete quarter.
    if has_y1:
        pub = min(q_end + timedelta(days=40), today - timedelta(days=1))
        days_t1 = {"created": q_end + timedelta(days=3), "self": q_end + timedelta(days=18),
                   "scoring": q_end + timedelta(days=30), "published": pub}  # fmt: skip
        t1 = thought_round(thought1, direct, date(y1, 1, 1), q_end, title=f"{y1}年{half_label(q_end)}思想政治工作测评",
                           days=days_t1, quality_of=quality1.get)  # fmt: skip
        t1_dist = Counter(Target.objects.filter(assessment=t1).values_list("grade", flat=True))
        log.append(f"{t1.title}：{sum(t1_dist.values())} 个单位党组织，"
                   + "、".join(f"{g} {t1_dist.get(g, 0)}" for g in GRADES) + "。")  # fmt: skip

    # 10. Y1's 分类定级, open: some units have started, kaohe scores several branches.
    days1 = {"created": today - timedelta(days=20), "self": today + timedelta(days=7),
             "scoring": today + timedelta(days=21)}  # fmt: skip
    c1, c1_targets, c1_cards, _scorer1, _p, c1_assessors = classify_round(
        classify1, y1, plans1, _Span(date(y1, 1, 1), date(y1, 12, 31)), quality1.get,
        title=f"{y1}年度基层党组织分类定级", days=days1,
    )  # fmt: skip
    shuji_a = users.get("shuji_a")
    own = next(
        (t for t in c1_targets if managers.get(t.org_id) is not None and managers[t.org_id] == shuji_a), None
    )
    kaohe = users["kaohe"]
    others = [t for t in c1_targets if t is not own]
    mine = ([own] if own else []) + rng.sample(others, min(len(others), 5))
    for i, card in enumerate(c1_cards):
        t = card.target
        c1_assessors[t.pk] = kaohe if t in mine else assessors[1 + i % 2]
        rounds.assign(c1, target=t, user=c1_assessors[t.pk], actor=gongwei)
    rounds.open_round(c1, actor=gongwei, version=c1.version)
    Assessment.objects.filter(pk=c1.pk).update(created_at=clock.at(days1["created"]))
    c1.refresh_from_db()
    # Units' self-assessments: about half started; some of those complete and handed in (with evidence).
    self_items = rounds.form_items(classify1, Entry.Side.SELF)
    evidence_items = [i for i in self_items if i.evidence_required]
    started, handed = {}, []
    for card in c1_cards:
        t = card.target
        if t is own:
            continue
        r = rng.random()
        if r < 0.2:
            started[t.pk] = {i.pk for i in self_items}
            handed.append(t)
        elif r < 0.5:
            started[t.pk] = {i.pk for i in self_items[: rng.randint(3, len(self_items) - 2)]}
    # The assessors: kaohe2 / kaohe3 have begun on some of their branches (history, in bulk).
    scoring_rows = []
    for card in c1_cards:
        t = card.target
        if c1_assessors[t.pk] is kaohe or rng.random() > 0.3:
            continue
        for ind_id, value in card.assessor_raw.items():
            scoring_rows.append(Entry(target=t, indicator_id=ind_id, side=Entry.Side.ASSESSOR, value=value,
                                      note=card.notes.get(ind_id, ""), entered_by=c1_assessors[t.pk]))  # fmt: skip
    n_self = _bulk_entries([c for c in c1_cards if c.target.pk in started], self_user=managers,
                           assessor_of=c1_assessors, self_only=started)  # fmt: skip
    Entry.objects.bulk_create(scoring_rows, batch_size=1000)
    Entry.objects.filter(target__assessment=c1).update(
        updated_at=clock.at(today - timedelta(days=rng.randint(1, 6)))
    )
    for t in handed:
        entries = {e.indicator_id: e for e in Entry.objects.filter(target=t, side=Entry.Side.SELF)}
        for ind in evidence_items:
            upload = SimpleUploadedFile(
                f"{ind.name}佐证材料.pdf",
                pdf_bytes(
                    f"{t.org.name}·{ind.name}", [f"{y1}年度基层党组织分类定级自评佐证材料。", ind.key_points]
                ),
                content_type="application/pdf",
            )
            files.store_upload(upload, actor=managers.get(t.org_id), owner_kind=rounds.OWNER_KIND,
                               owner_id=entries[ind.pk].pk)  # fmt: skip
        Target.objects.filter(pk=t.pk).update(
            self_submitted_at=clock.at(today - timedelta(days=rng.randint(1, 5)))
        )
    # shuji_a has begun the branch's self-assessment (two thirds, one evidence file); kaohe has scored two
    # branches in full (one handed in) and begun two more — through the services, as they would.
    n_live = 0
    if own is not None:
        card = next(c for c in c1_cards if c.target is own)
        for ind in self_items[: (2 * len(self_items)) // 3]:
            uploads = []
            if ind.evidence_required and not n_live:
                uploads = [SimpleUploadedFile(
                    f"{y1}年党建工作计划.pdf",
                    pdf_bytes(f"{own.org.name}{y1}年党建工作计划", [ind.key_points, "一、指导思想", "二、重点任务", "三、保障措施"]),
                    content_type="application/pdf",
                )]  # fmt: skip
            rounds.save_entry(actor=shuji_a, target=own, indicator=ind, side=Entry.Side.SELF,
                              value=card.self_raw.get(ind.pk, 0.0), files=uploads)  # fmt: skip
            n_live += 1
    assessor_items = rounds.form_items(classify1, Entry.Side.ASSESSOR)
    for k, t in enumerate(mine[:4]):
        card = next(c for c in c1_cards if c.target is t)
        items = assessor_items if k < 2 else assessor_items[: len(assessor_items) // 2]
        for ind in items:
            rounds.save_entry(actor=kaohe, target=t, indicator=ind, side=Entry.Side.ASSESSOR,
                              value=card.assessor_raw.get(ind.pk, 0.0), note=card.notes.get(ind.pk, ""))  # fmt: skip
            n_live += 1
        if k == 1:
            rounds.submit_scores(t, actor=kaohe)
    AssessorAssignment.objects.filter(target__assessment=c1, submitted_at__isnull=False).update(
        submitted_at=clock.at(today - timedelta(days=1))
    )
    log.append(f"{c1.title}（进行中）：{len(c1_targets)} 个党组织，{len(started) + (1 if own else 0)} 个已开始自评"
               f"（{len(handed)} 个已提交），考核组已录入评分的 {len({e.target_id for e in scoring_rows}) + min(4, len(mine))} 个；"
               f"自评和评分共 {n_self + len(scoring_rows) + n_live} 项。")  # fmt: skip
    return log


@dataclass(frozen=True)
class _Span:
    """A period-like span for ``democratic_rating_for``."""

    start: date
    end: date
