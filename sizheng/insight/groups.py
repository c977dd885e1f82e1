"""A survey's fixed hierarchy of reporting groups (ARCHITECTURE §5) and its audience.

Two hierarchies, chosen per survey and never mixed with free filters:

* ``org`` — the audience orgs' subtrees: ``org:<id>``, parent = the parent org when it is in the
  set. A party member's leaf group is their org; a staff member who is not a party member counts in
  the org directly holding their unit (the unit's depth-1 org, not a 党组) as a direct member.
* ``unit`` — audience units and their offices: ``unit:<id>`` → ``office:<id>``; a person without an
  office is a direct member of the unit.

The audience is everyone not left who belongs to an audience org's subtree or an audience unit.
Both functions cost a fixed number of queries whatever the size of the audience.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from sizheng.insight.models import Hierarchy, Survey
from sizheng.org.models import Office, Org, Person, Unit


@dataclass(frozen=True)
class Group:
    """One reporting group: ``id`` like "org:12", its parent id (or None) and a display name."""

    id: str
    parent_id: str | None
    name: str


def _audience_orgs(survey: Survey) -> list[Org]:
    roots = list(survey.audience_orgs.all())
    if not roots and not survey.audience_units.exists():
        roots = [survey.owner_org]
    if not roots:
        return []
    q = Q(pk__in=[])
    for r in roots:
        q |= Q(path__startswith=r.path)
    return list(Org.objects.filter(q).exclude(kind=Org.Kind.LEADING_GROUP).order_by("path"))


def _audience_units(survey: Survey) -> list[Unit]:
    return list(survey.audience_units.all().order_by("order", "pk"))


def audience_q(survey: Survey) -> Q:
    """The Q selecting the people a survey asks (current staff of its audience orgs and units)."""
    q = Q(pk__in=[])
    orgs = _audience_orgs(survey)
    for r in survey.audience_orgs.all() or ([survey.owner_org] if not survey.audience_units.exists() else []):
        q |= Q(org__path__startswith=r.path)
    if orgs:
        # Non-members count in the depth-1 org holding their unit, when that org is in the audience.
        holding = [o.pk for o in orgs if o.depth == 1]
        if holding:
            q |= Q(org__isnull=True, unit__orgs__in=holding)
    units = _audience_units(survey)
    if units:
        q |= Q(unit__in=units)
    return Q(left_on__isnull=True) & q


def audience(survey: Survey):
    """The people a survey asks."""
    return Person.objects.filter(audience_q(survey)).distinct()


def groups(survey: Survey) -> list[Group]:
    """The survey's reporting groups, parents before children."""
    if survey.hierarchy == Hierarchy.UNIT:
        units = _audience_units(survey)
        if not units:
            org_units = {u for o in _audience_orgs(survey) for u in o.units.all()}
            units = sorted(org_units, key=lambda u: (u.order, u.pk))
        result = [Group(f"unit:{u.pk}", None, u.short_name or u.name) for u in units]
        offices = Office.objects.filter(unit__in=units).order_by("unit_id", "order", "pk")
        result += [Group(f"office:{o.pk}", f"unit:{o.unit_id}", o.name) for o in offices]
        return result
    orgs = _audience_orgs(survey)
    ids = {o.pk for o in orgs}
    return [Group(f"org:{o.pk}", f"org:{o.parent_id}" if o.parent_id in ids else None, o.name) for o in orgs]


def leaf_group(survey: Survey, person: Person) -> str | None:
    """The reporting group a respondent's answer counts in (None: not in the survey's hierarchy)."""
    return leaf_groups(survey, [person])[person.pk]


def leaf_groups(survey: Survey, people) -> dict[int, str | None]:
    """``leaf_group`` for many people in a fixed number of queries (audience counts per wave)."""
    people = list(people)
    if survey.hierarchy == Hierarchy.UNIT:
        return {p.pk: (f"office:{p.office_id}" if p.office_id else f"unit:{p.unit_id}") for p in people}
    holders: dict[int, int] = {}
    # A unit held by several top-level orgs (rare) counts under the first by id, as everywhere.
    for unit_id, org_id in (
        Org.objects.filter(depth=1, units__in={p.unit_id for p in people if not p.org_id})
        .exclude(kind=Org.Kind.LEADING_GROUP)
        .order_by("pk")
        .values_list("units", "pk")
    ):
        holders.setdefault(unit_id, org_id)
    return {
        p.pk: (
            f"org:{p.org_id}" if p.org_id else (f"org:{holders[p.unit_id]}" if p.unit_id in holders else None)
        )
        for p in people
    }
