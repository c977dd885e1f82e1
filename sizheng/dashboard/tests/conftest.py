"""Shared helpers of the dashboard tests: a fixed day, compliance data (one branch complies, one
lags), the value cache emptied around each test, and the query counter of a trivial page."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sizheng.dashboard import metrics as dash_metrics
from sizheng.life import services as life
from sizheng.life.models import MeetingKind

SH = ZoneInfo("Asia/Shanghai")
# Q2 is over, nothing of Q3 is due yet: a quarter's figures are those of Q2 for the latest quarter.
TODAY = datetime(2026, 7, 15, 10, tzinfo=SH)
YEAR = 2026


@pytest.fixture(autouse=True)
def _fresh_values():
    cache.clear()
    dash_metrics.COMPUTED.clear()
    yield
    cache.clear()
    dash_metrics.COMPUTED.clear()


def _at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SH)


def record(cast, org, kind: str, day: date):
    """A submitted meeting of the org (its roster as attendees, all present)."""
    return life.meeting_record(
        actor=cast.committee_admin,
        org=org,
        kind=kind,
        topic="专题学习",
        starts_at=_at(day),
        ends_at=_at(day, 11),
        place="会议室",
    )


def comply_quarter(cast, org, year: int, quarter: int) -> None:
    """Everything a branch owes in a quarter: each month's 支委会 and 主题党日, the quarter's 党员大会
    and 党课 (the national defaults)."""
    first = 3 * (quarter - 1) + 1
    for month in range(first, first + 3):
        record(cast, org, MeetingKind.COMMITTEE_MEETING, date(year, month, 8))
        record(cast, org, MeetingKind.THEME_DAY, date(year, month, 20))
    record(cast, org, MeetingKind.MEMBERS_MEETING, date(year, first + 1, 12))
    record(cast, org, MeetingKind.PARTY_LECTURE, date(year, first + 1, 14))


class Counter:
    """Counts the queries of a request."""

    def __init__(self, client):
        self.client = client

    def __call__(self, url: str, **kwargs) -> tuple[int, object]:
        with CaptureQueriesContext(connection) as ctx:
            response = self.client.get(url, **kwargs)
        return len(ctx.captured_queries), response


@pytest.fixture
def count(client):
    return Counter(client)
