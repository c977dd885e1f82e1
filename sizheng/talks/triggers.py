"""Triggered talks (四必谈, BR-TALK-2): an event opens a "talk due" duty; a talk with the person closes it.

* Roster events (``org.events``) open triggers by themselves: a position change (reason
  ``position_change``, occurred today) and a transfer (``transfer``, occurred on the move's date,
  in the *new* org). A secretary records a major family change, organisational handling or warning
  signs through the form (``trigger_open``).
* A trigger lives in the person's org (a non-member's: the unit's root org). When the person is
  that org's 书记, it lives in the org above — a secretary is talked with by the level above.
* Its duty is due ``settings.TALK_TRIGGER_WORKDAYS`` workdays after the event, assigned to the org
  and owned by its 书记; the title is the generic "谈心谈话提醒" and there is no description
  (``duties`` forces both for ``SourceKind.TALK_TRIGGER``): the reason is T2 and shown only to the
  书记 of the trigger's org.
* ``on_talk_held(talk)`` (called by ``talks.services`` inside its transaction) marks the open
  triggers of the talk's counterparts done — a trigger is about a talk *with* the person, so the
  person's own talks as initiator do not close it — when the talk was held on or after the event,
  and closes their duties (销号) with the talk's number as the evidence.
* A duty closed by hand (the owner reports, the assigner passes) marks its trigger done without a
  talk (``on_close``).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sizheng.core import audit, calendar
from sizheng.duties import services as duty_services
from sizheng.duties.models import SourceKind
from sizheng.org import events
from sizheng.org.models import Org, OrgRole, Person
from sizheng.talks.models import Status, Talk, TalkParticipant, TalkTrigger, TriggerReason

log = logging.getLogger(__name__)

DUTY_TITLE = "谈心谈话提醒"
# Reasons a secretary records by hand; position changes and transfers come from the roster.
MANUAL_REASONS = (TriggerReason.FAMILY_CHANGE, TriggerReason.DISCIPLINE, TriggerReason.WARNING)
# How far ahead an event may be dated: a transfer may be entered up to a year ahead (org.services).
AHEAD = timedelta(days=366)


def unit_root_org(unit_id: int) -> Org | None:
    """The unit's root party org (the depth-1 org covering the unit, not its 党组)."""
    return (
        Org.objects.filter(units=unit_id, depth=1, dissolved_on__isnull=True)
        .exclude(kind=Org.Kind.LEADING_GROUP)
        .order_by("path")
        .first()
    )


def secretary_of(org: Org, on: date | None = None) -> Person | None:
    """The org's 书记 in office on a day (None when the post is vacant)."""
    on = on or timezone.localdate()
    post = (
        OrgRole.objects.filter(
            org=org, title=OrgRole.Title.SECRETARY, starts_on__lte=on, person__left_on__isnull=True
        )
        .exclude(ends_on__lt=on)
        .select_related("person")
        .order_by("-starts_on")
        .first()
    )
    return post.person if post else None


def trigger_org(person: Person) -> Org | None:
    """Where a trigger about the person lives (see the module docstring)."""
    org = person.org if person.org_id else unit_root_org(person.unit_id)
    if org is None:
        return None
    secretary = secretary_of(org)
    if secretary is not None and secretary.pk == person.pk and org.parent_id:
        return org.parent
    return org


@transaction.atomic
def trigger_open(*, actor, person: Person, reason: str, occurred_on: date, note: str = "") -> TalkTrigger:
    """Open a talk trigger for the person and its "talk due" duty; an open one for the same reason is reused."""
    if reason not in TriggerReason.values:
        raise ValidationError({"reason": "请选择必谈原因。"})
    if person.left_on is not None:
        raise ValidationError({"person": "该同志已离开本单位，无需登记必谈提醒。"})
    if occurred_on > timezone.localdate() + AHEAD:
        raise ValidationError({"occurred_on": "发生日期不能晚于一年以后。"})
    org = trigger_org(person)
    if org is None:
        raise ValidationError(
            {"person": "该同志所在单位还没有党组织，无法登记必谈提醒，请先在组织管理中建立党组织。"}
        )
    existing = TalkTrigger.objects.filter(
        person=person, org=org, reason=reason, state=TalkTrigger.State.OPEN
    ).first()
    if existing is not None:
        return existing
    due_on = calendar.add_workdays(occurred_on, settings.TALK_TRIGGER_WORKDAYS)
    trigger = TalkTrigger.objects.create(
        person=person,
        org=org,
        reason=reason,
        note=note.strip(),
        occurred_on=occurred_on,
        due_on=due_on,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    duty = duty_services.duty_open(
        org=org,
        title=DUTY_TITLE,
        due_on=due_on,
        source=(SourceKind.TALK_TRIGGER, trigger.pk),
        actor=actor,
        owner=secretary_of(org),
    )
    trigger.duty_id = duty.pk
    trigger.save(update_fields=["duty_id"])
    # Ids only: the reason and the note are T2 and stay out of the audit log.
    audit.record(actor, "talk_trigger_open", trigger, {"person": person.pk, "org": org.pk, "duty": duty.pk})
    return trigger


def on_talk_held(talk: Talk) -> list[TalkTrigger]:
    """Mark the open triggers of the talk's counterparts done and close their duties (in the caller's transaction)."""
    if talk.status != Status.HELD:
        return []
    counterparts = TalkParticipant.objects.filter(talk=talk, is_initiator=False).values("person_id")
    triggers = list(
        TalkTrigger.objects.filter(
            person_id__in=counterparts, state=TalkTrigger.State.OPEN, occurred_on__lte=talk.held_on
        )
    )
    actor = talk.created_by
    for trigger in triggers:
        updated = TalkTrigger.objects.filter(pk=trigger.pk, state=TalkTrigger.State.OPEN).update(
            state=TalkTrigger.State.DONE, talk=talk
        )
        if not updated:
            continue
        trigger.state, trigger.talk = TalkTrigger.State.DONE, talk
        duty_services.duty_close_from_source(
            source=(SourceKind.TALK_TRIGGER, trigger.pk),
            actor=actor,
            evidence=f"已登记谈心谈话（记录编号 #{talk.pk}）。",
        )
        audit.record(actor, "talk_trigger_done", trigger, {"talk": talk.pk, "person": trigger.person_id})
    return triggers


@duty_services.on_close(SourceKind.TALK_TRIGGER)
def _duty_closed(duty) -> None:
    """A trigger's duty closed by hand: the trigger is done, without a recorded talk."""
    updated = TalkTrigger.objects.filter(pk=duty.source_id, state=TalkTrigger.State.OPEN).update(
        state=TalkTrigger.State.DONE
    )
    if updated:
        audit.record(
            None, "talk_trigger_done", (TalkTrigger._meta.label_lower, duty.source_id), {"duty": duty.pk}
        )


def _open_from_roster(actor, person: Person, reason: str, occurred_on: date) -> None:
    """Open a trigger for a roster event; a person the service refuses (no org, left) is skipped."""
    if person.left_on is not None:
        return
    try:
        with transaction.atomic():
            trigger_open(actor=actor, person=person, reason=reason, occurred_on=occurred_on)
    except ValidationError:
        # The roster change itself must go through; log ids only (the reason is T2).
        log.warning("talk trigger skipped person=%s", person.pk)


@events.subscribe(events.POSITION_CHANGED)
def _on_position_changed(*, person: Person, actor, **_: object) -> None:
    """职务变动必谈: a talk is due after a change of position."""
    _open_from_roster(actor, person, TriggerReason.POSITION_CHANGE, timezone.localdate())


@events.subscribe(events.TRANSFERRED)
def _on_transferred(*, person: Person, actor, move=None, **_: object) -> None:
    """调动必谈: a talk is due in the new org after a transfer."""
    occurred = move.on if move is not None else timezone.localdate()
    _open_from_roster(actor, person, TriggerReason.TRANSFER, occurred)
