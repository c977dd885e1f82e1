"""Every org screen renders for its audience, in Chinese, with nothing the nonce CSP would block."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from sizheng.org.models import OrgRole

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>")
INLINE_HANDLER = re.compile(r"\son[a-z]+=", re.IGNORECASE)


def _pages(cast) -> list[tuple[object, str]]:
    member = cast.person(cast.member)
    post = OrgRole.objects.filter(org=cast.branch_a1).first()
    a1 = cast.branch_a1.pk
    return [
        (cast.committee_admin, reverse("org:tree")),
        (cast.member, reverse("org:tree")),
        (cast.leader, reverse("org:org_detail", args=[cast.committee_a.pk])),
        (cast.secretary_a, reverse("org:org_detail", args=[a1])),
        (cast.secretary_a, reverse("org:org_edit", args=[a1])),
        (cast.secretary_a, reverse("org:org_create", args=[a1])),
        (cast.secretary_a, reverse("org:org_role_assign", args=[a1])),
        (cast.secretary_a, reverse("org:org_role_end", args=[a1, post.pk])),
        (cast.secretary_a, reverse("org:org_handover", args=[a1])),
        (cast.org_admin, reverse("org:people")),
        (cast.org_admin, reverse("org:person_detail", args=[member.pk]) + "?reveal=1"),
        (cast.org_admin, reverse("org:person_create")),
        (cast.org_admin, reverse("org:person_edit", args=[member.pk])),
        (cast.org_admin, reverse("org:person_transfer", args=[member.pk])),
        (cast.secadmin, reverse("org:grants")),
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
