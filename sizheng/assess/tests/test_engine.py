"""The assessment engine on ``small_system``: values by source, scores, redistribution of missing
weights, bonus cap, caps and vetoes, ranks, TOPSIS, sensitivity, the record, audit and query counts.

Rounds are built with the ORM (state locked), not with the rounds services. The one automatic leaf
(1.1, ``duties.on_time_rate``, quarterly) is fed by a stand-in metric so the quarterly values are
exact; the query-count test uses the real metric.

Scenario (round = 2026, three targets)::

            1.1 metric (Q1..Q4)     1.2 assessors   2.1 self / assessor   2.2 events  B1  V1
    A       80, 90, —, 70 → 80→60   9, 7 → 8 → 80   95 / 95 → 100         1 → 75      3   0
    B       — all quarters          10 → 100        85 / — → 80 (cap)     0 → 100     —   0
    C       100 each → 100          10 → 100        100 / 100 → 100       0 → 100     1   1 (veto)

    A: base 0.3·60 + 0.3·80 + 0.28·100 + 0.12·75 = 79, bonus min(4, 6) = 4 → 83 较好
    B: 1.1 missing → 1.2 gets 0.6: 60 + 22.4 + 12 = 94.4 → 好, capped (85 < 90) → 一般
    C: 100 + bonus 2 = 102 → 好, vetoed → 较差
"""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sizheng.assess import engine, methods
from sizheng.assess.models import (
    Assessment,
    AssessorAssignment,
    Entry,
    Indicator,
    LineStatus,
    MissingPolicy,
    ResultLine,
    RoundState,
    Target,
    ValueSource,
    WeightMethod,
    WeightSet,
)
from sizheng.core import metrics as registry
from sizheng.core.metrics import Suppressed
from sizheng.core.models import AuditEvent, User

pytestmark = pytest.mark.django_db

NO_CLOSED = "本期没有销号的事项，无法计算。"


def make_round(ac, system, orgs, *, state=RoundState.LOCKED, **fields) -> Assessment:
    assessment = Assessment.objects.create(
        title="2026年度考核", system=system, owner_org=ac.root, period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31), state=state, created_by=ac.committee_admin, **fields,
    )  # fmt: skip
    for org in orgs:
        Target.objects.create(assessment=assessment, org=org, unit=org.units.order_by("pk").first())
    return assessment


def ind(system, code) -> Indicator:
    return Indicator.objects.get(system=system, code=code)


def enter(target, system, code, side, value, user):
    Entry.objects.create(target=target, indicator=ind(system, code), side=side, value=value, entered_by=user)


@pytest.fixture
def quarterly(monkeypatch):
    """Replace duties.on_time_rate's computation by per-org quarterly values; records the calls."""
    values: dict[int, list] = {}
    calls: list[str] = []

    def compute(targets, period):
        calls.append(period.key)
        return {t: values[t][period.index - 1] for t in targets if t in values}

    real = registry.get("duties.on_time_rate")
    monkeypatch.setitem(registry.REGISTRY, real.name, dataclasses.replace(real, compute=compute))
    return values, calls


@pytest.fixture
def scenario(ac, small_system, quarterly):
    values, _ = quarterly
    S, A = Entry.Side.SELF, Entry.Side.ASSESSOR
    second = User.objects.create_user(username="kaohe2", password="x" * 12)
    stranger = User.objects.create_user(username="kaohe3", password="x" * 12)
    assessment = make_round(ac, small_system, [ac.committee_a, ac.general_b, ac.branch_c], use_topsis=True)
    a, b, c = (
        Target.objects.get(assessment=assessment, org=o) for o in (ac.committee_a, ac.general_b, ac.branch_c)
    )
    for t in (a, b, c):
        AssessorAssignment.objects.create(target=t, user=ac.assessor)
    AssessorAssignment.objects.create(target=a, user=second)
    boss = ac.unit_boss
    values[ac.committee_a.pk] = [80, 90, Suppressed(NO_CLOSED), 70]
    values[ac.general_b.pk] = [Suppressed(NO_CLOSED)] * 4
    values[ac.branch_c.pk] = [100, 100, 100, 100]
    for target, rows in {
        a: [("1.2", A, 9, ac.assessor), ("1.2", A, 7, second), ("2.1", S, 95, boss), ("2.1", A, 95, ac.assessor),
            ("2.2", A, 1, ac.assessor), ("B1", A, 3, ac.assessor), ("V1", A, 0, ac.assessor)],
        b: [("1.2", A, 10, ac.assessor), ("1.2", A, 0, stranger), ("2.1", S, 85, boss), ("2.2", A, 0, ac.assessor)],
        c: [("1.2", A, 10, ac.assessor), ("2.1", S, 100, boss), ("2.1", A, 100, ac.assessor),
            ("2.2", A, 0, ac.assessor), ("B1", A, 1, ac.assessor), ("V1", A, 1, ac.assessor)],
    }.items():  # fmt: skip
        for code, side, value, user in rows:
            enter(target, small_system, code, side, value, user)
    return assessment, a, b, c


def line(target, code) -> ResultLine:
    return ResultLine.objects.get(target=target, indicator__code=code)


# --- collecting ----------------------------------------------------------------------------------


def test_collect_reads_every_source(ac, scenario):
    assessment, a, b, c = scenario
    raws = engine.collect(assessment)
    by_code = {i.code: i.pk for i in Indicator.objects.filter(system=assessment.system)}
    assert raws[a.pk][by_code["1.1"]].value == pytest.approx(80)  # (80 + 90 + 70) / 3
    assert "3个季度的平均值（1个季度无数据）" in raws[a.pk][by_code["1.1"]].note
    assert raws[a.pk][by_code["1.2"]] == engine.Raw(8, LineStatus.OK, "考核组 2 人评分的平均值")
    assert raws[b.pk][by_code["1.2"]].value == 10  # the unassigned assessor's 0 is ignored
    assert raws[a.pk][by_code["2.1"]].note == "自评 95 × 40% + 考核组 95 × 60%"
    assert raws[b.pk][by_code["2.1"]] == engine.Raw(85, LineStatus.OK, "考核组未评分，按自评计。")
    assert raws[b.pk][by_code["1.1"]] == engine.Raw(None, LineStatus.NO_DATA, NO_CLOSED)
    assert raws[b.pk][by_code["B1"]].value is None and raws[c.pk][by_code["V1"]].value == 1


def test_a_metric_is_computed_once_per_quarter_for_all_targets(scenario, quarterly):
    _, calls = quarterly
    engine.collect(scenario[0])
    assert calls == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]


def test_a_metric_longer_than_the_round_uses_the_period_containing_its_end(ac, small_system, quarterly):
    values, calls = quarterly
    assessment = make_round(ac, small_system, [ac.committee_a])
    Assessment.objects.filter(pk=assessment.pk).update(
        period_start=date(2026, 4, 1), period_end=date(2026, 6, 30)
    )
    assessment.refresh_from_db()
    values[ac.committee_a.pk] = [10, 66, 10, 10]
    raws = engine.collect(assessment)
    raw = raws[assessment.targets.get().pk][ind(small_system, "1.1").pk]
    assert calls == ["2026-Q2"] and raw.value == 66 and raw.note == "按时完成率：2026年第二季度"


@pytest.mark.parametrize(
    ("kind", "start", "end", "keys"),
    [
        ("quarter", date(2026, 1, 1), date(2026, 12, 31), ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]),
        ("year", date(2026, 1, 1), date(2026, 12, 31), ["2026"]),
        ("year", date(2025, 7, 1), date(2026, 6, 30), ["2026"]),
        ("half", date(2026, 1, 1), date(2026, 3, 31), ["2026-H1"]),
        ("quarter", date(2026, 2, 15), date(2026, 11, 30), ["2026-Q2", "2026-Q3"]),
        ("quarter", date(2026, 2, 15), date(2026, 5, 15), ["2026-Q1", "2026-Q2"]),
    ],
)
def test_the_periods_a_metric_is_computed_for(kind, start, end, keys):
    assert [p.key for p in engine._periods(kind, start, end)] == keys


# --- computing -----------------------------------------------------------------------------------


def test_compute_round_scores_totals_grades_and_ranks(ac, scenario):
    assessment, a, b, c = scenario
    engine.compute_round(assessment, actor=ac.committee_admin)
    for t in (a, b, c):
        t.refresh_from_db()
    assert (a.base_total, a.bonus, a.total, a.grade, a.grade_reason) == (79.0, 4.0, 83.0, "较好", "")
    assert (b.base_total, b.bonus, b.total, b.grade) == (94.4, 0.0, 94.4, "一般")
    assert b.grade_reason == "满意率低于 90%（2.1 实际值 85，低于 90），等次不高于“一般”"
    assert (c.base_total, c.bonus, c.total, c.grade) == (100.0, 2.0, 102.0, "较差")
    assert c.grade_reason == "一票否决：一年未开展组织生活（V1），定为“较差”"
    assert (c.rank, b.rank, a.rank) == (1, 2, 3)
    assert (a.missing, b.missing, c.missing) == ([], ["1.1"], [])
    assert ResultLine.objects.filter(target__assessment=assessment).count() == 18
    l11 = line(a, "1.1")
    assert (l11.raw, l11.score, l11.global_weight, l11.points, l11.status) == (
        80,
        60,
        pytest.approx(0.3),
        18,
        "ok",
    )
    assert (line(a, "1.2").score, line(a, "2.1").score, line(a, "2.2").score) == (80, 100, 75)
    assert (line(a, "B1").score, line(a, "B1").points) == (4, 4)  # 3 × 2 capped at full marks 4


def test_a_suppressed_metric_is_no_data_and_its_weight_goes_to_its_sibling(ac, scenario):
    assessment, _, b, _ = scenario
    engine.compute_round(assessment, actor=ac.committee_admin)
    missing, sibling = line(b, "1.1"), line(b, "1.2")
    assert (missing.status, missing.raw, missing.score, missing.global_weight, missing.points) == (
        LineStatus.NO_DATA, None, None, 0, None,
    )  # fmt: skip
    assert missing.note == "本期没有销号的事项，无法计算；" + engine.REDISTRIBUTED
    assert sibling.global_weight == pytest.approx(0.6) and sibling.points == 60
    assert sum(line.global_weight for line in b.lines.all()) == pytest.approx(1.0)
    assessment.refresh_from_db()
    assert assessment.record["missing"] == {"1.1": 1}


def test_the_zero_policy_scores_missing_values_zero(ac, scenario):
    assessment, _, b, _ = scenario
    assessment.system.missing_policy = MissingPolicy.ZERO
    assessment.system.save()
    engine.compute_round(assessment, actor=ac.committee_admin)
    b.refresh_from_db()
    assert b.base_total == 64.4 and b.missing == ["1.1"]
    missing = line(b, "1.1")
    assert (missing.score, missing.global_weight, missing.points) == (0, pytest.approx(0.3), 0)
    assert missing.note.endswith(engine.ZEROED)


def test_the_bonus_total_is_capped_by_the_system(ac, scenario):
    assessment, a, _, _ = scenario
    ac_system = assessment.system
    ac_system.bonus_cap = 3
    ac_system.save()
    engine.compute_round(assessment, actor=ac.committee_admin)
    a.refresh_from_db()
    assert (a.bonus, a.total) == (3.0, 82.0) and line(a, "B1").points == 4


def test_the_record_audit_and_state(ac, scenario):
    assessment, *_ = scenario
    engine.compute_round(assessment, actor=ac.committee_admin, samples=200, seed=7)
    assert assessment.state == RoundState.COMPUTED and assessment.computed_at is not None
    stored = Assessment.objects.get(pk=assessment.pk)
    assert stored.state == RoundState.COMPUTED and stored.version == assessment.version == 2
    record = stored.record
    assert record["weights"] == pytest.approx({"1.1": 0.3, "1.2": 0.3, "2.1": 0.28, "2.2": 0.12})
    assert record["weight_set"] is None and record["missing_policy"] == "redistribute"
    assert record["grade_bands"][0] == {"grade": "好", "min": 90} and record["bonus_cap"] == 4
    assert record["caps"][0]["indicator"] == "2.1" and record["metrics"] == {"1.1": "duties.on_time_rate"}
    assert record["sensitivity"] == {
        "samples": 200, "seed": 7, "concentration": 100.0, "method": "weighted_sum", "grade_edges": [60, 80, 90],
    }  # fmt: skip
    assert (
        record["methods"]["topsis"] == "vector" and record["topsis"]["reference"]["normalization"] == "vector"
    )
    event = AuditEvent.objects.get(action="assess_compute")
    assert event.actor == ac.committee_admin and event.object_id == str(assessment.pk)
    assert event.detail == {"targets": 3, "lines": 18, "missing": 1, "capped": 1, "vetoed": 1}


def test_recomputing_replaces_the_lines(ac, scenario):
    assessment, a, *_ = scenario
    engine.compute_round(assessment, actor=ac.committee_admin)
    first = {(r.target_id, r.indicator_id): r.score for r in ResultLine.objects.all()}
    Entry.objects.filter(target=a, indicator__code="2.2").update(value=2)
    engine.compute_round(assessment, actor=ac.committee_admin)
    second = {(r.target_id, r.indicator_id): r.score for r in ResultLine.objects.all()}
    assert len(first) == len(second) == 18
    assert line(a, "2.2").score == 50 and AuditEvent.objects.filter(action="assess_compute").count() == 2


@pytest.mark.parametrize(
    ("state", "message"), [(RoundState.OPEN, "先锁定"), (RoundState.PUBLISHED, "已经发布")]
)
def test_it_refuses_rounds_not_locked_or_computed(ac, small_system, state, message):
    assessment = make_round(ac, small_system, [ac.committee_a], state=state)
    with pytest.raises(ValidationError, match=message):
        engine.compute_round(assessment, actor=ac.committee_admin)
    assert not ResultLine.objects.exists() and not AuditEvent.objects.filter(action="assess_compute").exists()


def test_a_t3_metric_is_refused_with_a_clear_message(ac, scenario):
    assessment, *_ = scenario
    Indicator.objects.filter(system=assessment.system, code="1.1").update(
        metric_name="wellbeing.participation"
    )
    with pytest.raises(ValidationError) as err:
        engine.compute_round(assessment, actor=ac.committee_admin)
    assert "敏感数据（T3）" in err.value.messages[0] and "1.1 责任清单完成" in err.value.messages[0]
    assessment.refresh_from_db()
    assert assessment.state == RoundState.LOCKED and not ResultLine.objects.exists()
    assert not AuditEvent.objects.filter(action="assess_compute").exists()


def test_unknown_or_unset_metrics_are_refused(ac, scenario):
    assessment, *_ = scenario
    Indicator.objects.filter(system=assessment.system, code="1.1").update(metric_name="nope.nothing")
    with pytest.raises(ValidationError, match="不存在"):
        engine.compute_round(assessment, actor=ac.committee_admin)
    Indicator.objects.filter(system=assessment.system, code="1.1").update(metric_name="")
    with pytest.raises(ValidationError, match="没有选择取数指标"):
        engine.compute_round(assessment, actor=ac.committee_admin)


def test_a_broken_rule_names_the_indicator(ac, scenario):
    assessment, *_ = scenario
    Indicator.objects.filter(system=assessment.system, code="1.1").update(rule={"zero_at": 50})
    with pytest.raises(ValidationError, match="1.1 责任清单完成"):
        engine.compute_round(assessment, actor=ac.committee_admin)


def test_a_weight_set_overrides_the_system_weights(ac, scenario):
    assessment, a, *_ = scenario
    system = assessment.system
    ws = WeightSet.objects.create(
        system=system, number=1, name="等权", method=WeightMethod.DIRECT,
        weights={str(ind(system, "1").pk): 0.5, str(ind(system, "2").pk): 0.5},
    )  # fmt: skip
    assessment.weight_set = ws
    assessment.save()
    assert engine.local_weights(system, ws)[ind(system, "1").pk] == 0.5
    assert engine.global_weights(system, ws)[ind(system, "1.1").pk] == pytest.approx(0.25)
    engine.compute_round(assessment, actor=ac.committee_admin)
    a.refresh_from_db()
    assert a.base_total == pytest.approx(0.25 * 60 + 0.25 * 80 + 0.35 * 100 + 0.15 * 75)
    assessment.refresh_from_db()
    assert assessment.record["weight_set"] == ws.pk and assessment.record["weights"]["2.1"] == pytest.approx(
        0.35
    )


def test_leaves_and_weights_of_the_system(small_system):
    assert [i.code for i in engine.leaves(small_system)] == ["1.1", "1.2", "2.1", "2.2"]
    weights = engine.global_weights(small_system)
    assert sorted(weights.values()) == pytest.approx([0.12, 0.28, 0.3, 0.3])
    assert len(engine.local_weights(small_system)) == 6  # bonus and veto carry no weight


# --- TOPSIS, sensitivity, score matrix -------------------------------------------------------------


def test_topsis_and_sensitivity_fields(ac, scenario):
    assessment, a, b, c = scenario
    engine.compute_round(assessment, actor=ac.committee_admin, samples=300)
    targets, leaves, matrix = engine.score_matrix(assessment)
    weights = [0.3, 0.3, 0.28, 0.12]
    expected = methods.topsis(matrix, weights, [1, 1, 1, 1])
    for k, t in enumerate(targets):
        t.refresh_from_db()
        assert t.closeness == pytest.approx(expected.closeness[k], abs=1e-4)
        assert t.topsis_rank == expected.ranking[k]
        assert t.rank_min <= t.rank <= t.rank_max
        assert 0 <= t.grade_change_probability <= 1
    by_org = {t.org_id: t for t in targets}
    assert by_org[ac.branch_c.pk].grade_change_probability == 0  # a veto fixes the grade


def test_the_score_matrix_fills_missing_cells_with_the_siblings_mean(ac, scenario):
    assessment, a, b, c = scenario
    with pytest.raises(ValidationError, match="尚未计算"):
        engine.score_matrix(assessment)
    engine.compute_round(assessment, actor=ac.committee_admin)
    assessment.refresh_from_db()
    targets, leaves, matrix = engine.score_matrix(assessment)
    assert [t.pk for t in targets] == [a.pk, b.pk, c.pk] and [i.code for i in leaves] == [
        "1.1",
        "1.2",
        "2.1",
        "2.2",
    ]
    assert matrix.tolist()[1] == [100, 100, 80, 100]  # B's 1.1 = its sibling 1.2
    totals = matrix @ np.array([0.3, 0.3, 0.28, 0.12])
    assert totals == pytest.approx([79.0, 94.4, 100.0])


def test_a_frozen_topsis_reference_is_used(ac, scenario):
    assessment, *_ = scenario
    engine.compute_round(assessment, actor=ac.committee_admin)
    assessment.refresh_from_db()
    reference = dict(assessment.record["topsis"]["reference"], anti_ideal=[0.0] * 4)
    Assessment.objects.filter(pk=assessment.pk).update(record={"topsis_reference": reference})
    assessment.refresh_from_db()
    engine.compute_round(assessment, actor=ac.committee_admin)
    assessment.refresh_from_db()
    assert assessment.record["topsis"]["frozen_reference"] is True
    assert assessment.record["topsis_reference"] == reference
    _, _, matrix = engine.score_matrix(assessment)
    expected = methods.topsis(
        matrix, [0.3, 0.3, 0.28, 0.12], [1] * 4, reference=methods.TopsisReference(**reference)
    )
    closeness = [t.closeness for t in assessment.targets.order_by("org__path")]
    assert closeness == pytest.approx(expected.closeness, abs=1e-4)


def test_topsis_that_cannot_rank_is_recorded_not_fatal(ac, small_system, quarterly):
    assessment = make_round(ac, small_system, [ac.committee_a], use_topsis=True)
    engine.compute_round(assessment, actor=ac.committee_admin, samples=50)
    target = assessment.targets.get()
    assert "error" in assessment.record["topsis"] and target.closeness is None
    assert target.rank == 1 and target.missing == ["1.1", "1.2", "2.1", "2.2"]
    assert target.total == 0 and "所有计分指标均无数据" in target.grade_reason


# --- democratic source -----------------------------------------------------------------------------


def test_a_democratic_leaf_reads_the_rounds_survey_and_is_suppressed_under_k(ac, small_system, quarterly):
    from sizheng.insight.models import Template
    from sizheng.insight.tests.test_analysis import answer, g, make_survey, make_wave

    Indicator.objects.filter(system=small_system, code="2.1").update(source=ValueSource.DEMOCRATIC)
    survey = make_survey(ac.cast, template=Template.DEMOCRATIC, title="民主测评")
    other = make_survey(ac.cast, template=Template.DEMOCRATIC, title="另一次民主测评")
    wave = make_wave(survey, 1, date(2026, 11, 20))
    answer(wave, g(ac.branch_a1), 8, likert=5, rating=10)
    answer(wave, g(ac.branch_a2), 2, likert=1, rating=0)
    answer(make_wave(other, 1, date(2026, 11, 20)), g(ac.branch_a1), 10, likert=1, rating=0)
    assessment = make_round(ac, small_system, [ac.committee_a, ac.general_b], democratic_survey=survey)
    engine.compute_round(assessment, actor=ac.committee_admin, samples=50)
    a, b = assessment.targets.order_by("org__path")
    assert line(a, "2.1").raw == 80.0 and line(a, "2.1").score == 80  # 8 of 10 satisfied → band 80
    suppressed = line(b, "2.1")
    assert suppressed.status == LineStatus.SUPPRESSED and suppressed.note.startswith("民主测评：")
    assert engine.REDISTRIBUTED in suppressed.note and "2.1" in Target.objects.get(pk=b.pk).missing


# --- query counts ----------------------------------------------------------------------------------


def _round_with(ac, system, n) -> Assessment:
    from sizheng.org.models import Org
    from sizheng.org.testing import org_targets

    orgs = list(Org.objects.filter(pk__in=org_targets(n)))
    assessment = make_round(ac, system, orgs)
    for t in assessment.targets.all():
        AssessorAssignment.objects.create(target=t, user=ac.assessor)
        enter(t, system, "1.2", Entry.Side.ASSESSOR, 7, ac.assessor)
        enter(t, system, "2.1", Entry.Side.SELF, 92, None)
    return assessment


def test_the_query_count_does_not_grow_with_the_targets(ac, small_system, django_assert_max_num_queries):
    small, large = _round_with(ac, small_system, 3), _round_with(ac, small_system, 12)
    with CaptureQueriesContext(connection) as ctx:
        engine.compute_round(small, actor=ac.committee_admin, samples=50)
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        engine.compute_round(large, actor=ac.committee_admin, samples=50)
    assert len(ctx.captured_queries) <= 20
    assert ResultLine.objects.filter(target__assessment=large).count() == 12 * 6
