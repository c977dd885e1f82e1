"""Report screens: list (filters, search, paging, export, flat queries), drafting, editing, the
workflow steps, Word and charts, recommendations, "你们提出的 → 我们做了" and the wave analysis page —
with 404 outside scope, 403 read-only, 405 wrong method, 409 stale/illegal, 422 bad input."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sizheng.core.models import AuditEvent
from sizheng.duties.models import Duty
from sizheng.insight import reports
from sizheng.insight.models import InsightReport, Recommendation, ReportKind, ReportState
from sizheng.insight.tests.test_analysis import CANARY, talks_in
from sizheng.insight.tests.test_reports import NOW, _close, draft, finalize, two_waves

pytestmark = pytest.mark.django_db


def _get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def _post(client, user, url, data=None):
    client.force_login(user)
    return client.post(url, data or {})


def _url(name, report, *extra):
    return reverse(f"insight:{name}", args=[report.pk, *extra])


# --- list -------------------------------------------------------------------------------------


def test_it_lists_the_reports_of_the_users_orgs_with_filters(client, cast):
    a1 = draft(cast, org=cast.branch_a1, actor=cast.secretary_a)
    thematic = draft(cast, org=cast.branch_a1, kind=ReportKind.THEMATIC)
    other = draft(cast, org=cast.branch_b1)
    url = reverse("insight:report_list")
    text = _get(client, cast.secretary_a, url).content.decode()
    assert _url("report_detail", a1) in text and _url("report_detail", other) not in text
    assert "2026年上半年" in text and "起草中" in text

    def ids(user=cast.committee_admin, **params):
        body = _get(client, user, url, **params).content.decode()
        return {r.pk for r in (a1, thematic, other) if _url("report_detail", r) in body}

    assert ids() == {a1.pk, thematic.pk, other.pk}
    assert ids(org=cast.branch_b1.pk) == {other.pk}
    assert ids(kind="thematic") == {thematic.pk}
    assert ids(q="专题") == {thematic.pk}
    assert ids(period="2026-Q1") == set()
    assert ids(user=cast.outsider) == set()
    empty = _get(client, cast.outsider, url).content.decode()
    assert "没有符合条件的分析研判报告" in empty


def test_it_keeps_the_list_queries_flat(client, cast):
    draft(cast, org=cast.branch_a1)
    client.force_login(cast.committee_admin)
    url = reverse("insight:report_list")
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(9):
        InsightReport.objects.create(
            org=cast.branch_a2, period="2026-H1", title="报告", submitted_to=cast.committee_a
        )
    with CaptureQueriesContext(connection) as ten:
        client.get(url)
    assert len(ten.captured_queries) == len(one.captured_queries)


def test_it_exports_the_report_ledger(client, cast):
    report = draft(cast, org=cast.branch_a1)
    response = _get(client, cast.committee_admin, reverse("insight:report_export"))
    assert response.status_code == 200 and response["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
    assert AuditEvent.objects.filter(action="insight_report_export", actor=cast.committee_admin).exists()
    from python_calamine import CalamineWorkbook

    rows = (
        CalamineWorkbook.from_filelike(__import__("io").BytesIO(response.content))
        .get_sheet_by_index(0)
        .to_python()
    )
    assert any(report.title in [str(c) for c in row] for row in rows)
    assert not any(report.overall and report.overall[:10] in str(c) for row in rows for c in row)


# --- draft ------------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_it_drafts_a_report_from_the_form(client, cast):
    _survey, _first, second = two_waves(cast)
    url = reverse("insight:report_new")
    page = _get(client, cast.secretary_a, url)
    assert page.status_code == 200 and "第2轮" in page.content.decode()
    response = _post(client, cast.secretary_a, url, {"org": cast.branch_a1.pk, "kind": "periodic",
                                                     "period": "2026-H1", "waves": [second.pk]})  # fmt: skip
    report = InsightReport.objects.get()
    assert response.status_code == 302 and response["Location"] == _url("report_edit", report)
    assert report.org == cast.branch_a1 and "本期共有 40 人参与" in report.overall
    assert AuditEvent.objects.filter(action="insight_report_draft", actor=cast.secretary_a).exists()


def test_it_refuses_a_draft_form_with_bad_input_or_out_of_scope(client, cast):
    url = reverse("insight:report_new")
    bad = _post(
        client, cast.secretary_a, url, {"org": cast.branch_b1.pk, "kind": "periodic", "period": "2026-H1"}
    )
    assert bad.status_code == 422 and "选择一个有效的选项" in bad.content.decode()
    assert _get(client, cast.member, url).status_code == 404
    assert _get(client, cast.outsider, url).status_code == 404
    assert client.put(url).status_code == 405
    assert not InsightReport.objects.exists()


# --- detail, edit -----------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_it_shows_a_report_with_its_charts_and_hides_it_from_outsiders(client, cast):
    _survey, _first, second = two_waves(cast)
    talks_in(cast, {cast.branch_a1: 6})
    report = draft(cast, org=cast.branch_a1, waves=[second])
    response = _get(client, cast.secretary_a, _url("report_detail", report))
    text = response.content.decode()
    assert response.status_code == 200 and "一、总体情况" in text and "四、对策建议" in text
    assert (
        _url("report_chart", report, "dimensions") in text and _url("report_chart", report, "themes") in text
    )
    assert CANARY not in text
    for user in (cast.outsider, cast.secretary_b, cast.member, cast.leader):  # a draft: not for leaders
        assert _get(client, user, _url("report_detail", report)).status_code == 404
    chart = _get(client, cast.secretary_a, _url("report_chart", report, "themes"))
    assert (
        chart.status_code == 200 and chart["Content-Type"] == "image/png" and chart.content[:4] == b"\x89PNG"
    )
    assert _get(client, cast.secretary_a, _url("report_chart", report, "bogus")).status_code == 404
    assert _get(client, cast.outsider, _url("report_chart", report, "themes")).status_code == 404


def _edit_data(report, **changes):
    data = {"version": report.version, "title": report.title, "overall": "总体", "performance": "表现",
            "causes": "原因", "measures": "措施"}  # fmt: skip
    data.update(changes)
    return data


def test_it_edits_a_draft_in_the_browser(client, cast):
    report = draft(cast, org=cast.branch_a1)
    url = _url("report_edit", report)
    page = _get(client, cast.org_admin, url)
    assert page.status_code == 200 and "三、原因分析" in page.content.decode()
    response = _post(client, cast.org_admin, url, _edit_data(report, causes="任务重、人手紧"))
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.causes == "任务重、人手紧" and report.version == 2
    assert AuditEvent.objects.filter(action="insight_report_update", actor=cast.org_admin).exists()


def test_it_refuses_bad_stale_forbidden_and_outside_edits(client, cast):
    report = draft(cast, org=cast.branch_a1)
    url = _url("report_edit", report)
    bad = _post(client, cast.secretary_a, url, _edit_data(report, title=""))
    assert bad.status_code == 422 and "这个字段是必填项" in bad.content.decode()
    stale = _post(client, cast.secretary_a, url, _edit_data(report, version=99))
    assert stale.status_code == 409 and "已被他人修改" in stale.content.decode()
    assert _post(client, cast.outsider, url, _edit_data(report)).status_code == 404
    assert client.delete(url).status_code == 405
    final = finalize(draft(cast, org=cast.branch_a1), cast.secretary_a)
    assert _post(client, cast.leader, _url("report_edit", final), _edit_data(final)).status_code == 403
    locked = _get(client, cast.secretary_a, _url("report_edit", final))
    assert locked.status_code == 409 and "已定稿" in locked.content.decode()
    report.refresh_from_db()
    assert report.version == 1


# --- workflow ---------------------------------------------------------------------------------


def test_it_finalises_submits_and_receives_through_the_pages(client, cast):
    report = draft(cast, org=cast.branch_a1)
    refused = _post(client, cast.secretary_a, _url("report_finalize", report), {"version": 1})
    assert refused.status_code == 422 and "待补充内容" in refused.content.decode()
    report = reports.report_update(actor=cast.secretary_a, report=report, **_edit_data(report))
    assert _post(client, cast.secretary_a, _url("report_finalize", report), {"version": 2}).status_code == 302
    assert _post(client, cast.secretary_a, _url("report_submit", report), {"version": 3}).status_code == 302
    report.refresh_from_db()
    assert report.state == ReportState.SUBMITTED and report.submitted_to == cast.committee_a
    # The branch's secretary cannot sign for the committee; the committee admin can.
    assert _post(client, cast.secretary_a, _url("report_receive", report), {"version": 4}).status_code == 403
    page = _get(client, cast.committee_admin, _url("report_detail", report)).content.decode()
    assert _url("report_receive", report) in page
    assert (
        _post(client, cast.committee_admin, _url("report_receive", report), {"version": 4}).status_code == 302
    )
    report.refresh_from_db()
    assert report.state == ReportState.RECEIVED and report.received_by == cast.committee_admin
    receipt = _get(client, cast.secretary_a, _url("report_detail", report)).content.decode()
    assert "签收回执" in receipt and "gongwei" in receipt
    actions = set(AuditEvent.objects.filter(object_id=str(report.pk)).values_list("action", flat=True))
    assert {"insight_report_finalize", "insight_report_submit", "insight_report_receive"} <= actions


def test_it_refuses_illegal_stale_and_wrong_method_steps(client, cast):
    report = draft(cast, org=cast.branch_a1)
    assert _get(client, cast.secretary_a, _url("report_submit", report)).status_code == 405
    illegal = _post(client, cast.secretary_a, _url("report_submit", report), {"version": 1})
    assert illegal.status_code == 409 and "不能报送上级" in illegal.content.decode()
    report = finalize(report, cast.secretary_a)
    stale = _post(client, cast.secretary_a, _url("report_submit", report), {"version": 1})
    assert stale.status_code == 409
    bad = _post(client, cast.secretary_a, _url("report_submit", report), {"version": "x"})
    assert bad.status_code == 422
    assert _post(client, cast.outsider, _url("report_submit", report), {"version": 3}).status_code == 404
    assert _post(client, cast.leader, _url("report_submit", report), {"version": 3}).status_code == 403
    report.refresh_from_db()
    assert report.state == ReportState.FINAL


# --- Word -------------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_it_downloads_the_report_as_word(client, cast):
    _survey, _first, second = two_waves(cast)
    report = draft(cast, org=cast.branch_a1, waves=[second])
    response = _get(client, cast.secretary_a, _url("report_docx", report))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml"
    )
    assert "attachment" in response["Content-Disposition"] and response.content[:2] == b"PK"
    assert AuditEvent.objects.filter(action="insight_report_download", actor=cast.secretary_a).exists()
    assert _get(client, cast.outsider, _url("report_docx", report)).status_code == 404
    assert client.post(_url("report_docx", report)).status_code == 405


# --- recommendations and 你们提出的 → 我们做了 ---------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_it_adds_a_recommendation_that_becomes_a_duty_and_shows_when_done(client, cast):
    report = finalize(draft(cast), cast.committee_admin)
    url = _url("recommendation_add", report)
    due = (NOW + timedelta(days=30)).isoformat()
    response = _post(client, cast.committee_admin, url, {"concern": "加班较多", "action": "落实调休制度",
                                                         "group": "", "due_on": due})  # fmt: skip
    assert response.status_code == 302
    rec = Recommendation.objects.get()
    duty = Duty.objects.get(pk=rec.duty_id)
    assert duty.title == "落实调休制度" and duty.assignee_org == cast.committee_a
    assert AuditEvent.objects.filter(action="insight_recommendation_add", actor=cast.committee_admin).exists()
    actions_url = reverse("insight:actions")
    assert "落实调休制度" not in _get(client, cast.member, actions_url).content.decode()
    _close(duty, "已实行弹性调休", cast.committee_admin)
    seen = _get(client, cast.member, actions_url).content.decode()
    assert "加班较多" in seen and "已实行弹性调休" in seen and "2026年7月15日" in seen
    assert "加班较多" not in _get(client, cast.outsider, actions_url).content.decode()
    empty = _get(client, cast.secretary_b, actions_url).content.decode()
    assert "暂时还没有已完成的措施" in empty


def test_it_refuses_bad_recommendations(client, cast):
    report = finalize(draft(cast, org=cast.branch_a1), cast.secretary_a)
    url = _url("recommendation_add", report)
    bad = _post(client, cast.secretary_a, url, {"concern": "", "action": "措施", "due_on": "2020-01-01"})
    assert bad.status_code == 422 and "这个字段是必填项" in bad.content.decode()
    past = _post(client, cast.secretary_a, url, {"concern": "问题", "action": "措施", "due_on": "2020-01-01"})
    assert past.status_code == 422 and "完成时限不能早于今天" in past.content.decode()
    assert _get(client, cast.secretary_a, url).status_code == 405
    assert _post(client, cast.outsider, url, {"concern": "x"}).status_code == 404
    assert _post(client, cast.leader, url, {"concern": "x"}).status_code == 403
    draft_report = draft(cast, org=cast.branch_a1)
    conflict = _post(client, cast.secretary_a, _url("recommendation_add", draft_report),
                     {"concern": "问题", "action": "措施", "due_on": "2099-01-01"})  # fmt: skip
    assert conflict.status_code == 409
    assert not Recommendation.objects.exists()


def test_it_keeps_the_actions_page_queries_flat(client, cast):
    report = finalize(draft(cast), cast.committee_admin)
    url = reverse("insight:actions")

    def add(n):
        for i in range(n):
            Recommendation.objects.create(
                report=report, concern=f"问题{i}", action="措施", done_on=date(2026, 5, 1)
            )

    add(1)
    client.force_login(cast.member)
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    add(9)
    with CaptureQueriesContext(connection) as ten:
        assert "问题8" in client.get(url).content.decode()
    assert len(ten.captured_queries) == len(one.captured_queries)


# --- the wave analysis page -------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_it_shows_a_waves_analysis_to_managers_with_talk_tags(client, cast):
    _survey, _first, second = two_waves(cast, a2_now=3)
    talks_in(cast, {cast.branch_a1: 6})
    url = reverse("insight:wave_analysis", args=[second.pk])
    text = _get(client, cast.committee_admin, url).content.decode()
    assert "工作压力" in text and "较上期明显变化的主题" in text and "上升 42.5 个百分点（显著）" not in text
    assert "谈心谈话话题" in text and CANARY not in text
    a2 = _get(client, cast.committee_admin, url, group=f"org:{cast.branch_a2.pk}").content.decode()
    assert "＊ 人数不足，不予显示" in a2
    # A branch secretary who does not manage the survey's owner org, and outsiders: 404.
    assert _get(client, cast.outsider, url).status_code == 404
    assert _get(client, cast.secretary_b, url).status_code == 404
    assert _get(client, cast.committee_admin, url, group="org:999999").status_code == 404
    assert client.post(url).status_code == 405


@time_machine.travel(NOW, tick=False)
def test_it_shows_leaders_their_units_groups_without_talk_tags(client, cast):
    survey, _first, second = two_waves(cast)
    survey.audience_orgs.set([cast.committee_a])  # leaders see results of surveys naming their unit
    talks_in(cast, {cast.branch_a1: 6})
    text = _get(client, cast.leader, reverse("insight:wave_analysis", args=[second.pk])).content.decode()
    assert "主题分布" in text and "谈心谈话话题" not in text
