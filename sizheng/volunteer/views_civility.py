"""Screens of civilised-unit creation (文明创建): the application list and its ledger, an application
with its checklist and evidence, editing, submitting, the committee admin's review, deleting a draft,
the creation status per unit, and the criteria (committee admin).

Access per volunteer.access: 404 outside scope, 403 for a visible application the user may not change,
409 for a stale version or a state that does not allow the action, 422 for bad input, 405 for a wrong
method. Destructive actions (deleting a draft) need a ticked confirmation.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizheng.core import audit, formflow
from sizheng.core.apitools import Conflict
from sizheng.core.models import Role
from sizheng.core.paging import paginate
from sizheng.core.xlsx import write_ledger, xlsx_response
from sizheng.org.access import require, scope_of
from sizheng.org.models import Unit
from sizheng.volunteer import access, forms, queries, services, workflow
from sizheng.volunteer.models import Application, ApplicationState, CivilityKind, Criterion

LEDGER_LIMIT = 20000
EXPIRY_NOTICE_DAYS = 90
STATE_BADGES = {
    ApplicationState.DRAFT: "bg-secondary-lt",
    ApplicationState.SUBMITTED: "bg-yellow-lt",
    ApplicationState.APPROVED: "bg-green-lt",
    ApplicationState.RETURNED: "bg-red-lt",
    ApplicationState.EXPIRED: "bg-muted-lt",
}


def _filtered(request: HttpRequest):
    """The filter form and the applications in scope it selects."""
    user = request.user
    form = forms.ApplicationFilterForm(request.GET or None, user=user)
    qs = Application.objects.visible_to(user)
    if form.is_valid():
        d = form.cleaned_data
        if d.get("kind"):
            qs = qs.filter(kind=d["kind"])
        if d.get("state"):
            qs = qs.filter(state=d["state"])
        if d.get("year"):
            qs = qs.filter(year=int(d["year"]))
        if d.get("unit"):
            qs = qs.filter(unit=d["unit"])
        if d.get("q"):
            term = d["q"]
            qs = qs.filter(Q(unit__name__icontains=term) | Q(office__name__icontains=term)
                           | Q(person__name__icontains=term))  # fmt: skip
    return form, qs


@login_required
@require_GET
def applications(request: HttpRequest) -> HttpResponse:
    """Applications in scope: filters, pages, the ledger download."""
    form, qs = _filtered(request)
    page = paginate(request, qs.for_list().order_by("-year", "unit__order", "unit_id", "kind", "pk"))
    today = timezone.localdate()
    for a in page.object_list:
        a.badge = STATE_BADGES.get(a.state, "")
        a.expiring = (
            a.state == ApplicationState.APPROVED
            and a.valid_until is not None
            and (a.valid_until - today).days <= EXPIRY_NOTICE_DAYS
        )
    ctx = {"form": form, "page": page, "can_create": access.prepares_civility(request.user),
           "export_query": request.GET.urlencode()}  # fmt: skip
    return render(request, "volunteer/applications.html", ctx)


@login_required
@require_GET
def applications_export(request: HttpRequest) -> HttpResponse:
    """文明创建台账 (Excel) of the filtered list; audited."""
    _form, qs = _filtered(request)
    rows = list(qs.for_list().order_by("-year", "unit__order", "unit_id", "kind", "pk")[:LEDGER_LIMIT])
    headers = ["序号", "申报对象", "创建类型", "所属单位", "申报年度", "状态", "申报时间", "审核时间",
               "有效期起", "有效期至", "审核意见"]  # fmt: skip
    data = write_ledger(
        title="文明创建台账",
        headers=headers,
        rows=(
            [
                i,
                a.applicant_name,
                a.get_kind_display(),
                a.unit.name,
                a.year,
                a.get_state_display(),
                a.submitted_at,
                a.reviewed_at,
                a.valid_from,
                a.valid_until,
                a.opinion,
            ]  # fmt: skip
            for i, a in enumerate(rows, start=1)
        ),
        note=f"导出时间：{timezone.localtime():%Y年%m月%d日 %H:%M}；共 {len(rows)} 条。",
    )
    audit.record(
        request.user,
        "civility_applications_export",
        None,
        {"rows": len(rows), "query": request.GET.urlencode()},
    )
    return xlsx_response(data, f"文明创建台账{timezone.localdate():%Y%m%d}")


@login_required
@require_http_methods(["GET", "POST"])
def application_create(request: HttpRequest) -> HttpResponse:
    """Start an application for a unit, an office or a family of the units the user's orgs cover."""
    require(
        access.prepares_civility(request.user), "只有书记、党务干部或机关工委管理员可以发起文明创建申报。"
    )
    form = forms.ApplicationCreateForm(request.POST or None, user=request.user)
    # Say which choice each list belongs to instead of Django's "---------".
    for name, label in (("unit", "请选择单位（申报文明单位时必选）"), ("office", "请选择处室（申报文明处室时必选）"),
                        ("person", "请选择家庭代表（申报文明家庭时必选）")):  # fmt: skip
        form.fields[name].empty_label = label
    result, status = formflow.run(
        request, form, lambda d: services.application_create(actor=request.user, **d)
    )
    if result is not None:
        messages.success(request, f"已建立申报：{result}。请逐项填写落实情况，然后提交。")
        return redirect("volunteer:application_detail", pk=result.pk)
    return render(request, "volunteer/application_create.html", {"form": form}, status=status)


def _render_application(
    request, application: Application, *, status: int = 200, message: str = "", **overrides
):
    user = request.user
    can_edit = access.manages_application(user, application)
    can_review = access.reviews_civility(user)
    items = list(application.items.select_related("file").order_by("order", "pk"))
    editable = application.state in workflow.EDITABLE_APPLICATION
    ctx = {
        "application": application,
        "badge": STATE_BADGES.get(application.state, ""),
        "items": items,
        "can_edit": can_edit and editable,
        "can_submit": can_edit and editable,
        "can_delete": can_edit and application.state == ApplicationState.DRAFT,
        "can_review": can_review and application.state == ApplicationState.SUBMITTED,
        "message": message,
        "submit_form": overrides.get("submit_form")
        or forms.VersionForm(initial={"version": application.version}),
        "review_form": overrides.get("review_form")
        or forms.ReviewForm(
            initial={"version": application.version, "valid_years": services.DEFAULT_VALID_YEARS}
        ),
        "delete_form": overrides.get("delete_form")
        or forms.ConfirmedVersionForm(initial={"version": application.version}),
        "attach_form": overrides.get("attach_form") or forms.AttachForm(),
        "attach_item": overrides.get("attach_item"),
    }
    return render(request, "volunteer/application_detail.html", ctx, status=status)


@login_required
@require_GET
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An application: its checklist with evidence, its state and validity, and the forms the user may use."""
    return _render_application(request, access.get_application_or_404(request.user, pk))


@login_required
@require_http_methods(["GET", "POST"])
def application_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Fill in the summary and the evidence notes (while being filled in or returned)."""
    application = access.get_application_or_404(request.user, pk)
    access.require_manages_application(request.user, application)
    if application.state not in workflow.EDITABLE_APPLICATION:
        message = f"该申报{application.get_state_display()}，不能再修改。"
        return _render_application(request, application, message=message, status=409)
    items = list(application.items.order_by("order", "pk"))
    form = forms.ApplicationEditForm(
        request.POST or None,
        items=items,
        initial={"version": application.version, "summary": application.summary},
    )
    result, status = formflow.run(
        request,
        form,
        lambda d: services.application_update(
            actor=request.user,
            application=application,
            version=d["version"],
            summary=d["summary"],
            notes=form.notes(),
        ),  # fmt: skip
    )
    if result is not None:
        messages.success(request, "申报材料已保存。全部填写完成后请点击“提交申报”。")
        return redirect("volunteer:application_detail", pk=application.pk)
    return render(request, "volunteer/application_edit.html", {"application": application, "form": form},
                  status=status)  # fmt: skip


@login_required
@require_POST
def application_submit(request: HttpRequest, pk: int) -> HttpResponse:
    """Submit for review (every criterion needs its evidence note)."""
    application = access.get_application_or_404(request.user, pk)
    access.require_manages_application(request.user, application)
    form = forms.VersionForm(request.POST)
    if not form.is_valid():
        return _render_application(request, application, submit_form=form, status=422,
                                   message="提交的数据有误，请刷新页面后重试。")  # fmt: skip
    try:
        services.application_transition(
            actor=request.user, application=application, action="submit", version=form.cleaned_data["version"]
        )
    except Conflict as exc:
        return _render_application(request, application, message=exc.message, status=409)
    except ValidationError as exc:
        return _render_application(request, application, message="；".join(exc.messages), status=422)
    messages.success(request, "申报已提交，等待机关工委审核。")
    return redirect("volunteer:application_detail", pk=application.pk)


@login_required
@require_POST
def application_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The committee admin approves (with a validity period) or returns (with an opinion)."""
    application = access.get_application_or_404(request.user, pk)
    require(access.reviews_civility(request.user), "只有机关工委管理员可以审核文明创建申报。")
    form = forms.ReviewForm(request.POST)
    if not form.is_valid():
        return _render_application(request, application, review_form=form, status=422)
    d = form.cleaned_data
    try:
        services.application_transition(
            actor=request.user, application=application, action=d["decision"], version=d["version"],
            opinion=d.get("opinion") or "", valid_years=d.get("valid_years"), valid_from=d.get("valid_from"),
        )  # fmt: skip
    except Conflict as exc:
        return _render_application(request, application, review_form=form, message=exc.message, status=409)
    except ValidationError as exc:
        formflow.add_service_errors(form, exc)
        return _render_application(request, application, review_form=form, status=422)
    done = "审核通过" if d["decision"] == "approve" else "退回修改"
    messages.success(request, f"已{done}：{application}。")
    return redirect("volunteer:application_detail", pk=application.pk)


@login_required
@require_POST
def application_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete an application still being filled in (a ticked confirmation first)."""
    application = access.get_application_or_404(request.user, pk)
    access.require_manages_application(request.user, application)
    form = forms.ConfirmedVersionForm(request.POST)
    if not form.is_valid():
        return _render_application(request, application, delete_form=form, status=422)
    name = str(application)
    try:
        services.application_delete(
            actor=request.user, application=application, version=form.cleaned_data["version"]
        )
    except Conflict as exc:
        return _render_application(request, application, delete_form=form, message=exc.message, status=409)
    messages.success(request, f"已删除申报：{name}。")
    return redirect("volunteer:applications")


@login_required
@require_POST
def item_attach(request: HttpRequest, pk: int) -> HttpResponse:
    """Attach an optional evidence file to one criterion (never a required photo)."""
    item = access.get_item_or_404(request.user, pk)
    application = access.get_application_or_404(request.user, item.application_id)
    access.require_manages_application(request.user, application)
    form = forms.AttachForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_application(request, application, attach_form=form, attach_item=item.pk, status=422)
    try:
        services.application_item_attach(actor=request.user, item=item, upload=form.cleaned_data["upload"])
    except Conflict as exc:
        return _render_application(request, application, message=exc.message, status=409)
    except ValidationError as exc:
        formflow.add_service_errors(form, exc)
        return _render_application(request, application, attach_form=form, attach_item=item.pk, status=422)
    messages.success(request, f"已上传佐证材料：{item.title}。")
    return redirect("volunteer:application_detail", pk=application.pk)


# --- status per unit -----------------------------------------------------------------------------


def _overview_unit_ids(user) -> list[int] | None:
    """Units whose creation status the user sees (None: all); PermissionDenied for nobody's."""
    scope = scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN, Role.LEADER):
        return None
    ids = set(access.managed_unit_ids(user) or [])
    ids.update(scope.unit_ids.get(Role.LEADER, []))
    if not ids and not access.sees_aggregates(user):
        raise PermissionDenied("文明创建概况只向机关工委、书记、党务干部和单位领导开放。")
    return sorted(ids)


@login_required
@require_GET
def civility_overview(request: HttpRequest) -> HttpResponse:
    """Per unit: the 文明单位 title in force (valid until), valid office and family titles, pending and
    returned applications — counts only, no names."""
    unit_ids = _overview_unit_ids(request.user)
    today = timezone.localdate()
    units = Unit.objects.filter(is_active=True).order_by("order", "pk")
    if unit_ids is not None:
        units = units.filter(pk__in=unit_ids)
    page = paginate(request, units)
    ids = [u.pk for u in page.object_list]
    titled = queries.titled_units(ids, today)
    counts = queries.civility_counts(ids)
    valid = {
        (r["unit_id"], r["kind"]): r["n"]
        for r in Application.objects.valid_on(today)
        .filter(unit_id__in=ids)
        .order_by()
        .values("unit_id", "kind")
        .annotate(n=Count("pk"))
    }
    prepared = access.managed_unit_ids(request.user)  # units whose applications the list shows (None: all)
    rows = []
    for u in page.object_list:
        title = titled.get(u.pk)
        rows.append({
            "unit": u,
            "linked": prepared is None or u.pk in prepared,
            "title": title,
            "expiring": title is not None and (title.valid_until - today).days <= EXPIRY_NOTICE_DAYS,
            "offices": valid.get((u.pk, CivilityKind.OFFICE), 0),
            "families": valid.get((u.pk, CivilityKind.FAMILY), 0),
            "submitted": sum(counts.get((u.pk, k, ApplicationState.SUBMITTED), 0) for k in CivilityKind.values),
            "returned": sum(counts.get((u.pk, k, ApplicationState.RETURNED), 0) for k in CivilityKind.values),
        })  # fmt: skip
    ctx = {"page": page, "rows": rows, "today": today, "titled_count": len(titled)}
    return render(request, "volunteer/civility_overview.html", ctx)


# --- criteria (committee admin) ------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def criteria(request: HttpRequest) -> HttpResponse:
    """The checklist of each kind of title; the committee admin adds criteria here."""
    user = request.user
    can_edit = access.reviews_civility(user)
    if request.method == "POST":
        require(can_edit, "只有机关工委管理员可以维护创建标准。")
    form = forms.CriterionForm(request.POST or None)
    del form.fields["version"]
    del form.fields["is_active"]

    def save(d):
        return services.criterion_create(
            actor=user, kind=d["kind"], title=d["title"], requirement=d["requirement"], order=d.get("order")
        )

    result, status = formflow.run(request, form, save)
    if result is not None:
        messages.success(request, f"已添加创建标准：{result.title}。")
        return redirect("volunteer:criteria")
    rows = Criterion.objects.order_by("kind", "order", "pk")
    groups = []
    for kind, label in CivilityKind.choices:
        groups.append((label, [c for c in rows if c.kind == kind]))
    ctx = {"groups": groups, "form": form, "can_edit": can_edit}
    return render(request, "volunteer/criteria.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def criterion_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit, reorder, retire or reinstate a criterion (committee admin)."""
    criterion = Criterion.objects.filter(pk=pk).first()
    if criterion is None:
        raise Http404("未找到该创建标准。")
    require(access.reviews_civility(request.user), "只有机关工委管理员可以维护创建标准。")
    initial = {"kind": criterion.kind, "title": criterion.title, "requirement": criterion.requirement,
               "order": criterion.order, "is_active": criterion.is_active, "version": criterion.version}  # fmt: skip
    form = forms.CriterionForm(request.POST or None, initial=initial)
    del form.fields["kind"]
    form.fields["version"].required = True

    def save(d):
        version = d.pop("version")
        d["order"] = criterion.order if d.get("order") is None else d["order"]
        return services.criterion_update(actor=request.user, criterion=criterion, version=version, **d)

    result, status = formflow.run(request, form, save)
    if result is not None:
        messages.success(request, "创建标准已保存。已开始的申报保留原来的标准。")
        return redirect("volunteer:criteria")
    ctx = {
        "form": form,
        "heading": f"修改创建标准（{criterion.get_kind_display()}）",
        "cancel": "volunteer:criteria",
    }
    return render(request, "volunteer/simple_form.html", ctx, status=status)
