"""Small builders for the study tests (meetings go through the life services, like the app)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sizheng.life import services as life
from sizheng.life.models import MeetingKind

SH = ZoneInfo("Asia/Shanghai")


def at(d: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=SH)


def lecture(cast, day: date, *, hours: int = 4, kind: str = MeetingKind.PARTY_LECTURE, org=None, submit=True,
            attendance=None, topic="学习党的创新理论"):  # fmt: skip
    """A branch A1 meeting of ``hours`` hours starting at 9:00 (half a day = 4)."""
    return life.meeting_record(
        actor=cast.secretary_a, org=org or cast.branch_a1, kind=kind, topic=topic,
        starts_at=at(day, 9), ends_at=at(day, 9 + hours), place="三楼会议室", submit=submit,
        attendance=attendance or {},
    )  # fmt: skip
