"""A finding closes its own duty when it is itself the evidence (e.g. a talk recorded)."""

from datetime import date

from sizheng.core.models import AuditEvent
from sizheng.duties import services
from sizheng.duties.models import DutyEvent, SourceKind, State


def test_it_closes_the_findings_open_duties_only(cast):
    duty = services.duty_open(
        org=cast.branch_a1, title="x", due_on=date(2030, 1, 7), source=(SourceKind.TALK_TRIGGER, 41)
    )
    other = services.duty_open(
        org=cast.branch_a1, title="x", due_on=date(2030, 1, 7), source=(SourceKind.TALK_TRIGGER, 42)
    )
    assert duty.title == "谈心谈话提醒" and duty.description == ""
    closed = services.duty_close_from_source(
        source=(SourceKind.TALK_TRIGGER, 41), actor=cast.secretary_a, evidence="已登记谈心谈话。"
    )
    assert [d.pk for d in closed] == [duty.pk]
    duty.refresh_from_db()
    other.refresh_from_db()
    assert duty.state == State.CLOSED and duty.closed_on is not None and duty.version == 2
    assert other.state == State.ASSIGNED
    assert DutyEvent.objects.filter(duty=duty, to_state=State.CLOSED, payload__auto=True).exists()
    assert AuditEvent.objects.filter(action="duty_auto_close", object_id=str(duty.pk)).exists()
    # A second call finds nothing open.
    assert (
        services.duty_close_from_source(source=(SourceKind.TALK_TRIGGER, 41), actor=None, evidence="x") == []
    )
