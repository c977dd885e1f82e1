"""Every duty screen renders for its audience, in Chinese, with nothing the nonce CSP would block."""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine
from django.urls import reverse

from sizheng.duties import services
from sizheng.duties.models import SourceKind

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>")
INLINE_HANDLER = re.compile(r"\son[a-z]+=", re.IGNORECASE)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-03-10 10:00 +0800", tick=False):
        yield


def _pages(cast) -> list[tuple[object, str]]:
    duty = services.duty_open(org=cast.branch_a1, title="开展思想动态分析研判", due_on=date(2026, 3, 2),
                              actor=cast.committee_admin, assigning_org=cast.root, description="按季度开展。")  # fmt: skip
    for action, kw in (("accept", {}), ("start", {}),
                       ("request_extension", {"new_due_on": date(2026, 3, 31), "reason": "等待调研数据"})):  # fmt: skip
        duty.refresh_from_db()
        services.duty_transition(duty=duty, action=action, actor=cast.secretary_a, version=duty.version, **kw)
    sensitive = services.duty_open(org=cast.branch_a1, title="x", due_on=date(2026, 4, 1),
                                   source=(SourceKind.CARE, 1), actor=None, assigning_org=cast.root)  # fmt: skip
    campaign = services.campaign_create(actor=cast.committee_admin, title="专题调研", description="围绕作风建设开展调研。",
                                        assigning_org=cast.root, orgs=[cast.branch_a1, cast.branch_b1],
                                        due_on=date(2026, 5, 29))  # fmt: skip
    services.duty_list_create_from_template(actor=cast.committee_admin, org=cast.branch_a1, year=2026,
                                            assigning_org=cast.root)  # fmt: skip
    return [
        (cast.committee_admin, reverse("duties:board")),
        (cast.committee_admin, reverse("duties:board") + "?warning=red&sort=org&state=open"),
        (cast.committee_admin, reverse("duties:org_board", args=[cast.committee_a.pk])),
        (cast.secretary_a, reverse("duties:board")),
        (cast.member, reverse("duties:board")),
        (cast.leader, reverse("duties:board")),
        (cast.secretary_a, reverse("duties:detail", args=[duty.pk])),
        (cast.committee_admin, reverse("duties:detail", args=[duty.pk])),
        (cast.member, reverse("duties:detail", args=[duty.pk])),
        (cast.member, reverse("duties:detail", args=[sensitive.pk])),
        (cast.committee_admin, reverse("duties:create")),
        (cast.secretary_a, reverse("duties:create")),
        (cast.committee_admin, reverse("duties:campaign_create")),
        (cast.committee_admin, reverse("duties:campaigns")),
        (cast.secretary_a, reverse("duties:campaign", args=[campaign.pk])),
        (cast.secretary_a, reverse("duties:mine")),
        (cast.member, reverse("duties:mine")),
        (cast.committee_admin, reverse("duties:mine")),
        (cast.committee_admin, reverse("duties:lists")),
        (cast.member, reverse("duties:lists")),
    ]


def test_it_renders_every_page_without_inline_scripts_styles_or_handlers(client, cast):
    for user, url in _pages(cast):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "style=" not in html, url
        assert not INLINE_SCRIPT.search(html), url
        assert not INLINE_HANDLER.search(html), url
        assert 'lang="zh-CN"' in html


def test_it_sends_anonymous_visitors_to_the_login_page(client, cast):
    for _user, url in _pages(cast):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
