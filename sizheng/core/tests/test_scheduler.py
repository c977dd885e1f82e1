"""Periodic jobs are claimed once per slot; reminders are sent exactly once."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from sizheng.core import scheduler
from sizheng.core.models import JobRun, Notification, SentReminder
from sizheng.core.testing import make_user

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def counter_job():
    calls = []
    scheduler.periodic("test.counter", every=timedelta(minutes=10))(lambda: calls.append(1))
    yield calls
    scheduler.JOBS.pop("test.counter", None)


def test_it_enqueues_a_job_once_per_slot(counter_job):
    now = datetime(2026, 11, 30, 9, 3, tzinfo=SH)
    assert "test.counter" in scheduler.tick(now)
    assert "test.counter" not in scheduler.tick(now + timedelta(minutes=2))  # same 10-minute slot
    assert len(counter_job) == 1  # the immediate backend ran it
    assert "test.counter" in scheduler.tick(now + timedelta(minutes=10))
    assert len(counter_job) == 2
    assert JobRun.objects.filter(job="test.counter").count() == 2


def test_it_runs_a_daily_job_only_after_its_hour():
    calls = []
    scheduler.periodic("test.daily", at=time(7, 0))(lambda: calls.append(1))
    try:
        assert "test.daily" not in scheduler.tick(datetime(2026, 11, 30, 6, 59, tzinfo=SH))
        assert "test.daily" in scheduler.tick(datetime(2026, 11, 30, 7, 1, tzinfo=SH))
        assert "test.daily" not in scheduler.tick(datetime(2026, 11, 30, 23, 0, tzinfo=SH))
        assert "test.daily" in scheduler.tick(datetime(2026, 12, 1, 8, 0, tzinfo=SH))
        assert calls == [1, 1]
    finally:
        scheduler.JOBS.pop("test.daily", None)


def test_it_sends_a_reminder_once_even_when_the_job_runs_twice():
    user = make_user("alice")

    def job():
        scheduler.remind("duty:1:due-5:2026-11-24", [user], title="任务即将到期")

    job()
    job()
    assert Notification.objects.filter(user=user, title="任务即将到期").count() == 1
    assert SentReminder.objects.filter(key="duty:1:due-5:2026-11-24").count() == 1


def test_it_leaves_the_key_free_when_sending_fails():
    def boom():
        raise RuntimeError("mail down")

    with pytest.raises(RuntimeError):
        scheduler.send_once("k1", boom)
    assert not SentReminder.objects.filter(key="k1").exists()
    assert scheduler.send_once("k1", lambda: None) is True


def test_it_refuses_an_unknown_job():
    with pytest.raises(LookupError):
        scheduler.run("no.such.job")


def test_it_registers_the_core_jobs():
    assert {"core.expire_tokens", "core.calendar_check"} <= set(scheduler.JOBS)


def test_housekeeping_drops_old_slots_and_finished_tasks_but_keeps_failures_longer():
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from sizheng.core import jobs

    now = timezone.now()
    JobRun.objects.create(job="x", slot="old", enqueued_at=now - timedelta(days=jobs.KEEP_DAYS + 1))
    JobRun.objects.create(job="x", slot="new", enqueued_at=now - timedelta(days=1))

    def task(status: str, days: int) -> DBTaskResult:
        return DBTaskResult.objects.create(
            status=status, finished_at=now - timedelta(days=days), args_kwargs={}, task_path="t",
            backend_name="default", run_after=now, exception_class_path="", traceback="",
        )  # fmt: skip

    old_ok, new_ok = task("SUCCESSFUL", jobs.KEEP_DAYS + 1), task("SUCCESSFUL", 1)
    failed_recently, failed_long_ago = (
        task("FAILED", jobs.KEEP_DAYS + 1),
        task("FAILED", 3 * jobs.KEEP_DAYS + 1),
    )

    assert jobs.housekeeping() == 3
    assert list(JobRun.objects.values_list("slot", flat=True)) == ["new"]
    kept = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert kept == {new_ok.pk, failed_recently.pk}
    assert old_ok.pk not in kept and failed_long_ago.pk not in kept
