"""Who manages and who reads a unit's funds (ARCHITECTURE §4).

* **Manage** (budget, spending rows, the ledger): the committee admin for every unit; the secretaries
  and 党务干部 of a unit's root org — the 机关党委 / 党总支 / 党支部 directly under the 机关工委 that
  holds the unit (not its 党组) — or of an org above it.
* **Read the execution** (aggregates by category and quarter, the budget): the managers, and leaders
  (``Role.LEADER``) of the unit or of every unit. Leaders never get the spending rows.
* Everyone else: 404 — the unit's funds do not exist for them. A reader who may not change gets 403.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from sizheng.core.models import Role
from sizheng.org.access import require, scope_of
from sizheng.org.models import Org, Unit

NOT_FOUND_UNIT = "未找到该单位的经费信息，或您无权查看。"
NOT_FOUND_SPENDING = "未找到该支出记录，或您无权查看。"
READ_ONLY = "您只能查看该单位的经费执行情况；预算和支出由单位机关党委（党总支、党支部）的书记、党务干部管理。"


def _root_orgs():
    """Units' root orgs: depth 1 under the 机关工委, not a 党组."""
    return Org.objects.filter(depth=1).exclude(kind=Org.Kind.LEADING_GROUP)


def managed_units(user):
    """Units whose funds the user manages (a queryset)."""
    scope = scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN, Role.SECRETARY, Role.ORG_ADMIN):
        return Unit.objects.all()
    paths = scope.paths(Role.SECRETARY, Role.ORG_ADMIN)
    if not paths:
        return Unit.objects.none()
    q = Q(pk__in=[])
    for p in paths:
        # A role over the root org itself or over the 机关工委 above it; a branch below does not count.
        q |= Q(path__startswith=p)
    roots = _root_orgs().filter(q)
    return Unit.objects.filter(pk__in=roots.values("units"))


def readable_units(user):
    """Units whose execution the user may read: managed ones and the leader's units."""
    scope = scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN, Role.LEADER, Role.SECRETARY, Role.ORG_ADMIN):
        return Unit.objects.all()
    q = Q(pk__in=managed_units(user).values("pk"))
    leader_units = scope.unit_ids.get(Role.LEADER, [])
    if leader_units:
        q |= Q(pk__in=leader_units)
    return Unit.objects.filter(q)


def may_manage(user, unit: Unit) -> bool:
    """Whether the user may change the unit's budget and spending."""
    return managed_units(user).filter(pk=unit.pk).exists()


def may_read_any(user) -> bool:
    return readable_units(user).exists()


def get_unit_or_404(user, pk, *, manage: bool = False) -> Unit:
    """A unit whose funds the user may read (404 otherwise); with ``manage``, 403 for a reader."""
    unit = readable_units(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if unit is None:
        raise Http404(NOT_FOUND_UNIT)
    if manage:
        require(may_manage(user, unit), READ_ONLY)
    return unit


def get_spending_or_404(user, pk):
    """A spending row of a unit the user manages; 404 for everyone else (leaders included)."""
    from sizheng.funds.models import Spending

    spending = (
        Spending.objects.visible_to(user).for_list().filter(pk=pk).first() if str(pk).isdigit() else None
    )
    if spending is None:
        raise Http404(NOT_FOUND_SPENDING)
    return spending


def root_org_of(unit_id: int) -> Org | None:
    """The unit's root party org (where its funds duties go); None when the unit has none."""
    return _root_orgs().filter(units=unit_id, dissolved_on__isnull=True).order_by("path").first()


def may_read_receipt(user, owner_id: int | None) -> bool:
    """Receipts are read by whoever manages the spending's unit (core.files access check)."""
    from sizheng.funds.models import Spending

    return owner_id is not None and Spending.objects.visible_to(user).filter(pk=owner_id).exists()
