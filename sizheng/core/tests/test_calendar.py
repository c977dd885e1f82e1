"""Tests of the Django workday layer: the Holiday table feeds the calendar, and the warnings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache

from sizheng.core import calendar
from sizheng.core.models import Holiday

NEW_YEAR_2027 = date(2027, 1, 1)  # a Friday; chinesecalendar 1.11.0 does not know 2027
WARNING_2027 = "2027 年的法定节假日安排尚未录入，当前按周末计算工作日；请系统管理员在“节假日与调休”中录入。"


@pytest.fixture(autouse=True)
def fresh_calendar() -> Iterator[None]:
    """Start and end each test without a cached calendar (rolled-back rows must not linger)."""
    calendar.clear_calendar_cache()
    yield
    calendar.clear_calendar_cache()


@pytest.mark.django_db
def test_it_applies_an_admin_entered_2027_holiday_to_add_workdays() -> None:
    assert calendar.add_workdays(date(2026, 12, 31), 1) == NEW_YEAR_2027
    Holiday.objects.create(day=NEW_YEAR_2027, kind=Holiday.Kind.HOLIDAY, name="元旦")
    assert not calendar.is_workday(NEW_YEAR_2027)
    assert calendar.add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert calendar.due_after(date(2026, 12, 31), 2) == date(2027, 1, 5)


@pytest.mark.django_db
def test_it_applies_an_admin_entered_makeup_workday() -> None:
    saturday = date(2027, 2, 20)
    assert not calendar.is_workday(saturday)
    Holiday.objects.create(day=saturday, kind=Holiday.Kind.WORKDAY, name="春节调休")
    assert calendar.is_workday(saturday)
    assert calendar.workdays_between(date(2027, 2, 19), date(2027, 2, 22)) == 2


@pytest.mark.django_db
def test_it_forgets_a_deleted_holiday() -> None:
    row = Holiday.objects.create(day=NEW_YEAR_2027, kind=Holiday.Kind.HOLIDAY)
    assert not calendar.is_workday(NEW_YEAR_2027)
    row.delete()
    assert calendar.is_workday(NEW_YEAR_2027)


@pytest.mark.django_db
def test_it_warns_about_2027_until_entries_exist() -> None:
    assert calendar.calendar_warnings([2026, 2027]) == [WARNING_2027]
    Holiday.objects.create(day=NEW_YEAR_2027, kind=Holiday.Kind.HOLIDAY, name="元旦")
    assert calendar.calendar_warnings([2026, 2027]) == []


@pytest.mark.django_db
def test_it_warns_about_next_year_only_from_december(time_machine) -> None:  # type: ignore[no-untyped-def]
    time_machine.move_to(datetime(2026, 11, 30, 12, tzinfo=ZoneInfo("Asia/Shanghai")))
    assert calendar.calendar_warnings() == []
    time_machine.move_to(datetime(2026, 12, 1, 12, tzinfo=ZoneInfo("Asia/Shanghai")))
    assert calendar.calendar_warnings() == [WARNING_2027]


@pytest.mark.django_db
def test_it_loads_the_table_in_one_query_and_caches_it(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    Holiday.objects.create(day=NEW_YEAR_2027, kind=Holiday.Kind.HOLIDAY)
    Holiday.objects.create(day=date(2027, 2, 20), kind=Holiday.Kind.WORKDAY)
    with django_assert_num_queries(1):
        first = calendar.get_calendar()
        calendar.add_workdays(date(2027, 1, 1), 3)
        calendar.is_workday(date(2027, 2, 20))
    assert calendar.get_calendar() is first
    assert dict(first.overrides) == {NEW_YEAR_2027: False, date(2027, 2, 20): True}


@pytest.mark.django_db
def test_it_reloads_after_a_bulk_update_once_the_copy_is_old(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    row = Holiday.objects.create(day=NEW_YEAR_2027, kind=Holiday.Kind.HOLIDAY)
    assert not calendar.is_workday(NEW_YEAR_2027)
    Holiday.objects.filter(pk=row.pk).update(kind=Holiday.Kind.WORKDAY)  # no signal fires
    assert not calendar.is_workday(NEW_YEAR_2027)
    now = calendar._clock()
    monkeypatch.setattr(calendar, "_clock", lambda: now + calendar._MAX_AGE_SECONDS + 1)
    assert calendar.is_workday(NEW_YEAR_2027)


@pytest.mark.django_db
def test_it_reloads_when_another_process_bumps_the_shared_version() -> None:
    row = Holiday.objects.create(day=NEW_YEAR_2027, kind=Holiday.Kind.HOLIDAY)
    first = calendar.get_calendar()
    Holiday.objects.filter(pk=row.pk).update(kind=Holiday.Kind.WORKDAY)
    assert calendar.get_calendar() is first
    cache.set(calendar._VERSION_KEY, cache.get(calendar._VERSION_KEY, 0) + 1, timeout=None)
    assert calendar.get_calendar() is not first
    assert calendar.is_workday(NEW_YEAR_2027)


def test_it_reads_an_aware_datetime_as_its_local_day() -> None:
    # 2026-10-07 17:00 UTC is 10-08 01:00 in Beijing: a workday after the National Day holiday.
    late = datetime(2026, 10, 7, 17, tzinfo=ZoneInfo("UTC"))
    assert calendar._as_date(late) == date(2026, 10, 8)
