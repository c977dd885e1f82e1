"""The funds API (issue 8 §5): budgets, spending and execution, scoped like the screens.

Amounts are Decimal throughout and serialised as strings with two places ("1234.50") so no client
ever meets a binary float; inputs are accepted as strings (preferred) or JSON numbers. Errors come
out in the core's one shape: 404 outside scope, 403 for a reader who may not change, 409 for a
stale version, 422 with Chinese messages.
"""

# No `from __future__ import annotations` here: ninja reads the parameter annotations at import time.

from datetime import date, datetime
from decimal import Decimal

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from sizheng.core.apitools import ErrorOut, Paged
from sizheng.funds import access, money, queries, services
from sizheng.funds.models import Budget, Category, Spending

router = Router(tags=["经费保障"])

_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}
_AMOUNT = '金额（元，字符串，保留两位小数，如 "1234.50"）'


def _rate(value: Decimal | None) -> str | None:
    """A rate as text with its one place ("40.1"); None without a budget."""
    return None if value is None else f"{value:f}"


# --- schemas -----------------------------------------------------------------------


class BudgetLineOut(Schema):
    """One category of a budget."""

    category: str
    category_label: str
    amount: str = Field(..., description=_AMOUNT)


class BudgetOut(Schema):
    """A unit's yearly budget with its lines by category and their total."""

    id: int
    unit_id: int
    unit_name: str
    year: int
    version: int
    total: str = Field(..., description=_AMOUNT)
    note: str
    updated_at: datetime
    lines: list[BudgetLineOut]


class BudgetFilter(Schema):
    unit_id: int | None = Field(None, description="单位")
    year: int | None = Field(None, ge=2000, le=2100, description="年度")


class BudgetIn(Schema):
    """A yearly budget to set: ``version`` null to draw it up, the version seen to change it."""

    unit_id: int = Field(..., description="单位")
    year: int = Field(..., ge=2000, le=2100, description="年度")
    amounts: dict[str, Decimal] = Field(
        ...,
        description="类别 → 金额：study 学习教育、position 阵地建设、care 关爱慰问、activity 主题活动、training 培训、other 其他",
    )
    note: str = Field("", max_length=500, description="说明")
    version: int | None = Field(None, ge=1, description="修改时填写当前版本号；新编制时为空")


class SpendingOut(Schema):
    """A spending record; a care case is named by its number only."""

    id: int
    unit_id: int
    unit_name: str
    spent_on: date
    quarter: int
    amount: str = Field(..., description=_AMOUNT)
    category: str
    category_label: str
    purpose: str
    activity_kind: str
    activity_id: int | None
    activity_label: str
    receipt_url: str | None
    version: int
    created_at: datetime


class SpendingFilter(Schema):
    unit_id: int | None = Field(None, description="单位")
    year: int | None = Field(None, ge=2000, le=2100, description="年度")
    category: Category | None = Field(None, description="类别")


class SpendingIn(Schema):
    """A spending to record (the receipt is uploaded on the web form)."""

    unit_id: int = Field(..., description="单位")
    spent_on: date = Field(..., description="支出日期")
    amount: Decimal = Field(..., description=_AMOUNT)
    category: str = Field(..., max_length=16, description="类别")
    purpose: str = Field(..., max_length=200, description="用途")
    activity_kind: str = Field(
        "", max_length=16, description="服务的活动：meeting、care_case、study_session 或空"
    )
    activity_id: int | None = Field(None, ge=1, description="活动编号")


class LineOut(Schema):
    category: str
    category_label: str
    budget: str
    spent: str
    remaining: str
    rate: str | None = Field(None, description="执行率（%，一位小数）；无预算时为空")
    overspent: bool


class QuarterOut(Schema):
    quarter: int
    spent: str
    cumulative: str
    cumulative_rate: str | None
    by_category: dict[str, str]


class WarningOut(Schema):
    kind: str = Field(..., description="underspend 执行偏慢 / overspend 类别超支")
    category: str
    message: str


class ExecutionOut(Schema):
    """A unit's execution for a year, as of today."""

    unit_id: int
    unit_name: str
    year: int
    as_of: date
    has_budget: bool
    budget: str
    spent: str
    remaining: str
    rate: str | None
    categories: list[LineOut]
    quarters: list[QuarterOut]
    warnings: list[WarningOut]


class ExecutionQuery(Schema):
    unit_id: int = Field(..., description="单位")
    year: int | None = Field(None, ge=2000, le=2100, description="年度（默认今年）")


# --- shaping -----------------------------------------------------------------------


def _budget_out(budget: Budget) -> dict:
    labels = dict(queries.categories())
    lines = sorted(budget.lines.all(), key=lambda line: Category.values.index(line.category))
    return {
        "id": budget.pk,
        "unit_id": budget.unit_id,
        "unit_name": budget.unit.name,
        "year": budget.year,
        "version": budget.version,
        "total": money.to_text(money.total(line.amount for line in lines)),
        "note": budget.note,
        "updated_at": budget.updated_at,
        "lines": [
            {
                "category": line.category,
                "category_label": labels[line.category],
                "amount": money.to_text(line.amount),
            }
            for line in lines
        ],
    }


def _spending_out(s: Spending) -> dict:
    return {
        "id": s.pk,
        "unit_id": s.unit_id,
        "unit_name": s.unit.name,
        "spent_on": s.spent_on,
        "quarter": s.quarter,
        "amount": money.to_text(s.amount),
        "category": s.category,
        "category_label": s.get_category_display(),
        "purpose": s.purpose,
        "activity_kind": s.activity_kind,
        "activity_id": s.activity_id,
        "activity_label": getattr(s, "activity_label", ""),
        "receipt_url": reverse("core:file", args=[s.receipt.uid]) if s.receipt_id else None,
        "version": s.version,
        "created_at": s.created_at,
    }


def _execution_out(unit, ex) -> dict:
    return {
        "unit_id": unit.pk,
        "unit_name": unit.name,
        "year": ex.year,
        "as_of": ex.as_of,
        "has_budget": ex.has_budget,
        "budget": money.to_text(ex.budget),
        "spent": money.to_text(ex.spent),
        "remaining": money.to_text(ex.remaining),
        "rate": _rate(ex.rate),
        "categories": [
            {
                "category": line.category,
                "category_label": line.label,
                "budget": money.to_text(line.budget),
                "spent": money.to_text(line.spent),
                "remaining": money.to_text(line.remaining),
                "rate": _rate(line.rate),
                "overspent": line.overspent,
            }
            for line in ex.lines
        ],
        "quarters": [
            {
                "quarter": q.quarter,
                "spent": money.to_text(q.spent),
                "cumulative": money.to_text(q.cumulative),
                "cumulative_rate": _rate(q.cumulative_rate),
                "by_category": {c: money.to_text(v) for c, v in q.by_category.items()},
            }
            for q in ex.quarters
        ],
        "warnings": [{"kind": w.kind, "category": w.category, "message": w.message} for w in ex.warnings],
    }


# --- endpoints ---------------------------------------------------------------------


@router.get(
    "/budgets", response={200: list[BudgetOut], **_ERRORS}, url_name="funds-budgets", summary="经费预算列表"
)
@paginate(Paged)
def budget_list(request: HttpRequest, filters: Query[BudgetFilter]):
    """Budgets of the units the caller manages or leads; a unit outside scope answers 404."""
    qs = Budget.objects.visible_to(request.user)
    if filters.unit_id is not None:
        qs = qs.filter(unit=access.get_unit_or_404(request.user, filters.unit_id))
    if filters.year is not None:
        qs = qs.filter(year=filters.year)
    qs = qs.select_related("unit").prefetch_related("lines").order_by("-year", "unit__order", "unit_id")
    return [_budget_out(b) for b in qs]


@router.post(
    "/budgets",
    response={200: BudgetOut, 201: BudgetOut, **_ERRORS},
    url_name="funds-budget-save",
    summary="编制或调整年度经费预算",
)
def budget_save(request: HttpRequest, payload: BudgetIn):
    """Draw up (201) or change (200, CAS on ``version``: a stale one gets 409) a unit's yearly budget."""
    unit = access.get_unit_or_404(request.user, payload.unit_id, manage=True)
    budget, created = services.budget_save(
        actor=request.user,
        unit=unit,
        year=payload.year,
        amounts=payload.amounts,
        note=payload.note,
        version=payload.version,
    )
    budget = Budget.objects.select_related("unit").prefetch_related("lines").get(pk=budget.pk)
    return Status(201 if created else 200, _budget_out(budget))


@router.get(
    "/spending",
    response={200: list[SpendingOut], **_ERRORS},
    url_name="funds-spending",
    summary="经费支出列表",
)
@paginate(Paged)
def spending_list(request: HttpRequest, filters: Query[SpendingFilter]):
    """Spending of the units the caller manages, newest first; 403 for a unit the caller only reads."""
    user = request.user
    qs = Spending.objects.visible_to(user)
    if filters.unit_id is not None:
        qs = qs.filter(unit=access.get_unit_or_404(user, filters.unit_id, manage=True))
    qs = queries.filter_spending(qs, year=filters.year, category=filters.category or "")
    return _SpendingPage(qs.for_list().order_by("-spent_on", "-pk"))


class _SpendingPage:
    """A sliceable view of the spending queryset: each page gets its activity labels in one go."""

    def __init__(self, qs):
        self.qs = qs

    def __getitem__(self, item: slice) -> list[dict]:
        rows = list(self.qs[item])
        return [_spending_out(s) for s in queries.attach_activities(rows)]

    def __len__(self) -> int:
        return self.qs.count()


@router.post(
    "/spending",
    response={201: SpendingOut, **_ERRORS},
    url_name="funds-spending-record",
    summary="登记经费支出",
)
def spending_record(request: HttpRequest, payload: SpendingIn):
    """Record a spending of a unit the caller manages (403 for a reader, 404 outside scope)."""
    user = request.user
    unit = access.get_unit_or_404(user, payload.unit_id, manage=True)
    spending = services.spending_record(
        actor=user,
        unit=unit,
        spent_on=payload.spent_on,
        amount=payload.amount,
        category=payload.category,
        purpose=payload.purpose,
        activity_kind=payload.activity_kind,
        activity_id=payload.activity_id,
    )
    spending = Spending.objects.for_list().get(pk=spending.pk)
    queries.attach_activities([spending])
    return Status(201, _spending_out(spending))


@router.get(
    "/execution", response={200: ExecutionOut, **_ERRORS}, url_name="funds-execution", summary="经费执行情况"
)
def execution(request: HttpRequest, params: Query[ExecutionQuery]):
    """A unit's execution for a year by category and quarter, with its warnings (managers and leaders)."""
    unit = access.get_unit_or_404(request.user, params.unit_id)
    today = timezone.localdate()
    year = params.year or today.year
    ex = queries.executions([unit.pk], year, today)[unit.pk]
    return _execution_out(unit, ex)
