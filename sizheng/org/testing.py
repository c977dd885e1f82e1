"""The persona cast every app's tests use (ARCHITECTURE §8): small, explicit, never the demo.

Tree::

    机关工委 (root)                        committee_admin: gongwei
    ├─ 市财政局机关党委 (unit A)            counselor: xinli (primary), xinli2 (backup)
    │  ├─ 第一党支部 A1                     secretary: shuji_a · org_admin: dangwu_a · member: dangyuan
    │  └─ 第二党支部 A2                     leader of unit A: lingdao (a member here)
    ├─ 市财政局党组 (leading group of A)
    ├─ 市教育局党总支 (unit B)
    │  └─ 教育局第一党支部 B1               secretary: shuji_b
    └─ 市司法局党支部 C (unit C)            outsider: waibu (a member of C, no other role)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sizheng.core.models import Role, RoleGrant, User
from sizheng.core.testing import TEST_PASSWORD
from sizheng.org import services
from sizheng.org.idcard import make_id_number
from sizheng.org.models import Office, Org, OrgRole, Person, PoliticalStatus, Unit

TERM_START = date(2024, 6, 1)
TERM_END = date(2027, 5, 31)


@dataclass
class Cast:
    """The persona cast and the tree they live in."""

    root: Org
    unit_a: Unit
    unit_b: Unit
    unit_c: Unit
    office_a1: Office
    office_a2: Office
    office_b: Office
    committee_a: Org
    branch_a1: Org
    branch_a2: Org
    leading_a: Org
    general_b: Org
    branch_b1: Org
    branch_c: Org
    committee_admin: User
    secretary_a: User
    secretary_b: User
    org_admin: User
    member: User
    leader: User
    counselor: User
    counselor_backup: User
    outsider: User
    union: User
    sysadmin: User
    secadmin: User
    auditor: User

    def person(self, user: User) -> Person:
        return Person.objects.get(user=user)


_seq = {"n": 0}


def make_person(
    name: str,
    unit: Unit,
    *,
    org: Org | None = None,
    office: Office | None = None,
    status: str = PoliticalStatus.CPC_MEMBER,
    username: str | None = None,
    **extra,
) -> Person:
    """A roster person (with an account when ``username`` is given)."""
    _seq["n"] += 1
    fields = {
        "name": name,
        "unit": unit,
        "office": office,
        "org": org,
        "political_status": status,
        "gender": Person.Gender.FEMALE if _seq["n"] % 2 else Person.Gender.MALE,
        "birth_date": date(1968 + _seq["n"] % 15, 1 + _seq["n"] % 12, 1 + _seq["n"] % 27),
        "phone": f"1380000{_seq['n']:04d}",
    }
    fields["id_number"] = make_id_number("110101", fields["birth_date"], _seq["n"])
    if status in (PoliticalStatus.CPC_MEMBER, PoliticalStatus.CPC_PROBATIONARY):
        fields["joined_on"] = date(2010, 7, 1)
        if status == PoliticalStatus.CPC_MEMBER:
            fields["confirmed_on"] = date(2011, 7, 1)
    fields.update(extra)
    person = services.person_create(actor=None, **fields)
    if username:
        user = User.objects.create_user(username=username, password=TEST_PASSWORD, display_name=name)
        Person.objects.filter(pk=person.pk).update(user=user)
        person.user = user
        services.person_sync_grants(person=person)
    return person


def make_org(name: str, kind: str, parent: Org | None, code: str, units=(), **fields) -> Org:
    """An org in the tree."""
    return services.org_create(
        actor=None,
        name=name,
        kind=kind,
        parent=parent,
        code=code,
        units=units,
        term_starts_on=TERM_START,
        term_ends_on=TERM_END,
        founded_on=date(2010, 1, 1),
        **fields,
    )


def appoint(person: Person, org: Org, title: str) -> OrgRole:
    return services.org_role_assign(
        actor=None, org=org, person=person, title=title, starts_on=TERM_START, ends_on=TERM_END
    )


def _system_user(username: str, role: str, **grant) -> User:
    user = User.objects.create_user(username=username, password=TEST_PASSWORD)
    RoleGrant.objects.create(user=user, role=role, **grant)
    return user


def build_cast() -> Cast:
    """Create the cast (about 40 queries' worth of rows)."""
    K = Org.Kind
    unit_a = Unit.objects.create(name="市财政局", short_name="财政局", code="U-A", order=1)
    unit_b = Unit.objects.create(name="市教育局", short_name="教育局", code="U-B", order=2)
    unit_c = Unit.objects.create(name="市司法局", short_name="司法局", code="U-C", order=3)
    office_a1 = Office.objects.create(unit=unit_a, name="办公室", order=1)
    office_a2 = Office.objects.create(unit=unit_a, name="预算处", order=2)
    office_b = Office.objects.create(unit=unit_b, name="基础教育处", order=1)
    root = make_org("市直机关工委", K.WORK_COMMITTEE, None, "ROOT")
    committee_a = make_org("市财政局机关委员会", K.COMMITTEE, root, "A", units=[unit_a])
    branch_a1 = make_org("市财政局机关第一支部委员会", K.BRANCH, committee_a, "A1", units=[unit_a])
    branch_a2 = make_org("市财政局机关第二支部委员会", K.BRANCH, committee_a, "A2", units=[unit_a])
    leading_a = make_org("市财政局党组", K.LEADING_GROUP, root, "A-LG", units=[unit_a])
    general_b = make_org("市教育局机关总支部委员会", K.GENERAL_BRANCH, root, "B", units=[unit_b])
    branch_b1 = make_org("市教育局机关第一支部委员会", K.BRANCH, general_b, "B1", units=[unit_b])
    branch_c = make_org("市司法局机关支部委员会", K.BRANCH, root, "C", units=[unit_c])

    committee_admin = _system_user("gongwei", Role.COMMITTEE_ADMIN, scope_kind=RoleGrant.ScopeKind.ALL)
    sec_a = make_person("王建国", unit_a, org=branch_a1, office=office_a1, username="shuji_a")
    appoint(sec_a, branch_a1, OrgRole.Title.SECRETARY)
    sec_b = make_person("李红梅", unit_b, org=branch_b1, office=office_b, username="shuji_b")
    appoint(sec_b, branch_b1, OrgRole.Title.SECRETARY)
    admin_a = make_person("赵敏", unit_a, org=branch_a1, office=office_a1, username="dangwu_a")
    appoint(admin_a, branch_a1, OrgRole.Title.PARTY_AFFAIRS)
    member = make_person("刘洋", unit_a, org=branch_a1, office=office_a2, username="dangyuan")
    leader_p = make_person(
        "陈志强", unit_a, org=branch_a2, office=office_a1, username="lingdao", is_leader=True, position="局长"
    )
    RoleGrant.objects.create(
        user=leader_p.user, role=Role.LEADER, scope_kind=RoleGrant.ScopeKind.UNIT, scope_id=unit_a.pk
    )
    outsider = make_person("孙丽", unit_c, org=branch_c, username="waibu")
    make_person("周杰", unit_a, office=office_a2, status=PoliticalStatus.MASSES)  # a non-member in unit A
    counselor = _system_user(
        "xinli", Role.COUNSELOR, scope_kind=RoleGrant.ScopeKind.ORG, scope_id=committee_a.pk
    )
    backup = _system_user(
        "xinli2", Role.COUNSELOR, scope_kind=RoleGrant.ScopeKind.ORG, scope_id=committee_a.pk, is_backup=True
    )
    union = _system_user("gonghui", Role.UNION, scope_kind=RoleGrant.ScopeKind.ORG, scope_id=committee_a.pk)
    return Cast(
        root=root,
        unit_a=unit_a,
        unit_b=unit_b,
        unit_c=unit_c,
        office_a1=office_a1,
        office_a2=office_a2,
        office_b=office_b,
        committee_a=committee_a,
        branch_a1=branch_a1,
        branch_a2=branch_a2,
        leading_a=leading_a,
        general_b=general_b,
        branch_b1=branch_b1,
        branch_c=branch_c,
        committee_admin=committee_admin,
        secretary_a=sec_a.user,
        secretary_b=sec_b.user,
        org_admin=admin_a.user,
        member=member.user,
        leader=leader_p.user,
        counselor=counselor,
        counselor_backup=backup,
        outsider=outsider.user,
        union=union,
        sysadmin=_system_user("sysadmin", Role.SYSADMIN, scope_kind=RoleGrant.ScopeKind.SYSTEM),
        secadmin=_system_user("secadmin", Role.SECADMIN, scope_kind=RoleGrant.ScopeKind.SYSTEM),
        auditor=_system_user("auditor", Role.AUDITOR, scope_kind=RoleGrant.ScopeKind.SYSTEM),
    )


def org_targets(n: int) -> list[int]:
    """n real orgs (for the generic metric query-count test)."""
    root = Org.objects.filter(parent__isnull=True).first() or make_org(
        "工委", Org.Kind.WORK_COMMITTEE, None, "R0"
    )
    start = Org.objects.count()
    return [make_org(f"支部{start + i}", Org.Kind.BRANCH, root, f"T{start + i}").pk for i in range(n)]


def unit_targets(n: int) -> list[int]:
    """n real units."""
    start = Unit.objects.count()
    return [Unit.objects.create(name=f"单位{start + i}", code=f"UT{start + i}").pk for i in range(n)]
