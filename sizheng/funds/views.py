"""Screens of the funds app: the execution overview and a unit's execution, the yearly budget, the
spending list with its ledger, and recording, changing and deleting a spending.

Each view checks access (funds.access: 404 outside scope, 403 for a reader who may not change),
runs a form through one service and renders. A failed form re-renders with 422, a stale version
with 409; a wrong method gets 405.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from sizheng.core import audit, formflow
from sizheng.core.paging import paginate
from sizheng.core.xlsx import xlsx_response
from sizheng.funds import access, forms, money, queries, services
from sizheng.funds.ledger import ledger_xlsx
from sizheng.funds.models import Budget, Spending

NO_UNITS = (
    "您不负责任何单位的经费管理，不能登记支出。单位经费由单位机关党委（党总支、党支部）的书记、党务干部管理。"
)


def _year(request: HttpRequest) -> int:
    """The year asked for (?year=), else this year."""
    raw = request.GET.get("year", "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else timezone.localdate().year


def _years(year: int) -> list[int]:
    this = timezone.localdate().year
    return sorted({*range(this - 4, this + 2), year}, reverse=True)


def _duty_url(duty_id: int | None) -> str:
    if not duty_id:
        return ""
    try:
        return reverse("duties:detail", args=[duty_id])
    except NoReverseMatch:
        return ""


def _warnings(ex, alerts: dict) -> list[dict]:
    """The execution's warnings with the duty each one opened, if any."""
    out = []
    for w in ex.warnings:
        alert = alerts.get(w.key)
        out.append({"warning": w, "duty_url": _duty_url(alert.duty_id if alert else None)})
    return out


def _budget_total(budget: Budget):
    return money.total(budget.lines.values_list("amount", flat=True))


# --- execution ---------------------------------------------------------------------------------


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """The execution of every unit the user manages or leads, for a year, with the warnings."""
    user, year, today = request.user, _year(request), timezone.localdate()
    units = list(access.readable_units(user).filter(is_active=True).order_by("order", "pk"))
    execs = queries.executions([u.pk for u in units], year, today)
    rows = [{"unit": u, "ex": execs[u.pk]} for u in units]
    budget = money.total(r["ex"].budget for r in rows)
    spent = money.total(r["ex"].spent for r in rows)
    ctx = {
        "year": year,
        "years": _years(year),
        "page": paginate(request, rows),
        "has_units": bool(units),
        "total": {
            "budget": budget,
            "spent": spent,
            "remaining": budget - spent,
            "rate": money.rate(spent, budget),
        },
        "warned": sum(1 for r in rows if r["ex"].warnings),
        "unbudgeted": sum(1 for r in rows if not r["ex"].has_budget),
        "can_manage": access.managed_units(user).exists(),
    }
    ctx["hide_manage_tabs"] = not ctx["can_manage"]
    return render(request, "funds/overview.html", ctx)


@login_required
@require_GET
def unit_execution(request: HttpRequest, unit_id: int) -> HttpResponse:
    """One unit's execution for a year: by category, by quarter, its warnings and their duties."""
    user, year, today = request.user, _year(request), timezone.localdate()
    unit = access.get_unit_or_404(user, unit_id)
    ex = queries.executions([unit.pk], year, today)[unit.pk]
    alerts = queries.alerts_by_key([unit.pk], year)
    budget = Budget.objects.filter(unit=unit, year=year).select_related("created_by").first()
    ctx = {
        "unit": unit,
        "year": year,
        "years": _years(year),
        "ex": ex,
        "budget": budget,
        "warnings": _warnings(ex, alerts),
        "can_manage": access.may_manage(user, unit),
        "hide_manage_tabs": not access.managed_units(user).exists(),
        "quarters": [
            {"q": q, "cells": [q.by_category[line.category] for line in ex.lines]} for q in ex.quarters
        ],
    }
    return render(request, "funds/unit.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def budget_edit(request: HttpRequest, unit_id: int, year: int) -> HttpResponse:
    """Draw up or change a unit's budget for a year (hidden version: a stale form gets 409)."""
    user = request.user
    unit = access.get_unit_or_404(user, unit_id, manage=True)
    if not services.FIRST_YEAR <= year <= services.LAST_YEAR:
        return redirect("funds:unit", unit_id=unit.pk)
    budget = Budget.objects.filter(unit=unit, year=year).first()
    initial = {"version": budget.version if budget else None, "note": budget.note if budget else ""}
    if budget is not None:
        initial.update({f"amount_{c}": a for c, a in budget.lines.values_list("category", "amount")})
    form = forms.BudgetForm(request.POST or None, initial=initial)

    def save(data):
        return services.budget_save(
            actor=user,
            unit=unit,
            year=year,
            amounts=form.amounts(),
            note=data["note"],
            version=data["version"],
        )

    result, status = formflow.run(request, form, save)
    if result is not None:
        saved, created = result
        messages.success(
            request,
            f"已{'编制' if created else '调整'}{unit.name} {year} 年度经费预算，合计 {money.yuan(_budget_total(saved))} 元。",
        )
        return redirect(f"{reverse('funds:unit', args=[unit.pk])}?year={year}")
    ctx = {"unit": unit, "year": year, "budget": budget, "form": form}
    return render(request, "funds/budget_form.html", ctx, status=status)


# --- spending ----------------------------------------------------------------------------------


def _filtered(request: HttpRequest):
    units = access.managed_units(request.user).order_by("order", "pk")
    form = forms.SpendingFilterForm(request.GET, units=units)
    filters = form.filters()
    qs = queries.filter_spending(Spending.objects.visible_to(request.user), **filters)
    return form, filters, units, qs


@login_required
@require_GET
def spending_list(request: HttpRequest) -> HttpResponse:
    """Spending of the units the user manages: filters, search, the total to the cent, 50 a page."""
    form, filters, units, qs = _filtered(request)
    has_units = units.exists()
    page = paginate(request, qs.for_list().order_by("-spent_on", "-pk"))
    queries.attach_activities(page.object_list)
    ctx = {
        "form": form,
        "page": page,
        "total": queries.total_of(qs),
        "year": filters["year"],
        "has_units": has_units,
        "hide_manage_tabs": not has_units,
        "query": request.GET.urlencode(),
    }
    return render(request, "funds/spending_list.html", ctx)


@login_required
@require_GET
def ledger(request: HttpRequest) -> HttpResponse:
    """经费台账 (Excel) of the filtered spending and the year's execution of the units; audited."""
    form, filters, units, qs = _filtered(request)
    if not units.exists():
        raise PermissionDenied(NO_UNITS)
    year = filters["year"]
    rows = queries.attach_activities(list(qs.for_list().order_by("spent_on", "pk")))
    chosen = [filters["unit"]] if filters["unit"] else list(units.filter(is_active=True))
    execs = queries.executions([u.pk for u in chosen], year, timezone.localdate())
    note = (
        f"导出时间：{timezone.localtime():%Y年%m月%d日 %H:%M}；导出人：{request.user}；支出 {len(rows)} 笔。"
    )
    data = ledger_xlsx(rows, [(u.name, execs[u.pk]) for u in chosen], title=f"{year}年经费台账", note=note)
    audit.record(
        request.user, "funds_ledger_export", None, {"rows": len(rows), "query": request.GET.urlencode()}
    )
    return xlsx_response(data, f"经费台账{year}_{timezone.localdate():%Y%m%d}")


def _spending_form_page(request, form, *, spending=None, status=200):
    ctx = {"form": form, "spending": spending}
    return render(request, "funds/spending_form.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def spending_create(request: HttpRequest) -> HttpResponse:
    """Record a spending of a unit the user manages (403 for anyone who manages none)."""
    user = request.user
    units = access.managed_units(user).filter(is_active=True).order_by("order", "pk")
    if not units.exists():
        raise PermissionDenied(NO_UNITS)
    initial = {}
    raw = request.GET.get("unit", "")
    if raw.isdigit() and units.filter(pk=raw).exists():
        initial["unit"] = int(raw)
    form = forms.SpendingForm(request.POST or None, request.FILES or None, units=units, initial=initial)

    def save(data):
        return services.spending_record(
            actor=user,
            unit=data["unit"],
            spent_on=data["spent_on"],
            amount=data["amount"],
            category=data["category"],
            purpose=data["purpose"],
            activity_kind=data.get("activity_kind") or "",
            activity_id=data.get("activity_id"),
            receipt=data.get("receipt"),
        )

    spending, status = formflow.run(request, form, save)
    if spending is not None:
        messages.success(request, f"已登记支出 {money.yuan(spending.amount)} 元：{spending.purpose}。")
        return redirect("funds:spending_detail", pk=spending.pk)
    return _spending_form_page(request, form, status=status)


@login_required
@require_GET
def spending_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One spending record (managers of its unit only; 404 for everyone else)."""
    spending = access.get_spending_or_404(request.user, pk)
    queries.attach_activities([spending])
    return render(request, "funds/spending_detail.html", {"spending": spending})


@login_required
@require_http_methods(["GET", "POST"])
def spending_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a spending record (hidden version: a stale form gets 409)."""
    user = request.user
    spending = access.get_spending_or_404(user, pk)
    initial = {
        "spent_on": spending.spent_on,
        "amount": spending.amount,
        "category": spending.category,
        "purpose": spending.purpose,
        "activity_kind": spending.activity_kind,
        "activity_id": spending.activity_id,
        "version": spending.version,
    }
    form = forms.SpendingForm(request.POST or None, request.FILES or None, initial=initial, editing=True)

    def save(data):
        return services.spending_update(
            actor=user,
            spending=spending,
            version=data.get("version") or 0,
            spent_on=data["spent_on"],
            amount=data["amount"],
            category=data["category"],
            purpose=data["purpose"],
            activity_kind=data.get("activity_kind") or "",
            activity_id=data.get("activity_id"),
            receipt=data.get("receipt"),
            remove_receipt=data.get("remove_receipt", False),
        )

    updated, status = formflow.run(request, form, save)
    if updated is not None:
        messages.success(request, "已保存支出记录的修改。")
        return redirect("funds:spending_detail", pk=spending.pk)
    return _spending_form_page(request, form, spending=spending, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def spending_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then delete a spending record (hidden version: a stale confirmation gets 409)."""
    user = request.user
    spending = access.get_spending_or_404(user, pk)
    form = forms.DeleteForm(request.POST or None, initial={"version": spending.version})
    done, status = formflow.run(
        request,
        form,
        lambda d: services.spending_delete(actor=user, spending=spending, version=d["version"]) or True,
    )
    if done:
        messages.success(
            request,
            f"已删除 {spending.spent_on:%Y年%m月%d日} 的支出记录（{money.yuan(spending.amount)} 元）。",
        )
        return redirect(f"{reverse('funds:spending_list')}?year={spending.spent_on.year}")
    queries.attach_activities([spending])
    return render(request, "funds/spending_delete.html", {"spending": spending, "form": form}, status=status)
