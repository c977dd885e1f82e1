"""Roster import: all-or-nothing upsert of a parsed roster by 身份证号 through the blind index.

``roster_import`` reads the file with ``roster.py``, matches units, offices and orgs from dicts
loaded once, fetches every existing person of the file in one query per 500 IDs, and runs every
check of ``services.person_validate`` on each row. If any row has an error nothing is written.
Otherwise new people are inserted with ``bulk_create`` (the encrypted fields go through the model
field, so they are stored encrypted) and existing people are changed through ``person_update``
and ``person_transfer`` (so transfers keep their history), all in one transaction.

The web flow's upload waits for its confirmation in the media storage (``store_upload`` /
``read_upload``), so the confirmation may run on another web machine.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from sizheng.core import audit, crypto
from sizheng.core.backup import STAGING_PREFIX
from sizheng.core.crypto import blind_index, mask
from sizheng.core.models import AuditEvent, Role
from sizheng.core.storage import media_storage
from sizheng.org import access, services
from sizheng.org.idcard import birth_date_from_id, normalize_id_number, validate_id_number
from sizheng.org.models import (
    ID_INDEX_PURPOSE,
    PARTY_STATUSES,
    Office,
    Org,
    Person,
    PersonMove,
    PoliticalStatus,
    Unit,
)
from sizheng.org.roster import (
    DATE_FIELDS,
    LABELS,
    CellError,
    ParsedRoster,
    RosterRow,
    issue,
    parse_roster,
    sort_issues,
)

PREVIEW_ROWS = 50
FETCH_CHUNK = 500
TRANSFER_REASON = "名册导入"
UPLOAD_MAX_AGE = 3600  # seconds an uploaded file waits for its confirmation
log = logging.getLogger(__name__)
MOVE_FIELDS = ("unit", "office", "org")
# Model fields that carry another column's error (the checkbox of month precision belongs to 出生日期).
_FIELD_COLUMN = {"birth_month_only": "birth_date", "id_index": "id_number"}


@dataclass
class ImportResult:
    """What an import did (or, in a dry run, would do): counts, errors, warnings and a preview."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)
    dry_run: bool = False
    rows: int = 0

    @property
    def ok(self) -> bool:
        """True when the file has no errors."""
        return not self.errors

    def as_dict(self) -> dict:
        """The JSON shape of the CLI and the API."""
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.errors,
            "warnings": self.warnings,
            "dry_run": self.dry_run,
        }


@dataclass
class _Plan:
    """What one row does: a new person, or changes and a move for an existing one."""

    row: int
    person: Person
    existing: bool
    changes: dict[str, Any]
    move: tuple[Unit, Office | None, Org | None] | None = None


# --- who may import where ---------------------------------------------------------------------


def may_import(user) -> bool:
    """May import a roster at all: an org_admin somewhere, or the committee admin."""
    scope = access.scope_of(user)
    return scope.has_everything(Role.COMMITTEE_ADMIN, Role.ORG_ADMIN) or bool(scope.paths(Role.ORG_ADMIN))


def importable_orgs(user):
    """Orgs a user may import members into (the choices of the upload form's default org)."""
    qs = Org.objects.active_on().exclude(kind=Org.Kind.LEADING_GROUP)
    scope = access.scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN, Role.ORG_ADMIN):
        return qs
    q = Q(pk__in=[])
    for path in scope.paths(Role.ORG_ADMIN):
        q |= Q(path__startswith=path)
    return qs.filter(q)


class _Scope:
    """The actor's import scope (ARCHITECTURE §4: roster import is the org_admin's): None means the system."""

    def __init__(self, actor, directory: _Directory) -> None:
        scope = access.scope_of(actor) if actor is not None else None
        self.everything = scope is None or scope.has_everything(Role.COMMITTEE_ADMIN, Role.ORG_ADMIN)
        self.paths = [] if scope is None else scope.paths(Role.ORG_ADMIN)
        # Non-members belong to a unit: in scope of whoever holds the unit's root org (as access.visible_person_q).
        self.unit_ids = {
            unit_id
            for org in directory.orgs
            if org.depth == 1 and org.kind != Org.Kind.LEADING_GROUP and self.org_ok(org)
            for unit_id in directory.org_units[org.pk]
        }

    def org_ok(self, org: Org) -> bool:
        return self.everything or any(org.path.startswith(p) for p in self.paths)

    def placement_ok(self, org: Org | None, unit_id: int) -> bool:
        return self.org_ok(org) if org is not None else (self.everything or unit_id in self.unit_ids)


# --- units, offices and orgs by name ------------------------------------------------------------


class _Directory:
    """Units, offices and orgs loaded once per import (four queries) and matched by name or code."""

    def __init__(self) -> None:
        self.units = list(Unit.objects.all())
        self.unit_by_id = {u.pk: u for u in self.units}
        self.unit_by_name = {u.name: u for u in self.units}
        self.units_by_short: dict[str, list[Unit]] = defaultdict(list)
        for u in self.units:
            if u.short_name:
                self.units_by_short[u.short_name].append(u)
        self.offices: dict[int, dict[str, Office]] = defaultdict(dict)
        for office in Office.objects.all():
            self.offices[office.unit_id][office.name] = office
        self.orgs = list(Org.objects.all())
        self.org_by_code = {o.code: o for o in self.orgs}
        self.org_by_code_ci = {o.code.upper(): o for o in self.orgs}
        self.orgs_by_name: dict[str, list[Org]] = defaultdict(list)
        for o in self.orgs:
            self.orgs_by_name[o.name.removeprefix("中共")].append(o)
        self.org_units: dict[int, set[int]] = defaultdict(set)
        for org_id, unit_id in Org.units.through.objects.values_list("org_id", "unit_id"):
            self.org_units[org_id].add(unit_id)
        self.today = timezone.localdate()

    def unit(self, text: str) -> Unit:
        """The unit a cell names, by full name or (unambiguous) short name."""
        unit = self.unit_by_name.get(text)
        if unit is None:
            matches = self.units_by_short.get(text, [])
            if len(matches) > 1:
                names = "、".join(u.name for u in matches)
                raise CellError(f"简称“{text}”对应多个单位（{names}），请填写单位全称。")
            unit = matches[0] if matches else None
        if unit is None:
            raise CellError(f"找不到单位“{text}”，请填写系统中登记的单位全称或简称。")
        if not unit.is_active:
            raise CellError(f"单位“{unit.name}”已停用，不能向其导入人员。")
        return unit

    def office(self, unit: Unit, text: str) -> Office:
        """The office a cell names within the unit."""
        offices = self.offices.get(unit.pk, {})
        if text in offices:
            return offices[text]
        if offices:
            valid = "、".join(list(offices)[:30])
            raise CellError(f"“{unit.name}”没有名为“{text}”的处室；可填写：{valid}。")
        raise CellError(f"“{unit.name}”还没有登记任何处室，请先在系统中添加处室或清空该单元格。")

    def org(self, text: str) -> Org:
        """The org a cell names, by code or by exact name (with or without the leading “中共”)."""
        org = self.org_by_code.get(text) or self.org_by_code_ci.get(text.upper())
        if org is None:
            matches = self.orgs_by_name.get(text.removeprefix("中共"), [])
            if len(matches) > 1:
                codes = "、".join(o.code for o in matches)
                raise CellError(f"名为“{text}”的党组织有多个（代码 {codes}），请改填党组织代码。")
            org = matches[0] if matches else None
        if org is None:
            raise CellError(f"找不到党组织“{text}”，请填写系统中登记的党组织代码或全称。")
        if not org.is_active_on(self.today):
            raise CellError(f"党组织“{org.name}”已撤销，不能向其导入人员。")
        if org.kind == Org.Kind.LEADING_GROUP:
            raise CellError(f"“{org.name}”是党组，不直接管理党员；请填写党员所在的党支部或党委。")
        return org


# --- the import -------------------------------------------------------------------------------


def roster_import(
    *, actor, source: Any, default_org: Org | str | None = None, dry_run: bool = False
) -> ImportResult:
    """Import a roster file all-or-nothing; ``actor`` None is the system (CLI), else a user's scope applies.

    ``default_org`` (an Org or its code) is the org of party members whose row names none and who
    have none yet. With ``dry_run`` nothing is written and the counts say what would happen.
    """
    parsed = parse_roster(source)
    result = ImportResult(dry_run=dry_run, rows=len(parsed.rows), warnings=list(parsed.warnings))
    if not parsed.rows:
        # No header, a required column missing, or nothing below the header: nothing to match.
        result.errors = sort_issues(parsed.errors or [issue(parsed.header_row, "", "表头下面没有人员数据。")])
        return result
    directory = _Directory()
    scope = _Scope(actor, directory)
    errors = list(parsed.errors)
    fallback = _default_org(default_org, directory, scope, errors)
    plans = _plan(parsed, directory, scope, fallback, errors)
    result.errors = sort_issues(errors, parsed.columns)
    result.created = sum(1 for p in plans if not p.existing)
    result.updated = sum(1 for p in plans if p.existing and (p.changes or p.move))
    result.unchanged = sum(1 for p in plans if p.existing and not (p.changes or p.move))
    result.preview = [_preview(p) for p in plans if not p.existing or p.changes or p.move][:PREVIEW_ROWS]
    if result.errors:
        # All-or-nothing: a real run with errors writes nothing, so it reports nothing done.
        if not dry_run:
            result.created = result.updated = result.unchanged = 0
        return result
    if not dry_run:
        _write(actor, plans, result)
    return result


def _default_org(
    value: Org | str | None, directory: _Directory, scope: _Scope, errors: list[dict]
) -> Org | None:
    """The ``--org`` fallback, checked like a cell (it must exist, be active and be in scope)."""
    if value is None or value == "":
        return None
    try:
        org = directory.org(value.code if isinstance(value, Org) else str(value).strip())
    except CellError as exc:
        errors.append(issue(None, "", f"默认党组织有误：{exc}"))
        return None
    if not scope.org_ok(org):
        errors.append(issue(None, "", "您无权向所选的默认党组织导入人员。"))
        return None
    return org


def _existing_people(parsed: ParsedRoster) -> dict[str, Person]:
    """Existing people of the file by blind index: one query per ``FETCH_CHUNK`` IDs."""
    indexes = sorted({_index(r.values["id_number"]) for r in parsed.rows if r.values.get("id_number")})
    found: dict[str, Person] = {}
    for start in range(0, len(indexes), FETCH_CHUNK):
        chunk = indexes[start : start + FETCH_CHUNK]
        for person in Person.objects.filter(id_index__in=chunk).select_related("unit", "office", "org"):
            found[person.id_index] = person
    return found


def _index(id_number: str) -> str:
    return blind_index(normalize_id_number(id_number), purpose=ID_INDEX_PURPOSE)


def _plan(parsed: ParsedRoster, directory: _Directory, scope: _Scope, fallback: Org | None,
          errors: list[dict]) -> list[_Plan]:  # fmt: skip
    """Check every row and work out what it does; errors are appended, rows with errors get no plan."""
    existing = _existing_people(parsed)
    # Cells the parser already found unreadable keep that message; rows with one get no plan.
    taken = {(e["row"], e["column"]) for e in errors}
    failed = {row for row, _ in taken}
    id_column = parsed.column("id_number")
    first_row: dict[str, int] = {}
    plans = []
    for record in parsed.rows:
        number = record.values.get("id_number")
        if not number:
            if (record.row, id_column) not in taken:
                errors.append(issue(record.row, id_column, "身份证号为必填项，用于识别人员。"))
            continue
        key = _index(number)
        if key in first_row:
            message = f"身份证号与第 {first_row[key]} 行重复，同一人只能出现一次。"
            errors.append(issue(record.row, id_column, message))
            continue
        first_row[key] = record.row
        row_errors: dict[str, str] = {}
        plan = _plan_row(record, parsed, directory, scope, fallback, existing.get(key), row_errors)
        errors.extend(issue(record.row, c, m) for c, m in row_errors.items() if (record.row, c) not in taken)
        if plan is not None and not row_errors and record.row not in failed:
            plans.append(plan)
    return plans


def _add(row_errors: dict[str, str], column: str, message: str) -> None:
    """One message per cell: the first (most specific) problem of a column is the one reported."""
    row_errors.setdefault(column, message)


def _plan_row(
    record: RosterRow,
    parsed: ParsedRoster,
    directory: _Directory,
    scope: _Scope,
    fallback: Org | None,
    person: Person | None,
    row_errors: dict[str, str],
) -> _Plan | None:
    """Resolve a row's unit, office and org, apply it to a candidate and run the person checks."""
    values = _field_values(record)
    col = parsed.column
    if person is not None and not scope.placement_ok(person.org, person.unit_id):
        _add(row_errors, col("id_number"), "该身份证号对应的人员不在您的管理范围内，不能通过导入修改。")
        return None
    if person is None and not values.get("name"):
        _add(row_errors, col("name"), "姓名为必填项。")
    if person is None and "birth_date" not in values and not validate_id_number(values["id_number"]):
        values["birth_date"], values["birth_month_only"] = birth_date_from_id(values["id_number"]), False
    status = values.get("political_status", person.political_status if person else PoliticalStatus.MASSES)
    is_member = status in PARTY_STATUSES

    unit = org = office = None
    bad = set()
    if "unit" in record.values:
        try:
            unit = directory.unit(record.values["unit"])
        except CellError as exc:
            _add(row_errors, col("unit"), str(exc))
            bad.add("unit")
    if "org" in record.values:
        try:
            org = directory.org(record.values["org"])
        except CellError as exc:
            _add(row_errors, col("org"), str(exc))
            bad.add("org")
    else:
        org = person.org if person is not None else None
        if org is None and is_member:
            org = fallback
    if unit is None and "unit" not in bad:
        if person is not None:
            unit = person.unit
        elif org is not None and len(directory.org_units[org.pk]) == 1:
            unit = directory.unit_by_id[next(iter(directory.org_units[org.pk]))]
        else:
            _add(row_errors, col("unit"), "请填写工作单位（或填写只属于一个单位的所在党组织）。")
    if "office" in record.values and unit is not None:
        try:
            office = directory.office(unit, record.values["office"])
        except CellError as exc:
            _add(row_errors, col("office"), str(exc))
            bad.add("office")
    elif person is not None and unit is not None and unit.pk == person.unit_id:
        office = person.office
    if unit is None:
        return None
    org_column = col("org") if "org" in record.values else col("unit")
    if org is not None and directory.org_units[org.pk] and unit.pk not in directory.org_units[org.pk]:
        _add(
            row_errors, org_column, f"所在党组织“{org.name}”不属于“{unit.name}”，请核对工作单位或所在党组织。"
        )
    if not scope.placement_ok(org, unit.pk):
        message = "您无权向该党组织导入人员。" if org is not None else "您无权向该单位导入人员。"
        _add(row_errors, org_column, message)
    # The person checks run even after a lookup error, so one pass reports every problem of the row;
    # a column already in error keeps its first message (a missing org is not also "党员必须有党组织").
    candidate = _candidate(person, values, unit, office, org)
    for name, messages in validate_person(candidate).items():
        _add(row_errors, col(_FIELD_COLUMN.get(name, name)) if name != NON_FIELD_ERRORS else "", messages[0])
    if row_errors or bad:
        return None
    if person is None:
        return _Plan(row=record.row, person=candidate, existing=False, changes=values)
    changes = {k: v for k, v in values.items() if not _same(k, getattr(person, k), v)}
    move = (unit, office, org) if (unit.pk, _pk(office), _pk(org)) != (
        person.unit_id, person.office_id, person.org_id) else None  # fmt: skip
    return _Plan(row=record.row, person=person, existing=True, changes=changes, move=move)


def validate_person(person: Person) -> dict[str, list[str]]:
    """Every check of ``services.person_validate``, without its four queries per row; {} when valid.

    ``person_validate`` is ``refresh_id_index`` + ``full_clean`` + the roster checks + one query for a
    duplicate 身份证号. Run 3,000 times that is 12,000 queries (a FK-exists query for each of unit,
    office and org, and the duplicate check), which made an import take tens of seconds. Here the
    unit, office and org come from the directory just loaded from the database, so they exist, and
    duplicates are settled by the one bulk fetch of the file's IDs plus the in-file duplicate check;
    everything else is the same code. Field and roster errors are merged so a row reports both.
    """
    person.refresh_id_index()
    errors: dict[str, list[str]] = {}
    for check in (
        lambda: person.full_clean(exclude=["user", "id_index", "unit", "office", "org"]),
        lambda: services.person_check(person),
    ):
        try:
            check()
        except ValidationError as exc:
            for name, messages in _messages(exc).items():
                errors.setdefault(name, []).extend(messages)
    return errors


def _field_values(record: RosterRow) -> dict[str, Any]:
    """The row's values as Person fields (dates unpacked; 出生日期 carries its month precision)."""
    values: dict[str, Any] = {}
    for name, value in record.values.items():
        if name in MOVE_FIELDS:
            continue
        if name in DATE_FIELDS:
            day, month_only = value
            values[name] = day
            if name == "birth_date":
                values["birth_month_only"] = month_only
        else:
            values[name] = value
    return values


def _candidate(
    person: Person | None, values: dict, unit: Unit, office: Office | None, org: Org | None
) -> Person:
    """An unsaved Person holding the row's outcome: a copy of the existing person with the changes applied."""
    base = {f: getattr(person, f) for f in services.PERSON_FIELDS} if person is not None else {}
    base.update(values, unit=unit, office=office, org=org)
    candidate = Person(**base)
    if person is not None:
        candidate.pk, candidate.version, candidate.user_id = person.pk, person.version, person.user_id
        candidate._state.adding = False  # so full_clean does not report the person's own pk as taken
    return candidate


def _same(name: str, old: Any, new: Any) -> bool:
    if name == "id_number":
        return normalize_id_number(old or "") == new
    return old == new


def _pk(obj) -> int | None:
    return obj.pk if obj is not None else None


def _messages(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}


def _preview(plan: _Plan) -> dict:
    """One preview line, identifiers masked."""
    person = plan.person
    unit, office, org = plan.move or (person.unit, person.office, person.org)
    changed = [LABELS.get(_FIELD_COLUMN.get(k, k), k) for k in plan.changes if k != "birth_month_only"]
    if plan.existing and plan.move:
        changed.append("调动")
    name = plan.changes.get("name", person.name)
    return {
        "row": plan.row,
        "action": "更新" if plan.existing else "新增",
        "name": name,
        "id_number": mask(plan.changes.get("id_number") or person.id_number, "id_card"),
        "unit": unit.name,
        "office": office.name if office else "",
        "org": org.name if org else "",
        "changes": list(dict.fromkeys(changed)) if plan.existing else [],
    }


def _write(actor, plans: list[_Plan], result: ImportResult) -> None:
    """Write every plan in one transaction; a change by someone else meanwhile rolls it all back into an error."""
    try:
        with transaction.atomic():
            _create(actor, [p for p in plans if not p.existing])
            _update(actor, [p for p in plans if p.existing and (p.changes or p.move)])
            audit.record(actor, "roster_import", None, {
                "created": result.created, "updated": result.updated, "unchanged": result.unchanged,
                "rows": result.rows,
            })  # fmt: skip
    except _Stale as exc:
        result.errors = [issue(exc.row, "", exc.message)]
        result.created = result.updated = result.unchanged = 0
    except IntegrityError:
        # A person with one of the file's 身份证号 was added by someone else after the checks.
        result.errors = [
            issue(None, "", "导入过程中有人同时登记了名册中的人员，未写入任何数据；请重新导入。")
        ]
        result.created = result.updated = result.unchanged = 0


class _Stale(Exception):
    """Someone changed a person of the file between the checks and the write."""

    def __init__(self, row: int) -> None:
        super().__init__(row)
        self.row = row
        self.message = "导入过程中该人员信息已被他人修改，未写入任何数据；请重新导入。"


def _create(actor, plans: list[_Plan]) -> None:
    """Insert new people in bulk (encrypted fields go through the model field), one audit row each."""
    people = [p.person for p in plans]
    Person.objects.bulk_create(people, batch_size=FETCH_CHUNK)
    _audit_each(actor, [
        ("person_create", p.person, {"fields": sorted(k for k in p.changes if k not in services.SENSITIVE_FIELDS),
                                     "source": "roster_import"})
        for p in plans
    ])  # fmt: skip


def _update(actor, plans: list[_Plan]) -> None:
    """Apply changes and transfers in bulk, with the guarantees of person_update and person_transfer.

    Going through those services one person at a time costs about 20 ms a row (60 s for 3,000
    rows); this does the same writes in a handful of queries: the compare-and-swap on ``version``
    (re-read under lock inside the transaction), a ``PersonMove`` for every transfer (history kept,
    reason “名册导入”, dated today), the member role re-derived for people with an account, and
    the ``person_update`` / ``person_transfer`` audit rows with the same details.
    """
    if not plans:
        return
    versions: dict[int, int] = {}
    pks = [p.person.pk for p in plans]
    for start in range(0, len(pks), FETCH_CHUNK):
        chunk = Person.objects.select_for_update().filter(pk__in=pks[start : start + FETCH_CHUNK])
        versions.update(chunk.values_list("pk", "version"))
    for plan in plans:
        if versions.get(plan.person.pk) != plan.person.version:
            raise _Stale(plan.row)
    today = timezone.localdate()
    mover = actor if getattr(actor, "pk", None) else None
    transfers: list[tuple[Person, PersonMove, Unit, Org | None]] = []
    groups: dict[tuple[str, ...], list[Person]] = defaultdict(list)
    for plan in plans:
        person = plan.person
        fields = set(plan.changes)
        if plan.move:
            unit, office, org = plan.move
            move = PersonMove(person=person, on=today, from_unit_id=person.unit_id, to_unit=unit,
                              from_office_id=person.office_id, to_office=office, from_org_id=person.org_id,
                              to_org=org, reason=TRANSFER_REASON, actor=mover)  # fmt: skip
            transfers.append((person, move, unit, org))
            person.unit, person.office, person.org = unit, office, org
            fields |= set(MOVE_FIELDS)
        for name, value in plan.changes.items():
            setattr(person, name, value)
        if "id_number" in plan.changes:
            person.refresh_id_index()
            fields.add("id_index")
        person.version += 1
        groups[tuple(sorted(fields | {"version"}))].append(person)
    PersonMove.objects.bulk_create([move for _p, move, _u, _o in transfers], batch_size=FETCH_CHUNK)
    for names, people in groups.items():
        _update_rows(people, names)
    for person, _move, _unit, _org in transfers:
        if person.user_id:
            services.person_sync_grants(person=person)
    entries = [
        ("person_transfer", person, {"move": move.pk, "to_org": _pk(org), "to_unit": unit.pk})
        for person, move, unit, org in transfers
    ]
    entries += [("person_update", p.person, {"fields": list(p.changes)}) for p in plans if p.changes]
    _audit_each(actor, entries)


def _update_rows(people: list[Person], fields: tuple[str, ...]) -> None:
    """``UPDATE … WHERE id = %s`` for many rows in one ``executemany``.

    ``bulk_update`` builds a CASE expression per field and row and spent 6 s of CPU on 3,000 rows;
    the values here go through each field's ``get_db_prep_save`` exactly as ``save()`` does, so
    the encrypted fields are encrypted and foreign keys stored by id.
    """
    meta = Person._meta
    columns = [meta.get_field(name) for name in fields]
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(c.column)} = %s" for c in columns)
    sql = f"UPDATE {qn(meta.db_table)} SET {assignments} WHERE {qn(meta.pk.column)} = %s"  # noqa: S608
    params = [
        [c.get_db_prep_save(getattr(p, c.attname), connection) for c in columns] + [p.pk] for p in people
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _audit_each(actor, entries: list[tuple[str, Person, dict]]) -> None:
    """One audit row per person in one bulk insert, shaped exactly as ``audit.record`` writes them."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    name = user.get_username() if user else (str(actor) if actor else "")
    label = Person._meta.label_lower
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=user,
                actor_name=name,
                action=action,
                object_type=label,
                object_id=str(person.pk),
                object_repr=str(person)[:200],
                detail=detail,
            )  # fmt: skip
            for action, person, detail in entries
        ],
        batch_size=FETCH_CHUNK,
    )


# --- uploaded files waiting for confirmation --------------------------------------------------

#: Uploads wait between the preview and the confirmation in the media storage (``core.storage``), so the
#: confirmation may reach another web machine: it reads the same bucket or shared directory. No
#: ``StoredFile`` row names them, so no download view serves them (``core.files`` serves by row only).
#: The prefix starts with the backup's staging prefix, so a backup of MEDIA_ROOT never takes in these
#: plaintext rosters (身份证号 unencrypted) and a restore never deletes them.
UPLOAD_PREFIX = f"{STAGING_PREFIX}imports"
_EXTENSIONS = (".xlsx", ".xls")


def _upload_name(token: str, ext: str, owner) -> str | None:
    """A staged upload's storage name: the random token and the uploader's id; None when malformed.

    The token alone is unguessable (192 bits); the uploader's id in the name means that even someone
    holding it cannot confirm another user's file (the view also checks it against the session).
    """
    owner_id = getattr(owner, "pk", None)
    well_formed = (
        0 < len(token or "") <= 64
        and token.isascii()
        and token.replace("-", "").replace("_", "").isalnum()
        and ext in _EXTENSIONS
        and isinstance(owner_id, int)
    )
    return f"{UPLOAD_PREFIX}/{token}.u{owner_id}{ext}" if well_formed else None


def store_upload(data: bytes, ext: str, *, owner) -> str:
    """Keep an uploaded file for ``owner``'s confirmation step; returns the random token naming it.

    On the filesystem it gets the permissions of every upload (0600, or 0640 with X-Accel-Redirect).
    """
    purge_stale_uploads()
    token = secrets.token_urlsafe(24)
    name = _upload_name(token, ext, owner)
    if name is None:
        raise ValueError("只能暂存 .xlsx 或 .xls 文件，且必须有上传人。")
    storage = media_storage()
    # Encrypted at rest with the data key: a versioned bucket keeps deleted objects, and a bucket
    # mirror may copy a preview staged at that moment; neither then holds a readable roster.
    saved = storage.save(name, ContentFile(crypto.encrypt_bytes(data)))
    if saved != name:  # never on a fresh random token; a renamed file could not be found again
        storage.delete(saved)
        raise RuntimeError("暂存的名册文件被存储改名，请重新上传。")
    return token


def read_upload(token: str, ext: str, owner) -> bytes | None:
    """The bytes ``owner`` staged under ``token``, or None when unknown, malformed, someone else's or
    older than an hour (then it is deleted)."""
    name = _upload_name(token, ext, owner)
    if name is None:
        return None
    storage = media_storage()
    try:  # no exists() first: a double click or the hourly purge may delete it between two calls
        if storage.get_modified_time(name) < timezone.now() - timedelta(seconds=UPLOAD_MAX_AGE):
            storage.delete(name)
            return None
        with storage.open(name, "rb") as fh:
            sealed = fh.read()
    except FileNotFoundError:
        return None
    try:
        return crypto.decrypt_bytes(sealed)
    except crypto.CryptoError:  # staged before an upgrade (plaintext) or under a retired key
        storage.delete(name)
        return None


def discard_upload(token: str, ext: str, owner) -> None:
    """Delete a staged upload (after the import, a cancel, or when the preview found errors)."""
    name = _upload_name(token, ext, owner)
    if name is not None:
        media_storage().delete(name)  # a missing file is no error on any storage


def purge_stale_uploads(max_age: int = UPLOAD_MAX_AGE) -> int:
    """Delete staged uploads older than ``max_age`` seconds (abandoned previews); returns how many went.

    Run on every upload and hourly (``org.purge_roster_uploads``): a roster carries 身份证号. On S3 this
    lists the prefix and reads each object's time (a HEAD each; only unconfirmed previews are there).
    """
    gone = _purge_legacy_folder()
    storage = media_storage()
    try:
        _dirs, files = storage.listdir(UPLOAD_PREFIX)
    except FileNotFoundError:  # nothing was ever staged on this filesystem or in this memory
        return gone
    except Exception as exc:  # best effort: a cleanup hiccup must not fail the upload that ran it
        log.warning("staged roster cleanup could not list the storage (%s)", type(exc).__name__)
        return gone
    cutoff = timezone.now() - timedelta(seconds=max_age)
    for filename in files:
        name = f"{UPLOAD_PREFIX}/{filename}"
        try:
            if storage.get_modified_time(name) < cutoff:
                storage.delete(name)
                gone += 1
        except FileNotFoundError:
            continue  # confirmed or cancelled meanwhile
        except Exception as exc:  # best effort: a cleanup hiccup must not fail the upload that ran it
            # The error's type only: the name could be matched to the uploader.
            log.warning("staged roster cleanup skipped a file (%s)", type(exc).__name__)
    return gone


def _purge_legacy_folder() -> int:
    """Delete what earlier versions staged in ``VAR_DIR/imports`` (plaintext rosters); returns how many.

    Before uploads were staged in the media storage they waited there; after an upgrade nothing
    reads them any more, so they go at the first cleanup instead of waiting for an operator."""
    folder = Path(settings.VAR_DIR) / "imports"
    gone = 0
    if folder.is_dir():
        for path in folder.iterdir():
            if path.is_file():
                path.unlink(missing_ok=True)
                gone += 1
    return gone
