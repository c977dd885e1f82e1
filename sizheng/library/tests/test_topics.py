"""Topics: data the committee admin edits (add, rename, retire) with a version; others get 403."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sizheng.library.models import Topic
from sizheng.library.tests.helpers import audited

pytestmark = pytest.mark.django_db


def test_it_ships_the_default_topics():
    names = list(Topic.objects.values_list("name", flat=True))
    assert names == [
        "党史",
        "新中国史",
        "改革开放史",
        "社会主义发展史",
        "法治",
        "形势政策",
        "党规党纪",
        "理论学习",
        "其他",
    ]


def test_it_lets_the_committee_admin_add_and_edit_topics(client, cast):
    client.force_login(cast.committee_admin)
    url = reverse("library:topics")
    assert client.get(url).status_code == 200
    assert client.post(url, {"name": "网络安全"}).status_code == 302
    topic = Topic.objects.get(name="网络安全")
    assert audited("library_topic_create", topic)
    dup = client.post(url, {"name": "党史"})
    assert dup.status_code == 422 and "已有名为“党史”的主题" in dup.content.decode()
    edit = reverse("library:topic_edit", args=[topic.pk])
    data = {"name": "网络安全与保密", "order": 3, "version": topic.version}
    assert client.post(edit, data).status_code == 302  # is_active unticked: retired
    topic.refresh_from_db()
    assert topic.name == "网络安全与保密" and not topic.is_active and audited("library_topic_update", topic)
    assert client.post(edit, data).status_code == 409
    assert client.get(edit).status_code == 405


def test_it_forbids_topics_to_everyone_else(client, cast):
    topic = Topic.objects.first()
    for user in (cast.secretary_a, cast.member, cast.outsider):
        client.force_login(user)
        assert client.get(reverse("library:topics")).status_code == 403
        assert client.post(reverse("library:topic_edit", args=[topic.pk]), {"name": "x"}).status_code == 403
