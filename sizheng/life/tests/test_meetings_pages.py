"""Meeting list, calendar and printable records: scope, filters, flat query counts, Word and Excel files."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from sizheng.core.models import AuditEvent
from sizheng.life import services
from sizheng.life.models import MeetingKind

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 8, 20)


def _record(cast, n: int = 1, *, org=None, kind=MeetingKind.MEMBERS_MEETING, topic="学习党章", start=date(2026, 8, 3),
            submit=True):  # fmt: skip
    out = []
    for i in range(n):
        day = start + timedelta(days=i)
        out.append(services.meeting_record(
            actor=cast.secretary_a, org=org or cast.branch_a1, kind=kind, topic=f"{topic}{i}",
            starts_at=datetime(day.year, day.month, day.day, 9, tzinfo=SH),
            ends_at=datetime(day.year, day.month, day.day, 11, tzinfo=SH), place="会议室", submit=submit,
        ))  # fmt: skip
    return out


@time_machine.travel(TODAY, tick=False)
def test_it_lists_meetings_in_scope_with_filters(client, cast):
    _record(cast, 2, topic="党员大会")
    _record(cast, 1, kind=MeetingKind.PARTY_LECTURE, topic="党课")
    _record(cast, 1, org=cast.branch_c, topic="司法局")
    client.force_login(cast.secretary_a)
    html = client.get(reverse("life:meetings")).content.decode()
    assert "党员大会0" in html and "党课0" in html and "司法局" not in html
    html = client.get(reverse("life:meetings"), {"kind": "party_lecture"}).content.decode()
    assert "党课0" in html and "党员大会0" not in html
    html = client.get(reverse("life:meetings"), {"q": "大会1"}).content.decode()
    assert "党员大会1" in html and "党员大会0" not in html
    html = client.get(reverse("life:meetings"), {"date_from": "2026-08-04", "date_to": "2026-08-04"}).content
    assert "党员大会1" in html.decode() and "党员大会0" not in html.decode()
    client.force_login(cast.outsider)
    html = client.get(reverse("life:meetings")).content.decode()
    assert "司法局" in html and "党员大会0" not in html
    assert client.post(reverse("life:meetings")).status_code == 405


@time_machine.travel(TODAY, tick=False)
def test_it_keeps_the_list_query_count_flat(client, cast, django_assert_max_num_queries):
    client.force_login(cast.committee_admin)
    _record(cast, 2)
    with django_assert_max_num_queries(16) as few:
        assert client.get(reverse("life:meetings")).status_code == 200
    _record(cast, 20, start=date(2026, 7, 1))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("life:meetings")).status_code == 200


@time_machine.travel(TODAY, tick=False)
def test_it_shows_the_branch_calendar_with_planned_meetings(client, cast, django_assert_max_num_queries):
    _record(cast, 1, topic="已开")
    _record(cast, 1, topic="计划", start=date(2026, 8, 27), submit=False)
    client.force_login(cast.secretary_a)
    resp = client.get(reverse("life:calendar"))
    html = resp.content.decode()
    assert resp.status_code == 200 and "2026年8月活动日历" in html
    assert "bg-yellow-lt" in html and "发送会议通知" in html
    with django_assert_max_num_queries(16) as few:
        client.get(reverse("life:calendar"))
    _record(cast, 15, start=date(2026, 8, 5))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("life:calendar"))
    client.force_login(cast.outsider)
    assert client.get(reverse("life:calendar"), {"org": cast.branch_a1.pk}).status_code == 404
    client.force_login(cast.member)
    html = client.get(reverse("life:calendar")).content.decode()
    assert "计划" in html and "发送会议通知" not in html


@time_machine.travel(TODAY, tick=False)
def test_it_prints_the_meeting_record_and_the_signin_sheet(client, cast):
    from sizheng.org.models import Person

    absent = Person.objects.get(name="刘洋")
    meeting = services.meeting_record(
        actor=cast.secretary_a, org=cast.branch_a1, kind=MeetingKind.MEMBERS_MEETING, topic="选举",
        starts_at=datetime(2026, 8, 3, 9, tzinfo=SH), ends_at=datetime(2026, 8, 3, 11, tzinfo=SH),
        place="会议室", attendance={absent.pk: ("on_leave", "公务出差")},
        votes=[{"motion": "通过工作报告", "ayes": 2, "noes": 0, "abstentions": 0}],
    )  # fmt: skip
    client.force_login(cast.member)
    resp = client.get(reverse("life:meeting_record_doc", args=[meeting.pk]))
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/vnd.openxml")
    xml = zipfile.ZipFile(io.BytesIO(resp.content)).read("word/document.xml").decode()
    assert cast.branch_a1.name in xml and "党员大会会议记录" in xml  # two title lines
    assert "公务出差" in xml and "通过工作报告" in xml and "记录人（签字）" in xml
    resp = client.get(reverse("life:meeting_signin_doc", args=[meeting.pk]))
    xml = zipfile.ZipFile(io.BytesIO(resp.content)).read("word/document.xml").decode()
    assert "签到表" in xml and "刘洋" in xml
    assert AuditEvent.objects.filter(action="meeting_record_export", actor=cast.member).exists()
    assert AuditEvent.objects.filter(action="meeting_signin_export", actor=cast.member).exists()
    client.force_login(cast.outsider)
    assert client.get(reverse("life:meeting_record_doc", args=[meeting.pk])).status_code == 404
    assert client.get(reverse("life:meeting_signin_doc", args=[meeting.pk])).status_code == 404


@time_machine.travel(TODAY, tick=False)
def test_it_exports_the_ledger_filtered_like_the_list(client, cast):
    from sizheng.org.models import Person

    absent = Person.objects.get(name="刘洋")
    services.meeting_record(
        actor=cast.secretary_a, org=cast.branch_a1, kind=MeetingKind.MEMBERS_MEETING, topic="台账会议",
        starts_at=datetime(2026, 8, 3, 9, tzinfo=SH), ends_at=datetime(2026, 8, 3, 11, tzinfo=SH),
        place="会议室", attendance={absent.pk: ("absent", "未请假")},
    )  # fmt: skip
    _record(cast, 1, kind=MeetingKind.PARTY_LECTURE, topic="党课")
    _record(cast, 1, org=cast.branch_c, topic="司法局")
    client.force_login(cast.secretary_a)
    resp = client.get(reverse("life:meetings_ledger"), {"kind": "members_meeting"})
    assert resp.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(resp.content)).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    flat = [str(v) for row in values for v in row if v is not None]
    assert "三会一课台账" in flat[0] and "台账会议" in flat and "党课0" not in flat and "司法局0" not in flat
    row = next(r for r in values if "台账会议" in r)
    assert list(row[6:11]) == [3, 2, 1, 0, "已提交"]
    assert AuditEvent.objects.filter(action="meetings_ledger_export", actor=cast.secretary_a).exists()


@time_machine.travel(TODAY, tick=False)
def test_it_fills_the_home_card_for_managers_only(rf, cast):
    from sizheng.life.views import home_card
    from sizheng.org.models import Person

    Person.objects.filter(name="刘洋").update(joined_on=date(2001, 8, 3))
    _record(cast, 1, submit=False)
    request = rf.get("/")
    request.user = cast.secretary_a
    assert home_card(request) == {"to_finish": 1, "to_review": 0, "birthdays": 1}
    request.user = cast.committee_admin
    assert home_card(request)["to_review"] == 0
    request.user = cast.member
    assert home_card(request) is None
