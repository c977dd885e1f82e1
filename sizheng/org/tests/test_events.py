"""Roster events reach subscribers inside the service's transaction."""

from datetime import date

from sizheng.org import events, services


def test_it_emits_position_changes_and_transfers(cast):
    seen = []

    def handler(*, person, actor, **kw):
        seen.append((person.pk, sorted(kw)))

    events.subscribe(events.POSITION_CHANGED)(handler)
    events.subscribe(events.TRANSFERRED)(handler)
    try:
        person = cast.person(cast.member)
        services.person_update(
            actor=cast.committee_admin, person=person, version=person.version, position="二级主任科员"
        )
        services.person_update(
            actor=cast.committee_admin, person=person, version=person.version, education="硕士"
        )
        services.person_transfer(
            actor=cast.committee_admin,
            person=person,
            on=date(2026, 11, 2),
            unit=cast.unit_a,
            office=None,
            org=cast.branch_a2,
        )
    finally:
        events._HANDLERS[events.POSITION_CHANGED].remove(handler)
        events._HANDLERS[events.TRANSFERRED].remove(handler)
    assert seen == [(person.pk, []), (person.pk, ["move"])]
