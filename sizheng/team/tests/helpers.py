"""Small builders for the team tests: meetings go through the life/study services, like the apps."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sizheng.core.models import AuditEvent
from sizheng.life import services as life
from sizheng.life.models import MeetingKind
from sizheng.org.models import Person, PoliticalStatus
from sizheng.team import services
from sizheng.team.models import TeamRole

SH = ZoneInfo("Asia/Shanghai")


def at(d: date, hour: int = 9) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=SH)


def meeting(cast, day: date, *, hours: int = 4, kind: str = MeetingKind.PARTY_LECTURE, org=None, attendance=None,
            topic: str = "学习党的创新理论", submit: bool = True):  # fmt: skip
    """A meeting of branch A1 (by default) recorded by its secretary through the life services."""
    return life.meeting_record(
        actor=cast.secretary_a, org=org or cast.branch_a1, kind=kind, topic=topic, starts_at=at(day, 9),
        ends_at=at(day, 9 + hours), place="三楼会议室", submit=submit, attendance=attendance or {},
    )  # fmt: skip


def enlist(cast, user=None, *, org=None, role=TeamRole.PARTY_CADRE, full_time=False, covers=None, since=None,
           actor=None, person=None):  # fmt: skip
    """Put a cast member (the member 刘洋 by default) on a register through the service."""
    person = person or cast.person(user or cast.member)
    return services.member_create(
        actor=actor or cast.committee_admin, person=person, org=org or cast.branch_a1, role=role,
        since=since or date(2025, 1, 1), is_full_time=full_time, covers=covers,
    )  # fmt: skip


def fill(org, unit, n: int, *, status=PoliticalStatus.CPC_MEMBER) -> list[Person]:
    """n extra party members of an org, in one insert (the count is all the rules read)."""
    return Person.objects.bulk_create(
        [Person(name=f"党员{org.pk}-{i}", unit=unit, org=org, political_status=status) for i in range(n)]
    )


def audited(action: str, obj=None) -> bool:
    qs = AuditEvent.objects.filter(action=action)
    if obj is not None:
        qs = qs.filter(object_id=str(obj.pk))
    return qs.exists()
