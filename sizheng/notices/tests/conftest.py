"""Fixtures of the notices tests: a fixed day, a private media root, and notices made through the services.

In the cast, A1 has two post holders (secretary_a 王建国, org_admin 赵敏 / 党务干部) and one plain
member (dangyuan); B1 has secretary_b; C (the outsider's branch) and the other orgs have no posts.
"""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from sizheng.notices import services
from sizheng.notices.models import Notice

TODAY = date(2026, 6, 15)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


def draft(cast, *, actor=None, org=None, audience=(), title="关于开展主题党日活动的通知", **kw) -> Notice:
    """A draft through the service (by the committee admin from the root unless told)."""
    kw.setdefault("body", "各党组织：\n请于六月底前开展主题党日活动。\n<b>特此通知</b>")
    return services.notice_create(
        actor=actor or cast.committee_admin,
        org=org or cast.root,
        title=title,
        audience=list(audience),
        **kw,
    )


def published(cast, **kw) -> Notice:
    """A published notice (the whole tree by default)."""
    notice = draft(cast, **kw)
    services.notice_publish(
        actor=kw.get("actor") or cast.committee_admin, notice=notice, version=notice.version
    )
    notice.refresh_from_db()
    return notice
