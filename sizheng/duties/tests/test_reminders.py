"""Deadline reminders: on the right workdays, once each, to the owner side, in-app and by e-mail."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sizheng.core import scheduler
from sizheng.core.models import Holiday, Notification, SentReminder
from sizheng.duties import jobs, services  # noqa: F401  (jobs registers the periodic job)
from sizheng.duties.models import Duty, State

TZ = ZoneInfo("Asia/Shanghai")


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ)


def _open(cast, due_on: date, title: str = "开展主题党日活动", **extra) -> Duty:
    return services.duty_open(
        org=cast.branch_a1,
        title=title,
        due_on=due_on,
        actor=cast.committee_admin,
        owner=cast.person(cast.member),
        **extra,
    )


def _run_days(start: date, end: date) -> dict[date, list[str]]:
    """Run the job every day (rest days included) at 09:00; the titles sent to the owner, by day."""
    sent: dict[date, list[str]] = defaultdict(list)
    day = start
    while day <= end:
        before = set(Notification.objects.values_list("pk", flat=True))
        with time_machine.travel(_at(day), tick=False):
            scheduler.run("duties.reminders")
        new = Notification.objects.exclude(pk__in=before).filter(user__username="dangyuan")
        sent[day] += sorted(new.values_list("title", flat=True))
        day += timedelta(days=1)
    return {d: titles for d, titles in sent.items() if titles}


def test_it_registers_a_daily_job_at_half_past_eight():
    job = scheduler.JOBS["duties.reminders"]
    assert job.at == time(8, 30) and job.every is None


@pytest.mark.django_db
def test_it_reminds_on_the_right_workdays_across_national_day(cast):
    # Due Monday 10/12. Five workdays before: 10/10 (调休 Saturday), 10/9, 10/8, 9/30, 9/29.
    _open(cast, date(2026, 10, 12), title="节后专题学习")
    sent = _run_days(date(2026, 9, 20), date(2026, 10, 27))
    assert sent == {
        date(2026, 9, 29): ["【即将到期】节后专题学习（5个工作日后到期）"],
        date(2026, 10, 12): ["【今日到期】节后专题学习"],
        # Weekly while overdue, from the week after the due week: Mondays 10/19 and 10/26.
        date(2026, 10, 19): ["【已逾期】节后专题学习（已逾期5个工作日）"],
        date(2026, 10, 26): ["【已逾期】节后专题学习（已逾期10个工作日）"],
    }


@pytest.mark.django_db
def test_it_reminds_on_a_saturday_that_is_a_workday(cast):
    # Due on the 调休 Saturday 10/10: five workdays before are 10/9, 10/8, 9/30, 9/29, 9/28.
    _open(cast, date(2026, 10, 10), title="国庆值班安排")
    sent = _run_days(date(2026, 9, 26), date(2026, 10, 18))
    assert sent == {
        date(2026, 9, 28): ["【即将到期】国庆值班安排（5个工作日后到期）"],
        date(2026, 10, 10): ["【今日到期】国庆值班安排"],
        date(2026, 10, 12): ["【已逾期】国庆值班安排（已逾期1个工作日）"],
    }


@pytest.mark.django_db
def test_it_counts_back_over_the_holiday_for_a_due_date_right_after_it(cast):
    # Due 10/8: five workdays before are 9/30, 9/29, 9/28, 9/24 (Mid-autumn 9/25–27 off), 9/23.
    _open(cast, date(2026, 10, 8), title="半年工作总结")
    sent = _run_days(date(2026, 9, 18), date(2026, 10, 9))
    assert sent == {
        date(2026, 9, 23): ["【即将到期】半年工作总结（5个工作日后到期）"],
        date(2026, 10, 8): ["【今日到期】半年工作总结"],
    }


@pytest.mark.django_db
def test_it_works_for_a_2027_due_date_with_the_weekends_only_fallback(cast):
    # 2027 is not in chinesecalendar 1.11: weekends only. Due Wednesday 2027-03-10.
    _open(cast, date(2027, 3, 10), title="年度述职准备")
    sent = _run_days(date(2027, 2, 27), date(2027, 3, 16))
    assert sent == {
        date(2027, 3, 3): ["【即将到期】年度述职准备（5个工作日后到期）"],
        date(2027, 3, 10): ["【今日到期】年度述职准备"],
        date(2027, 3, 15): ["【已逾期】年度述职准备（已逾期3个工作日）"],
    }


@pytest.mark.django_db
def test_it_counts_a_due_date_that_became_a_rest_day_from_the_next_workday(cast):
    duty = _open(cast, date(2026, 11, 16), title="专题调研")  # a Monday, then declared a holiday
    Holiday.objects.create(day=date(2026, 11, 16), kind=Holiday.Kind.HOLIDAY, name="临时调整")
    sent = _run_days(date(2026, 11, 6), date(2026, 11, 24))
    assert sent == {
        date(2026, 11, 9): ["【即将到期】专题调研（5个工作日后到期）"],
        date(2026, 11, 17): ["【今日到期】专题调研"],
        date(2026, 11, 23): ["【已逾期】专题调研（已逾期4个工作日）"],  # 11/18, 19, 20, 23
    }
    assert Duty.objects.get(pk=duty.pk).due_on == date(2026, 11, 16)


@pytest.mark.django_db
def test_it_sends_each_reminder_once_even_when_the_job_runs_twice(cast):
    duty = _open(cast, date(2026, 10, 12))
    for _ in range(2):
        with time_machine.travel(_at(date(2026, 9, 29)), tick=False):
            jobs.reminders()
        with time_machine.travel(_at(date(2026, 9, 29), 17), tick=False):
            scheduler.run("duties.reminders")
    assert Notification.objects.filter(user=cast.member).count() == 1
    assert list(SentReminder.objects.values_list("key", flat=True)) == [f"duty:{duty.pk}:due-5:2026-10-12"]
    # Overdue reminders: one per ISO week, whichever workdays the job runs on.
    for day in (date(2026, 10, 20), date(2026, 10, 21), date(2026, 10, 23), date(2026, 10, 23)):
        with time_machine.travel(_at(day), tick=False):
            jobs.reminders()
    keys = set(SentReminder.objects.values_list("key", flat=True))
    assert keys == {f"duty:{duty.pk}:due-5:2026-10-12", f"duty:{duty.pk}:overdue:2026-W43"}
    overdue = Notification.objects.filter(user=cast.member, title__startswith="【已逾期】").get()
    assert overdue.title.endswith("（已逾期6个工作日）")  # sent on Tuesday 10/20, the first run that week


@pytest.mark.django_db
def test_it_sends_nothing_on_rest_days(cast):
    _open(cast, date(2026, 9, 30))
    for day in (date(2026, 10, 1), date(2026, 10, 4), date(2026, 10, 11)):
        with time_machine.travel(_at(day), tick=False):
            assert jobs.reminders() == 0
    assert not Notification.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("state", [State.REPORTED, State.UNDER_REVIEW, State.CLOSED, State.CANCELLED])
def test_it_sends_nothing_for_duties_not_awaiting_the_owner(cast, state):
    overdue = _open(cast, date(2026, 10, 12))
    due_soon = _open(cast, date(2026, 10, 26))
    Duty.objects.filter(pk__in=[overdue.pk, due_soon.pk]).update(state=state)
    for day in (date(2026, 10, 19), date(2026, 10, 26)):
        with time_machine.travel(_at(day), tick=False):
            assert jobs.reminders() == 0
    assert not Notification.objects.exists() and not SentReminder.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("state", [State.ASSIGNED, State.ACCEPTED, State.IN_PROGRESS, State.RETURNED])
def test_it_reminds_in_every_state_awaiting_the_owner(cast, state):
    duty = _open(cast, date(2026, 10, 12))
    Duty.objects.filter(pk=duty.pk).update(state=state)
    with time_machine.travel(_at(date(2026, 10, 12)), tick=False):
        assert jobs.reminders() == 1


@pytest.mark.django_db
def test_it_reminds_the_owner_and_the_branch_secretary_but_not_the_assigner(cast):
    _open(cast, date(2026, 10, 12))
    with time_machine.travel(_at(date(2026, 10, 12)), tick=False):
        jobs.reminders()
    got = set(Notification.objects.values_list("user__username", "title"))
    title = "【今日到期】开展主题党日活动"
    assert got == {("dangyuan", title), ("shuji_a", title), ("dangwu_a", title)}
    assert Notification.objects.filter(user=cast.member).get().url.startswith("/duties/")


@pytest.mark.django_db
def test_it_reminds_the_secretary_of_a_duty_without_an_owner(cast):
    services.duty_open(org=cast.branch_a1, title="无人认领的事项", due_on=date(2026, 10, 12), actor=None)
    with time_machine.travel(_at(date(2026, 10, 12)), tick=False):
        assert jobs.reminders() == 1
    assert set(Notification.objects.values_list("user__username", flat=True)) == {"shuji_a", "dangwu_a"}


@pytest.mark.django_db
def test_it_sends_the_reminders_by_email_when_configured(cast, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_ENABLED = True
    for user, email in ((cast.member, "liuyang@example.org"), (cast.secretary_a, "wangjg@example.org")):
        user.email = email
        user.save(update_fields=["email"])
    _open(cast, date(2026, 10, 12), title="节后专题学习")
    with (
        time_machine.travel(_at(date(2026, 9, 29)), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        jobs.reminders()
    assert sorted(m.to[0] for m in mail.outbox) == ["liuyang@example.org", "wangjg@example.org"]
    assert all(m.subject == "【思政平台】【即将到期】节后专题学习（5个工作日后到期）" for m in mail.outbox)


@pytest.mark.django_db
def test_it_sends_no_email_when_email_is_off(cast, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_ENABLED = False
    cast.member.email = "liuyang@example.org"
    cast.member.save(update_fields=["email"])
    _open(cast, date(2026, 10, 12))
    with (
        time_machine.travel(_at(date(2026, 10, 12)), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert jobs.reminders() == 1
    assert mail.outbox == [] and Notification.objects.filter(user=cast.member).exists()


def _queries_for_run(day: date) -> int:
    with time_machine.travel(_at(day), tick=False), CaptureQueriesContext(connection) as q:
        jobs.reminders()
    return len(q.captured_queries)


@pytest.mark.django_db
def test_it_selects_candidates_in_one_query_however_many_duties_there_are(cast):
    # Far from due: never candidates. Already reminded this week: nothing more to do.
    for i in range(3):
        _open(cast, date(2026, 12, 31), title=f"远期{i}")
        _open(cast, date(2026, 10, 12), title=f"逾期{i}")
    jobs.reminders(today=date(2026, 10, 19))
    few = _queries_for_run(date(2026, 10, 20))
    for i in range(40):
        _open(cast, date(2026, 12, 31), title=f"远期b{i}")
        _open(cast, date(2026, 10, 12), title=f"逾期b{i}")
    jobs.reminders(today=date(2026, 10, 19))
    many = _queries_for_run(date(2026, 10, 20))
    assert few == many <= 3
