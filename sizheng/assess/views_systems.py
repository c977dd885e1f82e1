"""Screens of indicator systems (测评体系): the list, a system's indicator tree, its settings, the
shipped systems, copying to a new version, publication, the 100-point table's export and import,
and adding, changing and deleting indicators while a system is a draft.

Access (assess.access): anyone who may read a system sees it (outsiders get 404); changes need
``may_edit_system`` (403 otherwise), and a published or archived system is never changed (403 with
the way forward: copy it as a new version). Every write goes through ``assess.systems`` /
``assess.tableio`` (audited); a stale form gets 409.
"""

from __future__ import annotations

import base64
import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizheng.assess import access, systems, tableio
from sizheng.assess.forms_systems import (
    BuiltinForm,
    CopyForm,
    ImportForm,
    IndicatorForm,
    SystemFilterForm,
    SystemForm,
    VersionForm,
)
from sizheng.assess.models import Indicator, IndicatorKind, IndicatorSystem, SystemState
from sizheng.core import audit, formflow
from sizheng.core.paging import paginate
from sizheng.core.xlsx import xlsx_response
from sizheng.org.access import require

IMPORT_SESSION_KEY = "assess_table_import"
READ_ONLY = "您可以查看测评体系，但没有修改的权限。测评体系由机关工委（或体系的制定单位）维护。"
NOT_DRAFT = "该体系已{state}，不能再修改。如需调整，请在体系页面点击“复制为新版本”，修改草稿后重新发布。"
INDENT = ["", "ps-4", "ps-5"]


def _may_create(user) -> None:
    require(access.may_edit_systems(user), "只有机关工委管理员可以新建、导入测评体系。")


def _editable(user, system: IndicatorSystem) -> None:
    require(access.may_edit_system(user, system), READ_ONLY)
    require(system.is_editable, NOT_DRAFT.format(state=system.get_state_display()))


def _indicator_or_404(user, pk) -> Indicator:
    return get_object_or_404(
        Indicator.objects.select_related("system", "parent"), pk=pk, system__in=access.visible_systems(user)
    )


# --- the list ------------------------------------------------------------------------------------


@login_required
@require_GET
def system_list(request: HttpRequest) -> HttpResponse:
    """Systems the user may read: search by name, filter by year, kind and state, 50 a page."""
    user = request.user
    visible = access.visible_systems(user)
    years = sorted(set(visible.values_list("year", flat=True)), reverse=True)
    form = SystemFilterForm(request.GET or None, years=years)
    qs = (
        form.filter(visible)
        .annotate(n_indicators=Count("indicators"))
        .select_related("owner_org")
        .order_by("-year", "name", "-number")
    )
    ctx = {
        "form": form,
        "page": paginate(request, qs),
        "can_create": access.may_edit_systems(user),
        "filtered": any(request.GET.get(k) for k in ("q", "year", "kind", "state")),
    }
    return render(request, "assess/systems/list.html", ctx)


# --- one system ----------------------------------------------------------------------------------


@login_required
@require_GET
def system_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The indicator tree as an indented table with weights, 分值, sources and rules; problems listed."""
    user = request.user
    system = access.get_system_or_404(user, pk)
    inds = list(system.indicators.all())
    rows = systems.tree(system, indicators=inds)
    for r in rows:
        r.indent_class = INDENT[min(r.depth, len(INDENT) - 1)]
    scored_leaves = [r for r in rows if r.is_leaf and r.indicator.kind == IndicatorKind.SCORED]
    can_edit = access.may_edit_system(user, system)
    ctx = {
        "system": system,
        "rows": [r for r in rows if r.indicator.kind == IndicatorKind.SCORED],
        "bonus_rows": [r for r in rows if r.indicator.kind == IndicatorKind.BONUS],
        "veto_rows": [r for r in rows if r.indicator.kind == IndicatorKind.VETO],
        "total_points": sum(r.points for r in scored_leaves),
        "leaf_count": len(scored_leaves),
        "problems": systems.publication_problems(system, indicators=inds) if system.is_editable else [],
        "can_edit": can_edit,
        "editable": can_edit and system.is_editable,
        "can_copy": can_edit,
        "versions": access.visible_systems(user).filter(name=system.name).exclude(pk=system.pk)
        .order_by("-year", "-number")[:10],
        "rounds_count": system.rounds.count(),
    }  # fmt: skip
    return render(request, "assess/systems/detail.html", ctx)


@login_required
@require_GET
def system_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The system as the usual 100-point Excel table (audited)."""
    system = access.get_system_or_404(request.user, pk)
    data = tableio.export_table(system)
    audit.record(request.user, "assess_system_export", system, {})
    return xlsx_response(data, f"{system.year}年{system.name}评分表（第{system.number}版）")


# --- creating, settings, versions ----------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def system_new(request: HttpRequest) -> HttpResponse:
    """A new, empty draft system (indicators are added next, or import a table instead)."""
    user = request.user
    _may_create(user)
    form = SystemForm(request.POST or None)

    def save(d):
        return systems.create_system(
            actor=user, name=d["name"], year=d["year"], kind=d["kind"], description=d["description"],
            grade_bands=d["grade_bands"], caps=d["caps"], bonus_cap=d["bonus_cap"], self_share=d["self_share"],
            missing_policy=d["missing_policy"],
        )  # fmt: skip

    system, status = formflow.run(request, form, save)
    if system is not None:
        messages.success(request, f"已建立{system}（草稿）。请逐项添加一级指标和二级指标，检查权重后发布。")
        return redirect("assess:system", pk=system.pk)
    return render(request, "assess/systems/form.html", {"form": form, "system": None}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def system_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a draft system's name, description, grade bands, caps, bonus cap, self share, missing policy."""
    user = request.user
    system = access.get_system_or_404(user, pk)
    _editable(user, system)
    form = SystemForm(request.POST or None, system=system)

    def save(d):
        return systems.update_system(
            system, actor=user, version=d.get("version"), name=d["name"], description=d["description"],
            grade_bands=d["grade_bands"], caps=d["caps"], bonus_cap=d["bonus_cap"], self_share=d["self_share"],
            missing_policy=d["missing_policy"],
        )  # fmt: skip

    saved, status = formflow.run(request, form, save)
    if saved is not None:
        messages.success(request, "已保存体系设置。")
        return redirect("assess:system", pk=system.pk)
    return render(request, "assess/systems/form.html", {"form": form, "system": system}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def system_builtin(request: HttpRequest) -> HttpResponse:
    """Create one of the two shipped systems for a year."""
    user = request.user
    _may_create(user)
    form = BuiltinForm(request.POST or None)
    system, status = formflow.run(
        request,
        form,
        lambda d: systems.builtin(d["kind"], d["year"], actor=user, publish=d.get("publish", False)),
    )
    if system is not None:
        state = (
            "已发布，可以用它建立考核轮次"
            if system.state == SystemState.PUBLISHED
            else "为草稿，调整后请发布"
        )
        messages.success(request, f"已从内置体系建立{system}，{state}。")
        return redirect("assess:system", pk=system.pk)
    return render(request, "assess/systems/builtin.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def system_copy(request: HttpRequest, pk: int) -> HttpResponse:
    """Copy a system as a new draft version (by default for the next year)."""
    user = request.user
    system = access.get_system_or_404(user, pk)
    require(access.may_edit_system(user, system), READ_ONLY)
    form = CopyForm(request.POST or None, system=system)
    copy, status = formflow.run(
        request, form, lambda d: systems.copy_as_new_version(system, actor=user, year=d["year"])
    )
    if copy is not None:
        messages.success(request, f"已复制为{copy}（草稿）。修改后请检查权重并发布。")
        return redirect("assess:system", pk=copy.pk)
    return render(request, "assess/systems/copy.html", {"form": form, "system": system}, status=status)


def _state_change(request: HttpRequest, pk: int, *, action: str) -> HttpResponse:
    user = request.user
    system = access.get_system_or_404(user, pk)
    require(access.may_edit_system(user, system), READ_ONLY)
    form = VersionForm(request.POST or None, initial={"version": system.version})
    service = systems.publish if action == "publish" else systems.archive
    done, status = formflow.run(request, form, lambda d: service(system, actor=user, version=d["version"]))
    if done is not None:
        if action == "publish":
            messages.success(request, f"已发布{system}。现在可以用它建立考核轮次；已发布的体系不能再修改。")
        else:
            messages.success(request, f"已停用{system}。新的考核轮次不能再选择它，已有轮次不受影响。")
        return redirect("assess:system", pk=system.pk)
    problems = systems.publication_problems(system) if action == "publish" and system.is_editable else []
    ctx = {"system": system, "form": form, "action": action, "problems": problems}
    return render(request, "assess/systems/state_confirm.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def system_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then publish a draft (refused while weights or rules are wrong)."""
    return _state_change(request, pk, action="publish")


@login_required
@require_http_methods(["GET", "POST"])
def system_archive(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then archive (停用) a published system."""
    return _state_change(request, pk, action="archive")


# --- indicators ----------------------------------------------------------------------------------


def _indicator_page(request, form, *, system, indicator=None, status=200):
    ctx = {"form": form, "system": system, "indicator": indicator}
    return render(request, "assess/systems/indicator_form.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def indicator_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Add an indicator to a draft system (``?parent=`` preselects the parent)."""
    user = request.user
    system = access.get_system_or_404(user, pk)
    _editable(user, system)
    initial = {}
    raw = request.GET.get("parent", "")
    if raw.isdigit():
        parent = system.indicators.filter(pk=raw, kind=IndicatorKind.SCORED).first()
        if parent is not None:
            initial["parent"] = parent.pk
            n = parent.children.count() + 1
            initial["code"] = f"{parent.code}.{n}"
    form = IndicatorForm(request.POST or None, system=system, initial=initial)

    def save(d):
        return systems.save_indicator(
            system, actor=user, version=d.get("version"), parent=d.get("parent"), **form.service_fields()
        )

    ind, status = formflow.run(request, form, save)
    if ind is not None:
        messages.success(request, f"已添加指标“{ind.code} {ind.name}”。同一上级下各指标的权重之和须为 1。")
        return redirect(f"{reverse('assess:system', args=[system.pk])}#ind-{ind.pk}")
    return _indicator_page(request, form, system=system, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def indicator_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an indicator of a draft system."""
    user = request.user
    indicator = _indicator_or_404(user, pk)
    system = indicator.system
    _editable(user, system)
    form = IndicatorForm(request.POST or None, system=system, indicator=indicator)

    def save(d):
        return systems.save_indicator(
            system, actor=user, version=d.get("version"), indicator=indicator, parent=d.get("parent"),
            **form.service_fields(),
        )  # fmt: skip

    ind, status = formflow.run(request, form, save)
    if ind is not None:
        messages.success(request, f"已保存指标“{ind.code} {ind.name}”。")
        return redirect(f"{reverse('assess:system', args=[system.pk])}#ind-{ind.pk}")
    return _indicator_page(request, form, system=system, indicator=indicator, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def indicator_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then delete an indicator of a draft system with its sub-indicators."""
    user = request.user
    indicator = _indicator_or_404(user, pk)
    system = indicator.system
    _editable(user, system)
    form = VersionForm(request.POST or None, initial={"version": system.version})
    codes, status = formflow.run(
        request, form, lambda d: systems.delete_indicator(indicator, actor=user, version=d["version"])
    )
    if codes is not None:
        more = f"及其下级指标 {len(codes) - 1} 项" if len(codes) > 1 else ""
        messages.success(
            request, f"已删除指标“{indicator.code} {indicator.name}”{more}。请检查同级指标的权重之和。"
        )
        return redirect("assess:system", pk=system.pk)
    ids = systems._descendant_ids(indicator)
    children = list(Indicator.objects.filter(pk__in=ids).order_by("order", "code"))
    caps = [
        c for c in system.caps or [] if c.get("indicator") in {indicator.code, *(c2.code for c2 in children)}
    ]
    ctx = {"indicator": indicator, "system": system, "form": form, "children": children, "caps": caps}
    return render(request, "assess/systems/indicator_delete.html", ctx, status=status)


# --- import --------------------------------------------------------------------------------------


def _import_page(request, form, *, status=200, notice=""):
    ctx = {"form": form, "notice": notice, "headers": tableio.HEADERS}
    return render(request, "assess/systems/import.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def system_import(request: HttpRequest) -> HttpResponse:
    """Upload a 100-point table: a dry run shows the tree it would create, or every error by row."""
    user = request.user
    _may_create(user)
    posted = request.method == "POST"
    form = ImportForm(request.POST if posted else None, request.FILES if posted else None)
    if not posted:
        return _import_page(request, form)
    if not form.is_valid():
        return _import_page(request, form, status=422)
    d = form.cleaned_data
    data = d["file"].read()
    report = tableio.import_table(data, actor=user, name=d["name"], year=d["year"], dry_run=True)
    request.session.pop(IMPORT_SESSION_KEY, None)
    ctx = {"report": report, "preview": report.preview() if report.ok else [], "filename": d["file"].name, "name": d["name"],
           "year": d["year"], "file_errors": [e for e in report.errors if e["row"] is None],
           "row_errors": [e for e in report.errors if e["row"] is not None]}  # fmt: skip
    if not report.ok:
        return render(request, "assess/systems/import_preview.html", ctx, status=422)
    token = secrets.token_urlsafe(16)
    request.session[IMPORT_SESSION_KEY] = {
        "token": token,
        "data": base64.b64encode(data).decode("ascii"),
        "name": d["name"],
        "year": d["year"],
        "filename": d["file"].name,
        "at": timezone.now().timestamp(),
    }
    return render(request, "assess/systems/import_preview.html", {**ctx, "token": token})


@login_required
@require_POST
def system_import_confirm(request: HttpRequest) -> HttpResponse:
    """Create the previewed system (all-or-nothing), then forget the upload."""
    user = request.user
    _may_create(user)
    pending = request.session.get(IMPORT_SESSION_KEY) or {}
    token = request.POST.get("token", "")
    fresh = pending and timezone.now().timestamp() - pending.get("at", 0) < 3600
    if not (token and fresh and secrets.compare_digest(token, str(pending.get("token", "")))):
        request.session.pop(IMPORT_SESSION_KEY, None)
        notice = "要导入的评分表已过期（超过 1 小时）或已经导入过，请重新上传。"
        return _import_page(request, ImportForm(), status=409, notice=notice)
    request.session.pop(IMPORT_SESSION_KEY, None)
    data = base64.b64decode(pending["data"])
    report = tableio.import_table(data, actor=user, name=pending["name"], year=pending["year"], dry_run=False)
    if not report.ok:
        ctx = {"report": report, "preview": report.preview() if report.ok else [], "filename": pending.get("filename", ""),
               "name": pending["name"], "year": pending["year"],
               "file_errors": [e for e in report.errors if e["row"] is None],
               "row_errors": [e for e in report.errors if e["row"] is not None]}  # fmt: skip
        return render(request, "assess/systems/import_preview.html", ctx, status=422)
    system = report.system
    messages.success(request, f"已从评分表导入{system}（草稿，{len(report.plan)} 项指标）。请核对后发布。")
    return redirect("assess:system", pk=system.pk)


urlpatterns = [
    path("systems/", system_list, name="systems"),
    path("systems/new/", system_new, name="system_new"),
    path("systems/builtin/", system_builtin, name="system_builtin"),
    path("systems/import/", system_import, name="system_import"),
    path("systems/import/confirm/", system_import_confirm, name="system_import_confirm"),
    path("systems/<int:pk>/", system_detail, name="system"),
    path("systems/<int:pk>/edit/", system_edit, name="system_edit"),
    path("systems/<int:pk>/copy/", system_copy, name="system_copy"),
    path("systems/<int:pk>/publish/", system_publish, name="system_publish"),
    path("systems/<int:pk>/archive/", system_archive, name="system_archive"),
    path("systems/<int:pk>/export.xlsx", system_export, name="system_export"),
    path("systems/<int:pk>/indicators/new/", indicator_new, name="indicator_new"),
    path("indicators/<int:pk>/edit/", indicator_edit, name="indicator_edit"),
    path("indicators/<int:pk>/delete/", indicator_delete, name="indicator_delete"),
]
