"""The notices API: the notices addressed to me or issued by my orgs, one notice, and signing it.

Reading a notice through ``GET /notices/{id}`` counts like opening the page: the first read by a
secretary / 党务干部 of a receiving org marks that org's receipt 已阅. Receipts are per org, never per
person. Errors come out in the core's one shape (404 outside scope, 403, 409, 422).
"""

# No `from __future__ import annotations` here: ninja reads the parameter annotations at import time.

from datetime import date, datetime

from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from sizheng.core.apitools import ErrorOut, Paged
from sizheng.notices import access, services
from sizheng.notices.models import Notice, OrgReceipt

router = Router(tags=["通知公告"])

_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}


class NoticeOut(Schema):
    """A notice in a list (no body)."""

    id: int
    title: str
    org_id: int
    org_name: str
    state: str
    state_label: str
    dated: date
    requires_receipt: bool
    due_on: date | None
    published_at: datetime | None

    @staticmethod
    def resolve_org_name(obj: Notice) -> str:
        return obj.org.name

    @staticmethod
    def resolve_state_label(obj: Notice) -> str:
        return str(obj.get_state_display())


class ReceiptOut(Schema):
    """One org's receipt: 未阅 (unread) / 已阅 (read) / 已签收 (acked)."""

    org_id: int
    org_name: str
    status: str
    status_label: str
    read_at: datetime | None
    acknowledged_at: datetime | None


class AttachmentOut(Schema):
    name: str
    size: int
    url: str


class CountsOut(Schema):
    """Totals over the audience orgs (issuers only)."""

    total: int
    read: int
    unread: int
    acked: int
    unacked: int


class NoticeDetailOut(Schema):
    """A notice: the body is null once it is withdrawn (for readers who are not its issuers)."""

    id: int
    title: str
    org_id: int
    org_name: str
    state: str
    state_label: str
    dated: date
    requires_receipt: bool
    due_on: date | None
    published_at: datetime | None

    body: str | None
    withdrawn_at: datetime | None
    withdraw_reason: str
    attachments: list[AttachmentOut]
    my_receipts: list[ReceiptOut] = Field(..., description="本人任书记、党务干部的受文组织的阅知情况")
    counts: CountsOut | None = Field(None, description="各组织阅知汇总（仅发文组织可见）")


class NoticeFilter(Schema):
    box: str | None = Field(
        None,
        pattern="^(inbox|issued)$",
        description="inbox 发给我的组织；issued 我管理的组织发出的；不填为两者",
    )
    q: str | None = Field(None, max_length=100, description="标题或发文组织")
    state: Notice.State | None = Field(None, description="状态")
    year: int | None = Field(None, ge=2000, le=2100, description="年度")


def _notice_out(n: Notice) -> dict:
    return {
        "id": n.pk,
        "title": n.title,
        "org_id": n.org_id,
        "org_name": n.org.name,
        "state": n.state,
        "state_label": n.get_state_display(),
        "dated": n.dated,
        "requires_receipt": n.requires_receipt,
        "due_on": n.due_on,
        "published_at": n.published_at,
    }


def _receipt_out(r: OrgReceipt) -> dict:
    return {
        "org_id": r.org_id,
        "org_name": r.org.name,
        "status": r.status,
        "status_label": r.status_label,
        "read_at": r.read_at,
        "acknowledged_at": r.acknowledged_at,
    }


def _detail_out(request: HttpRequest, n: Notice, receipts: list[OrgReceipt]) -> dict:
    user = request.user
    manager = access.may_manage(user, n)
    show_body = manager or not n.is_withdrawn
    files = list(services.attachments_of([n.pk])) if show_body else []
    return {
        **_notice_out(n),
        "body": n.body if show_body else None,
        "withdrawn_at": n.withdrawn_at,
        "withdraw_reason": n.withdraw_reason,
        "attachments": [
            {"name": f.name, "size": f.size, "url": reverse("core:file", args=[f.uid])} for f in files
        ],
        "my_receipts": [_receipt_out(r) for r in receipts],
        "counts": services.receipt_counts(n) if manager and not n.is_draft else None,
    }


@router.get("", response={200: list[NoticeOut], **_ERRORS}, url_name="notices-list", summary="我的通知")
@paginate(Paged)
def notice_list(request: HttpRequest, filters: Query[NoticeFilter]):
    """Notices addressed to the caller's orgs (published or withdrawn) and those issued by the orgs
    the caller manages (drafts included), newest first."""
    user = request.user
    if filters.box == "inbox":
        qs = Notice.objects.filter(access.received_q(user))
    elif filters.box == "issued":
        qs = Notice.objects.filter(access.issued_q(user))
    else:
        qs = Notice.objects.visible_to(user)
    if filters.q:
        qs = qs.filter(Q(title__icontains=filters.q) | Q(org__name__icontains=filters.q))
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.year:
        qs = qs.filter(dated__year=filters.year)
    return qs.select_related("org").order_by("-dated", "-pk")


@router.get(
    "/{notice_id}", response={200: NoticeDetailOut, **_ERRORS}, url_name="notices-detail", summary="通知详情"
)
def notice_detail(request: HttpRequest, notice_id: int):
    """One notice; the first read by a secretary / 党务干部 of a receiving org marks the org 已阅."""
    user = request.user
    notice = access.get_notice_or_404(user, notice_id)
    if notice.is_published:
        services.mark_read(actor=user, notice=notice, request=request)
    receipts = services.my_receipts(user, notice) if not notice.is_draft else []
    return _detail_out(request, notice, receipts)


@router.post(
    "/{notice_id}/receipt",
    response={200: list[ReceiptOut], **_ERRORS},
    url_name="notices-acknowledge",
    summary="签收通知",
)
def notice_acknowledge(request: HttpRequest, notice_id: int):
    """签收 for each receiving org in which the caller is secretary / 党务干部 (idempotent); 403 for
    anyone else who can read it, 422 when the notice needs no receipt, 409 once withdrawn."""
    user = request.user
    notice = access.get_notice_or_404(user, notice_id)
    receipts = services.acknowledge(actor=user, notice=notice, request=request)
    return [_receipt_out(r) for r in receipts]
