"""In-app notifications, the inbox, and e-mail when configured."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from sizheng.core import notify
from sizheng.core.models import Notification
from sizheng.core.testing import make_user

pytestmark = pytest.mark.django_db


def test_it_puts_a_message_in_the_inbox_and_counts_it_unread(client):
    user = make_user("alice")
    notify.notify([user], title="有一项任务即将到期", url="/")
    client.force_login(user)
    page = client.get("/")
    assert 'id="sz-unread">1<' in page.content.decode()
    inbox = client.get(reverse("core:inbox"))
    assert "有一项任务即将到期" in inbox.content.decode()


def test_it_emails_after_commit_when_configured(django_capture_on_commit_callbacks, settings):
    settings.EMAIL_ENABLED = True
    user = make_user("bob", email="bob@example.gov.cn")
    with django_capture_on_commit_callbacks(execute=True):
        notify.notify([user], title="督办通知")
    assert len(mail.outbox) == 1 and "督办通知" in mail.outbox[0].subject
    assert Notification.objects.get(user=user).emailed_at is not None


def test_it_marks_one_or_all_read(client):
    user = make_user("carol")
    a, b = notify.notify([user, user], title="x")
    client.force_login(user)
    client.post(reverse("core:inbox_read"), {"id": str(a.pk)})
    assert Notification.objects.filter(read_at__isnull=True).count() == 1
    client.post(reverse("core:inbox_read"))
    assert Notification.objects.filter(read_at__isnull=True).count() == 0
    assert client.get(reverse("core:inbox_read")).status_code == 405


def test_it_never_shows_another_users_notifications(client):
    alice, bob = make_user("alice"), make_user("bob")
    notify.notify([alice], title="只给甲的通知")
    client.force_login(bob)
    assert "只给甲的通知" not in client.get(reverse("core:inbox")).content.decode()
    client.post(reverse("core:inbox_read"))
    assert Notification.objects.get(user=alice).read_at is None


def test_it_keeps_the_inbox_query_count_flat(client, django_assert_max_num_queries):
    user = make_user("dan")
    client.force_login(user)
    notify.notify([user] * 2, title="x")
    with django_assert_max_num_queries(15) as ctx:
        client.get(reverse("core:inbox"))
    notify.notify([user] * 80, title="y")
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        client.get(reverse("core:inbox"))
