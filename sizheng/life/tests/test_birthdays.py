"""Political birthdays: anniversaries of joined_on, the monthly page and the reminder to secretaries."""

from __future__ import annotations

import calendar as pycalendar
from datetime import date

import pytest
import time_machine
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from sizheng.core.models import Notification, SentReminder
from sizheng.life import birthdays
from sizheng.life.jobs import birthday_reminders
from sizheng.org.models import Person


def test_it_celebrates_29_february_on_28_february_in_a_common_year():
    assert birthdays.celebrates_on(date(2004, 2, 29), 2027) == date(2027, 2, 28)
    assert birthdays.celebrates_on(date(2004, 2, 29), 2028) == date(2028, 2, 29)
    assert birthdays.celebrates_on(date(1999, 7, 1), 2026) == date(2026, 7, 1)
    assert birthdays.years_of_membership(date(1999, 7, 1), 2026) == 27


@given(st.dates(min_value=date(1921, 7, 1), max_value=date(2100, 12, 31)), st.integers(1922, 2100))
def test_it_keeps_the_month_and_the_day_when_it_exists(joined, year):
    on = birthdays.celebrates_on(joined, year)
    assert (on.year, on.month) == (year, joined.month)
    exists = joined.day <= pycalendar.monthrange(year, joined.month)[1]
    assert on.day == joined.day if exists else on.day == pycalendar.monthrange(year, joined.month)[1]


def test_it_parses_a_month_or_falls_back_to_today():
    today = date(2026, 8, 20)
    assert birthdays.parse_month("2027-02", today) == (2027, 2)
    assert birthdays.parse_month("2027-13", today) == (2026, 8)
    assert birthdays.parse_month("junk", today) == (2026, 8)
    assert birthdays.parse_month(None, today) == (2026, 8)


@pytest.mark.django_db
def test_it_lists_the_month_s_birthdays_of_a_branch(cast):
    Person.objects.filter(name="刘洋").update(joined_on=date(2004, 2, 29))
    Person.objects.filter(name="赵敏").update(joined_on=date(2010, 2, 3))
    Person.objects.filter(name="王建国").update(joined_on=date(2027, 2, 1))  # joins this year: no anniversary
    Person.objects.filter(name="孙丽").update(joined_on=date(2000, 2, 10))  # another branch
    from sizheng.org.models import Org

    rows = birthdays.in_month(birthdays.members_of(Org.objects.filter(pk=cast.branch_a1.pk)), 2027, 2)
    assert [(b.person.name, b.on, b.years) for b in rows] == [
        ("赵敏", date(2027, 2, 3), 17),
        ("刘洋", date(2027, 2, 28), 23),
    ]


@pytest.mark.django_db
@time_machine.travel(date(2026, 8, 20), tick=False)
def test_it_shows_the_birthday_page_for_the_user_s_branches(client, cast):
    Person.objects.filter(name="刘洋").update(joined_on=date(2001, 8, 3))
    Person.objects.filter(name="孙丽").update(joined_on=date(2000, 8, 10))
    client.force_login(cast.secretary_a)
    html = client.get(reverse("life:birthdays")).content.decode()
    assert "刘洋" in html and "25 年" in html and "孙丽" not in html
    assert "主题党日：集体过政治生日" in html
    html = client.get(reverse("life:birthdays"), {"month": "2026-09"}).content.decode()
    assert "刘洋" not in html and "本月没有同志过政治生日" in html
    client.force_login(cast.outsider)
    html = client.get(reverse("life:birthdays")).content.decode()
    assert "孙丽" in html and "刘洋" not in html and "集体过政治生日</a>" not in html
    assert client.post(reverse("life:birthdays")).status_code == 405


@pytest.mark.django_db
def test_it_reminds_each_branch_secretary_once_on_the_first_workday(cast):
    Person.objects.filter(name="刘洋").update(joined_on=date(2001, 9, 3))
    with time_machine.travel(date(2026, 9, 2), tick=False):
        assert birthday_reminders() == 0  # 1 September 2026 (a Tuesday) was the first workday
    with time_machine.travel(date(2026, 9, 1), tick=False):
        assert birthday_reminders() == 1
        assert birthday_reminders() == 0
    note = Notification.objects.get()
    assert note.user == cast.secretary_a and "1 位同志" in note.title and "刘洋" in note.body
    assert SentReminder.objects.filter(key=f"birthdays:{cast.branch_a1.pk}:2026-09").exists()


@pytest.mark.django_db
def test_it_waits_for_the_first_workday_after_a_holiday(cast):
    Person.objects.filter(name="刘洋").update(joined_on=date(2001, 10, 3))
    first = birthdays.first_workday(2026, 10)
    assert first > date(2026, 10, 1)  # National Day holidays
    with time_machine.travel(date(2026, 10, 1), tick=False):
        assert birthday_reminders() == 0
    with time_machine.travel(first, tick=False):
        assert birthday_reminders() == 1
