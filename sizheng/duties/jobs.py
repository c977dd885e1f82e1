"""Periodic jobs of the duties app: deadline reminders (issue 4 §4)."""

from __future__ import annotations

from datetime import date, time

from django.db.models import Q
from django.utils import timezone

from sizheng.core import calendar
from sizheng.core.models import SentReminder
from sizheng.core.scheduler import periodic, remind
from sizheng.duties.models import AWAITING_OWNER, Duty
from sizheng.duties.services import owner_side_users

# Workdays before the due date at which the first reminder goes out.
LEAD_WORKDAYS = 5


def _week(day: date) -> str:
    """The ISO week of a day as used in reminder keys: ``2026-W41``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _reminder_for(duty: Duty, today: date) -> tuple[str, str] | None:
    """The (key, title) of the reminder this duty is due for today, or None.

    A due date on a rest day (possible when the holiday table changes after the duty was
    opened) counts from the next workday, as ``services.due_date`` would have set it.
    """
    effective = calendar.add_workdays(duty.due_on, 0)
    if effective == today:
        return f"duty:{duty.pk}:due-0:{duty.due_on}", f"【今日到期】{duty.title}"
    if today < effective:
        if calendar.add_workdays(duty.due_on, -LEAD_WORKDAYS) == today:
            title = f"【即将到期】{duty.title}（{LEAD_WORKDAYS}个工作日后到期）"
            return f"duty:{duty.pk}:due-5:{duty.due_on}", title
        return None
    # Overdue: once per ISO week after the week of the deadline; the key makes it once.
    if _week(today) == _week(effective):
        return None
    late = calendar.workdays_between(effective, today)
    return f"duty:{duty.pk}:overdue:{_week(today)}", f"【已逾期】{duty.title}（已逾期{late}个工作日）"


@periodic("duties.reminders", at=time(8, 30), label="责任事项到期提醒")
def reminders(today: date | None = None) -> int:
    """Remind the owner side of duties awaiting them: 5 workdays before, on the day, weekly when overdue.

    Runs on workdays only. Candidates come from one query on ``due_on`` (those due in the
    lead window, or due today or earlier), keys already sent from one more; only reminders
    still to send cost further queries. Returns the number of reminders sent.
    """
    today = today or timezone.localdate()
    if not calendar.is_workday(today):
        return 0
    # add_workdays(due_on, -5) == today holds exactly for due dates in this window (rest days included).
    lead_from = calendar.add_workdays(today, LEAD_WORKDAYS - 1)
    lead_until = calendar.add_workdays(today, LEAD_WORKDAYS)
    candidates = list(
        Duty.objects.filter(state__in=AWAITING_OWNER)
        .filter(Q(due_on__gt=lead_from, due_on__lte=lead_until) | Q(due_on__lte=today))
        .select_related("owner")
        .only("pk", "title", "due_on", "state", "assignee_org_id", "owner__user_id")
        .order_by("due_on", "pk")
    )
    due: list[tuple[Duty, str, str]] = []
    for duty in candidates:
        found = _reminder_for(duty, today)
        if found is not None:
            due.append((duty, *found))
    if not due:
        return 0
    day_keys = [key for _, key, _ in due if ":overdue:" not in key]
    sent_before = set(
        SentReminder.objects.filter(
            Q(key__in=day_keys) | Q(key__startswith="duty:", key__endswith=f":overdue:{_week(today)}")
        ).values_list("key", flat=True)
    )
    sent = 0
    for duty, key, title in due:
        if key in sent_before:
            continue
        users = owner_side_users(duty)
        if users and remind(key, users, title=title, url=f"/duties/{duty.pk}/"):
            sent += 1
    return sent
