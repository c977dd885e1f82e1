"""The core's periodic jobs."""

from __future__ import annotations

from datetime import time, timedelta

from django.utils import timezone

from sizheng.core.models import ApiToken, JobRun, Role, User
from sizheng.core.scheduler import periodic, remind


@periodic("core.expire_tokens", every=timedelta(hours=1), label="清理过期接口令牌")
def expire_tokens() -> int:
    """Mark expired API tokens revoked, so the token list shows what is really usable."""
    now = timezone.now()
    return ApiToken.objects.filter(revoked_at__isnull=True, expires_at__lte=now).update(revoked_at=now)


@periodic("core.calendar_check", at=time(7, 0), label="节假日安排检查")
def calendar_check() -> int:
    """Warn system administrators once per year when a year's holidays are not arranged."""
    from sizheng.core.calendar import calendar_warnings

    today = timezone.localdate()
    years = [today.year, today.year + 1] if today.month >= 10 else [today.year]
    admins = User.objects.filter(is_active=True, role_grants__role=Role.SYSADMIN).distinct()
    sent = 0
    for year in years:
        for message in calendar_warnings([year]):
            # One reminder per year and month while the year stays unarranged.
            key = f"calendar:{year}:{today.isoformat()[:7]}"
            if remind(key, admins, title="节假日安排待录入", body=message, url="/system/holidays/"):
                sent += 1
    return sent


#: Housekeeping: claimed job slots and finished task results are kept this long (days). A failed
#: task stays three times as long, so an administrator can still see and retry it.
KEEP_DAYS = 30


@periodic("core.housekeeping", at=time(3, 30), label="清理过期的定时任务和后台任务记录")
def housekeeping() -> int:
    """Delete old job-slot claims (only the current slot is ever claimed again) and old finished
    task results; the dashboard warming alone adds ~360 of each a day."""
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    deleted, _ = JobRun.objects.filter(enqueued_at__lt=now - timedelta(days=KEEP_DAYS)).delete()
    finished = DBTaskResult.objects.finished()
    old_ok = finished.filter(finished_at__lt=now - timedelta(days=KEEP_DAYS)).exclude(status="FAILED")
    old_failed = finished.filter(status="FAILED", finished_at__lt=now - timedelta(days=3 * KEEP_DAYS))
    deleted += old_ok.delete()[0] + old_failed.delete()[0]
    return deleted
