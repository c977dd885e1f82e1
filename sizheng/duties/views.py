"""Screens of the duties app: the board (per org and committee-wide), the duty page with its timeline,
evidence and workflow forms, new duties and campaigns, "my duties", lists, the Excel ledger and the
督办通知.

Each view checks access (``duties.access``: 404 outside scope, 403 for a visible duty the user may
not act on), validates a form, calls one service and renders. A failed form re-renders with 422, a
stale ``version`` or a state that no longer allows the action with 409 and the message.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizheng.core import audit, calendar, formflow
from sizheng.core import files as core_files
from sizheng.core.apitools import Conflict
from sizheng.core.docx import OfficialDocument, docx_response
from sizheng.core.models import StoredFile
from sizheng.core.paging import paginate
from sizheng.core.xlsx import write_ledger, xlsx_response
from sizheng.duties import access, forms, queries, services
from sizheng.duties.models import OPEN_STATES, Campaign, Duty, SourceKind, State
from sizheng.duties.warnings import LABELS as WARNING_LABELS
from sizheng.duties.warnings import NONE
from sizheng.duties.workflow import ASSIGNER, OWNER, SUPERVISOR, TRANSITIONS
from sizheng.org import pickers
from sizheng.org.access import get_org_or_404, require
from sizheng.org.models import Org


def _ledger_note(user) -> str:
    """The note under an Excel ledger's title: when, by whom, and that warnings are as of that day."""
    return f"导出时间：{timezone.localtime():%Y-%m-%d %H:%M}　导出人：{user}　预警按导出当日计算"


def may_read_duty_file(user, owner_id: int | None) -> bool:
    """Evidence files are readable by whoever may see the duty."""
    return owner_id is not None and Duty.objects.visible_to(user).filter(pk=owner_id).exists()


core_files.register_access("duty", may_read_duty_file)

NO_ASSIGNER = "您不是任何党组织的书记或党务干部，不能部署事项。如需部署，请联系上级党组织。"
SENSITIVE_NOTE = "该事项来自谈心谈话或关爱等敏感工作，具体内容只向办理和督查双方显示。"


def _query_with(params: QueryDict, **changes: str) -> str:
    """The current query string with some parameters replaced (empty value: removed) and no page."""
    q = params.copy()
    q.pop("page", None)
    for key, value in changes.items():
        q.pop(key, None)
        if value:
            q[key] = value
    return q.urlencode()


# --- the board ---------------------------------------------------------------------------------


@login_required
@require_GET
def board(request: HttpRequest, org_pk: int | None = None) -> HttpResponse:
    """Duties in scope with filters, counts by state and warning, the orgs needing attention, and
    pagination. On the committee board and an org board one grouped query gives both the counts and
    the roll-up, of which the first ``ROLLUP_PREVIEW`` rows are shown (the rest: ``rollup``)."""
    user, today = request.user, timezone.localdate()
    org = get_org_or_404(user, org_pk) if org_pk is not None else None
    form = forms.BoardFilterForm(request.GET or None, user=user, fixed_org=org)
    f = form.filters()
    params = pickers.canonical_params(form, request.GET)
    filtered = queries.filter_board(Duty.objects.visible_to(user), f, today)
    rollup: list[dict[str, Any]] = []
    rollup_total = 0
    if org is not None or queries.is_committee(user):
        r = queries.rollup(filtered, today, parent=org)
        counts = r.counts
        # An org without child orgs (only its own “本级” group): the roll-up would repeat the counts.
        if org is None or r.has_children:
            rollup, rollup_total = r.rows(limit=queries.ROLLUP_PREVIEW), r.total_groups
    else:
        counts = queries.board_counts(filtered, today)
    page = paginate(
        request, queries.sort_board(filtered, f.sort).for_board(), count=counts["total"], params=params
    )
    for item in counts["states"]:
        item["url"] = "?" + _query_with(params, state=item["value"])
    for item in counts["warnings"]:
        item["url"] = "?" + _query_with(params, warning=item["value"])
    row_query = _query_with(params, org="")
    for row in rollup:
        row["url"] = reverse("duties:org_board", args=[row["org"].pk]) + "?" + row_query
    rollup_url = (
        reverse("duties:org_rollup", args=[org.pk]) if org is not None else reverse("duties:rollup")
    ) + (f"?{q}" if (q := _query_with(params)) else "")
    export_params = _query_with(params, org=str(org.pk) if org else params.get("org", ""))
    ctx = {
        "form": form,
        "org": org,
        "page": page,
        "rows": queries.with_warnings(page.object_list, today),
        "counts": counts,
        "rollup": rollup,
        "rollup_total": rollup_total,
        "rollup_more": rollup_total > len(rollup),
        "rollup_url": rollup_url,
        "export_url": f"{reverse('duties:export')}?{export_params}",
        "can_assign": queries.may_assign(user),
        "badges": queries.WARNING_BADGES,
        "state_badges": queries.STATE_BADGES,
        "warning_labels": WARNING_LABELS,
        "today": today,
    }
    status = 422 if form.is_bound and form.errors else 200
    return render(request, "duties/board.html", ctx, status=status)


ROLLUP_HEADERS = ["党组织", "组织代码", "事项", "在办", "红色预警", "逾期未报送", "已销号"]
ROLLUP_WIDTHS = [40, 16, 10, 10, 10, 12, 10]
ROLLUP_OWN_PARAMS = ("name", "order", "format")  # the roll-up page's own; the rest are the board's filters


def rollup_ledger(rows: list[dict[str, Any]], *, org: Org | None, user) -> bytes:
    """The roll-up as an Excel ledger: one row per org, with the counts of the board."""
    return write_ledger(
        title=f"{org.name if org else '各单位党组织'}责任事项汇总",
        headers=ROLLUP_HEADERS,
        rows=(
            [
                f"{r['org'].name}{'（本级）' if r['own'] else ''}",
                r["org"].code,
                r["total"],
                r["open"],
                r["red"],
                r["overdue"],
                r["closed"],
            ]
            for r in rows
        ),  # fmt: skip
        sheet_name="汇总",
        col_widths=ROLLUP_WIDTHS,
        note=_ledger_note(user),
    )


@login_required
@require_GET
def rollup(request: HttpRequest, org_pk: int | None = None) -> HttpResponse:
    """Every org of a board's roll-up, with the board's filters: searchable by org name, in attention
    or tree order, paginated; ``?format=xlsx`` gives it as Excel (audited). The committee's roll-up
    is for whole-tree users (404 otherwise), an org's for whoever sees the org."""
    user, today = request.user, timezone.localdate()
    org = get_org_or_404(user, org_pk) if org_pk is not None else None
    if org is None and not queries.is_committee(user):
        raise Http404("页面不存在。")
    form = forms.BoardFilterForm(request.GET or None, user=user, fixed_org=org)
    f = form.filters()
    params = pickers.canonical_params(form, request.GET)
    search = forms.RollupSearchForm(request.GET)
    search.is_valid()
    name, order = search.cleaned_data.get("name", ""), search.cleaned_data.get("order") or "attention"
    r = queries.rollup(queries.filter_board(Duty.objects.visible_to(user), f, today), today, parent=org)
    rows = r.rows(name=name, order=order)
    if request.GET.get("format") == "xlsx":
        data = rollup_ledger(rows, org=org, user=user)
        detail = {"count": len(rows), "filter": form.as_params()}
        audit.record(user, "duty_rollup_export", org, detail, request=request)
        return xlsx_response(data, f"责任事项汇总{today:%Y%m%d}.xlsx")
    page = paginate(request, rows, params=QueryDict(_query_with(params, format="")))
    board_params = _query_with(params, **dict.fromkeys(ROLLUP_OWN_PARAMS, ""))
    row_query = _query_with(params, org="", name="", order="")
    for row in page.object_list:
        row["url"] = f"{reverse('duties:org_board', args=[row['org'].pk])}?{row_query}"
    board_url = reverse("duties:org_board", args=[org.pk]) if org is not None else reverse("duties:board")
    ctx = {
        "org": org,
        "form": form,
        "search": search,
        "page": page,
        "total": r.total_groups,
        "counts": r.counts,
        "hidden": [(k, v) for k, vs in params.lists() if k not in (*ROLLUP_OWN_PARAMS, "page") for v in vs],
        "board_url": f"{board_url}?{board_params}" if board_params else board_url,
        "export_url": "?" + _query_with(params, format="xlsx"),
        "name": name,
    }
    status = 422 if form.is_bound and form.errors else 200
    return render(request, "duties/rollup.html", ctx, status=status)


# --- the duty page -----------------------------------------------------------------------------


def _render_detail(request: HttpRequest, duty: Duty, *, bound: forms.ActionForm | None = None,
                   upload_form: forms.UploadForm | None = None, message: str = "",
                   status: int = 200) -> HttpResponse:  # fmt: skip
    """The duty page: record, timeline, evidence, and a form per action open to the user."""
    user, today = request.user, timezone.localdate()
    sides = services.sides_of(user, duty)
    actions = services.available_actions(user, duty)
    if duty.requested_due_on is not None:
        actions = [a for a in actions if a != "request_extension"]  # one request at a time (the service: 409)
    owners = queries.owner_choices(duty) if "reassign" in actions else None
    action_forms = [
        bound if bound is not None and bound.action == a
        else forms.ActionForm(action=a, duty=duty, today=today, owners=owners)
        for a in actions
    ]  # fmt: skip
    hide = duty.is_sensitive and not (sides & {OWNER, ASSIGNER})
    can_upload = OWNER in sides and duty.is_open
    ctx = {
        "duty": duty,
        "row": queries.with_warnings([duty], today)[0],
        "badges": queries.WARNING_BADGES,
        "state_badges": queries.STATE_BADGES,
        "warning_labels": WARNING_LABELS,
        "timeline": queries.timeline(duty, hide_content=hide),
        "files": list(
            StoredFile.objects.filter(owner_kind="duty", owner_id=duty.pk)
            .select_related("uploaded_by")
            .order_by("uploaded_at", "pk")
        ),
        "hide": hide,
        "sensitive_note": SENSITIVE_NOTE,
        "action_forms": action_forms,
        "upload_form": upload_form or (forms.UploadForm() if can_upload else None),
        "can_upload": can_upload,
        "can_notice": bool(sides & {ASSIGNER, SUPERVISOR}) and duty.is_open,
        "message": message,
        "overdue_workdays": calendar.workdays_between(duty.due_on, today)
        if duty.state in OPEN_STATES and duty.due_on < today else 0,
        "today": today,
    }  # fmt: skip
    return render(request, "duties/detail.html", ctx, status=status)


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One duty: all its fields, the timeline, the evidence and the actions open to the user."""
    return _render_detail(request, access.get_duty_or_404(request.user, pk))


@login_required
@require_POST
def transition(request: HttpRequest, pk: int) -> HttpResponse:
    """Take one workflow action from the duty page (403 off-side, 409 stale or wrong state, 422 bad input)."""
    user, today = request.user, timezone.localdate()
    duty = access.get_duty_or_404(user, pk)
    action = request.POST.get("action", "")
    t = TRANSITIONS.get(action)
    if t is None:
        return _render_detail(request, duty, message="未知的操作，请刷新页面后重试。", status=422)
    if not (t.sides & services.sides_of(user, duty)):
        raise PermissionDenied(f"您不能对该事项执行“{t.label}”。")
    if duty.state not in t.sources:
        message = f"该事项当前状态为“{duty.get_state_display()}”，不能执行“{t.label}”，请查看最新情况。"
        return _render_detail(request, duty, message=message, status=409)
    owners = queries.owner_choices(duty) if action == "reassign" else None
    form = forms.ActionForm(request.POST, action=action, duty=duty, today=today, owners=owners)
    if not form.is_valid():
        return _render_detail(request, duty, bound=form, status=422)
    try:
        services.duty_transition(duty=duty, actor=user, today=today, **form.service_kwargs())
    except Conflict as exc:
        fresh = access.get_duty_or_404(user, pk)
        kept = None
        if fresh.state in t.sources:
            # The user's input stays; the page now shows the current state and version to act on.
            kept = forms.ActionForm(action=action, duty=fresh, today=today, owners=owners,
                                    initial={**form.cleaned_data, "version": fresh.version})  # fmt: skip
        return _render_detail(request, fresh, bound=kept, message=exc.message, status=409)
    except ValidationError as exc:
        forms.add_service_errors(form, exc)
        return _render_detail(request, duty, bound=form, status=422)
    messages.success(request, f"已{t.label}：{duty.title}。")
    return redirect("duties:detail", pk=duty.pk)


@login_required
@require_POST
def upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Attach an evidence file (owner side, while the duty is open)."""
    user = request.user
    duty = access.get_duty_or_404(user, pk)
    require(access.is_owner_side(user, duty), "只有责任人或责任单位的书记、党务干部可以上传佐证材料。")
    form = forms.UploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            stored = services.duty_attach_file(actor=user, duty=duty, upload=form.cleaned_data["file"])
        except Conflict as exc:
            return _render_detail(request, duty, message=exc.message, status=409)
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            messages.success(request, f"已上传佐证材料《{stored.name}》。")
            return redirect(reverse("duties:detail", args=[duty.pk]) + "#evidence")
    return _render_detail(request, duty, upload_form=form, status=422)


# --- new duties and campaigns ------------------------------------------------------------------


def _assigners_or_403(user) -> list:
    assigners = queries.assigning_orgs(user)
    require(bool(assigners), NO_ASSIGNER)
    return assigners


@login_required
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    """Assign one duty to an org in the user's admin scope."""
    user = request.user
    assigners = _assigners_or_403(user)
    initial = {}
    if request.method == "GET" and str(request.GET.get("org", "")).isdigit():
        initial["org"] = int(request.GET["org"])
    form = forms.DutyForm(request.POST or None, user=user, assigners=assigners, initial=initial)
    duty, status = formflow.run(request, form, lambda d: services.duty_open(
        org=d["org"], title=d["title"], due_on=d["due_on"], source=SourceKind.MANUAL, actor=user,
        assigning_org=d["assigning_org"], owner=d["owner"], description=d["description"],
        supervising_org=d["supervising_org"], priority=d["priority"], tags=d["tags"],
        evidence_required=d["evidence_required"], category=d["category"]))  # fmt: skip
    if duty is not None:
        messages.success(request, f"已向{duty.assignee_org.name}部署“{duty.title}”。")
        return redirect("duties:detail", pk=duty.pk)
    return render(request, "duties/duty_form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest) -> HttpResponse:
    """集中部署: one duty to many orgs below the assigning org at once."""
    user = request.user
    assigners = _assigners_or_403(user)
    form = forms.CampaignForm(request.POST or None, assigners=assigners)
    campaign, status = formflow.run(request, form, lambda d: services.campaign_create(
        actor=user, title=d["title"], description=d["description"], assigning_org=d["assigning_org"],
        orgs=d["targets"], due_on=d["due_on"], evidence_required=d["evidence_required"],
        priority=d["priority"]))  # fmt: skip
    if campaign is not None:
        messages.success(
            request, f"已向 {len(form.cleaned_data['targets'])} 个党组织部署“{campaign.title}”。"
        )
        return redirect("duties:campaign", pk=campaign.pk)
    return render(request, "duties/campaign_form.html", {"form": form}, status=status)


@login_required
@require_GET
def campaigns(request: HttpRequest) -> HttpResponse:
    """Campaigns with duties in the user's scope, each with its progress."""
    user, today = request.user, timezone.localdate()
    page = paginate(
        request,
        queries.visible_campaigns(user).select_related("assigning_org").order_by("-created_at", "-pk"),
    )
    counts = queries.campaign_counts(user, [c.pk for c in page.object_list], today)
    rows = [(c, counts.get(c.pk, {})) for c in page.object_list]
    ctx = {"page": page, "rows": rows, "can_assign": bool(queries.assigning_orgs(user))}
    return render(request, "duties/campaigns.html", ctx)


@login_required
@require_GET
def campaign(request: HttpRequest, pk: int) -> HttpResponse:
    """A campaign's roll-up: each org's state and warning, counts and the share closed."""
    user, today = request.user, timezone.localdate()
    found = Campaign.objects.select_related("assigning_org").filter(pk=pk).first()
    if found is None:
        raise Http404("未找到该集中部署任务，或您无权查看。")
    roll = queries.campaign_rollup(user, found, today)
    if not roll["total"]:
        raise Http404("未找到该集中部署任务，或您无权查看。")
    ctx = {
        "campaign": found,
        "roll": roll,
        "badges": queries.WARNING_BADGES,
        "state_badges": queries.STATE_BADGES,
        "warning_labels": WARNING_LABELS,
        "board_url": f"{reverse('duties:board')}?campaign={found.pk}",
    }
    return render(request, "duties/campaign.html", ctx)


# --- my duties ---------------------------------------------------------------------------------


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """Duties I own or my org must do, by warning; and those waiting for my review."""
    data = queries.mine(request.user, timezone.localdate())
    ctx = {**data, "badges": queries.WARNING_BADGES, "state_badges": queries.STATE_BADGES,
           "warning_labels": WARNING_LABELS}  # fmt: skip
    return render(request, "duties/mine.html", ctx)


# --- lists -------------------------------------------------------------------------------------


def _render_lists(request: HttpRequest, form: forms.DutyListForm | None, status: int = 200) -> HttpResponse:
    user, today = request.user, timezone.localdate()
    page = paginate(
        request, queries.visible_lists(user).select_related("org").order_by("-year", "org__path", "pk")
    )
    counts = queries.list_counts([dl.pk for dl in page.object_list], today)
    board = reverse("duties:board")
    rows = [(dl, counts.get(dl.pk, {}), f"{board}?duty_list={dl.pk}") for dl in page.object_list]
    return render(request, "duties/lists.html", {"page": page, "rows": rows, "form": form}, status=status)


@login_required
@require_GET
def lists(request: HttpRequest) -> HttpResponse:
    """Responsibility lists in scope, with progress; the form to create a year's list."""
    assigners = queries.assigning_orgs(request.user)
    form = forms.DutyListForm(user=request.user, assigners=assigners) if assigners else None
    return _render_lists(request, form)


@login_required
@require_POST
def list_create(request: HttpRequest) -> HttpResponse:
    """Create a year's list for an org: from the default template, or copied from last year."""
    user = request.user
    assigners = _assigners_or_403(user)
    form = forms.DutyListForm(request.POST, user=user, assigners=assigners)
    if form.is_valid():
        d = form.cleaned_data
        make = (services.duty_list_create_from_template if d["mode"] == "template"
                else services.duty_list_copy_from_last_year)  # fmt: skip
        try:
            duty_list = make(actor=user, org=d["org"], year=d["year"], assigning_org=d["assigning_org"],
                             title=d["title"])  # fmt: skip
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            n = duty_list.duties.count()
            messages.success(
                request, f"已创建“{duty_list.title}”，共 {n} 项事项已部署到{duty_list.org.name}。"
            )
            return redirect(f"{reverse('duties:board')}?duty_list={duty_list.pk}")
    return _render_lists(request, form, status=422)


# --- exports -----------------------------------------------------------------------------------

LEDGER_HEADERS = ["事项", "类别", "责任单位", "责任人", "部署单位", "完成时限", "状态", "预警", "报送日期",
                  "是否逾期", "销号日期", "退回次数", "来源"]  # fmt: skip
LEDGER_WIDTHS = [40, 12, 28, 10, 28, 12, 10, 10, 12, 10, 12, 10, 14]


def ledger_rows(qs, today: date) -> Iterator[list[Any]]:
    """The ledger's rows; a sensitive duty shows its generic title and nothing of its content."""
    from sizheng.duties import warnings

    b = warnings.bounds(today)
    for d in qs.iterator(chunk_size=1000):
        level = warnings.warning_of(d.state, d.due_on, today, b)
        overdue = d.is_late or (d.state in OPEN_STATES and d.state not in (State.REPORTED, State.UNDER_REVIEW)
                                and d.due_on < today)  # fmt: skip
        yield [
            d.title,
            "" if d.is_sensitive else d.category,
            d.assignee_org.name,
            d.owner.name if d.owner_id else "",
            d.assigning_org.name,
            d.due_on,
            d.get_state_display(),
            "" if level == NONE else WARNING_LABELS[level],
            d.reported_on,
            "是" if overdue else "否",
            d.closed_on,
            d.returns,
            d.get_source_kind_display(),
        ]


@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    """The Excel ledger (台账) of any filtered board, audited; bad filters re-render the board with 422."""
    user, today = request.user, timezone.localdate()
    form = forms.BoardFilterForm(request.GET or None, user=user)
    if form.is_bound and not form.is_valid():
        return board(request)
    f = form.filters()
    qs = queries.sort_board(queries.filter_board(Duty.objects.visible_to(user), f, today), f.sort).for_board()
    counter = {"rows": 0}

    def rows() -> Iterator[list[Any]]:
        for row in ledger_rows(qs, today):
            counter["rows"] += 1
            yield row

    data = write_ledger(title="责任事项台账", headers=LEDGER_HEADERS, rows=rows(), sheet_name="责任事项",
                        col_widths=LEDGER_WIDTHS,
                        note=_ledger_note(user))  # fmt: skip
    audit.record(
        user, "duty_export", None, {"count": counter["rows"], "filter": form.as_params()}, request=request
    )
    return xlsx_response(data, f"责任事项台账{today:%Y%m%d}.xlsx")


def urge_notice_document(duty: Duty, *, issuer, today: date) -> OfficialDocument:
    """The 督办通知 of a duty in 公文 form: addressee, the duty, its state, what to report by when."""
    doc = OfficialDocument(title=f"关于督办《{duty.title}》事项的通知")
    doc.paragraph(f"{duty.assignee_org.full_name}：", indent=False)
    state = duty.get_state_display()
    late = ""
    if duty.state in OPEN_STATES and duty.due_on < today:
        late = f"，已超过完成时限{calendar.workdays_between(duty.due_on, today)}个工作日"
    doc.paragraph(
        f"{duty.assigning_org.full_name}于{queries.cn_date(timezone.localdate(duty.created_at))}部署的"
        f"《{duty.title}》事项，完成时限为{queries.cn_date(duty.due_on)}。截至{queries.cn_date(today)}，"
        f"该事项的办理状态为“{state}”{late}。为确保责任落实到位，现予督办。有关事项通知如下。"
    )
    doc.heading("事项要求")
    doc.paragraph(duty.description or "按照部署要求抓好落实，做到责任到人、措施到位、按期完成。")
    if duty.evidence_required:
        doc.paragraph(f"报送时须提供：{duty.evidence_required}。".replace("。。", "。"))
    deadline = calendar.add_workdays(today, 5)
    doc.heading("办理要求")
    doc.paragraph(
        f"请于{queries.cn_date(deadline)}前通过思政平台报送落实情况及佐证材料。确有困难不能按期完成的，"
        "请在平台上提出延期申请并说明理由，经同意后按新的时限办理。"
    )
    if duty.owner_id:
        doc.paragraph(f"本事项责任人：{duty.owner.name}。")
    if issuer.contact:
        doc.paragraph(f"联系人及电话：{issuer.contact}。")
    doc.signature(issuer.full_name, today)
    return doc


@login_required
@require_GET
def urge_notice(request: HttpRequest, pk: int) -> HttpResponse:
    """The 督办通知 as a Word file, for the assigning or supervising org."""
    user, today = request.user, timezone.localdate()
    duty = access.get_duty_or_404(user, pk)
    sides = services.sides_of(user, duty)
    require(bool(sides & {ASSIGNER, SUPERVISOR}), "只有部署单位或督查单位可以生成督办通知。")
    issuer = duty.assigning_org if ASSIGNER in sides else duty.supervising_org
    doc = urge_notice_document(duty, issuer=issuer, today=today)
    audit.record(user, "duty_urge_notice", duty, {"issuer": issuer.pk}, request=request)
    return docx_response(doc, f"督办通知-{duty.title}.docx")
