"""Reminders to secretaries before a compliance period closes: once per key, on workdays only."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from sizheng.core import calendar
from sizheng.core.models import Notification, SentReminder
from sizheng.core.scheduler import JOBS
from sizheng.life import jobs_compliance, services
from sizheng.life.jobs_compliance import LEAD_DAYS, closing_periods, compliance_reminders
from sizheng.life.models import MeetingKind
from sizheng.org.models import Org
from sizheng.org.testing import make_org

pytestmark = [pytest.mark.django_db, pytest.mark.urls("sizheng.life.tests.test_compliance_views")]
SH = ZoneInfo("Asia/Shanghai")


def _titles(user) -> list[str]:
    return sorted(Notification.objects.filter(user=user).values_list("title", flat=True))


def test_it_registers_the_daily_job():
    job = JOBS["life.compliance_reminders"]
    assert job.func is compliance_reminders and job.at.hour == 8 and job.at.minute == 15


@pytest.mark.parametrize("d", [date(2026, 6, 20), date(2026, 6, 21), date(2026, 6, 19)])
def test_it_sends_nothing_on_rest_days_even_inside_the_window(cast, d):
    with time_machine.travel(datetime(d.year, d.month, d.day, 8, 15, tzinfo=SH), tick=False):
        assert compliance_reminders() == 0
    assert not Notification.objects.exists() and not SentReminder.objects.exists()


def test_it_reminds_each_secretary_once_per_org_rule_and_period_on_the_first_workday(cast):
    # The 20th of June (10 days before the quarter ends) is a rest day; Monday the 22nd sends.
    with time_machine.travel(datetime(2026, 5, 12, 10, tzinfo=SH), tick=False):
        services.meeting_record(
            actor=cast.secretary_a,
            org=cast.branch_a1,
            kind=MeetingKind.MEMBERS_MEETING,
            topic="研究发展党员",
            starts_at=datetime(2026, 5, 12, 9, tzinfo=SH),
            ends_at=datetime(2026, 5, 12, 11, tzinfo=SH),
            place="会议室",
        )
    with time_machine.travel(datetime(2026, 6, 22, 8, 15, tzinfo=SH), tick=False):
        sent = compliance_reminders()
    b = _titles(cast.secretary_b)
    assert f"{cast.branch_b1.name}：本季度尚未召开党员大会" in b
    assert f"{cast.branch_b1.name}：本月尚未召开支委会" in b
    a = _titles(cast.secretary_a)
    assert f"{cast.branch_a1.name}：本季度尚未召开党员大会" not in a  # held in May
    assert f"{cast.branch_a1.name}：本月尚未召开支委会" in a
    assert sent == len(a) + len(b)
    assert SentReminder.objects.filter(key=f"compliance:{cast.branch_b1.pk}:BR-MTG-1:2026-Q2").exists()
    assert not _titles(cast.member)
    with time_machine.travel(datetime(2026, 6, 23, 8, 15, tzinfo=SH), tick=False):
        assert compliance_reminders() == 0
    assert _titles(cast.secretary_b) == b


def test_it_sends_nothing_outside_the_last_ten_days(cast):
    with time_machine.travel(datetime(2026, 6, 17, 8, 15, tzinfo=SH), tick=False):
        assert compliance_reminders() == 0
    assert not Notification.objects.exists()


def test_it_uses_a_fixed_number_of_queries_before_sending(cast):
    with time_machine.travel(datetime(2026, 6, 22, 8, 15, tzinfo=SH), tick=False):
        SentReminder.objects.bulk_create(
            SentReminder(key=jobs_compliance.key_for(org.pk, code, key))
            for org in Org.objects.all()
            for code, key in [("BR-MTG-1", "2026-Q2"), ("BR-MTG-2", "2026-06"), ("BR-DAY-1", "2026-06"),
                              ("BR-LEC-1", "2026-Q2"), ("CGS-2", "2026-Q2"), ("BR-MTG-3", "2026-06")]
        )  # fmt: skip
        calendar.is_workday(date(2026, 6, 22))  # warm the holiday cache
        with CaptureQueriesContext(connection) as few:
            assert compliance_reminders() == 0
        for i in range(20):
            make_org(f"新支部{i}", Org.Kind.BRANCH, cast.root, f"N{i}")
        SentReminder.objects.bulk_create(
            SentReminder(key=jobs_compliance.key_for(org.pk, code, key))
            for org in Org.objects.filter(code__startswith="N")
            for code, key in [("BR-MTG-1", "2026-Q2"), ("BR-MTG-2", "2026-06"), ("BR-DAY-1", "2026-06"),
                              ("BR-LEC-1", "2026-Q2")]
        )  # fmt: skip
        with CaptureQueriesContext(connection) as many:
            assert compliance_reminders() == 0
    assert len(few.captured_queries) == len(many.captured_queries)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_it_closes_only_periods_ending_within_the_lead_days(d):
    for p in closing_periods(d):
        assert d in p and (p.end - d).days <= LEAD_DAYS
    kinds = {p.kind for p in closing_periods(d)}
    # A period of a coarser kind closing implies the month it ends in is closing too.
    assert not kinds or "month" in kinds
