"""In-app notifications, with e-mail when configured. Never put T2/T3 content in a title or body."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from sizheng.core.models import Notification

log = logging.getLogger(__name__)


def notify(users: Iterable, *, title: str, body: str = "", url: str = "") -> list[Notification]:
    """Put a message in each user's inbox; e-mail it after commit when e-mail is configured."""
    rows = []
    for u in users:
        if u is not None:
            getattr(u, "__dict__", {}).pop("_sz_unread", None)  # a count loaded with the user is stale now
            rows.append(Notification(user=u, title=title[:200], body=body, url=url))
    created = Notification.objects.bulk_create(rows)
    if settings.EMAIL_ENABLED and created:
        ids = [n.pk for n in created if n.pk is not None]
        transaction.on_commit(lambda: _email(ids))
    return created


def _email(notification_ids: list[int]) -> None:
    """Send the e-mails of these notifications; a failure is logged and left for a retry."""
    for n in Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True).select_related(
        "user"
    ):
        if not n.user.email:
            continue
        try:
            send_mail(f"【思政平台】{n.title}", n.body or n.title, None, [n.user.email])
        except OSError:
            log.warning("notification e-mail failed id=%s", n.pk)
            continue
        Notification.objects.filter(pk=n.pk).update(emailed_at=timezone.now())


def mark_read(user, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all unread ones when no ids are given)."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=list(notification_ids))
    user.__dict__.pop("_sz_unread", None)  # the count loaded with the user is stale now
    return qs.update(read_at=timezone.now())
