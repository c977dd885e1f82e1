"""Periodic jobs of the talks app: remind the initiator of an agreed next talk three days ahead."""

from __future__ import annotations

from datetime import time, timedelta

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from sizheng.core.models import User
from sizheng.core.scheduler import periodic, remind
from sizheng.talks.models import Status, Talk

DAYS_AHEAD = 3
TITLE = "谈心谈话提醒"


def _url(pk: int) -> str:
    try:
        return reverse("talks:detail", args=[pk])
    except NoReverseMatch:
        return ""


@periodic("talks.next_talk_reminders", at=time(8, 0), label="下次谈话提醒")
def next_talk_reminders() -> int:
    """Tell each initiator once (key ``talks:next:<id>``) that a next talk they agreed is due within 3 days.

    A window (today … today + 3) rather than the exact day, so a day the scheduler missed is caught
    up the next morning; the key keeps it to one reminder per talk. Content-free: no name, no kind.
    """
    today = timezone.localdate()
    rows = list(
        Talk.objects.filter(
            next_talk_on__gte=today,
            next_talk_on__lte=today + timedelta(days=DAYS_AHEAD),
            initiator__left_on__isnull=True,
            initiator__user__isnull=False,
        )
        .exclude(status=Status.CANCELLED)
        .values_list("pk", "initiator__user_id", "next_talk_on")
    )
    users = User.objects.in_bulk({u for _, u, _ in rows})
    sent = 0
    for pk, user_id, on in rows:
        user = users.get(user_id)
        if user is None or not user.is_active:
            continue
        if remind(
            f"talks:next:{pk}",
            [user],
            title=TITLE,
            body=f"您约定的下一次谈心谈话将于 {on.month}月{on.day}日 到期，请按时开展并及时登记。",
            url=_url(pk),
        ):
            sent += 1
    return sent
