"""insight.democratic_rating (民主测评满意率): share of 民主测评 answer sheets whose mean scored item
is ≥ 60, per org subtree, only the chosen survey when given, suppressed below k, flat queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sizheng.core import metrics
from sizheng.core.metrics import Consumer, Suppressed, Tier
from sizheng.core.rules import Period
from sizheng.insight.metrics import democratic_rating_for
from sizheng.insight.models import Template
from sizheng.insight.tests.test_analysis import answer, g, make_survey, make_wave

pytestmark = pytest.mark.django_db

YEAR = Period.parse("2026")


def democratic(cast, title="2026年民主测评"):
    return make_survey(cast, template=Template.DEMOCRATIC, title=title)


def rating(targets, period=YEAR):
    return metrics.compute(
        "insight.democratic_rating", [t.pk for t in targets], period, consumer=Consumer.ASSESSMENT
    )


def test_it_is_a_t0_yearly_org_metric_the_assessment_may_use():
    m = metrics.get("insight.democratic_rating")
    assert (m.tier, m.period_kind, m.level, m.unit) == (Tier.T0, "year", "org", "%")
    assert m in metrics.for_consumer(Consumer.ASSESSMENT)


def test_it_counts_the_share_of_satisfied_sheets_per_subtree(cast):
    wave = make_wave(democratic(cast), 1, date(2026, 6, 20), audience={g(cast.branch_a1): 20})
    answer(wave, g(cast.branch_a1), 6, likert=5, rating=5)  # (100 + 50) / 2 = 75 ≥ 60
    answer(wave, g(cast.branch_a1), 3, likert=3, rating=7)  # (50 + 70) / 2 = 60: counts as satisfied
    answer(wave, g(cast.branch_a1), 3, likert=2, rating=4)  # (25 + 40) / 2 = 32.5
    values = rating([cast.branch_a1, cast.committee_a, cast.root])
    assert values[cast.branch_a1.pk] == 75.0  # 9 of 12
    assert values[cast.committee_a.pk] == 75.0 and values[cast.root.pk] == 75.0


def test_other_templates_and_waves_outside_the_period_do_not_count(cast):
    wave = make_wave(democratic(cast), 1, date(2026, 6, 20), audience={g(cast.branch_a1): 20})
    answer(wave, g(cast.branch_a1), 5, likert=5, rating=10)
    later = make_wave(democratic(cast, "2027年民主测评"), 1, date(2027, 1, 10))
    answer(later, g(cast.branch_a1), 5, likert=1, rating=0)
    satisfaction = make_wave(
        make_survey(cast, template=Template.SATISFACTION, title="满意度"), 1, date(2026, 6, 20)
    )
    answer(satisfaction, g(cast.branch_a1), 5, likert=1, rating=0)
    assert rating([cast.branch_a1])[cast.branch_a1.pk] == 100.0


def test_only_the_chosen_survey_counts_when_given(cast):
    first, second = democratic(cast, "上半年民主测评"), democratic(cast, "下半年民主测评")
    answer(make_wave(first, 1, date(2026, 6, 20)), g(cast.branch_a1), 5, likert=5, rating=10)
    answer(make_wave(second, 1, date(2026, 11, 20)), g(cast.branch_a1), 5, likert=1, rating=0)
    assert rating([cast.branch_a1])[cast.branch_a1.pk] == 50.0
    chosen = democratic_rating_for([cast.branch_a1.pk], YEAR, [second.pk])
    assert chosen[cast.branch_a1.pk] == 0.0


def test_any_span_with_start_and_end_works(cast):
    @dataclass
    class Span:
        start: date
        end: date

    answer(make_wave(democratic(cast), 1, date(2026, 3, 20)), g(cast.branch_a1), 5, likert=5, rating=10)
    assert (
        democratic_rating_for([cast.branch_a1.pk], Span(date(2026, 3, 1), date(2026, 3, 31)))[
            cast.branch_a1.pk
        ]
        == 100.0
    )
    outside = democratic_rating_for([cast.branch_a1.pk], Span(date(2026, 4, 1), date(2026, 12, 31)))
    assert isinstance(outside[cast.branch_a1.pk], Suppressed)


def test_it_suppresses_below_k_and_the_complement(cast):
    wave = make_wave(democratic(cast), 1, date(2026, 6, 20))
    answer(wave, g(cast.branch_a1), 8, likert=5, rating=10)
    answer(wave, g(cast.branch_a2), 2, likert=1, rating=0)
    values = rating([cast.branch_a1, cast.branch_a2, cast.committee_a, cast.branch_c])
    assert isinstance(values[cast.branch_a2.pk], Suppressed)
    assert isinstance(values[cast.branch_a1.pk], Suppressed)  # committee − A1 would reveal A2
    assert values[cast.committee_a.pk] == 80.0
    assert isinstance(values[cast.branch_c.pk], Suppressed)


def _queries(targets) -> int:
    with CaptureQueriesContext(connection) as ctx:
        metrics.compute("insight.democratic_rating", targets, YEAR, consumer=Consumer.ASSESSMENT)
    return len(ctx.captured_queries)


def test_it_runs_the_same_queries_for_1_and_12_targets(cast):
    from sizheng.org.testing import org_targets

    wave = make_wave(democratic(cast), 1, date(2026, 6, 20))
    answer(wave, g(cast.branch_a1), 6)
    answer(wave, g(cast.branch_a2), 6)
    many = [cast.committee_a.pk, cast.branch_a1.pk, *org_targets(10)]
    assert _queries([cast.branch_a1.pk]) == _queries(many) <= 6


def test_the_templates_grade_questions_count_good_and_fairly_good_as_satisfied(cast):
    """The 民主测评 template asks 好/较好/一般/差 as single choice (by index or label): 满意率 is the
    share of sheets whose grades average 较好 or better; other single-choice questions are ignored."""
    import json

    from sizheng.insight.models import AnonymousResponse, Question, QuestionKind, Survey
    from sizheng.insight.survey_templates import DEMOCRATIC_OPTIONS

    survey = Survey.objects.create(title="民主测评", template=Template.DEMOCRATIC, owner_org=cast.committee_a,
                                   state="published")  # fmt: skip
    q1 = Question.objects.create(survey=survey, kind=QuestionKind.SINGLE, text="班子整体评价",
                                 options=DEMOCRATIC_OPTIONS, order=1)  # fmt: skip
    q2 = Question.objects.create(survey=survey, kind=QuestionKind.SINGLE, text="作风建设",
                                 options=DEMOCRATIC_OPTIONS, order=2)  # fmt: skip
    other = Question.objects.create(survey=survey, kind=QuestionKind.SINGLE, text="您的岗位",
                                    options=["领导", "干部"], order=3)  # fmt: skip
    wave = make_wave(survey, 1, date(2026, 6, 20), audience={g(cast.branch_a1): 12})
    sheets = [(0, "较好")] * 3 + [(1, 1)] * 3 + [("一般", 2)] * 3 + [(3, "差")] * 3  # 好+较好, 较好, 一般, 差
    AnonymousResponse.objects.bulk_create(
        AnonymousResponse(wave=wave, group=g(cast.branch_a1),
                          answers=json.dumps({str(q1.pk): a, str(q2.pk): b, str(other.pk): 0}, ensure_ascii=False))
        for a, b in sheets
    )  # fmt: skip
    assert rating([cast.branch_a1])[cast.branch_a1.pk] == 50.0  # 6 of 12 sheets average ≥ 较好
