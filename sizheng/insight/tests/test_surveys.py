"""The survey builder and waves (services and jobs): templates, drafts-only edits, the mode and the
hierarchy fixed at creation, publishing, waves on a schedule, closing with the risk scan."""

from __future__ import annotations

import sys
from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from sizheng.core import anonymous as anon_store
from sizheng.core import scheduler
from sizheng.core.apitools import Conflict
from sizheng.core.models import AuditEvent, Notification, SentReminder
from sizheng.insight import jobs, services
from sizheng.insight.models import (
    AnonymousResponse,
    Dimension,
    Hierarchy,
    Question,
    QuestionKind,
    RiskAlert,
    Schedule,
    Survey,
    SurveyMode,
    SurveyState,
    Template,
    Wave,
    WaveState,
)
from sizheng.insight.survey_templates import TEMPLATES
from sizheng.org.models import Person
from sizheng.org.testing import make_person

pytestmark = pytest.mark.django_db
TODAY = date(2026, 10, 12)  # a Monday in the fourth quarter
RISK_TEXT = "最近压力太大，有时候真的不想活了。"


def make_survey(cast, *, actor=None, org=None, template=Template.CUSTOM, mode=SurveyMode.ANONYMOUS, **kw):
    """A survey of branch A1 (by its secretary unless told otherwise); a custom one gets three
    questions: a likert, a single choice and an optional free text."""
    survey = services.survey_create(
        actor=actor or cast.secretary_a, owner_org=org or cast.branch_a1, title=kw.pop("title", "测试问卷"),
        template=template, mode=mode, hierarchy=kw.pop("hierarchy", Hierarchy.ORG), **kw,
    )  # fmt: skip
    if template == Template.CUSTOM:
        actor = actor or cast.secretary_a
        dim = services.dimension_add(actor=actor, survey=survey, name="工作状态")
        services.question_add(actor=actor, survey=survey, kind=QuestionKind.LIKERT, text="我对工作充满热情。",
                              dimension=dim)  # fmt: skip
        services.question_add(actor=actor, survey=survey, kind=QuestionKind.SINGLE, text="工作压力如何？",
                              options=["较小", "一般", "较大"], dimension=dim)  # fmt: skip
        services.question_add(
            actor=actor, survey=survey, kind=QuestionKind.TEXT, text="意见建议", required=False
        )
    return survey


def publish(cast, survey, actor=None, **kw) -> Wave:
    survey.refresh_from_db()
    services.survey_publish(actor=actor or cast.secretary_a, survey=survey, version=survey.version, **kw)
    return survey.waves.get()


def more_members(cast, n: int, org=None, prefix="成员") -> list[Person]:
    """n more party members with accounts in branch A1 (or ``org``)."""
    org = org or cast.branch_a1
    unit = org.units.first()
    return [make_person(f"{prefix}{i}", unit, org=org, username=f"{prefix}-{org.pk}-{i}") for i in range(n)]


def answers_for(survey, *, text: str | None = None, likert: int = 4, choice: int = 1) -> dict:
    out = {}
    for q in services.ordered_questions(survey):
        if q.kind == QuestionKind.LIKERT:
            out[str(q.pk)] = likert
        elif q.kind == QuestionKind.SINGLE:
            out[str(q.pk)] = choice
        elif q.kind == QuestionKind.TEXT and text:
            out[str(q.pk)] = text
    return out


# --- templates and creation --------------------------------------------------------------------


def test_it_keeps_every_template_well_formed():
    assert set(TEMPLATES) == set(Template.values)
    for key, data in TEMPLATES.items():
        questions = [q for d in data["dimensions"] for q in d["questions"]] + data["questions"]
        assert (key == Template.CUSTOM) == (not questions)
        for q in questions:
            assert q["kind"] in QuestionKind.values and q["text"].strip()
            if q["kind"] in (QuestionKind.SINGLE, QuestionKind.MULTI):
                assert len(q["options"]) >= 2
            else:
                assert q["options"] == []
    thought = [q["text"] for d in TEMPLATES[Template.THOUGHT]["dimensions"] for q in d["questions"]]
    assert "您当前最关心的问题是什么？" in thought and "对单位/支部工作有什么意见建议？" in thought
    assert {d["name"] for d in TEMPLATES[Template.THOUGHT]["dimensions"]} >= {
        "工作状态",
        "思想认识",
        "组织认同",
    }
    democratic = [q for d in TEMPLATES[Template.DEMOCRATIC]["dimensions"] for q in d["questions"]]
    assert all(q["options"] == ["好", "较好", "一般", "差"] for q in democratic)
    assert "班子整体评价" in [q["text"] for q in democratic]
    satisfaction = [q["kind"] for d in TEMPLATES[Template.SATISFACTION]["dimensions"] for q in d["questions"]]
    assert QuestionKind.RATING in satisfaction and QuestionKind.LIKERT in satisfaction


def test_it_creates_a_survey_from_a_template_with_its_dimensions_questions_and_an_audit_row(cast):
    survey = services.survey_create(
        actor=cast.secretary_a, owner_org=cast.branch_a1, title="", template=Template.THOUGHT,
        mode=SurveyMode.ANONYMOUS, hierarchy=Hierarchy.ORG, schedule=Schedule.QUARTER,
    )  # fmt: skip
    assert survey.title == "思想动态调查" and survey.state == SurveyState.DRAFT
    assert list(survey.dimensions.values_list("name", flat=True)) == [
        "工作状态", "思想认识", "组织认同", "生活与家庭", "意见建议",
    ]  # fmt: skip
    data = TEMPLATES[Template.THOUGHT]
    assert survey.questions.count() == sum(len(d["questions"]) for d in data["dimensions"])
    assert list(survey.audience_orgs.all()) == [cast.branch_a1]  # the default audience is stored
    event = AuditEvent.objects.get(action="survey_create")
    assert event.actor == cast.secretary_a and event.object_id == str(survey.pk)
    assert event.detail == {"template": "thought", "mode": "anonymous", "hierarchy": "org",
                            "owner_org": cast.branch_a1.pk, "audience_orgs": [cast.branch_a1.pk],
                            "audience_units": []}  # fmt: skip


def test_it_refuses_bad_creation_input_with_chinese_messages(cast):
    def create(**kw):
        args = {"actor": cast.secretary_a, "owner_org": cast.branch_a1, "title": "x", "template": "custom",
                "mode": "anonymous", "hierarchy": "org"}  # fmt: skip
        args.update(kw)
        with pytest.raises(ValidationError) as exc:
            services.survey_create(**args)
        return exc.value.message_dict

    assert create(mode="secret") == {"mode": ["请选择作答方式（匿名或实名）。"]}
    assert "wave_days" in create(wave_days=0)
    assert "调查对象须在组织单位" in create(audience_orgs=[cast.branch_b1])["audience_orgs"][0]
    assert "按党组织层级统计" in create(audience_units=[cast.unit_a])["audience_units"][0]
    assert create(title="", template="custom") == {"title": ["请填写问卷名称。"]}
    with pytest.raises(PermissionDenied):
        services.survey_create(actor=cast.member, owner_org=cast.branch_a1, title="x", template="custom",
                               mode="named", hierarchy="org")  # fmt: skip
    assert not Survey.objects.exists()


def test_it_never_changes_the_mode_or_the_hierarchy_after_creation(cast):
    survey = make_survey(cast)
    for field, value in (("mode", SurveyMode.NAMED), ("hierarchy", Hierarchy.UNIT)):
        with pytest.raises(ValidationError) as exc:
            services.survey_update(
                actor=cast.secretary_a, survey=survey, version=survey.version, **{field: value}
            )
        assert exc.value.message_dict == {field: [services.MSG_FIXED]}
    survey.refresh_from_db()
    assert (survey.mode, survey.hierarchy, survey.version) == (SurveyMode.ANONYMOUS, Hierarchy.ORG, 1)
    # The same value is no change at all; other fields still save.
    services.survey_update(
        actor=cast.secretary_a, survey=survey, version=1, mode=SurveyMode.ANONYMOUS, title="新名"
    )
    survey.refresh_from_db()
    assert (survey.title, survey.version) == ("新名", 2)
    assert AuditEvent.objects.get(action="survey_update").detail == {"fields": ["title"]}


def test_it_refuses_a_stale_version(cast):
    survey = make_survey(cast)
    services.survey_update(actor=cast.secretary_a, survey=survey, version=1, title="第一次")
    with pytest.raises(Conflict):
        services.survey_update(actor=cast.secretary_a, survey=survey, version=1, title="第二次")
    assert Survey.objects.get().title == "第一次"


# --- the builder ---------------------------------------------------------------------------------


def test_it_edits_moves_and_removes_questions_and_dimensions_of_a_draft(cast):
    survey = make_survey(cast)
    a = services.sections(survey)[0][1]
    likert, single = a
    assert services.question_move(actor=cast.secretary_a, question=single, offset=-1)
    assert [q.pk for q in services.sections(survey)[0][1]] == [single.pk, likert.pk]
    assert not services.question_move(actor=cast.secretary_a, question=single, offset=-1)  # already first
    services.question_update(actor=cast.secretary_a, question=single, kind=QuestionKind.MULTI,
                             options=["甲", " 乙 ", "", "甲", "丙"])  # fmt: skip
    single.refresh_from_db()
    assert single.kind == QuestionKind.MULTI and single.options == ["甲", "乙", "丙"]
    with pytest.raises(ValidationError) as exc:
        services.question_update(actor=cast.secretary_a, question=single, options=["只有一个"])
    assert "至少需要 2 个不同的选项" in exc.value.message_dict["options"][0]
    second = services.dimension_add(actor=cast.secretary_a, survey=survey, name="组织认同")
    services.dimension_move(actor=cast.secretary_a, dimension=second, offset=-1)
    assert [d.name for d, _ in services.sections(survey) if d] == ["组织认同", "工作状态"]
    first_dim = Dimension.objects.get(name="工作状态")
    services.dimension_remove(actor=cast.secretary_a, dimension=first_dim)
    assert Question.objects.filter(survey=survey, dimension__isnull=True).count() == 3  # questions stay
    services.question_remove(actor=cast.secretary_a, question=likert)
    assert not Question.objects.filter(pk=likert.pk).exists()
    actions = list(
        AuditEvent.objects.filter(object_type__startswith="insight.").values_list("action", flat=True)
    )
    for action in ("question_move", "question_update", "dimension_add", "dimension_move", "dimension_remove",
                   "question_remove"):  # fmt: skip
        assert action in actions
    assert all("甲" not in str(e.detail) for e in AuditEvent.objects.all())  # field names only


def test_it_refuses_builder_edits_once_published(cast):
    survey = make_survey(cast)
    question = survey.questions.first()
    with time_machine.travel(TODAY, tick=False):
        publish(cast, survey)
    for call in (
        lambda: services.question_add(actor=cast.secretary_a, survey=survey, kind="text", text="新题"),
        lambda: services.question_update(actor=cast.secretary_a, question=question, text="改题"),
        lambda: services.question_remove(actor=cast.secretary_a, question=question),
        lambda: services.dimension_add(actor=cast.secretary_a, survey=survey, name="新维度"),
        lambda: services.survey_update(actor=cast.secretary_a, survey=survey, version=2,
                                       audience_orgs=[cast.committee_a]),
        lambda: services.survey_delete(actor=cast.secretary_a, survey=survey),
    ):  # fmt: skip
        with pytest.raises(Conflict):
            call()
    assert survey.questions.count() == 3 and Question.objects.get(pk=question.pk).text == question.text


def test_it_refuses_a_manager_of_another_org(cast):
    survey = make_survey(cast)
    with pytest.raises(PermissionDenied):
        services.question_add(actor=cast.secretary_b, survey=survey, kind="text", text="别人的题")
    with pytest.raises(PermissionDenied):
        services.survey_delete(actor=cast.secretary_b, survey=survey)


# --- publishing and waves -----------------------------------------------------------------------


@time_machine.travel(TODAY, tick=False)
def test_it_publishes_opens_the_first_wave_fixes_audience_counts_and_notifies(
    cast, django_capture_on_commit_callbacks
):
    survey = make_survey(cast)
    with django_capture_on_commit_callbacks(execute=True):
        wave = publish(cast, survey)
    survey.refresh_from_db()
    assert survey.state == SurveyState.PUBLISHED
    assert (wave.number, wave.label, wave.state) == (1, "第1轮", WaveState.OPEN)
    assert (wave.opens_on, wave.closes_on) == (TODAY, TODAY + timedelta(days=13))
    # Branch A1: the secretary, the 党务干部 and the member.
    assert wave.audience_counts == {f"org:{cast.branch_a1.pk}": 3}
    told = set(Notification.objects.values_list("user__username", flat=True))
    assert told == {"shuji_a", "dangwu_a", "dangyuan"}
    note = Notification.objects.first()
    assert "测试问卷" in note.title and note.url == f"/insight/surveys/{survey.pk}/answer/"
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {"survey_publish", "wave_open"}
    with pytest.raises(Conflict):
        services.wave_open(actor=cast.secretary_a, survey=survey)


@time_machine.travel(TODAY, tick=False)
def test_it_refuses_to_publish_an_empty_survey(cast):
    survey = make_survey(cast, template=Template.CUSTOM)
    survey.questions.all().delete()
    with pytest.raises(ValidationError) as exc:
        publish(cast, survey)
    assert "至少添加一道题目" in exc.value.messages[0]
    assert Survey.objects.get().state == SurveyState.DRAFT


@time_machine.travel(TODAY, tick=False)
def test_it_plans_a_wave_for_a_later_day_and_the_job_starts_it(cast, django_capture_on_commit_callbacks):
    survey = make_survey(cast, schedule=Schedule.QUARTER)
    wave = publish(cast, survey, opens_on=TODAY + timedelta(days=2))
    assert (wave.state, wave.label, wave.audience_counts) == (WaveState.PLANNED, "2026年第四季度", {})
    assert not Notification.objects.exists()
    with (
        time_machine.travel(TODAY + timedelta(days=2), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        jobs.waves()
    wave.refresh_from_db()
    assert wave.state == WaveState.OPEN and Notification.objects.count() == 3


@time_machine.travel(TODAY, tick=False)
def test_it_closes_a_wave_writing_the_pending_answers(cast):
    survey = make_survey(cast)
    wave = publish(cast, survey)
    services.response_submit(actor=cast.member, wave=wave, answers=answers_for(survey))
    assert AnonymousResponse.objects.count() == 0 and len(anon_store.pending("survey", str(wave.pk))) == 1
    services.wave_close(actor=cast.secretary_a, wave=wave)
    wave.refresh_from_db()
    assert wave.state == WaveState.CLOSED and wave.closes_on == TODAY
    assert AnonymousResponse.objects.filter(wave=wave).count() == 1
    assert anon_store.pending("survey", str(wave.pk)) == []
    assert AuditEvent.objects.filter(action="wave_close", object_id=str(wave.pk)).exists()
    with pytest.raises(Conflict):
        services.wave_close(actor=cast.secretary_a, wave=wave)


def test_it_opens_scheduled_waves_once_per_period_and_closes_them_when_due(cast):
    with time_machine.travel(date(2026, 9, 1), tick=False):
        survey = make_survey(cast, schedule=Schedule.QUARTER, wave_days=10)
        first = publish(cast, survey)
    assert first.label == "2026年第三季度"
    with time_machine.travel(date(2026, 9, 11), tick=False):
        assert jobs.waves() == {"closed": 1, "started": 0, "opened": 0, "reminded": 0}
        assert jobs.waves()["opened"] == 0  # a second run in the same period opens nothing
    with time_machine.travel(date(2026, 10, 1), tick=False):
        assert jobs.waves()["opened"] == 1
        assert jobs.waves()["opened"] == 0
    labels = list(Wave.objects.order_by("number").values_list("number", "label", "state"))
    assert labels == [(1, "2026年第三季度", "closed"), (2, "2026年第四季度", "open")]
    # A one-off survey never gets a wave from the job.
    with time_machine.travel(date(2026, 10, 2), tick=False):
        once = make_survey(cast, title="一次性")
        once.refresh_from_db()
        services.survey_publish(actor=cast.secretary_a, survey=once, version=once.version)
        services.wave_close(actor=cast.secretary_a, wave=once.waves.get())
    with time_machine.travel(date(2027, 1, 4), tick=False):
        jobs.waves()
    assert once.waves.count() == 1


def test_it_reminds_those_who_have_not_answered_once_before_the_close(
    cast, django_capture_on_commit_callbacks
):
    with time_machine.travel(TODAY, tick=False):
        survey = make_survey(cast, wave_days=5)
        wave = publish(cast, survey)
        services.response_submit(actor=cast.member, wave=wave, answers=answers_for(survey))
    Notification.objects.all().delete()
    with time_machine.travel(TODAY + timedelta(days=2), tick=False):
        assert jobs.waves()["reminded"] == 1
        assert jobs.waves()["reminded"] == 0
    assert set(Notification.objects.values_list("user__username", flat=True)) == {"shuji_a", "dangwu_a"}
    assert SentReminder.objects.filter(key=f"insight:wave:{wave.pk}:closing").exists()
    assert "insight.waves" in scheduler.JOBS


@time_machine.travel(TODAY, tick=False)
def test_it_closes_a_survey_and_its_running_wave(cast):
    survey = make_survey(cast)
    wave = publish(cast, survey)
    survey.refresh_from_db()
    services.survey_close(actor=cast.secretary_a, survey=survey, version=survey.version)
    wave.refresh_from_db()
    assert Survey.objects.get().state == SurveyState.CLOSED and wave.state == WaveState.CLOSED
    with pytest.raises(Conflict):
        services.wave_open(actor=cast.secretary_a, survey=survey)


# --- the risk scan ------------------------------------------------------------------------------


@time_machine.travel(TODAY, tick=False)
def test_it_alerts_the_groups_counselors_with_a_count_and_no_identity(
    cast, django_capture_on_commit_callbacks
):
    people = more_members(cast, 5)
    survey = make_survey(cast, actor=cast.committee_admin, org=cast.committee_a)
    wave = publish(cast, survey, actor=cast.committee_admin)
    for i, person in enumerate(people):
        services.response_submit(actor=person.user, wave=wave,
                                 answers=answers_for(survey, text=RISK_TEXT if i < 2 else "希望减少会议。"))  # fmt: skip
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        services.wave_close(actor=cast.committee_admin, wave=wave)
    alert = RiskAlert.objects.get()
    assert (alert.wave, alert.group, alert.count) == (wave, f"org:{cast.branch_a1.pk}", 2)
    told = list(Notification.objects.all())
    assert {n.user.username for n in told} == {"xinli", "xinli2"}
    for n in told:
        text = n.title + n.body
        assert "2 份" in text and cast.branch_a1.name in text
        assert RISK_TEXT not in text and "不想活" not in text
        assert all(p.name not in text for p in people)
    detail = AuditEvent.objects.get(action="risk_alert").detail
    assert detail == {"wave": wave.pk, "group": f"org:{cast.branch_a1.pk}"}


@time_machine.travel(TODAY, tick=False)
def test_it_rolls_a_small_groups_alert_up_to_a_group_of_at_least_k(cast, settings):
    settings.ANONYMITY_MIN_GROUP = 5
    a2 = more_members(cast, 2, org=cast.branch_a2, prefix="二支部")
    a1 = more_members(cast, 3)
    survey = make_survey(cast, actor=cast.committee_admin, org=cast.committee_a)
    wave = publish(cast, survey, actor=cast.committee_admin)
    for person in a2:
        services.response_submit(actor=person.user, wave=wave, answers=answers_for(survey, text=RISK_TEXT))
    for person in a1:
        services.response_submit(actor=person.user, wave=wave, answers=answers_for(survey, text="还好"))
    services.wave_close(actor=cast.committee_admin, wave=wave)
    # Branch A2 had 2 respondents: the alert names the committee (5 respondents), not the branch.
    assert list(RiskAlert.objects.values_list("group", "count")) == [(f"org:{cast.committee_a.pk}", 2)]


@time_machine.travel(TODAY, tick=False)
def test_it_skips_the_risk_scan_when_text_analysis_is_missing(cast, monkeypatch, caplog):
    survey = make_survey(cast)
    wave = publish(cast, survey)
    services.response_submit(actor=cast.member, wave=wave, answers=answers_for(survey, text=RISK_TEXT))
    monkeypatch.setitem(sys.modules, "sizheng.insight.text", None)  # import raises ImportError
    services.wave_close(actor=cast.secretary_a, wave=wave)
    assert not RiskAlert.objects.exists()
    assert "risk scan skipped" in caplog.text
