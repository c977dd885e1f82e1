"""A team member's training record, computed — never entered (一次填报，多处使用).

The record is the study sessions and meetings the person attended as **present** that count as study
(``study.hours.study_meetings``: every counted 中心组学习, 党课, 主题党日, and any other meeting linked
as a study session), with each meeting's 学时; the year's total and requirement come from
``study.hours.standing`` — the one definition of training hours. Trainings outside the platform
(上级调训) are a separate, clearly labelled list and never add to the 学时.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from sizheng.life.models import Attendance, AttendanceStatus, Meeting
from sizheng.study import hours


@dataclass
class TrainingRow:
    """One attended study session or meeting (T0: what, when, where, how long)."""

    meeting_id: int
    starts_at: datetime
    org_id: int
    org_name: str
    kind: str
    kind_label: str
    topic: str
    hours: float
    visible: bool = False  # whether the viewer may open the meeting's own page


@dataclass
class TrainingRecord:
    """The year's computed record: sessions attended, the 学时 total and the requirement."""

    person_id: int
    year: int
    rows: list[TrainingRow]
    hours: float
    required: int
    reached: bool

    @property
    def sessions(self) -> int:
        return len(self.rows)


def training_record(person_id: int, year: int, *, viewer=None) -> TrainingRecord:
    """The person's computed training record for a year (four queries; five with a ``viewer``)."""
    rows = [
        TrainingRow(
            meeting_id=a.meeting_id,
            starts_at=timezone.localtime(a.meeting.starts_at),
            org_id=a.meeting.org_id,
            org_name=a.meeting.org.name,
            kind=a.meeting.kind,
            kind_label=a.meeting.get_kind_display(),
            topic=a.meeting.topic,
            hours=a.meeting.hours,
        )
        for a in Attendance.objects.filter(
            person_id=person_id,
            status=AttendanceStatus.PRESENT,
            meeting__in=hours.study_meetings(year).values("pk"),
        )
        .select_related("meeting", "meeting__org")
        .order_by("meeting__starts_at", "meeting_id")
    ]
    if viewer is not None and rows:
        seen = set(
            Meeting.objects.visible_to(viewer)
            .filter(pk__in=[r.meeting_id for r in rows])
            .values_list("pk", flat=True)
        )
        for r in rows:
            r.visible = r.meeting_id in seen
    standing = hours.standing([person_id], year)[person_id]
    return TrainingRecord(person_id, year, rows, standing["hours"], standing["required"], standing["reached"])
