"""Every write of the funds app: budgets (CAS on ``version``), spending records (CAS, receipts through
core.files, the activity served validated in scope), and the warnings' duties (exactly once).

Audit rows carry ids and field names only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from sizheng.core import audit, calendar, files, scheduler
from sizheng.core.apitools import Conflict
from sizheng.funds import access, execution, money
from sizheng.funds.models import ActivityKind, Alert, Budget, BudgetLine, Category, Spending
from sizheng.org.access import require
from sizheng.org.models import Unit

RECEIPT_OWNER_KIND = "funds_spending"
# Receipts: e-invoices come as OFD or PDF, paper ones are scanned or photographed (never required).
RECEIPT_TYPES = ("pdf", "ofd", "jpg", "jpeg", "png")
FIRST_YEAR, LAST_YEAR = 2000, 2100
PURPOSE_MAX = 200
NOTE_MAX = 500
# Workdays the unit's root org has to look into a funds warning.
ALERT_DUTY_WORKDAYS = 15
ALERT_TITLE = "经费执行预警"
ALERT_CATEGORY = "经费保障"

STALE_BUDGET = "该预算已被他人修改，请刷新页面后重新填写。"
STALE_SPENDING = "该支出记录已被他人修改或删除，请刷新页面后重新操作。"


def _amount(value, field: str, *, allow_zero: bool, label: str) -> Decimal:
    try:
        return money.parse(value, allow_zero=allow_zero, label=label)
    except money.AmountError as exc:
        raise ValidationError({field: str(exc)}) from None


def _check_year(year) -> int:
    if not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError({"year": f"年度须在 {FIRST_YEAR} 至 {LAST_YEAR} 之间。"})
    return year


def _manages(actor, unit: Unit) -> None:
    require(access.may_manage(actor, unit), access.READ_ONLY)


# --- budgets -----------------------------------------------------------------------------------


def _budget_amounts(amounts: Mapping[str, object]) -> dict[str, Decimal]:
    """Every category's amount (missing ones are 0), checked; errors name the category's field."""
    known = set(Category.values)
    unknown = [c for c in amounts if c not in known]
    if unknown:
        raise ValidationError({"amounts": f"未知的经费类别：{'、'.join(map(str, unknown))}。"})
    out, errors = {}, {}
    for code, label in Category.choices:
        value = amounts.get(code)
        if value is None or value == "":
            out[code] = money.ZERO
            continue
        try:
            out[code] = money.parse(value, label=f"“{label}”预算")
        except money.AmountError as exc:
            errors[code] = str(exc)
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def budget_save(
    *,
    actor,
    unit: Unit,
    year: int,
    amounts: Mapping[str, object],
    note: str = "",
    version: int | None = None,
) -> tuple[Budget, bool]:
    """Set a unit's yearly budget by category: create it (``version`` None) or change it (CAS)."""
    _manages(actor, unit)
    year = _check_year(year)
    values = _budget_amounts(amounts)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": f"说明不得超过 {NOTE_MAX} 个字。"})
    now = timezone.now()
    user = actor if getattr(actor, "pk", None) else None
    if version is None:
        if Budget.objects.filter(unit=unit, year=year).exists():
            raise Conflict(f"{unit.name} {year} 年度的预算已经编制，请刷新页面后在原预算上修改。")
        try:
            with transaction.atomic():
                budget = Budget.objects.create(
                    unit=unit, year=year, note=note, created_by=user, updated_at=now
                )
        except IntegrityError:
            raise Conflict(f"{unit.name} {year} 年度的预算已经编制，请刷新页面后在原预算上修改。") from None
        BudgetLine.objects.bulk_create(
            BudgetLine(budget=budget, category=c, amount=a) for c, a in values.items()
        )
        audit.record(actor, "funds_budget_create", budget, {"unit": unit.pk, "year": year})
        return budget, True
    budget = Budget.objects.filter(unit=unit, year=year).first()
    if budget is None:
        raise Conflict(STALE_BUDGET)
    updated = Budget.objects.filter(pk=budget.pk, version=version).update(
        version=F("version") + 1, note=note, updated_at=now
    )
    if not updated:
        raise Conflict(STALE_BUDGET)
    old = dict(budget.lines.values_list("category", "amount"))
    changed = [c for c, a in values.items() if old.get(c) != a]
    for code in changed:
        BudgetLine.objects.update_or_create(budget=budget, category=code, defaults={"amount": values[code]})
    fields = [f"amount.{c}" for c in changed] + (["note"] if note != budget.note else [])
    budget.refresh_from_db()
    audit.record(actor, "funds_budget_update", budget, {"unit": unit.pk, "year": year, "fields": fields})
    return budget, False


# --- spending ----------------------------------------------------------------------------------


def activity_in_scope(actor, unit: Unit, kind: str, activity_id: int | None) -> None:
    """The activity a spending served must exist, belong to the unit and be visible to the actor.

    Reads ids only: a care case is checked by number and unit, never by its details.
    """
    if not kind and activity_id is None:
        return
    if kind not in ActivityKind.values:
        raise ValidationError(
            {"activity_kind": "请选择支出服务的活动类型：组织生活会议、困难诉求或学习培训活动。"}
        )
    if activity_id is None:
        raise ValidationError({"activity_id": "请填写支出服务的活动编号。"})
    label = ActivityKind(kind).label
    if kind == ActivityKind.MEETING:
        from sizheng.life.models import Meeting

        found = Meeting.objects.visible_to(actor).filter(pk=activity_id, org__units=unit)
    elif kind == ActivityKind.STUDY_SESSION:
        from sizheng.study.access import sessions_visible_to

        found = sessions_visible_to(actor).filter(pk=activity_id, meeting__org__units=unit)
    else:
        from sizheng.care.models import CareCase

        found = CareCase.objects.visible_to(actor).filter(pk=activity_id, unit=unit)
    if not found.values("pk").exists():
        raise ValidationError(
            {
                "activity_id": f"未找到编号为 {activity_id} 的{label}，或它不属于{unit.name}、不在您的管理范围内。"
            }
        )


def _spending_fields(
    actor, unit: Unit, *, spent_on, amount, category: str, purpose: str, activity_kind: str, activity_id
) -> dict:
    """Checked values of a spending record (Chinese messages on the fields)."""
    errors: dict[str, str] = {}
    today = timezone.localdate()
    if not isinstance(spent_on, date):
        errors["spent_on"] = "请填写支出日期。"
    elif spent_on > today:
        errors["spent_on"] = "支出日期不能晚于今天；尚未发生的支出请在发生后登记。"
    elif spent_on.year < FIRST_YEAR:
        errors["spent_on"] = f"支出日期不能早于 {FIRST_YEAR} 年。"
    try:
        value = money.parse(amount, allow_zero=False, label="支出金额")
    except money.AmountError as exc:
        errors["amount"] = str(exc)
    if category not in Category.values:
        errors["category"] = "请选择经费类别。"
    purpose = (purpose or "").strip()
    if not purpose:
        errors["purpose"] = "请填写支出用途，例如“七一主题党日活动场地及资料费”。"
    elif len(purpose) > PURPOSE_MAX:
        errors["purpose"] = f"支出用途不得超过 {PURPOSE_MAX} 个字。"
    if errors:
        raise ValidationError(errors)
    activity_kind = activity_kind or ""
    activity_in_scope(actor, unit, activity_kind, activity_id)
    return {
        "spent_on": spent_on,
        "amount": value,
        "category": category,
        "purpose": purpose,
        "activity_kind": activity_kind,
        "activity_id": activity_id if activity_kind else None,
    }


def _store_receipt(actor, spending: Spending, upload):
    try:
        return files.store_upload(
            upload, actor=actor, owner_kind=RECEIPT_OWNER_KIND, owner_id=spending.pk, allowed=RECEIPT_TYPES
        )
    except ValidationError as exc:
        raise ValidationError({"receipt": exc.messages}) from None


@transaction.atomic
def spending_record(
    *,
    actor,
    unit: Unit,
    spent_on: date,
    amount,
    category: str,
    purpose: str,
    activity_kind: str = "",
    activity_id: int | None = None,
    receipt=None,
) -> Spending:
    """Record one spending of a unit's funds, with an optional receipt (PDF, OFD or a picture)."""
    _manages(actor, unit)
    fields = _spending_fields(
        actor, unit, spent_on=spent_on, amount=amount, category=category, purpose=purpose,
        activity_kind=activity_kind, activity_id=activity_id,
    )  # fmt: skip
    spending = Spending.objects.create(
        unit=unit, created_by=actor if getattr(actor, "pk", None) else None, **fields
    )
    if receipt is not None:
        spending.receipt = _store_receipt(actor, spending, receipt)
        spending.save(update_fields=["receipt"])
    audit.record(
        actor,
        "funds_spending_record",
        spending,
        {
            "unit": unit.pk,
            "activity": [fields["activity_kind"], fields["activity_id"]],
            "receipt": receipt is not None,
        },
    )
    return spending


@transaction.atomic
def spending_update(
    *,
    actor,
    spending: Spending,
    version: int,
    spent_on: date,
    amount,
    category: str,
    purpose: str,
    activity_kind: str = "",
    activity_id: int | None = None,
    receipt=None,
    remove_receipt: bool = False,
) -> Spending:
    """Change a spending record (CAS on ``version``); a new receipt replaces the old one."""
    unit = spending.unit
    _manages(actor, unit)
    fields = _spending_fields(
        actor, unit, spent_on=spent_on, amount=amount, category=category, purpose=purpose,
        activity_kind=activity_kind, activity_id=activity_id,
    )  # fmt: skip
    changed = [name for name, value in fields.items() if getattr(spending, name) != value]
    if receipt is not None:
        fields["receipt"] = _store_receipt(actor, spending, receipt)
        changed.append("receipt")
    elif remove_receipt and spending.receipt_id:
        fields["receipt"] = None
        changed.append("receipt")
    updated = Spending.objects.filter(pk=spending.pk, version=version).update(
        version=F("version") + 1, **fields
    )
    if not updated:
        raise Conflict(STALE_SPENDING)
    spending.refresh_from_db()
    audit.record(actor, "funds_spending_update", spending, {"unit": unit.pk, "fields": changed})
    return spending


@transaction.atomic
def spending_delete(*, actor, spending: Spending, version: int) -> None:
    """Delete a spending record after confirmation (CAS on ``version``); the audit row keeps its ids."""
    _manages(actor, spending.unit)
    detail = {"unit": spending.unit_id, "receipt": str(spending.receipt.uid) if spending.receipt_id else None}
    audit.record(actor, "funds_spending_delete", spending, detail)
    deleted, _ = Spending.objects.filter(pk=spending.pk, version=version).delete()
    if not deleted:
        raise Conflict(STALE_SPENDING)


# --- warnings → duties -------------------------------------------------------------------------


def alert_raise(*, warning: execution.ExecutionWarning, unit: Unit, today: date) -> Alert | None:
    """Open the "经费执行预警" duty of a warning for the unit's root org, once per warning.

    The warning's key is recorded with ``scheduler.send_once`` (the reminders' exactly-once table),
    so a job run twice, or two schedulers, open one duty. None when it was opened before or the unit
    has no root org to give it to (the key stays free then).
    """
    from sizheng.duties.models import SourceKind
    from sizheng.duties.services import duty_open

    org = access.root_org_of(unit.pk)
    if org is None:
        return None
    raised: list[Alert] = []

    def open_duty() -> None:
        alert = Alert.objects.create(
            unit=unit, year=warning.year, kind=warning.kind, category=warning.category, raised_on=today
        )
        duty = duty_open(
            org=org,
            title=f"{ALERT_TITLE}：{unit.short_name or unit.name}",
            due_on=calendar.add_workdays(today, ALERT_DUTY_WORKDAYS),
            source=(SourceKind.FUNDS, alert.pk),
            actor=None,
            description=warning.message,
            category=ALERT_CATEGORY,
        )
        Alert.objects.filter(pk=alert.pk).update(duty_id=duty.pk)
        alert.duty_id = duty.pk
        audit.record(
            None, "funds_alert_raise", alert, {"unit": unit.pk, "year": warning.year, "duty": duty.pk}
        )
        raised.append(alert)

    scheduler.send_once(warning.key, open_duty)
    return raised[0] if raised else None


@transaction.atomic
def alert_clear(*, alert: Alert, today: date, reason: str) -> bool:
    """Mark an alert whose warning no longer holds as cleared and close its duty from the source."""
    from sizheng.duties.models import SourceKind
    from sizheng.duties.services import duty_close_from_source

    if not Alert.objects.filter(pk=alert.pk, cleared_on__isnull=True).update(cleared_on=today):
        return False
    alert.cleared_on = today
    duty_close_from_source(source=(SourceKind.FUNDS, alert.pk), actor=None, evidence=reason, today=today)
    audit.record(None, "funds_alert_clear", alert, {"unit": alert.unit_id, "year": alert.year})
    return True
