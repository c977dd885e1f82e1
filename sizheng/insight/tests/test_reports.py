"""分析研判报告 services: drafting the four sections from suppressed aggregates, the upward workflow
with its receipt and audit rows, and recommendations → duties → "你们提出的 → 我们做了"."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from sizheng.core.apitools import Conflict
from sizheng.core.models import AuditEvent, Notification
from sizheng.duties.models import Duty, SourceKind, State
from sizheng.duties.services import duty_transition
from sizheng.insight import reports
from sizheng.insight.models import InsightReport, Recommendation, ReportKind, ReportState
from sizheng.insight.tests.test_analysis import (
    CANARY,
    HOUSING,
    NEUTRAL,
    PRESSURE,
    answer,
    g,
    make_survey,
    make_wave,
    talks_in,
)

pytestmark = pytest.mark.django_db

NOW = date(2026, 7, 15)


def two_waves(cast, *, a2_before=6, a2_now=6):
    """Committee A's survey: a quiet first quarter and a second quarter where 工作压力 jumps."""
    survey = make_survey(cast)
    first = make_wave(
        survey, 1, date(2026, 3, 25), audience={g(cast.branch_a1): 40, g(cast.branch_a2): a2_before + 4}
    )
    answer(first, g(cast.branch_a1), 4, text=PRESSURE, likert=4, rating=8)
    answer(first, g(cast.branch_a1), 10, text=HOUSING, likert=4, rating=8)
    answer(first, g(cast.branch_a1), 26, text=NEUTRAL, likert=4, rating=8)
    answer(first, g(cast.branch_a2), a2_before, text=NEUTRAL)
    second = make_wave(
        survey, 2, date(2026, 6, 25), audience={g(cast.branch_a1): 40, g(cast.branch_a2): a2_now + 4}
    )
    answer(second, g(cast.branch_a1), 20, text=PRESSURE, likert=3, rating=6)
    answer(second, g(cast.branch_a1), 10, text=HOUSING, likert=3, rating=6)
    answer(second, g(cast.branch_a1), 10, text=NEUTRAL, likert=3, rating=6)
    answer(second, g(cast.branch_a2), a2_now, text=NEUTRAL)
    return survey, first, second


def finalize(report, actor):
    """The analyst writes the causes (replacing the draft's prompt), then finalises."""
    report = reports.report_update(
        actor=actor, report=report, version=report.version, title=report.title, overall=report.overall,
        performance=report.performance, causes=report.causes.replace(reports.CAUSES_PROMPT, "任务重、人手紧。"),
        measures=report.measures,
    )  # fmt: skip
    return reports.report_finalize(actor=actor, report=report, version=report.version)


def draft(cast, org=None, actor=None, **kw):
    kw.setdefault("kind", ReportKind.PERIODIC)
    kw.setdefault("period", "2026-H1")
    return reports.report_draft(actor=actor or cast.committee_admin, org=org or cast.committee_a, **kw)


# --- drafting -----------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_it_drafts_the_four_sections_with_the_numbers(cast):
    _survey, first, second = two_waves(cast)
    talks_in(cast, {cast.branch_a1: 6, cast.branch_a2: 5})
    report = draft(cast, org=cast.branch_a1, actor=cast.secretary_a, waves=[second])
    assert report.title == "市财政局机关第一支部委员会2026年上半年思想动态分析研判报告"
    assert report.state == ReportState.DRAFT and report.period == "2026-H1"
    assert list(report.waves.all()) == [second]
    assert "本期共有 40 人参与，参与率 100%。" in report.overall
    # (3 − 1) × 25 = 50 and 6 × 10 = 60; the first quarter had 75 and 80.
    assert "工作状态 50、组织认同 60" in report.overall
    assert "“工作状态”指数 50，较上期下降 25 分。" in report.performance
    assert "“工作压力”相关意见占 50%，较上期上升 40 个百分点（显著）。" in report.performance
    assert "“住房”相关意见占 25%，较上期持平。" in report.performance
    assert "明显增多的关注点：“工作压力”" in report.performance
    assert "谈心谈话中涉及较多的话题为：工作（6 次）。" in report.performance  # 家庭 3 < k: not shown
    assert "在涉及“工作压力”的意见中，负面情绪占 100%。" in report.causes
    assert "针对“工作压力”方面的问题" in report.measures
    assert CANARY not in "".join([report.overall, report.performance, report.causes, report.measures])
    event = AuditEvent.objects.get(action="insight_report_draft", object_id=str(report.pk))
    assert event.detail == {
        "org": cast.branch_a1.pk,
        "kind": "periodic",
        "period": "2026-H1",
        "waves": [second.pk],
    }


@time_machine.travel(NOW, tick=False)
def test_it_uses_every_candidate_wave_by_default_and_the_survey_total_for_its_owner(cast):
    _survey, first, second = two_waves(cast)
    report = draft(cast)
    assert set(report.waves.all()) == {first, second}
    assert "本期共有 46 人参与" in report.overall  # the committee's whole subtree in the second wave


@time_machine.travel(NOW, tick=False)
def test_it_says_so_instead_of_giving_numbers_for_a_group_below_k(cast):
    _survey, _first, second = two_waves(cast, a2_now=3)
    report = draft(cast, org=cast.branch_a2, actor=cast.committee_admin, waves=[second])
    assert "本组织参与人数不足 5 人，按匿名规则不单独呈现结果" in report.overall
    assert "本期共有" not in report.overall and "%" not in report.performance
    talks_in(cast, {cast.branch_a2: 2})
    report = draft(cast, org=cast.branch_a2, actor=cast.committee_admin, waves=[second])
    assert "谈心谈话涉及人数不足 5 人" in report.performance


@time_machine.travel(NOW, tick=False)
def test_it_refuses_waves_of_another_org_or_period_and_outsiders(cast):
    _survey, first, _second = two_waves(cast)
    other = make_wave(make_survey(cast, owner=cast.branch_b1), 1, date(2026, 6, 1))
    with pytest.raises(ValidationError) as exc:
        draft(cast, waves=[other])
    assert "所选调查轮次" in str(exc.value)
    with pytest.raises(ValidationError):
        draft(cast, waves=[first], period="2026-Q2")
    with pytest.raises(ValidationError, match="分析期间"):
        draft(cast, period="上半年")
    with pytest.raises(PermissionDenied):
        draft(cast, org=cast.committee_a, actor=cast.secretary_a)


@time_machine.travel(NOW, tick=False)
def test_it_titles_thematic_and_immediate_reports(cast):
    assert draft(cast, kind=ReportKind.THEMATIC).title.endswith("2026年上半年思想动态专题分析报告")
    assert draft(cast, kind=ReportKind.IMMEDIATE, period="2026-Q3").title.endswith(
        "思想动态即时报告（2026年7月15日）"
    )


# --- workflow -----------------------------------------------------------------------------------


def test_it_updates_a_draft_with_compare_and_swap(cast):
    report = draft(cast, org=cast.branch_a1, actor=cast.secretary_a)
    saved = reports.report_update(
        actor=cast.org_admin, report=report, version=1, title="新标题", overall="甲", performance="乙",
        causes="丙", measures="丁",
    )  # fmt: skip
    assert (saved.version, saved.title, saved.measures) == (2, "新标题", "丁")
    event = AuditEvent.objects.get(action="insight_report_update")
    assert set(event.detail["fields"]) == {"title", "overall", "performance", "causes", "measures"}
    assert "甲" not in str(event.detail)
    with pytest.raises(Conflict):
        reports.report_update(actor=cast.org_admin, report=report, version=1, title="x", overall="", performance="",
                              causes="", measures="")  # fmt: skip
    with pytest.raises(ValidationError, match="标题"):
        reports.report_update(actor=cast.org_admin, report=saved, version=2, title=" ", overall="", performance="",
                              causes="", measures="")  # fmt: skip
    with pytest.raises(PermissionDenied):
        reports.report_update(actor=cast.secretary_b, report=saved, version=2, title="x", overall="",
                              performance="", causes="", measures="")  # fmt: skip


@time_machine.travel(NOW, tick=False)
def test_it_sends_a_report_upward_and_records_the_receipt(cast, django_capture_on_commit_callbacks):
    report = draft(cast, org=cast.branch_a1, actor=cast.secretary_a)
    with pytest.raises(Conflict, match="不能报送上级"):
        reports.report_submit(actor=cast.secretary_a, report=report)
    with pytest.raises(ValidationError, match="原因分析"):
        reports.report_finalize(actor=cast.secretary_a, report=report, version=1)
    report = finalize(report, cast.secretary_a)
    assert report.version == 3 and reports.CAUSES_PROMPT not in report.causes
    with pytest.raises(Conflict):
        reports.report_update(actor=cast.secretary_a, report=report, version=report.version, title="x",
                              overall="", performance="", causes="", measures="")  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        report = reports.report_submit(actor=cast.secretary_a, report=report, version=3)
    assert report.state == ReportState.SUBMITTED and report.submitted_to == cast.committee_a
    assert report.submitted_at is not None
    # Nobody holds a role in committee A itself in the cast; its managers are its secretaries/党务干部.
    assert not Notification.objects.filter(user=cast.secretary_a).exists()
    with pytest.raises(PermissionDenied):
        reports.report_receive(actor=cast.secretary_a, report=report)
    report = reports.report_receive(actor=cast.committee_admin, report=report)
    assert report.state == ReportState.RECEIVED
    assert report.received_by == cast.committee_admin and report.received_at is not None
    actions = list(
        AuditEvent.objects.filter(object_type="insight.insightreport", object_id=str(report.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "insight_report_draft",
        "insight_report_update",
        "insight_report_finalize",
        "insight_report_submit",
        "insight_report_receive",
    ]
    with pytest.raises(Conflict):
        reports.report_receive(actor=cast.committee_admin, report=report)


@time_machine.travel(NOW, tick=False)
def test_it_notifies_the_parents_managers_on_submit(cast, django_capture_on_commit_callbacks):
    from sizheng.org.models import OrgRole
    from sizheng.org.testing import appoint

    appoint(cast.person(cast.secretary_b), cast.general_b, OrgRole.Title.SECRETARY)
    report = draft(cast, org=cast.branch_b1, actor=cast.secretary_b)
    finalize(report, cast.secretary_b)
    with django_capture_on_commit_callbacks(execute=True):
        reports.report_submit(actor=cast.secretary_b, report=InsightReport.objects.get(pk=report.pk))
    note = Notification.objects.get(user=cast.secretary_b, title="收到下级党组织报送的分析研判报告")
    assert report.title in note.body and note.url.endswith(f"/insight/reports/{report.pk}/")


def test_it_refuses_to_submit_from_the_root_and_stale_versions(cast):
    report = draft(cast, org=cast.root)
    report = finalize(report, cast.committee_admin)
    assert reports.available_actions(cast.committee_admin, report) == ["reopen"]
    with pytest.raises(Conflict, match="无须向上报送"):
        reports.report_submit(actor=cast.committee_admin, report=report)
    with pytest.raises(Conflict, match="已被他人处理"):
        reports.report_reopen(actor=cast.committee_admin, report=report, version=2)
    assert (
        reports.report_reopen(actor=cast.committee_admin, report=report, version=3).state == ReportState.DRAFT
    )


def test_it_shows_reports_to_managers_the_parent_and_leaders_only(cast):
    draft_a1 = draft(cast, org=cast.branch_a1, actor=cast.secretary_a)
    final_a1 = finalize(draft(cast, org=cast.branch_a1), cast.secretary_a)

    def ids(user):
        return set(reports.visible_reports(user).values_list("pk", flat=True))

    assert ids(cast.secretary_a) == {draft_a1.pk, final_a1.pk}
    assert ids(cast.committee_admin) == {draft_a1.pk, final_a1.pk}
    assert ids(cast.leader) == {final_a1.pk}  # read-only, never a draft
    assert ids(cast.secretary_b) == ids(cast.outsider) == ids(cast.member) == set()
    assert reports.may_edit(cast.org_admin, final_a1) and not reports.may_edit(cast.leader, final_a1)


# --- recommendations ---------------------------------------------------------------------------


def _close(duty: Duty, evidence: str, actor) -> Duty:
    """Bring the duty to review (the owner side's steps) and pass it as the assigner."""
    Duty.objects.filter(pk=duty.pk).update(state=State.UNDER_REVIEW, evidence=evidence)
    duty.refresh_from_db()
    return duty_transition(duty=duty, action="pass", actor=actor, version=duty.version)


@time_machine.travel(NOW, tick=False)
def test_it_turns_a_recommendation_into_a_duty_and_records_what_was_done(cast):
    report = finalize(draft(cast), cast.committee_admin)
    with pytest.raises(ValidationError) as exc:
        reports.recommendation_add(actor=cast.committee_admin, report=report, concern="", action="",
                                   group="org:999999", due_on=NOW - timedelta(days=1))  # fmt: skip
    assert set(exc.value.message_dict) == {"concern", "action", "group", "due_on"}
    rec = reports.recommendation_add(
        actor=cast.committee_admin, report=report, concern="加班较多，休假难", action="精简会议文件，落实调休制度",
        due_on=NOW + timedelta(days=30),
    )  # fmt: skip
    duty = Duty.objects.get(pk=rec.duty_id)
    assert (duty.title, duty.source_kind, duty.source_id) == (
        "精简会议文件，落实调休制度",
        SourceKind.RECOMMENDATION,
        rec.pk,
    )
    assert duty.assignee_org == cast.committee_a and not duty.is_sensitive
    assert AuditEvent.objects.filter(action="insight_recommendation_add", object_id=str(rec.pk)).exists()
    assert not reports.my_actions(cast.member).exists()  # not done yet
    _close(duty, "全年会议压减三成，已落实调休", cast.committee_admin)
    rec.refresh_from_db()
    assert rec.done_on == NOW and rec.outcome == "全年会议压减三成，已落实调休"
    assert AuditEvent.objects.filter(action="insight_recommendation_done").exists()
    assert list(reports.my_actions(cast.member)) == [rec]  # a member of A1, under committee A
    assert list(reports.my_actions(cast.leader)) == [rec]
    assert not reports.my_actions(cast.outsider).exists()  # branch C
    assert not reports.my_actions(cast.secretary_b).exists()
    assert not reports.my_actions(cast.committee_admin).exists()  # no Person: no groups


@time_machine.travel(NOW, tick=False)
def test_it_shows_a_group_recommendation_only_to_that_groups_staff(cast):
    two_waves(cast)
    report = finalize(draft(cast), cast.committee_admin)
    assert g(cast.branch_a2) in dict(reports.recommendation_groups(report))
    rec = reports.recommendation_add(actor=cast.committee_admin, report=report, concern="通勤远", action="协调班车",
                                     group=g(cast.branch_a2), due_on=NOW + timedelta(days=10))  # fmt: skip
    _close(Duty.objects.get(pk=rec.duty_id), "", cast.committee_admin)
    rec.refresh_from_db()
    assert rec.outcome == "协调班车"  # no evidence written: the measure itself
    assert list(reports.my_actions(cast.leader)) == [rec]  # 陈志强 is in A2
    assert not reports.my_actions(cast.member).exists()  # 刘洋 is in A1


def test_it_refuses_recommendations_on_a_draft(cast):
    report = draft(cast)
    with pytest.raises(Conflict, match="定稿"):
        reports.recommendation_add(actor=cast.committee_admin, report=report, concern="x", action="y",
                                   due_on=date(2099, 1, 1))  # fmt: skip
    assert not Recommendation.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_it_reports_the_survey_wide_total_of_a_unit_survey_to_its_owner(cast):
    from sizheng.insight.models import Hierarchy

    survey = make_survey(cast, owner=cast.root)
    survey.hierarchy = Hierarchy.UNIT
    survey.save(update_fields=["hierarchy"])
    survey.audience_units.set([cast.unit_a, cast.unit_b])
    leaves = {
        f"office:{cast.office_a1.pk}": 6,
        f"office:{cast.office_a2.pk}": 6,
        f"office:{cast.office_b.pk}": 6,
    }
    wave = make_wave(survey, 1, date(2026, 6, 20), audience=leaves)
    for leaf in leaves:
        answer(wave, leaf, 6, text=PRESSURE)
    report = draft(cast, org=cast.root)
    assert "本期共有 18 人参与，参与率 100%。" in report.overall
    assert "“工作压力”相关意见占 100%" in report.performance
    assert draft(cast, org=cast.branch_a1).waves.count() == 1  # an ancestor's survey is a candidate …
    assert "本期共有" not in draft(cast, org=cast.branch_a1).overall  # … but has no group for the branch
