"""Acceptance: a training attended through a study session shows in the team member's record —
page and API, with its 学时 — without being entered twice (nothing is entered in the team app)."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from sizheng.core.models import AuditEvent
from sizheng.life.models import AttendanceStatus, MeetingKind
from sizheng.study import hours
from sizheng.study import services as study
from sizheng.team.models import ExternalTraining, TeamMember
from sizheng.team.tests.helpers import enlist, meeting

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_today")]


@pytest.fixture
def _today():
    with time_machine.travel(date(2026, 11, 20), tick=False):
        yield


def _sessions(cast):
    """A 党课 (4 h), a 党员大会 linked as a study session (3 h), one missed on leave, one last year."""
    admin = cast.person(cast.org_admin)
    meeting(cast, date(2026, 3, 10), topic="学习贯彻全会精神")
    plain = meeting(
        cast, date(2026, 5, 12), hours=3, kind=MeetingKind.MEMBERS_MEETING, topic="学习新修订的条例"
    )
    study.session_link(actor=cast.secretary_a, meeting=plain)
    meeting(
        cast,
        date(2026, 6, 9),
        topic="请假的那次党课",
        attendance={admin.pk: (AttendanceStatus.ON_LEAVE, "出差")},
    )
    meeting(cast, date(2025, 6, 9), topic="去年的党课")
    return admin


def test_it_shows_an_attended_study_session_in_the_member_page_with_its_hours(client, cast):
    admin = _sessions(cast)
    member = enlist(cast, cast.org_admin)
    before = AuditEvent.objects.filter(action__startswith="team_").count()
    client.force_login(cast.secretary_a)
    body = client.get(reverse("team:detail", args=[member.pk])).content.decode()
    assert "学习贯彻全会精神" in body and "学习新修订的条例" in body
    assert "请假的那次党课" not in body and "去年的党课" not in body
    assert hours.hours_by_person([admin.pk], 2026)[admin.pk] == 7.0
    assert ">7.0 <" in body.replace("\n", "")  # the year's total, from study.hours
    assert "4.0" in body and "3.0" in body  # each session's hours
    last_year = client.get(reverse("team:detail", args=[member.pk]), {"year": 2025}).content.decode()
    assert "去年的党课" in last_year and "学习贯彻全会精神" not in last_year
    # Nothing was entered in the team app for any of it: one register entry, no training rows, no writes.
    assert TeamMember.objects.count() == 1 and ExternalTraining.objects.count() == 0
    assert AuditEvent.objects.filter(action__startswith="team_").count() == before


def test_it_shows_the_same_record_in_the_api(client, cast):
    admin = _sessions(cast)
    member = enlist(cast, cast.org_admin)
    client.force_login(cast.committee_admin)
    data = client.get(f"/api/v1/team/members/{member.pk}").json()
    assert data["person_id"] == admin.pk and data["year"] == 2026
    assert data["hours"] == 7.0 and data["required_hours"] == 32 and data["reached"] is False
    assert [(t["topic"], t["hours"]) for t in data["training"]] == [
        ("学习贯彻全会精神", 4.0),
        ("学习新修订的条例", 3.0),
    ]
    assert data["external_trainings"] == []
    older = client.get(f"/api/v1/team/members/{member.pk}", {"year": 2025}).json()
    assert [t["topic"] for t in older["training"]] == ["去年的党课"] and older["hours"] == 4.0


def test_it_shows_a_member_their_own_record_and_nobody_elses(client, cast):
    _sessions(cast)
    own = enlist(cast, cast.org_admin)
    other = enlist(cast, cast.member)
    client.force_login(cast.org_admin)
    # 赵敏 is the branch's 党务干部 (org_admin) and keeps its register: she sees both; the member only their own.
    assert client.get(reverse("team:detail", args=[other.pk])).status_code == 200
    client.force_login(cast.member)
    response = client.get(reverse("team:mine"))
    assert response.status_code == 302 and response["Location"] == reverse("team:detail", args=[other.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200 and "学习贯彻全会精神" in page.content.decode()
    assert "修改" not in page.content.decode().split("培训记录")[0].split("page-title")[1]  # read-only
    assert client.get(reverse("team:detail", args=[own.pk])).status_code == 404
    assert client.get(f"/api/v1/team/members/{own.pk}").status_code == 404
    assert client.get(f"/api/v1/team/members/{other.pk}").json()["hours"] == 11.0  # present at all three


def test_it_keeps_trainings_outside_the_platform_apart_from_the_hours(client, cast):
    _sessions(cast)
    member = enlist(cast, cast.org_admin)
    client.force_login(cast.secretary_a)
    url = reverse("team:training_add", args=[member.pk])
    data = {"kind": "summoned", "title": "全市机关党务干部示范培训班", "organiser": "市直机关工委",
            "starts_on": "2026-04-07", "ends_on": "2026-04-11", "days": "5"}  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 302
    training = ExternalTraining.objects.get()
    assert AuditEvent.objects.filter(action="team_training_add", object_id=str(training.pk)).exists()
    body = client.get(reverse("team:detail", args=[member.pk])).content.decode()
    assert "全市机关党务干部示范培训班" in body and "不计入学时" in body
    assert client.get(f"/api/v1/team/members/{member.pk}").json()["hours"] == 7.0  # unchanged
    bad = client.post(url, {**data, "ends_on": "2026-04-01"})
    assert bad.status_code == 422 and "结束日期不能早于开始日期" in bad.content.decode()
    assert client.get(url).status_code == 405
    client.force_login(cast.member)
    assert client.post(url, data).status_code == 404  # the member does not see 赵敏's entry
    client.force_login(cast.outsider)
    assert client.post(reverse("team:training_remove", args=[training.pk])).status_code == 404
    client.force_login(cast.secretary_a)
    assert client.post(reverse("team:training_remove", args=[training.pk])).status_code == 302
    assert (
        not ExternalTraining.objects.exists()
        and AuditEvent.objects.filter(action="team_training_remove").exists()
    )
