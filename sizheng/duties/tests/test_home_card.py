"""The home page's duty card: my open duties by warning and what waits for my review."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sizheng.duties import services
from sizheng.org.models import Person

pytestmark = pytest.mark.django_db


def test_it_shows_my_open_duties_and_the_reviewers_queue(client, cast):
    today = timezone.localdate()
    owner = Person.objects.get(user=cast.member)
    duty = services.duty_open(
        org=cast.branch_a1,
        title="整理学习台账",
        due_on=today - timedelta(days=30),
        assigning_org=cast.root,
        owner=owner,
        actor=cast.committee_admin,
    )
    client.force_login(cast.member)
    body = client.get("/").content.decode()
    assert "我的待办事项" in body and "在办 <strong>1</strong> 项" in body and "红色预警 1" in body

    for action in ("accept", "start"):
        duty = services.duty_transition(duty=duty, action=action, actor=cast.member, version=duty.version)
    services.duty_transition(
        duty=duty,
        action="report",
        actor=cast.member,
        version=duty.version,
        evidence="已整理",
        late_reason="人手不足",
    )
    client.force_login(cast.committee_admin)
    assert "1</strong> 项已报送或申请延期" in client.get("/").content.decode()


def test_it_hides_the_card_from_someone_with_nothing_to_do(client, cast):
    client.force_login(cast.auditor)
    assert "我的待办事项" not in client.get("/").content.decode()
