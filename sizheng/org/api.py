"""The org app's API: orgs and people, scoped like the screens; identifiers always masked."""

# No `from __future__ import annotations` here: ninja reads the parameter annotations at import time.

from datetime import date

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from sizheng.core.apitools import Paged
from sizheng.core.crypto import mask
from sizheng.org import access
from sizheng.org.models import Org, Person, Unit

router = Router(tags=["组织与人员"])


class OrgOut(Schema):
    """An org as lists show it."""

    id: int
    code: str
    name: str
    kind: str
    kind_label: str
    parent_id: int | None
    unit_ids: list[int]

    @staticmethod
    def resolve_kind_label(obj: Org) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_unit_ids(obj: Org) -> list[int]:
        return [u.pk for u in obj.units.all()]


class OrgDetailOut(OrgOut):
    """One org with its dates and counts."""

    full_name: str
    founded_on: date | None
    dissolved_on: date | None
    term_starts_on: date | None
    term_ends_on: date | None
    member_count: int

    @staticmethod
    def resolve_member_count(obj: Org) -> int:
        return obj.members.filter(left_on__isnull=True).count()


class OrgFilter(Schema):
    """Filters of the org list."""

    kind: Org.Kind | None = None
    parent_id: int | None = None
    q: str | None = None


class PersonOut(Schema):
    """A person with identifiers masked (the API never returns them in full)."""

    id: int
    name: str
    gender: str
    birth_date: date | None
    political_status: str
    political_status_label: str
    unit_id: int
    office_id: int | None
    org_id: int | None
    position: str
    is_leader: bool
    id_number_masked: str
    phone_masked: str

    @staticmethod
    def resolve_political_status_label(obj: Person) -> str:
        return obj.get_political_status_display()

    @staticmethod
    def resolve_id_number_masked(obj: Person) -> str:
        return mask(obj.id_number, "id_card")

    @staticmethod
    def resolve_phone_masked(obj: Person) -> str:
        return mask(obj.phone, "phone")


class PersonFilter(Schema):
    """Filters of the people list."""

    unit_id: int | None = None
    office_id: int | None = None
    org_id: int | None = None
    political_status: str | None = None
    is_leader: bool | None = None
    q: str | None = None


def _orgs(request: HttpRequest):
    units = Prefetch("units", queryset=Unit.objects.only("id"))
    return Org.objects.visible_to(request.user).distinct().prefetch_related(units).order_by("path")


@router.get("/orgs", response=list[OrgOut], summary="党组织列表（限本人范围）")
@paginate(Paged)
def org_list(request: HttpRequest, filters: Query[OrgFilter]):
    qs = _orgs(request)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.parent_id is not None:
        qs = qs.filter(parent_id=filters.parent_id)
    if filters.q:
        qs = qs.filter(name__icontains=filters.q) | qs.filter(code__iexact=filters.q)
    return qs


@router.get("/orgs/{org_id}", response=OrgDetailOut, summary="党组织详情")
def org_detail(request: HttpRequest, org_id: int):
    access.get_org_or_404(request.user, org_id)
    return _orgs(request).get(pk=org_id)


@router.get("/people", response=list[PersonOut], summary="人员列表（限本人范围，身份证号和电话均已脱敏）")
@paginate(Paged)
def person_list(request: HttpRequest, filters: Query[PersonFilter]):
    qs = Person.objects.visible_to(request.user).current().order_by("unit_id", "id")
    for field in ("unit_id", "office_id", "org_id", "political_status", "is_leader"):
        value = getattr(filters, field)
        if value is not None:
            qs = qs.filter(**{field: value})
    if filters.q:
        qs = qs.filter(name__contains=filters.q.strip())
    return qs


@router.get("/people/{person_id}", response=PersonOut, summary="人员详情（身份证号和电话均已脱敏）")
def person_detail(request: HttpRequest, person_id: int):
    return access.get_person_or_404(request.user, person_id)
