"""Training hours (学时) from attended sessions, the requirement switch, and one query for many people."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from sizheng.life.models import AttendanceStatus, MeetingKind
from sizheng.org.testing import make_person
from sizheng.study import hours, services
from sizheng.study.tests.helpers import lecture

pytestmark = pytest.mark.django_db


@time_machine.travel(date(2026, 11, 20), tick=False)
def test_it_counts_half_a_day_as_four_hours_for_those_present(cast):
    member = cast.person(cast.member)
    admin = cast.person(cast.org_admin)
    lecture(cast, date(2026, 3, 10), attendance={admin.pk: (AttendanceStatus.ON_LEAVE, "出差")})
    lecture(cast, date(2026, 6, 10), kind=MeetingKind.THEME_DAY)
    got = hours.hours_by_person([member.pk, admin.pk], 2026)
    assert got == {member.pk: 8.0, admin.pk: 4.0}


@time_machine.travel(date(2026, 11, 20), tick=False)
def test_it_counts_only_counted_study_meetings_of_the_year(cast):
    member = cast.person(cast.member)
    lecture(cast, date(2026, 3, 10), submit=False)  # a draft does not count
    lecture(cast, date(2025, 3, 10))  # another year
    plain = lecture(cast, date(2026, 4, 10), kind=MeetingKind.MEMBERS_MEETING)
    assert hours.hours_by_person([member.pk], 2026) == {member.pk: 0.0}
    services.session_link(actor=cast.secretary_a, meeting=plain)  # a 党员大会 with a study topic counts
    assert hours.hours_by_person([member.pk], 2026) == {member.pk: 4.0}


@time_machine.travel(date(2026, 11, 20), tick=False)
def test_it_caps_one_meeting_at_a_full_day(cast):
    member = cast.person(cast.member)
    meeting = lecture(cast, date(2026, 3, 10), hours=10)
    assert meeting.hours == 8.0
    assert hours.hours_by_person([member.pk], 2026)[member.pk] == 8.0


def test_it_switches_the_requirement_for_secretaries_and_leaders(cast):
    ids = [cast.person(u).pk for u in (cast.member, cast.secretary_a, cast.leader)]
    got = hours.standing(ids, 2026)
    assert [got[i]["required"] for i in ids] == [32, 56, 56]
    with override_settings(STUDY_HOURS_REQUIRED=40, STUDY_HOURS_REQUIRED_LEADERS=60):
        got = hours.standing(ids, 2026)
    assert [got[i]["required"] for i in ids] == [40, 60, 60]


@time_machine.travel(date(2026, 11, 20), tick=False)
def test_it_computes_hours_for_many_people_in_one_query(cast, django_assert_num_queries):
    for day in range(1, 9):
        lecture(cast, date(2026, 3, day))
    few = [cast.person(cast.member).pk]
    many = few + [make_person(f"人员{i}", cast.unit_a, org=cast.branch_a1).pk for i in range(20)]
    with django_assert_num_queries(1):
        hours.hours_by_person(few, 2026)
    with django_assert_num_queries(1):
        got = hours.hours_by_person(many, 2026)
    assert got[few[0]] == 32.0 and got[many[-1]] == 0.0  # people added after the meetings have none
    with django_assert_num_queries(2):
        cov = hours.coverage(many, 2026)
    assert cov == {"total": 21, "reached": 1, "not_reached": 20}


@given(st.text(max_size=60), st.sampled_from(["", " ", "\n", "\u3000", "\r\n"]))
def test_it_counts_characters_as_a_reader_does(text, blank):
    n = services.text_length(text)
    assert 0 <= n <= len(text)
    assert services.text_length(blank + text + blank) == n  # surrounding blanks are not counted
    assert services.text_length("学" * 500 + blank) == 500
