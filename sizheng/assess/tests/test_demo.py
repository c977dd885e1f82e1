"""The assessment demo: the planning helpers (pure), then one generated city on a fixed day with its
two years of systems, expert weighting and rounds."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from sizheng.assess import methods, results
from sizheng.assess.demo import (
    SHARES,
    allot,
    demo_assess,
    expert_pairs,
    last_quarter_end,
    plan_grades,
    raw_for,
    sheet_answers,
    snap,
    spoil,
    step,
)
from sizheng.assess.models import (
    Assessment,
    AssessorAssignment,
    Entry,
    IndicatorSystem,
    Judgment,
    ResultLine,
    RoundState,
    SessionState,
    SystemKind,
    SystemState,
    Target,
    WeightingSession,
    WeightMethod,
    WeightSet,
)
from sizheng.core import demo as core_demo
from sizheng.core.models import AuditEvent, StoredFile
from sizheng.duties.models import Duty, SourceKind, State
from sizheng.org.demo import demo_city

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)


# --- planning (pure) ----------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 7, 13, 18, 32, 89, 533])
def test_it_allots_grades_by_largest_remainders(n):
    counts = allot(n)
    assert sum(counts.values()) == n
    for grade, share in SHARES.items():
        assert abs(counts[grade] - n * share) < 1


def test_it_plans_grades_by_quality_with_a_veto_and_a_few_caps():
    rng = random.Random(3)
    qualities = [rng.gauss(0, 1) for _ in range(89)]
    plans = plan_grades(rng, qualities)
    c = Counter(plans)
    assert c["veto"] == 1 and 1 <= c["capped"] <= 4
    assert (c["好"], c["较好"], c["一般"] + c["capped"], c["较差"] + c["veto"]) == (9, 54, 18, 8)
    best = max(range(89), key=lambda i: qualities[i])
    assert plans[best] == "好"


SCALE = [1 / k for k in range(2, 10)] + [float(k) for k in range(1, 10)]


def _cr(keys, pairs) -> float:
    return methods.ahp_from_pairs(keys, [tuple(p) for p in pairs]).cr


def test_it_draws_expert_judgments_on_the_saaty_scale_that_are_mostly_consistent():
    rng = random.Random(1)
    keys, weights = ["a", "b", "c", "d", "e", "f"], [15, 20, 20, 15, 10, 20]
    crs = []
    for _ in range(40):
        pairs = expert_pairs(rng, keys, weights, bias=0.15, noise=0.15, gamma=1.6)
        assert len(pairs) == 15
        assert all(any(math.isclose(v, s) for s in SCALE) for _a, _b, v in pairs)
        crs.append(_cr(keys, pairs))
    assert sum(cr < 0.1 for cr in crs) >= 30
    # Turning the strongest judgments round makes a consistent form inconsistent.
    pairs = expert_pairs(rng, keys, [10, 20, 40, 15, 5, 30], bias=0.05, noise=0.05, gamma=1.5)
    assert _cr(keys, pairs) < 0.1
    assert _cr(keys, spoil(pairs, 2)) > 0.1


def test_it_snaps_ratios_to_the_nearest_scale_value():
    assert snap(1.0) == 1 and snap(2.9) == 3 and snap(100) == 9 and snap(1 / 2.2) == 1 / 2


def test_it_writes_satisfied_and_unsatisfied_sheets_either_side_of_60():
    rng = random.Random(2)
    for ok in (True, False) * 50:
        answers = sheet_answers(rng, [11, 12, 13, 14, 15, 16, 17], ok)
        mean = sum((v - 1) * 25 for v in answers.values()) / 7
        assert (mean >= 60) is ok
        assert all(1 <= v <= 5 for v in answers.values())


@pytest.mark.parametrize(
    ("kind", "rule", "top"),
    [
        ("direct", {}, 6),
        ("deduction", {"per_event": 2}, 4),
        (
            "bands",
            {"bands": [{"min": 2, "score": 100}, {"min": 1, "score": 40}, {"min": None, "score": 0}]},
            5,
        ),
        ("linear", {"zero_at": 60, "full_at": 100}, 100),
    ],
)
def test_it_inverts_a_score_onto_the_input_lattice_and_steps_along_it(kind, rule, top):
    from sizheng.assess.scoring import score_leaf

    for target in (0, 35, 50, 75, 100):
        raw = raw_for(kind, rule, top, target)
        assert abs(score_leaf(kind, rule, top, raw) - target) <= 60
    raw = raw_for(kind, rule, top, 50)
    up, down = step(kind, rule, top, raw, True), step(kind, rule, top, raw, False)
    if up is not None:
        assert score_leaf(kind, rule, top, up) >= score_leaf(kind, rule, top, raw)
    if down is not None:
        assert score_leaf(kind, rule, top, down) <= score_leaf(kind, rule, top, raw)
    assert step(kind, rule, top, raw_for(kind, rule, top, 100), True) is None


def test_it_takes_the_last_complete_quarter():
    assert last_quarter_end(date(2026, 11, 20)) == date(2026, 9, 30)
    assert last_quarter_end(date(2026, 1, 5)) == date(2025, 12, 31)


# --- the generator ------------------------------------------------------------------------------


@pytest.fixture
def demo_mode(settings):
    settings.DEMO = True


def _generate(scale: float = 0.2, seed: int = 5) -> core_demo.DemoContext:
    ctx = core_demo.DemoContext(
        scale=scale, seed=seed, rng=random.Random(f"{seed}:org.city"), log=lambda _m: None
    )
    with time_machine.travel(NOW, tick=False):
        demo_city(ctx)
        ctx.rng = random.Random(f"{seed}:assess.rounds")
        demo_assess(ctx)
    return ctx


@pytest.mark.django_db
def test_it_writes_two_years_of_systems_weighting_rounds_and_rectification(demo_mode):  # noqa: PLR0915
    _generate()
    # Systems: the shipped two for 2025, and their 2026 versions copied and published.
    systems = {(s.kind, s.year): s for s in IndicatorSystem.objects.all()}
    assert set(systems) == {(k, y) for k in (SystemKind.CLASSIFY, SystemKind.THOUGHT) for y in (2025, 2026)}
    assert all(s.state == SystemState.PUBLISHED for s in systems.values())
    for kind in (SystemKind.CLASSIFY, SystemKind.THOUGHT):
        assert systems[(kind, 2026)].based_on_id == systems[(kind, 2025)].pk

    # Expert weighting: every expert hands in every form; one form is inconsistent; the AHP set keeps
    # each expert's CR per form.
    session = WeightingSession.objects.get()
    experts = list(session.experts.all())
    assert 3 <= len(experts) <= 5 and "zhuanjia" in {u.username for u in experts}
    judgments = Judgment.objects.filter(session=session)
    forms = {j.parent_id for j in judgments}
    assert (
        judgments.count() == len(experts) * len(forms)
        and judgments.filter(submitted_at__isnull=True).count() == 0
    )
    assert judgments.filter(consistent=False).count() == 1
    assert all(j.cr < 0.1 for j in judgments.filter(consistent=True))
    assert session.state == SessionState.CLOSED
    ahp = session.result
    assert ahp.method == WeightMethod.AHP and ahp.system == systems[(SystemKind.THOUGHT, 2025)]
    parents = ahp.details["parents"]
    assert len(parents) == len(forms)
    assert all(len(p["experts"]) == len(experts) and all("cr" in x for x in p["experts"]) for p in parents)
    entropy = WeightSet.objects.get(method=WeightMethod.ENTROPY)
    combined = WeightSet.objects.get(method=WeightMethod.COMBINED)
    assert set(combined.sources.all()) == {ahp, entropy}
    assert combined.params["method"] == "linear" and combined.params["alpha"] == 0.5
    assert WeightSet.objects.filter(
        system=systems[(SystemKind.THOUGHT, 2026)], method=WeightMethod.DIRECT
    ).exists()

    # Rounds: 2025 both published, 2026 思想政治工作测评 published, 2026 分类定级 open; kaohe everywhere.
    rounds = {(a.system.kind, a.system.year): a for a in Assessment.objects.select_related("system")}
    assert {k: a.state for k, a in rounds.items()} == {
        (SystemKind.CLASSIFY, 2025): RoundState.PUBLISHED,
        (SystemKind.THOUGHT, 2025): RoundState.PUBLISHED,
        (SystemKind.THOUGHT, 2026): RoundState.PUBLISHED,
        (SystemKind.CLASSIFY, 2026): RoundState.OPEN,
    }
    for a in rounds.values():
        assert AssessorAssignment.objects.filter(target__assessment=a, user__username="kaohe").exists()
    assert rounds[(SystemKind.THOUGHT, 2025)].weight_set == ahp
    assert rounds[(SystemKind.THOUGHT, 2026)].period_end == date(2026, 9, 30)

    # The 2025 分类定级 grades follow the county's distribution, with a veto and a satisfaction cap.
    c0 = rounds[(SystemKind.CLASSIFY, 2025)]
    targets = list(Target.objects.filter(assessment=c0))
    grades = Counter(t.grade for t in targets)
    for grade, share in SHARES.items():
        assert abs(grades[grade] / len(targets) - share) <= 0.10, (grade, grades)
    assert any(t.grade == "较差" and "一票否决" in t.grade_reason for t in targets)
    assert any(t.grade == "一般" and "满意率" in t.grade_reason and t.total >= 80 for t in targets)
    assert ResultLine.objects.filter(target__assessment=c0, indicator__code="7.1", status="ok").exists()

    # Rectification: duties from the published rounds, some closed during 2026, some still open.
    duties = Duty.objects.filter(source_kind=SourceKind.INDICATOR)
    assert duties.exists()
    assert set(duties.values_list("source_id", flat=True)) == set(
        ResultLine.objects.filter(duty__isnull=False).values_list("pk", flat=True)
    )
    closed = duties.filter(state=State.CLOSED)
    assert closed.exists() and duties.exclude(state__in=[State.CLOSED, State.CANCELLED]).exists()
    assert all(d.closed_on.year == 2026 and d.closed_on <= NOW.date() for d in closed)
    c1 = rounds[(SystemKind.CLASSIFY, 2026)]
    previous = [results.previous_rectification(t) for t in Target.objects.filter(assessment=c1)]
    shown = [row for rows in previous for row in rows]
    assert any(r["closed"] for r in shown) and any(not r["closed"] for r in shown)

    # The open round: self-assessments begun (some handed in), kaohe's scores, evidence files.
    assert Entry.objects.filter(target__assessment=c1, side=Entry.Side.SELF).exists()
    assert Target.objects.filter(assessment=c1, self_submitted_at__isnull=False).exists()
    assert Entry.objects.filter(
        target__assessment=c1, side=Entry.Side.ASSESSOR, entered_by__username="kaohe"
    ).exists()
    assert StoredFile.objects.filter(owner_kind="assess.entry").exists()
    assert not ResultLine.objects.filter(target__assessment=c1).exists()

    # Real services left their audit trail.
    actions = Counter(AuditEvent.objects.values_list("action", flat=True))
    assert actions["assess_judgment_submit"] == judgments.count()
    assert actions["assess_compute"] == 3 and actions["assess_round_publish"] == 3
    assert actions["assess_entry_save"] > 0 and actions["duty_open"] >= duties.count()

    # A second run leaves everything alone.
    before = (Assessment.objects.count(), Entry.objects.count(), Duty.objects.count())
    ctx = core_demo.DemoContext(scale=0.2, seed=5, rng=random.Random("5:assess.rounds"), log=lambda _m: None)
    with time_machine.travel(NOW, tick=False):
        demo_assess(ctx)
    assert before == (Assessment.objects.count(), Entry.objects.count(), Duty.objects.count())
