"""Small builders for the volunteer tests (writes go through the services, like the app)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sizheng.core.models import AuditEvent
from sizheng.volunteer import services
from sizheng.volunteer.models import Activity, Application, Campaign, CivilityKind

SH = ZoneInfo("Asia/Shanghai")
# A Tuesday in an ordinary week of 2026.
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=SH)
START = datetime(2026, 3, 17, 9, 0, tzinfo=SH)  # a week later, 9:00–12:00


def campaign() -> Campaign:
    """The first default campaign (the migration installs the 十大志愿行动)."""
    return Campaign.objects.order_by("order", "pk").first()


def activity(cast, *, org=None, start=START, hours: int = 3, capacity=None, open_now=True, actor=None,
             title="文明交通劝导") -> Activity:  # fmt: skip
    """An activity of branch A1 (by default) a week ahead, open for sign-up."""
    return services.activity_create(
        actor=actor or cast.secretary_a, org=org or cast.branch_a1, campaign=campaign(), title=title,
        starts_at=start, ends_at=start + timedelta(hours=hours), place="人民路与解放路路口",
        planned_hours=Decimal(hours), capacity=capacity, open_now=open_now,
    )  # fmt: skip


def after(act: Activity, days: int = 1) -> datetime:
    """A moment ``days`` after the activity ended."""
    return act.ends_at + timedelta(days=days)


def application(cast, *, kind=CivilityKind.UNIT, unit=None, office=None, person=None, actor=None,
                year=2026) -> Application:  # fmt: skip
    """A unit A application (by default) being filled in, started by its 党务干部."""
    return services.application_create(
        actor=actor or cast.org_admin,
        kind=kind,
        year=year,
        unit=unit or cast.unit_a,
        office=office,
        person=person,
    )


def fill(app: Application, actor) -> Application:
    """Write an evidence note on every checklist item."""
    notes = {i.pk: f"已落实第{i.order}项。" for i in app.items.all()}
    return services.application_update(
        actor=actor, application=app, version=app.version, summary="创建情况概述", notes=notes
    )


def audited(action: str, obj=None) -> bool:
    qs = AuditEvent.objects.filter(action=action)
    if obj is not None:
        qs = qs.filter(object_id=str(obj.pk))
    return qs.exists()
