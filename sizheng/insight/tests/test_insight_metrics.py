"""Insight metrics: participation rate, satisfaction index and negative share per org subtree —
values, suppression below k with complements, waves in the period only, and query counts."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sizheng.core import metrics
from sizheng.core.metrics import Consumer, Suppressed, Tier
from sizheng.core.rules import Period
from sizheng.insight.models import AnonymousResponse, Question, QuestionKind, Template, WaveState
from sizheng.insight.tests.test_analysis import HOUSING, NEUTRAL, PRESSURE, answer, g, make_survey, make_wave

pytestmark = pytest.mark.django_db

H1 = Period.parse("2026-H1")
NAMES = ("insight.participation_rate", "insight.satisfaction_index", "insight.negative_share")


def compute(name, targets, period=H1):
    return metrics.compute(name, [t.pk for t in targets], period, consumer=Consumer.DASHBOARD)


def test_it_declares_the_three_metrics_as_t0_half_year_org_metrics():
    for name in NAMES:
        m = metrics.get(name)
        assert (m.tier, m.period_kind, m.level) == (Tier.T0, "half", "org")
        assert metrics.allowed(m, Consumer.ASSESSMENT)


def test_it_computes_participation_per_subtree(cast):
    survey = make_survey(cast)
    wave = make_wave(survey, 1, date(2026, 6, 20), audience={g(cast.branch_a1): 10, g(cast.branch_a2): 8})
    answer(wave, g(cast.branch_a1), 8)
    answer(wave, g(cast.branch_a2), 6)
    values = compute(
        "insight.participation_rate", [cast.committee_a, cast.branch_a1, cast.branch_a2, cast.root]
    )
    assert values[cast.committee_a.pk] == pytest.approx(77.8)
    assert values[cast.branch_a1.pk] == 80.0 and values[cast.branch_a2.pk] == 75.0
    assert values[cast.root.pk] == pytest.approx(77.8)
    assert isinstance(compute("insight.participation_rate", [cast.branch_c])[cast.branch_c.pk], Suppressed)


def test_it_suppresses_a_small_org_and_its_complement_whichever_targets_are_asked(cast):
    survey = make_survey(cast)
    wave = make_wave(survey, 1, date(2026, 6, 20), audience={g(cast.branch_a1): 10, g(cast.branch_a2): 4})
    answer(wave, g(cast.branch_a1), 8)
    answer(wave, g(cast.branch_a2), 3)
    alone = compute("insight.participation_rate", [cast.branch_a1])
    together = compute("insight.participation_rate", [cast.committee_a, cast.branch_a1, cast.branch_a2])
    assert isinstance(together[cast.branch_a2.pk], Suppressed)
    # Committee minus A1 would give A2: A1 is hidden too, also when asked for on its own.
    assert isinstance(together[cast.branch_a1.pk], Suppressed) and isinstance(
        alone[cast.branch_a1.pk], Suppressed
    )
    assert together[cast.committee_a.pk] == pytest.approx(round(100 * 11 / 14, 1))
    # "Nobody answered" and "too few answered" read the same.
    assert (
        str(together[cast.branch_a2.pk].reason)
        == compute("insight.participation_rate", [cast.branch_c])[cast.branch_c.pk].reason
    )


def test_it_counts_only_waves_closed_in_the_period(cast):
    survey = make_survey(cast)
    inside = make_wave(survey, 1, date(2026, 6, 20), audience={g(cast.branch_a1): 10})
    later = make_wave(survey, 2, date(2026, 7, 20), audience={g(cast.branch_a1): 10})
    still_open = make_wave(
        survey, 3, date(2026, 5, 20), state=WaveState.OPEN, audience={g(cast.branch_a1): 10}
    )
    answer(inside, g(cast.branch_a1), 5)
    answer(later, g(cast.branch_a1), 10)
    answer(still_open, g(cast.branch_a1), 10)
    assert compute("insight.participation_rate", [cast.branch_a1])[cast.branch_a1.pk] == 50.0


def test_it_counts_staff_of_a_unit_survey_in_the_org_holding_the_unit(cast):
    from sizheng.insight.models import Hierarchy

    survey = make_survey(cast)
    survey.hierarchy = Hierarchy.UNIT
    survey.save(update_fields=["hierarchy"])
    wave = make_wave(
        survey, 1, date(2026, 6, 20), audience={f"office:{cast.office_a1.pk}": 6, f"unit:{cast.unit_a.pk}": 4}
    )
    answer(wave, f"office:{cast.office_a1.pk}", 5)
    answer(wave, f"unit:{cast.unit_a.pk}", 3)
    values = compute("insight.participation_rate", [cast.committee_a, cast.branch_a1])
    assert values[cast.committee_a.pk] == 80.0
    assert isinstance(values[cast.branch_a1.pk], Suppressed)  # a unit survey says nothing per branch


def test_it_computes_the_satisfaction_index_on_0_to_100(cast):
    survey = make_survey(cast, template=Template.SATISFACTION, title="满意度测评")
    thought = make_survey(cast, title="思想动态调查")
    wave = make_wave(survey, 1, date(2026, 6, 20), audience={g(cast.branch_a1): 10})
    other = make_wave(thought, 1, date(2026, 6, 20), audience={g(cast.branch_a1): 10})
    answer(wave, g(cast.branch_a1), 4, likert=5, rating=5)  # (100 + 50) / 2 = 75
    answer(wave, g(cast.branch_a1), 4, likert=1, rating=10)  # (0 + 100) / 2 = 50
    answer(other, g(cast.branch_a1), 8, likert=1, rating=0)  # not a satisfaction survey
    values = compute("insight.satisfaction_index", [cast.branch_a1, cast.committee_a])
    assert values[cast.branch_a1.pk] == 62.5 and values[cast.committee_a.pk] == 62.5


def test_it_suppresses_the_satisfaction_index_below_k(cast):
    survey = make_survey(cast, template=Template.SATISFACTION, title="满意度测评")
    wave = make_wave(survey, 1, date(2026, 6, 20), audience={g(cast.branch_a1): 10})
    answer(wave, g(cast.branch_a1), 4)
    assert isinstance(compute("insight.satisfaction_index", [cast.branch_a1])[cast.branch_a1.pk], Suppressed)


def test_it_computes_the_negative_share_of_free_text(cast):
    survey = make_survey(cast)
    wave = make_wave(survey, 1, date(2026, 6, 20), audience={g(cast.branch_a1): 20, g(cast.branch_a2): 10})
    answer(wave, g(cast.branch_a1), 6, text=PRESSURE)
    answer(wave, g(cast.branch_a1), 4, text=NEUTRAL)
    answer(wave, g(cast.branch_a1), 5)  # no text: not a document
    answer(wave, g(cast.branch_a2), 3, text=HOUSING)
    answer(wave, g(cast.branch_a2), 3, text=NEUTRAL)
    values = compute("insight.negative_share", [cast.branch_a1, cast.branch_a2, cast.committee_a])
    assert values[cast.branch_a1.pk] == 60.0 and values[cast.branch_a2.pk] == 50.0
    assert values[cast.committee_a.pk] == 56.2


def test_it_suppresses_the_negative_share_below_k_writers(cast):
    survey = make_survey(cast)
    wave = make_wave(survey, 1, date(2026, 6, 20), audience={g(cast.branch_a1): 20})
    answer(wave, g(cast.branch_a1), 3, text=PRESSURE)
    answer(wave, g(cast.branch_a1), 10)
    assert isinstance(compute("insight.negative_share", [cast.branch_a1])[cast.branch_a1.pk], Suppressed)


def _queries(name, targets) -> int:
    with CaptureQueriesContext(connection) as ctx:
        metrics.compute(name, list(targets), H1, consumer=Consumer.DASHBOARD)
    return len(ctx.captured_queries)


@pytest.mark.parametrize("name", NAMES)
def test_it_runs_the_same_queries_for_1_and_12_targets_with_data(cast, name):
    from sizheng.org.testing import org_targets

    survey = make_survey(cast, template=Template.SATISFACTION)
    wave = make_wave(survey, 1, date(2026, 6, 20), audience={g(cast.branch_a1): 10, g(cast.branch_a2): 10})
    answer(wave, g(cast.branch_a1), 6, text=PRESSURE)
    answer(wave, g(cast.branch_a2), 6, text=HOUSING)
    many = [cast.committee_a.pk, cast.branch_a1.pk, *org_targets(10)]
    _queries(name, many)  # warm the analysis cache for both runs alike
    assert _queries(name, [cast.branch_a1.pk]) == _queries(name, many) <= 6


def test_it_reads_no_answer_of_a_cached_wave_for_the_negative_share(cast):
    survey = make_survey(cast)
    wave = make_wave(survey, 1, date(2026, 6, 20), audience={g(cast.branch_a1): 10})
    answer(wave, g(cast.branch_a1), 6, text=PRESSURE)
    compute("insight.negative_share", [cast.branch_a1])
    with CaptureQueriesContext(connection) as ctx:
        compute("insight.negative_share", [cast.branch_a1])
    assert "insight_anonymousresponse" not in " ".join(q["sql"] for q in ctx.captured_queries)


def test_it_ignores_malformed_answers(cast):
    survey = make_survey(cast, template=Template.SATISFACTION)
    wave = make_wave(survey, 1, date(2026, 6, 20), audience={g(cast.branch_a1): 10})
    answer(wave, g(cast.branch_a1), 5, likert=4, rating=8)  # (75 + 80) / 2
    AnonymousResponse.objects.create(wave=wave, group=g(cast.branch_a1), answers="not json")
    AnonymousResponse.objects.create(
        wave=wave,
        group=g(cast.branch_a1),
        answers=json.dumps({str(survey.likert.pk): 9, str(survey.rating.pk): "x"}),
    )
    assert Question.objects.filter(survey=survey, kind=QuestionKind.TEXT).exists()
    assert compute("insight.satisfaction_index", [cast.branch_a1])[cast.branch_a1.pk] == 77.5
