"""补学: only the absent or on-leave person themself or their secretary, with a short reflection."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from sizheng.core.models import AuditEvent
from sizheng.life.models import Attendance, AttendanceStatus, MeetingKind
from sizheng.study import services
from sizheng.study.tests.helpers import lecture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_today")]


@pytest.fixture
def _today():
    with time_machine.travel(date(2026, 11, 20), tick=False):
        yield


def _missed(cast, status=AttendanceStatus.ON_LEAVE, kind=MeetingKind.PARTY_LECTURE) -> Attendance:
    member = cast.person(cast.member)
    meeting = lecture(cast, date(2026, 11, 10), kind=kind, attendance={member.pk: (status, "出差")})
    return Attendance.objects.select_related("meeting", "person").get(meeting=meeting, person=member)


def test_it_lets_the_person_record_a_make_up_with_audit(client, cast):
    row = _missed(cast)
    client.force_login(cast.member)
    assert f'name="attendance" value="{row.pk}"' in client.get(reverse("study:mine")).content.decode()
    response = client.post(
        reverse("study:makeup"), {"attendance": row.pk, "on": "2026-11-18", "note": "补学了讲稿，体会很深。"}
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.made_up_on == date(2026, 11, 18) and row.make_up_note == "补学了讲稿，体会很深。"
    assert AuditEvent.objects.filter(action="study_makeup_record", object_id=str(row.meeting_id)).exists()
    assert row.status == AttendanceStatus.ON_LEAVE  # a make-up adds no hours


def test_it_lets_the_secretary_record_it_and_nobody_else(client, cast):
    row = _missed(cast, AttendanceStatus.ABSENT)
    for user in (
        cast.org_admin,
        cast.leader,
        cast.committee_admin,
    ):  # 党务干部, a leader, the 工委: not the secretary
        with pytest.raises(PermissionDenied):
            services.makeup_record(user, row, "代为登记")
    client.force_login(cast.org_admin)
    response = client.post(
        reverse("study:makeup"), {"attendance": row.pk, "on": "2026-11-18", "note": "代为登记"}
    )
    assert response.status_code == 403
    services.makeup_record(cast.secretary_a, row, "支部书记代为登记补学。")
    row.refresh_from_db()
    assert row.made_up_on == date(2026, 11, 20)


def test_it_requires_a_note_of_at_most_1000_characters(client, cast):
    row = _missed(cast)
    with pytest.raises(ValidationError):
        services.makeup_record(cast.member, row, "   ")
    with pytest.raises(ValidationError) as exc:
        services.makeup_record(cast.member, row, "学" * 1001)
    assert "不能超过 1000 字" in str(exc.value)
    client.force_login(cast.member)
    response = client.post(reverse("study:makeup"), {"attendance": row.pk, "on": "2026-11-18", "note": ""})
    assert response.status_code == 422
    assert "补学心得" in response.content.decode()
    row.refresh_from_db()
    assert row.made_up_on is None


def test_it_refuses_a_make_up_for_someone_present_or_twice(cast):
    row = _missed(cast)
    present = Attendance.objects.filter(meeting=row.meeting, status=AttendanceStatus.PRESENT).first()
    with pytest.raises((ValidationError, PermissionDenied)):
        services.makeup_record(cast.secretary_a, present, "无需补学")
    services.makeup_record(cast.member, row, "第一次补学。")
    with pytest.raises(Exception, match="已经登记过补学"):
        services.makeup_record(cast.member, row, "第二次补学。")


def test_it_answers_404_to_outsiders_and_405_to_get(client, cast):
    row = _missed(cast)
    client.force_login(cast.outsider)
    response = client.post(reverse("study:makeup"), {"attendance": row.pk, "on": "2026-11-18", "note": "x"})
    assert response.status_code == 404
    assert client.get(reverse("study:makeup")).status_code == 405
