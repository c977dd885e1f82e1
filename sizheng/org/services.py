"""Every write of the org app: the tree, people, transfers, org roles and the roles they grant."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from sizheng.core import audit
from sizheng.core import services as core_services
from sizheng.core.apitools import Conflict
from sizheng.core.models import Role, RoleGrant, User
from sizheng.org import events
from sizheng.org.models import Office, Org, OrgRole, Person, PersonMove, Unit

# Which org posts grant which platform role (ARCHITECTURE §4).
TITLE_ROLES = {
    OrgRole.Title.SECRETARY: Role.SECRETARY,
    OrgRole.Title.DEPUTY_SECRETARY: Role.SECRETARY,
    OrgRole.Title.ORGANIZATION: Role.ORG_ADMIN,
    OrgRole.Title.PARTY_AFFAIRS: Role.ORG_ADMIN,
}
# Orgs of these kinds hold a unit's members directly under the root.
PERSON_FIELDS = [
    "name", "gender", "ethnicity", "native_place", "birth_date", "birth_month_only", "id_number", "phone",
    "education", "work_started_on", "joined_on", "confirmed_on", "political_status", "unit", "office", "org",
    "position", "category", "is_leader", "left_on",
]  # fmt: skip
SENSITIVE_FIELDS = {"id_number", "phone"}


def _path_for(org: Org) -> tuple[str, int]:
    if org.parent_id is None:
        return f"{org.pk:06d}.", 0
    parent = org.parent
    return f"{parent.path}{org.pk:06d}.", parent.depth + 1


@transaction.atomic
def org_create(*, actor, name: str, kind: str, parent: Org | None, code: str, units=(), **fields) -> Org:
    """Create an org under ``parent`` and place it in the tree."""
    org = Org(name=name, kind=kind, parent=parent, code=code, path="", **fields)
    org.full_clean(exclude=["path", "units"])
    org.save()
    org.path, org.depth = _path_for(org)
    org.save(update_fields=["path", "depth"])
    if units:
        org_set_units(org=org, units=units)
    audit.record(actor, "org_create", org, {"kind": kind, "parent": parent.pk if parent else None})
    events.emit("org_changed", org=org, actor=actor)  # the compliance cache's data version (life)
    return org


def org_set_units(*, org: Org, units) -> None:
    """The units an org covers: a joint branch covers at most five (BR-ORG-1)."""
    units = list(units)
    if len(units) > 5:
        raise ValidationError("联合党支部最多覆盖 5 个单位（《支部工作条例》）。")
    org.units.set(units)


@transaction.atomic
def org_update(*, actor, org: Org, version: int, **changes) -> Org:
    """Change an org's fields (not its place in the tree); compare-and-swap on ``version``."""
    units = changes.pop("units", None)
    changed = [k for k, v in changes.items() if getattr(org, k) != v]
    for k in changed:
        setattr(org, k, changes[k])
    org.full_clean(exclude=["path", "units"])
    units_changed = units is not None and {u.pk for u in units} != set(org.units.values_list("pk", flat=True))
    if changed or units_changed:
        # One compare-and-swap covers field and unit changes alike.
        updated = Org.objects.filter(pk=org.pk, version=version).update(
            version=F("version") + 1, **{k: getattr(org, k) for k in changed}
        )
        if not updated:
            raise Conflict("该党组织已被他人修改，请刷新页面后重新填写。")
        org.version = version + 1
    if units_changed:
        org_set_units(org=org, units=units)
        changed.append("units")
    if changed:
        audit.record(actor, "org_update", org, {"fields": changed})
        events.emit("org_changed", org=org, actor=actor)  # the compliance cache's data version (life)
    return org


def person_check(person: Person) -> None:
    """Roster consistency (rules.md §7) beyond one field: dates in order, nothing in the future."""
    from sizheng.org.idcard import birth_date_from_id, validate_id_number

    errors: dict[str, str] = {}
    today = timezone.localdate()
    if person.id_number:
        problem = validate_id_number(person.id_number)
        if problem:
            errors["id_number"] = problem
        elif person.birth_date:
            born = birth_date_from_id(person.id_number)
            if born and (born.year, born.month) != (person.birth_date.year, person.birth_date.month):
                errors["birth_date"] = "出生日期与身份证号中的出生年月不一致。"
    for name, label in [
        ("birth_date", "出生日期"), ("work_started_on", "参加工作日期"), ("joined_on", "入党日期"),
        ("confirmed_on", "转正日期"),
    ]:  # fmt: skip
        value = getattr(person, name)
        if value and value > today:
            errors[name] = f"{label}不能晚于今天。"
    if person.joined_on and person.confirmed_on and person.confirmed_on <= person.joined_on:
        errors["confirmed_on"] = "转正日期必须晚于入党日期。"
    if person.birth_date and person.joined_on and person.joined_on.year - person.birth_date.year < 18:
        errors["joined_on"] = "入党时应年满十八周岁，请核对入党日期或出生日期。"
    if person.office_id and person.office.unit_id != person.unit_id:
        errors["office"] = "所选处室不属于该人员的单位。"
    if person.is_party_member and not person.org_id:
        errors["org"] = "党员必须有所在党组织。"
    if person.confirmed_on and person.political_status == "cpc_probationary":
        errors["confirmed_on"] = "预备党员尚未转正，不应有转正日期。"
    if errors:
        raise ValidationError(errors)


def person_validate(person: Person) -> None:
    """Field and roster checks of a person, raising ValidationError with Chinese messages."""
    person.refresh_id_index()
    person.full_clean(exclude=["user", "id_index"])
    person_check(person)
    if person.id_index and Person.objects.filter(id_index=person.id_index).exclude(pk=person.pk).exists():
        raise ValidationError({"id_number": "该身份证号已登记在另一人员名下。"})


@transaction.atomic
def person_create(*, actor, **fields) -> Person:
    """Add a person to the roster."""
    person = Person(**fields)
    person_validate(person)
    person.save()
    audit.record(
        actor, "person_create", person, {"fields": sorted(k for k in fields if k not in SENSITIVE_FIELDS)}
    )
    return person


@transaction.atomic
def person_update(*, actor, person: Person, version: int, **changes) -> Person:
    """Edit a person's roster fields (not unit/office/org: that is a transfer); compare-and-swap."""
    moving = {"unit", "office", "org"} & set(changes)
    if moving:
        raise ValidationError("调整单位、处室或党组织请使用“调动”，以便保留调动记录。")
    changed = [k for k, v in changes.items() if getattr(person, k) != v]
    if not changed:
        return person
    for k in changed:
        setattr(person, k, changes[k])
    person_validate(person)
    fields = {k: getattr(person, k) for k in changed}
    if "id_number" in changed:
        fields["id_index"] = person.id_index
    qs = Person.objects.filter(pk=person.pk, version=version)
    # Encrypted fields must go through the model field, so write with save(update_fields) after the CAS.
    if not qs.update(version=F("version") + 1):
        raise Conflict("该人员信息已被他人修改，请刷新页面后重新填写。")
    person.version = version + 1
    person.save(update_fields=list(fields))
    # Field names only, never the values of identifiers (audit details carry no T1+ content).
    audit.record(actor, "person_update", person, {"fields": changed})
    if "position" in changed:
        events.emit(events.POSITION_CHANGED, person=person, actor=actor)
    return person


@transaction.atomic
def person_transfer(
    *,
    actor,
    person: Person,
    on: date,
    unit: Unit,
    office: Office | None,
    org: Org | None,
    reason: str = "",
    version: int | None = None,
) -> PersonMove:
    """Move a person to another unit/office/org, keeping the history, and move their member role."""
    if version is not None and version != person.version:
        raise Conflict("该人员信息已被他人修改，请刷新页面后重新填写。")
    if office is not None and office.unit_id != unit.pk:
        raise ValidationError({"office": "所选处室不属于调入单位。"})
    if person.is_party_member and org is None:
        raise ValidationError({"org": "党员调动时必须指定调入的党组织。"})
    if on > timezone.localdate() + timedelta(days=366):
        raise ValidationError({"on": "调动日期不能晚于一年以后。"})
    move = PersonMove.objects.create(
        person=person,
        on=on,
        from_unit_id=person.unit_id,
        to_unit=unit,
        from_office_id=person.office_id,
        to_office=office,
        from_org_id=person.org_id,
        to_org=org,
        reason=reason,
        actor=actor if getattr(actor, "pk", None) else None,
    )
    updated = Person.objects.filter(pk=person.pk, version=person.version).update(
        unit=unit, office=office, org=org, version=F("version") + 1
    )
    if not updated:
        raise Conflict("该人员信息已被他人修改，请刷新页面后重新填写。")
    person.unit, person.office, person.org, person.version = unit, office, org, person.version + 1
    person_sync_grants(person=person)
    audit.record(
        actor,
        "person_transfer",
        person,
        {"move": move.pk, "to_org": org.pk if org else None, "to_unit": unit.pk},
    )
    events.emit(events.TRANSFERRED, person=person, actor=actor, move=move)
    return move


def person_sync_grants(*, person: Person) -> None:
    """Derive the person's roster roles: `member` over their org (or unit), and each org post's role."""
    if person.user_id is None:
        return
    RoleGrant.objects.filter(user_id=person.user_id, source__in=["person", "org_role"]).delete()
    grants = []
    if person.left_on is None:
        kind, sid = (
            (RoleGrant.ScopeKind.ORG, person.org_id)
            if person.org_id
            else (RoleGrant.ScopeKind.UNIT, person.unit_id)
        )
        grants.append(
            RoleGrant(
                user_id=person.user_id,
                role=Role.MEMBER,
                scope_kind=kind,
                scope_id=sid,
                source="person",
                source_id=person.pk,
            )
        )
    for post in person.org_roles.all():
        role = TITLE_ROLES.get(post.title)
        if role:
            grants.append(
                RoleGrant(
                    user_id=person.user_id,
                    role=role,
                    scope_kind=RoleGrant.ScopeKind.ORG,
                    scope_id=post.org_id,
                    starts_on=post.starts_on,
                    ends_on=post.ends_on,
                    source="org_role",
                    source_id=post.pk,
                )
            )
    RoleGrant.objects.bulk_create(grants)


@transaction.atomic
def org_role_assign(
    *, actor, org: Org, person: Person, title: str, starts_on: date, ends_on: date | None = None
) -> OrgRole:
    """Appoint a person to a post; the role it grants lasts exactly the term."""
    post = OrgRole(
        org=org, person=person, title=title, starts_on=starts_on, ends_on=ends_on or org.term_ends_on
    )
    post.full_clean()
    post.save()
    person_sync_grants(person=person)
    audit.record(actor, "org_role_assign", post, {"title": title, "org": org.pk, "person": person.pk})
    return post


@transaction.atomic
def org_role_end(*, actor, post: OrgRole, on: date) -> OrgRole:
    """End a post (resignation, transfer): the role it granted ends the same day."""
    if on < post.starts_on:
        raise ValidationError("离任日期不能早于任职日期。")
    post.ends_on = on
    post.save(update_fields=["ends_on"])
    person_sync_grants(person=post.person)
    audit.record(actor, "org_role_end", post, {"on": on.isoformat()})
    return post


@transaction.atomic
def org_handover(
    *, actor, org: Org, on: date, term_ends_on: date, posts: list[tuple[Person, str]]
) -> list[OrgRole]:
    """换届: the old committee's posts end the day before ``on``; the new ones start on it.

    The predecessor loses the role's access at the end of that day, the successor gains it
    from ``on`` — the ledgers stay with the org, so they pass to the successor with it.
    """
    if term_ends_on <= on:
        raise ValidationError("新一届任期届满日期必须晚于换届日期。")
    current = OrgRole.objects.filter(org=org, starts_on__lt=on).exclude(ends_on__lt=on)
    ended = list(current.select_related("person"))
    for old in ended:
        old.ends_on = on - timedelta(days=1)
        old.save(update_fields=["ends_on"])
    new_posts = [OrgRole(org=org, person=p, title=t, starts_on=on, ends_on=term_ends_on) for p, t in posts]
    for post in new_posts:
        post.full_clean()
    OrgRole.objects.bulk_create(new_posts)
    org.term_starts_on, org.term_ends_on = on, term_ends_on
    Org.objects.filter(pk=org.pk).update(
        term_starts_on=on, term_ends_on=term_ends_on, version=F("version") + 1
    )
    org.version += 1
    for person in {p.person for p in ended} | {p for p, _ in posts}:
        person_sync_grants(person=person)
    audit.record(
        actor, "org_handover", org, {"on": on.isoformat(), "posts": len(new_posts), "ended": len(ended)}
    )
    return new_posts


def _username_for(person: Person, taken: set[str]) -> str:
    from sizheng.org.pinyin import to_pinyin

    base = to_pinyin(person.name) or "user"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}{n}"
    taken.add(name)
    return name


@transaction.atomic
def accounts_create(*, actor, people: list[Person]) -> list[tuple[Person, str, str]]:
    """Create accounts for people who have none; returns (person, username, initial password) once."""
    people = [p for p in people if p.user_id is None and p.left_on is None]
    taken = set(User.objects.values_list("username", flat=True))
    created = []
    for person in people:
        username = _username_for(person, taken)
        password = core_services.initial_password()
        user = User.objects.create_user(
            username=username, password=password, display_name=person.name, must_change_password=True
        )
        Person.objects.filter(pk=person.pk).update(user=user)
        person.user = user
        person_sync_grants(person=person)
        created.append((person, username, password))
    audit.record(
        actor, "accounts_create", None, {"count": len(created), "people": [p.pk for p, _, _ in created]}
    )
    return created
