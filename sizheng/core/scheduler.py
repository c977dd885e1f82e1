"""Periodic jobs enqueued as django-tasks, and reminders sent exactly once.

A job is claimed per time slot with a unique (job, slot) row, so two schedulers, or one
restarted mid-slot, enqueue it once. A reminder is recorded under a unique key before it
is sent, so a job that runs twice sends nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from sizheng.core.models import JobRun, SentReminder
from sizheng.core.notify import notify

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """A periodic job: every ``every`` (interval jobs) or once a day from ``at`` (daily jobs)."""

    name: str
    func: Callable[[], object]
    every: timedelta | None = None
    at: time | None = None
    label: str = ""

    def slot(self, now: datetime) -> str | None:
        """The slot key for ``now``, or None when a daily job's hour has not come yet today."""
        local = timezone.localtime(now)
        if self.at is not None:
            if local.time() < self.at:
                return None
            return local.date().isoformat()
        assert self.every is not None
        seconds = int(self.every.total_seconds())
        return str(int(local.timestamp()) // seconds * seconds)


JOBS: dict[str, Job] = {}


def periodic(name: str, *, every: timedelta | None = None, at: time | None = None, label: str = ""):
    """Register a function as a periodic job (exactly one of ``every`` / ``at``)."""
    if (every is None) == (at is None):
        raise ValueError("periodic job needs exactly one of every= or at=")

    def wrap(func):
        JOBS[name] = Job(name=name, func=func, every=every, at=at, label=label)
        return func

    return wrap


def claim(job: Job, slot: str) -> bool:
    """Claim a job slot; False when it was already claimed."""
    try:
        with transaction.atomic():
            JobRun.objects.create(job=job.name, slot=slot)
    except IntegrityError:
        return False
    return True


def tick(now: datetime | None = None) -> list[str]:
    """Enqueue every job whose current slot is unclaimed; returns the names enqueued."""
    from sizheng.core.tasks import run_job

    now = now or timezone.now()
    enqueued = []
    for job in list(JOBS.values()):
        slot = job.slot(now)
        if slot is None or not claim(job, slot):
            continue
        result = run_job.enqueue(job.name)
        JobRun.objects.filter(job=job.name, slot=slot).update(task_id=str(getattr(result, "id", ""))[:64])
        enqueued.append(job.name)
    return enqueued


def run(name: str) -> object:
    """Run one job now (the task body)."""
    job = JOBS.get(name)
    if job is None:
        raise LookupError(f"未知的定时任务：{name}")
    log.info("job start name=%s", name)
    return job.func()


def send_once(key: str, send: Callable[[], object]) -> bool:
    """Call ``send`` only if no reminder with ``key`` was sent before; True when sent now.

    The key row and whatever ``send`` writes commit together, so a crash in between sends
    nothing and leaves the key free for the next run.
    """
    try:
        with transaction.atomic():
            SentReminder.objects.create(key=key[:255])
            send()
    except IntegrityError:
        return False
    return True


def remind(key: str, users: Iterable, *, title: str, body: str = "", url: str = "") -> bool:
    """Notify users once per ``key`` (e.g. ``duty:12:due-5:2026-11-24``)."""
    users = list(users)
    return send_once(key, lambda: notify(users, title=title, body=body, url=url))
