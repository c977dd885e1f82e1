"""Roster export: the people list as an .xlsx ledger in exactly the columns the importer reads.

Identifiers (身份证号, phone) are masked unless the export is sensitive, and even then only for the
people whose identifiers the actor may see (``access.sees_identifiers``). Every export writes an
audit row (``roster_export`` or ``roster_export_sensitive``) with counts and the filter, never
identifiers. A sensitive export imported again changes nothing (the round trip is tested).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.utils import timezone

from sizheng.core import audit
from sizheng.core.crypto import mask
from sizheng.core.xlsx import write_ledger
from sizheng.org import access
from sizheng.org.models import Person
from sizheng.org.roster import EXPORT_HEADERS

ITERATOR_CHUNK = 1000


def roster_row(person: Person, *, reveal: bool) -> list[Any]:
    """One person in the roster's columns; identifiers in full only when ``reveal``."""
    birth: Any = person.birth_date
    if birth is not None and person.birth_month_only:
        birth = f"{birth.year}.{birth.month:02d}"  # read back as month precision
    id_number = person.id_number if reveal else mask(person.id_number, "id_card")
    phone = person.phone if reveal else mask(person.phone, "phone")
    return [
        person.name,
        person.get_gender_display() if person.gender else "",
        person.ethnicity,
        person.native_place,
        birth,
        id_number,
        person.education,
        person.work_started_on,
        person.joined_on,
        person.confirmed_on,
        person.get_political_status_display(),
        person.unit.name,
        person.office.name if person.office_id else "",
        person.org.code if person.org_id else "",
        person.position,
        person.category,
        phone,
        person.is_leader,
    ]


def roster_rows(
    people_qs, *, sensitive: bool, reveal: Callable[[Person], bool] | None = None
) -> Iterator[list[Any]]:
    """Stream the rows of ``people_qs`` (same columns as the importer reads).

    With ``sensitive`` the identifiers of each person for whom ``reveal(person)`` holds are written
    in full (everyone's when ``reveal`` is None); without it every identifier is masked.
    """
    qs = people_qs.select_related("unit", "office", "org")
    for person in qs.iterator(chunk_size=ITERATOR_CHUNK):
        yield roster_row(person, reveal=sensitive and (reveal is None or reveal(person)))


def identifier_rule(actor) -> Callable[[Person], bool] | None:
    """``access.sees_identifiers`` for the actor, asked once per org (or per unit for non-members).

    The answer depends only on the person's org path (or, without an org, their unit), so a
    30,000-row export asks the scope rule a few hundred times, not 30,000. None for the system.
    """
    if actor is None:
        return None
    seen: dict[tuple[str, int | None], bool] = {}

    def reveal(person: Person) -> bool:
        key = ("org", person.org_id) if person.org_id else ("unit", person.unit_id)
        if key not in seen:
            seen[key] = access.sees_identifiers(actor, person)
        return seen[key]

    return reveal


def roster_export(*, actor, people_qs, sensitive: bool, filters: dict | None = None) -> bytes:
    """The .xlsx bytes of a roster export, with its audit row (counts and the filter only)."""
    rule = identifier_rule(actor) if sensitive else None
    counts = {"rows": 0, "revealed": 0}

    def reveal(person: Person) -> bool:
        shown = rule is None or rule(person)
        counts["revealed"] += shown
        return shown

    def rows() -> Iterator[list[Any]]:
        for row in roster_rows(people_qs, sensitive=sensitive, reveal=reveal):
            counts["rows"] += 1
            yield row

    now = timezone.localtime()
    who = actor.get_username() if getattr(actor, "is_authenticated", False) else "系统"
    kind = "含完整身份证号和电话，请妥善保管" if sensitive else "身份证号和电话已脱敏"
    data = write_ledger(
        title="人员名册",
        headers=EXPORT_HEADERS,
        rows=rows(),
        sheet_name="人员名册",
        note=f"导出时间：{now:%Y-%m-%d %H:%M}　导出人：{who}　{kind}",
    )
    detail = {"count": counts["rows"], "filter": dict(filters or {})}
    if sensitive:
        detail["revealed"] = counts["revealed"]
        audit.record(actor, "roster_export_sensitive", None, detail)
    else:
        audit.record(actor, "roster_export", None, detail)
    return data
