"""Shared helpers of the search tests: records of each searchable module, and the search call."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from sizheng.duties import services as duties
from sizheng.library.models import Material, MaterialKind, MaterialState
from sizheng.life import services as life
from sizheng.life.models import MeetingKind

URL = "/search/"
API = "/api/v1/search"


def meeting(cast, org, topic: str, **fields):
    """A submitted meeting of the org, recorded by the committee admin a week ago."""
    start = timezone.now() - timedelta(days=7)
    return life.meeting_record(
        actor=cast.committee_admin,
        org=org,
        kind=MeetingKind.THEME_DAY,
        topic=topic,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        place="会议室",
        **fields,
    )


def duty(cast, org, title: str, **fields):
    """A duty assigned to the org (by its parent) through the duties service."""
    return duties.duty_open(
        org=org, title=title, due_on=date(2030, 6, 30), actor=cast.committee_admin, **fields
    )


def material(cast, org, title: str, *, audience=None, state=MaterialState.PUBLISHED, **fields):
    """A library article of the org (published unless told otherwise)."""
    return Material.objects.create(
        kind=MaterialKind.ARTICLE,
        title=title,
        org=org,
        audience_org=audience,
        state=state,
        published_on=date(2026, 3, 1),
        body="正文",
        **fields,
    )


def page(client, user, q: str):
    """The search page's groups for ``q`` as {kind: [titles]} (kinds with hits only), and the response."""
    client.force_login(user)
    response = client.get(URL, {"q": q})
    assert response.status_code == 200, response.content.decode()[:500]
    found = {g.kind: [h.title for h in g.hits] for g in response.context["groups"] if g.hits}
    return found, response


@pytest.fixture
def search(client):
    def run(user, q: str) -> dict[str, list[str]]:
        return page(client, user, q)[0]

    return run
