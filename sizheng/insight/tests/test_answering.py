"""Answering a survey (services): who may, once per wave, the stored form of answers, and what an
anonymous answer leaves behind (a ledger row, a pooled item, a tally — nothing else)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.http import Http404
from hypothesis import given
from hypothesis import strategies as st

from sizheng.core import anonymous as anon_store
from sizheng.core.apitools import Conflict
from sizheng.core.models import AuditEvent, Notification
from sizheng.insight import groups as reporting
from sizheng.insight import services
from sizheng.insight.models import (
    AnonymousResponse,
    AnswerLedger,
    NamedResponse,
    Question,
    QuestionKind,
    SurveyMode,
)
from sizheng.insight.tests.test_surveys import TODAY, answers_for, make_survey, more_members, publish
from sizheng.org.models import Person

pytestmark = pytest.mark.django_db


@time_machine.travel(TODAY, tick=False)
def test_it_stores_a_named_answer_with_an_audit_row_of_ids_only(cast):
    survey = make_survey(cast, mode=SurveyMode.NAMED)
    wave = publish(cast, survey)
    q = services.ordered_questions(survey)
    services.response_submit(actor=cast.member, wave=wave,
                             answers={str(q[0].pk): 5, str(q[1].pk): "较大", str(q[2].pk): "  多组织业务培训。 "})  # fmt: skip
    row = NamedResponse.objects.get()
    assert row.person == cast.person(cast.member) and row.group == f"org:{cast.branch_a1.pk}"
    assert row.answers == {str(q[0].pk): 5, str(q[1].pk): 2, str(q[2].pk): "多组织业务培训。"}
    event = AuditEvent.objects.get(action="survey_response")
    assert event.actor == cast.member and event.detail == {"survey": survey.pk, "wave": wave.pk}
    assert "培训" not in json.dumps(event.detail, ensure_ascii=False) + event.object_repr
    with pytest.raises(Conflict) as exc:
        services.response_submit(actor=cast.member, wave=wave, answers=answers_for(survey))
    assert exc.value.message == services.MSG_ANSWERED
    assert NamedResponse.objects.count() == 1


@time_machine.travel(TODAY, tick=False)
def test_it_stores_an_anonymous_answer_as_a_ledger_row_a_pooled_item_and_a_tally_only(cast, caplog):
    survey = make_survey(cast)
    wave = publish(cast, survey)
    audit_before, notes_before = AuditEvent.objects.count(), Notification.objects.count()
    caplog.clear()
    services.response_submit(actor=cast.member, wave=wave, answers=answers_for(survey, text="希望减少会议"))
    assert list(AnswerLedger.objects.values_list("wave", "person")) == [
        (wave.pk, cast.person(cast.member).pk)
    ]
    pending = anon_store.pending("survey", str(wave.pk))
    assert len(pending) == 1 and set(pending[0]) == {"key", "group", "answers"}
    assert pending[0]["group"] == f"org:{cast.branch_a1.pk}"
    assert anon_store.tallies("survey", str(wave.pk)) == {(str(wave.pk), f"org:{cast.branch_a1.pk}"): 1}
    assert AuditEvent.objects.count() == audit_before and Notification.objects.count() == notes_before
    assert caplog.records == []
    assert not NamedResponse.objects.exists() and not AnonymousResponse.objects.exists()
    with pytest.raises(Conflict):
        services.response_submit(actor=cast.member, wave=wave, answers=answers_for(survey))
    assert AnswerLedger.objects.count() == 1 and len(anon_store.pending("survey", str(wave.pk))) == 1


@time_machine.travel(TODAY, tick=False)
def test_it_writes_anonymous_answers_in_batches_of_the_threshold(cast, settings):
    settings.ANONYMITY_MIN_GROUP = 5
    people = more_members(cast, 6)
    survey = make_survey(cast)
    wave = publish(cast, survey)
    for i, person in enumerate(people[:4]):
        services.response_submit(actor=person.user, wave=wave, answers=answers_for(survey, likert=i + 1))
    assert AnonymousResponse.objects.count() == 0
    services.response_submit(actor=people[4].user, wave=wave, answers=answers_for(survey, likert=5))
    rows = list(AnonymousResponse.objects.all())
    assert len(rows) == 5 and anon_store.pending("survey", str(wave.pk)) == []
    assert sorted(json.loads(r.answers)[str(services.ordered_questions(survey)[0].pk)] for r in rows) == [
        1,
        2,
        3,
        4,
        5,
    ]
    assert {r.group for r in rows} == {f"org:{cast.branch_a1.pk}"}


@time_machine.travel(TODAY, tick=False)
def test_it_refuses_people_outside_the_audience_and_closed_waves(cast):
    survey = make_survey(cast)
    wave = publish(cast, survey)
    for user in (cast.outsider, cast.secretary_b, cast.counselor, cast.leader):  # lingdao is in branch A2
        with pytest.raises(Http404):
            services.response_submit(actor=user, wave=wave, answers=answers_for(survey))
    services.wave_close(actor=cast.secretary_a, wave=wave)
    with pytest.raises(Conflict) as exc:
        services.response_submit(actor=cast.member, wave=wave, answers=answers_for(survey))
    assert exc.value.message == services.MSG_NO_WAVE
    assert not AnswerLedger.objects.exists()


def test_it_refuses_answers_after_the_closing_day_even_before_the_job_runs(cast):
    with time_machine.travel(TODAY, tick=False):
        survey = make_survey(cast, wave_days=3)
        wave = publish(cast, survey)
    with time_machine.travel(TODAY + timedelta(days=3), tick=False), pytest.raises(Conflict):
        services.response_submit(actor=cast.member, wave=wave, answers=answers_for(survey))


@time_machine.travel(TODAY, tick=False)
def test_it_checks_required_questions_and_values_with_chinese_messages(cast):
    survey = make_survey(cast)
    wave = publish(cast, survey)
    likert, single, text = services.ordered_questions(survey)

    def errors(answers):
        with pytest.raises(ValidationError) as exc:
            services.response_submit(actor=cast.member, wave=wave, answers=answers)
        return exc.value.message_dict

    assert errors({}) == {f"q{likert.pk}": ["请回答第 1 题。"], f"q{single.pk}": ["请回答第 2 题。"]}
    assert errors({str(likert.pk): 6, str(single.pk): 0}) == {
        f"q{likert.pk}": ["第 1 题：请在 1（非常不同意）到 5（非常同意）之间选择。"]
    }
    assert errors({str(likert.pk): 3, str(single.pk): 7}) == {
        f"q{single.pk}": ["第 2 题：所选选项不在本题的选项中。"]
    }
    assert errors({str(likert.pk): True, str(single.pk): 0})[f"q{likert.pk}"]
    assert "本问卷以外的题目" in errors({**answers_for(survey), "99999": 1})["answers"][0]
    assert errors({**answers_for(survey), str(text.pk): "长" * 1001})[f"q{text.pk}"] == [
        "第 3 题：不得超过 1000 个字（现有 1001 个字）。"
    ]
    assert not AnswerLedger.objects.exists() and anon_store.pending("survey", str(wave.pk)) == []


@time_machine.travel(TODAY, tick=False)
def test_it_lists_my_open_surveys_with_whether_i_have_answered(cast):
    mine = make_survey(cast, title="支部问卷")
    wave = publish(cast, mine)
    other = make_survey(cast, actor=cast.secretary_b, org=cast.branch_b1, title="别的支部")
    publish(cast, other, actor=cast.secretary_b)
    draft = make_survey(cast, title="草稿")  # noqa: F841 - never listed
    rows = services.my_open_waves(cast.member)
    assert [(r["survey"].title, r["answered"]) for r in rows] == [("支部问卷", False)]
    services.response_submit(actor=cast.member, wave=wave, answers=answers_for(survey=mine))
    assert [(r["survey"].title, r["answered"]) for r in services.my_open_waves(cast.member)] == [
        ("支部问卷", True)
    ]
    assert services.my_open_waves(cast.sysadmin) == []


@time_machine.travel(TODAY, tick=False)
def test_it_decides_who_is_asked_the_same_way_in_lists_as_in_the_audience_query(cast):
    """``asks`` (no queries, for lists) must agree with ``groups.audience`` for every person."""
    surveys = [
        make_survey(cast, actor=cast.committee_admin, org=cast.root, title="全体"),
        make_survey(cast, actor=cast.committee_admin, org=cast.committee_a, title="A"),
        make_survey(cast, title="A1"),
        make_survey(
            cast,
            actor=cast.committee_admin,
            org=cast.root,
            hierarchy="unit",
            title="单位",
            audience_units=[cast.unit_b],
            audience_orgs=[cast.branch_c],
        ),  # fmt: skip
    ]
    people = list(Person.objects.select_related("org"))
    for survey in surveys:
        expected = set(reporting.audience(survey).values_list("pk", flat=True))
        for p in people:
            holders = services.holder_paths(p)
            assert services.asks(survey, p, p.org.path if p.org_id else None, holders) == (
                p.pk in expected
            ), (
                survey.title,
                p.name,
            )


# --- the stored form of an answer (no database) --------------------------------------------------


def _q(kind, options=(), pk=1, required=True) -> Question:
    return Question(pk=pk, kind=kind, text="题", options=list(options), required=required)


@given(st.integers(1, 5), st.integers(0, 10), st.sets(st.integers(0, 3), min_size=1), st.integers(0, 3))
def test_it_keeps_valid_answers_in_their_stored_form(likert, rating, multi, single):
    qs = [_q(QuestionKind.LIKERT, pk=1), _q(QuestionKind.RATING, pk=2),
          _q(QuestionKind.MULTI, "甲乙丙丁", pk=3), _q(QuestionKind.SINGLE, "甲乙丙丁", pk=4)]  # fmt: skip
    raw = {"1": likert, "2": str(rating), "3": [*multi, *multi], "4": "甲乙丙丁"[single]}
    assert services.clean_answers(qs, raw) == {"1": likert, "2": rating, "3": sorted(multi), "4": single}


@given(st.one_of(st.integers().filter(lambda v: not 0 <= v <= 10), st.booleans(), st.floats(), st.none(),
                 st.text().filter(lambda s: s.strip() and not s.strip().lstrip("-").isdigit())))  # fmt: skip
def test_it_refuses_any_rating_outside_zero_to_ten(value):
    with pytest.raises(ValidationError) as exc:
        services.clean_answers([_q(QuestionKind.RATING)], {"1": value})
    assert exc.value.message_dict["q1"][0].startswith(("第 1 题：", "请回答第 1 题"))


@given(st.text(max_size=1200))
def test_it_keeps_text_answers_trimmed_and_bounded(text):
    q = _q(QuestionKind.TEXT, required=False)
    try:
        out = services.clean_answers([q], {"1": text})
    except ValidationError:
        assert len(text.strip()) > services.TEXT_ANSWER_MAX
        return
    assert out == ({"1": text.strip()} if text.strip() else {})
