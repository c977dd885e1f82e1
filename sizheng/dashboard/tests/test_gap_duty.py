"""Gap → duty: one POST opens the rectification duty (right org, title, source, deadline, audit),
a second says it exists and links to it; only those above the org may do it; no duty without a gap."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from sizheng.core import calendar
from sizheng.core.models import AuditEvent
from sizheng.dashboard.tests.conftest import TODAY, comply_quarter
from sizheng.duties.models import Duty, SourceKind, State

pytestmark = pytest.mark.django_db
URL = "/dashboard/gap-duty/"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def _post(client, org, metric="life.compliance_rate", period="2026-Q2", **extra):
    data = {"metric": metric, "org": org.pk, "period": period, "next": f"/dashboard/org/{org.pk}/?year=2026"}
    data.update(extra)
    return client.post(URL, data)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_it_opens_the_duty_once_and_links_to_it(client, cast):
    comply_quarter(cast, cast.branch_a1, 2026, 2)
    client.force_login(cast.committee_admin)
    response = _post(client, cast.branch_a2)
    assert (
        response.status_code == 302
        and response["Location"] == f"/dashboard/org/{cast.branch_a2.pk}/?year=2026"
    )
    duty = Duty.objects.get()
    assert duty.assignee_org == cast.branch_a2 and duty.assigning_org == cast.root
    assert duty.title == "2026年第二季度组织生活达标率低于要求"
    assert duty.source_kind == SourceKind.COMPLIANCE and duty.state == State.ASSIGNED
    assert duty.tags == "驾驶舱整改:life.compliance_rate:2026-Q2"
    assert duty.due_on == calendar.add_workdays(date(2026, 7, 15), 15)
    assert "为0%，要求不低于100%" in duty.description
    audit = AuditEvent.objects.get(action="dashboard_gap_duty")
    assert audit.actor == cast.committee_admin and audit.object_id == str(duty.pk)
    assert audit.detail == {
        "metric": "life.compliance_rate",
        "org": cast.branch_a2.pk,
        "period": "2026-Q2",
        "value": "0%",
    }
    assert AuditEvent.objects.filter(action="duty_open", object_id=str(duty.pk)).exists()
    [message] = _messages(response)
    assert f"已向{cast.branch_a2.name}派发整改事项“{duty.title}”" in message
    assert f'<a href="/duties/{duty.pk}/">查看整改事项</a>' in message

    # The page now links to it instead of offering the button again.
    page = client.get(reverse("dashboard:org", args=[cast.branch_a2.pk]) + "?year=2026")
    assert "查看整改事项" in page.content.decode()
    card = client.get(f"/dashboard/cards/gaps/?scope=org:{cast.branch_a2.pk}&year=2026")
    item = {i["metric"]: i for i in card.context["data"]["items"]}["life.compliance_rate"]
    assert item["duty_url"] == f"/duties/{duty.pk}/" and not item["can_dispatch"]

    again = _post(client, cast.branch_a2)
    assert again.status_code == 302 and Duty.objects.count() == 1
    [message] = _messages(again)
    assert "已经派发过整改事项，无需重复派发" in message and f"/duties/{duty.pk}/" in message
    assert AuditEvent.objects.filter(action="dashboard_gap_duty").count() == 1


def test_a_cancelled_duty_does_not_block_a_new_one(client, cast):
    client.force_login(cast.committee_admin)
    _post(client, cast.branch_a2)
    Duty.objects.update(state=State.CANCELLED)
    _post(client, cast.branch_a2)
    assert Duty.objects.exclude(state=State.CANCELLED).count() == 1


def test_no_duty_when_the_metric_meets_its_requirement(client, cast):
    comply_quarter(cast, cast.branch_a1, 2026, 2)
    client.force_login(cast.committee_admin)
    response = _post(client, cast.branch_a1)
    assert response.status_code == 302 and not Duty.objects.exists()
    assert "没有低于要求（不低于100%），无需派发整改事项" in _messages(response)[0]


def test_other_gap_metrics_use_the_indicator_source_and_their_period(client, cast):
    from sizheng.duties import services

    services.duty_open(org=cast.branch_b1, title="早已逾期", due_on=date(2026, 7, 1))
    client.force_login(cast.committee_admin)
    _post(client, cast.branch_b1, metric="duties.overdue_count", period="2026-Q3")
    duty = Duty.objects.get(tags__startswith="驾驶舱整改")
    assert (
        duty.source_kind == SourceKind.INDICATOR and duty.title == "2026年第三季度逾期未完成事项数未达到要求"
    )


def test_who_may_dispatch(client, cast):
    # A branch's own secretary: the page is theirs, the action is not (403).
    client.force_login(cast.secretary_a)
    assert _post(client, cast.branch_a1).status_code == 403
    # Another unit's branch, an outsider, a member: 404 (existence is not told).
    assert _post(client, cast.branch_b1).status_code == 404
    for user in (cast.outsider, cast.member):
        client.force_login(user)
        assert _post(client, cast.branch_a2).status_code == 404
    client.force_login(cast.leader)
    assert _post(client, cast.branch_a2).status_code == 403  # visible to a leader, not theirs to assign
    assert not Duty.objects.exists()


def test_a_bad_request_is_refused_with_what_to_do(client, cast):
    client.force_login(cast.committee_admin)
    for extra in ({"metric": "talks.held_count"}, {"period": "2026-13"}, {"period": "2026"}):
        response = _post(client, cast.branch_a2, **extra)
        assert response.status_code == 422
        assert "请回到驾驶舱重新点击“派发整改事项”" in response.content.decode()
    assert (
        client.post(URL, {"metric": "life.compliance_rate", "org": "x", "period": "2026-Q2"}).status_code
        == 404
    )
    assert client.get(URL).status_code == 405
    # An outside "next" is not followed.
    response = _post(client, cast.branch_a2, next="https://example.com/")
    assert response["Location"] == f"/dashboard/org/{cast.branch_a2.pk}/"
    assert not Duty.objects.filter(assignee_org=cast.branch_b1).exists()
