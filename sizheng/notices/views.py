"""Screens of the notices app: the list (received / issued), writing and publishing a notice, reading
and signing it for one's org, withdrawing it, and the issuer's per-org status table with its export.

Each view checks access (notices.access: 404 outside scope, 403 for a reader who is no issuer), runs
a form through one service and renders; a failed form re-renders with 422, a stale version with 409.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizheng.core import audit, formflow
from sizheng.core.apitools import Conflict
from sizheng.core.paging import paginate
from sizheng.core.xlsx import write_ledger, xlsx_response
from sizheng.notices import access, forms, services
from sizheng.notices.models import STATUS_LABELS, Notice, OrgReceipt
from sizheng.org.access import managed_orgs

NOT_ISSUER_CREATE = (
    "您不负责任何党组织，不能发布通知。通知由发文组织的书记、党务干部或机关工委发布；"
    "您可以在“通知公告”中阅读发给本组织的通知。"
)


def _issuer_orgs(user):
    return managed_orgs(user).active_on().order_by("path")


# --- list ----------------------------------------------------------------------------------------


def _inbox(user):
    qs = Notice.objects.filter(access.received_q(user))
    ids = access.post_org_ids(user)
    if ids:
        mine = OrgReceipt.objects.filter(notice=OuterRef("pk"), org_id__in=ids)
        qs = qs.annotate(
            mine=Exists(mine),
            mine_unread=Exists(mine.filter(read_at__isnull=True)),
            mine_unacked=Exists(mine.filter(acknowledged_at__isnull=True)),
        )
    return qs


def _issued(user):
    return Notice.objects.filter(access.issued_q(user)).annotate(
        n_total=Count("receipts"),
        n_read=Count("receipts", filter=Q(receipts__read_at__isnull=False)),
        n_acked=Count("receipts", filter=Q(receipts__acknowledged_at__isnull=False)),
    )


@login_required
@require_GET
def notice_list(request: HttpRequest) -> HttpResponse:
    """Notices addressed to my orgs, or issued by the orgs I manage: search, state, year, 50 a page."""
    user = request.user
    can_issue = access.may_issue(user)
    reads = bool(access.reader_org_ids(user))
    box = request.GET.get("box") or ("inbox" if reads or not can_issue else "issued")
    if box not in ("inbox", "issued") or (box == "issued" and not can_issue):
        box = "inbox"
    form = forms.ListFilterForm(request.GET)
    f = form.filters()
    qs = _issued(user) if box == "issued" else _inbox(user)
    if f["q"]:
        qs = qs.filter(Q(title__icontains=f["q"]) | Q(org__name__icontains=f["q"]))
    if f["state"]:
        qs = qs.filter(state=f["state"])
    if f["year"]:
        qs = qs.filter(dated__year=f["year"])
    page = paginate(request, qs.select_related("org").order_by("-dated", "-pk"))
    ctx = {
        "box": box,
        "form": form,
        "page": page,
        "can_issue": can_issue,
        "reads": reads,
        "has_posts": bool(access.post_org_ids(user)),
        "filtered": any(f.values()),
    }
    return render(request, "notices/list.html", ctx)


# --- write ---------------------------------------------------------------------------------------


def _save_kwargs(data) -> dict:
    return {
        "org": data["org"],
        "title": data["title"],
        "body": data["body"],
        "audience": list(data.get("audience") or []),
        "requires_receipt": data.get("requires_receipt", False),
        "due_on": data.get("due_on"),
        "attachments": data.get("attachments") or [],
    }


@login_required
@require_http_methods(["GET", "POST"])
def notice_create(request: HttpRequest) -> HttpResponse:
    """Write a draft notice of an org the user manages (403 for anyone who manages none)."""
    user = request.user
    orgs = _issuer_orgs(user)
    if not access.may_issue(user) or not orgs.exists():
        raise PermissionDenied(NOT_ISSUER_CREATE)
    form = forms.NoticeForm(request.POST or None, request.FILES or None, orgs=orgs)
    notice, status = formflow.run(
        request, form, lambda d: services.notice_create(actor=user, request=request, **_save_kwargs(d))
    )
    if notice is not None:
        messages.success(request, "已保存为草稿。请核对内容和受文范围，确认无误后点击“发布”。")
        return redirect("notices:detail", pk=notice.pk)
    return render(request, "notices/form.html", {"form": form, "notice": None}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def notice_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a draft (hidden version: a stale form gets 409)."""
    user = request.user
    notice = access.get_notice_or_404(user, pk, manage=True)
    if not notice.is_draft:
        messages.info(request, "已发布或已撤回的通知不能再修改；如内容有误，请撤回后重新起草发布。")
        return redirect("notices:detail", pk=notice.pk)
    initial = {
        "org": notice.org,
        "title": notice.title,
        "body": notice.body,
        "audience": list(notice.audience.all()),
        "requires_receipt": notice.requires_receipt,
        "due_on": notice.due_on,
        "version": notice.version,
    }
    existing = services.attachments_of([notice.pk])
    form = forms.NoticeForm(
        request.POST or None,
        request.FILES or None,
        orgs=_issuer_orgs(user),
        existing=existing,
        initial=initial,
    )

    def save(d):
        return services.notice_update(
            actor=user,
            notice=notice,
            version=d.get("version"),
            remove_attachments=list(d.get("remove_attachments") or []),
            request=request,
            **_save_kwargs(d),
        )

    saved, status = formflow.run(request, form, save)
    if saved is not None:
        messages.success(request, "已保存草稿的修改。")
        return redirect("notices:detail", pk=notice.pk)
    return render(request, "notices/form.html", {"form": form, "notice": notice}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def notice_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then delete a draft."""
    user = request.user
    notice = access.get_notice_or_404(user, pk, manage=True)
    if not notice.is_draft:
        messages.info(request, "已发布的通知不能删除；如需收回，请使用“撤回”。")
        return redirect("notices:detail", pk=notice.pk)
    form = forms.ConfirmForm(request.POST or None, initial={"version": notice.version})
    done, status = formflow.run(
        request,
        form,
        lambda d: (
            services.notice_delete(actor=user, notice=notice, version=d["version"], request=request) or True
        ),
    )
    if done:
        messages.success(request, f"已删除草稿“{notice.title}”。")
        return redirect(f"{reverse('notices:list')}?box=issued")
    return render(request, "notices/delete.html", {"notice": notice, "form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def notice_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm the audience, then publish: one receipt per audience org, their post holders notified."""
    user = request.user
    notice = access.get_notice_or_404(user, pk, manage=True)
    if not notice.is_draft:
        messages.info(request, "该通知已经发布或已撤回。")
        return redirect("notices:detail", pk=notice.pk)
    form = forms.ConfirmForm(request.POST or None, initial={"version": notice.version})
    count, status = formflow.run(
        request,
        form,
        lambda d: services.notice_publish(actor=user, notice=notice, version=d["version"], request=request),
    )
    if count is not None:
        messages.success(
            request,
            f"已发布，{count} 个受文组织的书记、党务干部已收到站内提醒。可在“阅知情况”中查看各组织阅知进度。",
        )
        return redirect("notices:detail", pk=notice.pk)
    chosen = list(notice.audience.all())
    audience = services.audience_orgs(notice.org, chosen)
    ctx = {
        "notice": notice,
        "form": form,
        "chosen": chosen,
        "audience_count": audience.count(),
        "audience_preview": list(audience[:20]),
    }
    return render(request, "notices/publish.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def notice_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm (with an optional reason), then withdraw a published notice."""
    user = request.user
    notice = access.get_notice_or_404(user, pk, manage=True)
    if not notice.is_published:
        messages.info(request, "只有已发布的通知可以撤回。")
        return redirect("notices:detail", pk=notice.pk)
    form = forms.WithdrawForm(request.POST or None, initial={"version": notice.version})
    done, status = formflow.run(
        request,
        form,
        lambda d: services.notice_withdraw(
            actor=user, notice=notice, version=d["version"], reason=d.get("reason", ""), request=request
        ),
    )
    if done is not None:
        messages.success(request, "已撤回该通知。受文组织打开时只能看到“已撤回”，看不到正文和附件。")
        return redirect("notices:detail", pk=notice.pk)
    ctx = {"notice": notice, "form": form, "counts": services.receipt_counts(notice)}
    return render(request, "notices/withdraw.html", ctx, status=status)


# --- read and sign -------------------------------------------------------------------------------


@login_required
@require_GET
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The notice; opening it as a secretary / 党务干部 of a receiving org marks the org's receipt 已阅."""
    user = request.user
    notice = access.get_notice_or_404(user, pk)
    manager = access.may_manage(user, notice)
    if notice.is_published:
        services.mark_read(actor=user, notice=notice, request=request)
    receipts = services.my_receipts(user, notice) if not notice.is_draft else []
    show_body = manager or not notice.is_withdrawn
    ctx = {
        "notice": notice,
        "manager": manager,
        "show_body": show_body,
        "attachments": list(services.attachments_of([notice.pk])) if show_body else [],
        "receipts": receipts,
        "can_sign": notice.is_published
        and notice.requires_receipt
        and any(r.acknowledged_at is None for r in receipts),
        "chosen": list(notice.audience.all()),
        "counts": services.receipt_counts(notice) if manager and not notice.is_draft else None,
        "audience_count": (
            services.audience_orgs(notice.org, notice.audience.all()).count()
            if manager and notice.is_draft
            else None
        ),
    }
    return render(request, "notices/detail.html", ctx)


@login_required
@require_POST
def notice_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    """签收 for the orgs in which the user holds a secretary / 党务干部 post (403 for anyone else)."""
    user = request.user
    notice = access.get_notice_or_404(user, pk)
    try:
        receipts = services.acknowledge(actor=user, notice=notice, request=request)
    except (ValidationError, Conflict) as exc:
        text = exc.message if isinstance(exc, Conflict) else "；".join(exc.messages)
        messages.error(request, text)
        return redirect("notices:detail", pk=notice.pk)
    names = "、".join(r.org.name for r in receipts)
    messages.success(request, f"已代表{names}签收该通知。")
    return redirect("notices:detail", pk=notice.pk)


# --- the issuer's status table -------------------------------------------------------------------


def _status_rows(notice: Notice, receipts) -> list[OrgReceipt]:
    today = timezone.localdate()
    rows = list(receipts)
    for r in rows:
        r.late = bool(
            notice.due_on and r.acknowledged_at and timezone.localdate(r.acknowledged_at) > notice.due_on
        )
        r.overdue = bool(
            notice.requires_receipt and notice.due_on and notice.due_on < today and r.acknowledged_at is None
        )
    return rows


def _status_qs(request: HttpRequest, notice: Notice):
    form = forms.StatusFilterForm(request.GET)
    f = form.filters()
    qs = services.filter_receipts(notice.receipts.select_related("org"), **f).order_by("org__path")
    return form, f, qs


@login_required
@require_GET
def notice_status(request: HttpRequest, pk: int) -> HttpResponse:
    """阅知情况: per audience org 未阅 / 已阅 / 已签收, counts, filters, 50 orgs a page (no person lists)."""
    notice = access.get_notice_or_404(request.user, pk, manage=True)
    if notice.is_draft:
        messages.info(request, "草稿尚未发布，还没有阅知情况。")
        return redirect("notices:detail", pk=notice.pk)
    form, f, qs = _status_qs(request, notice)
    page = paginate(request, qs)
    page.object_list = _status_rows(notice, page.object_list)
    ctx = {
        "notice": notice,
        "form": form,
        "page": page,
        "counts": services.receipt_counts(notice),
        "query": request.GET.urlencode(),
        "filtered": any(f.values()),
    }
    return render(request, "notices/status.html", ctx)


@login_required
@require_GET
def notice_status_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The status table (filtered) as an Excel ledger; audited."""
    notice = access.get_notice_or_404(request.user, pk, manage=True)
    if notice.is_draft:
        raise PermissionDenied("草稿尚未发布，没有阅知情况可导出。")
    form, f, qs = _status_qs(request, notice)
    rows = _status_rows(notice, qs)
    headers = ["序号", "受文组织", "组织类型", "阅知情况", "阅知时间"]
    if notice.requires_receipt:
        headers.append("签收时间")

    def line(i, r):
        status = STATUS_LABELS[r.status] + ("（逾期）" if r.late or r.overdue else "")
        out = [i, r.org.name, r.org.get_kind_display(), status, r.read_at]
        if notice.requires_receipt:
            out.append(r.acknowledged_at)
        return out

    counts = services.receipt_counts(notice)
    note = (
        f"发文组织：{notice.org.name}；发布日期：{notice.dated:%Y-%m-%d}；受文组织 {counts['total']} 个，"
        f"已阅 {counts['read']} 个，已签收 {counts['acked']} 个。导出时间：{timezone.localtime():%Y年%m月%d日 %H:%M}；"
        f"导出人：{request.user}。"
    )
    data = write_ledger(
        title=f"《{notice.title}》阅知情况",
        headers=headers,
        rows=(line(i, r) for i, r in enumerate(rows, start=1)),
        sheet_name="阅知情况",
        note=note,
    )
    audit.record(
        request.user, "notices_status_export", notice, {"rows": len(rows), "query": request.GET.urlencode()}
    )
    return xlsx_response(data, f"通知阅知情况_{notice.pk}_{timezone.localdate():%Y%m%d}")
