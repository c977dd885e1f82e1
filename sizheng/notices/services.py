"""Every write of the notices app, and the receipt reminder job.

Drafts are written and changed by the issuers (CAS on ``version``); publishing creates one
``OrgReceipt`` per audience org and notifies the orgs' secretaries / 党务干部 (content-free: the title
and a link); the first read by one of them marks the org's receipt 已阅, and they sign for the org
when the notice asks for it. Withdrawing needs the version seen on the confirmation page. Each write
appends an audit row with ids only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone

from sizheng.core import audit, files
from sizheng.core.apitools import Conflict
from sizheng.core.models import RoleGrant, StoredFile
from sizheng.core.notify import notify
from sizheng.core.scheduler import periodic, remind
from sizheng.notices.access import NOT_ISSUER, OWNER_KIND, POST_ROLES, post_org_ids
from sizheng.notices.models import Notice, OrgReceipt
from sizheng.org.access import check_version, manages_org
from sizheng.org.models import Org

MAX_ATTACHMENTS = 10
ATTACHMENT_KINDS = (
    "pdf",
    "ofd",
    "docx",
    "doc",
    "wps",
    "xlsx",
    "xls",
    "pptx",
    "ppt",
    "png",
    "jpg",
    "jpeg",
    "zip",
    "txt",
)
STALE = "该通知已被他人修改，请刷新页面后重新操作。"


def detail_url(notice_id: int) -> str:
    return reverse("notices:detail", args=[notice_id])


# --- audience and post holders ------------------------------------------------------------------


def audience_orgs(org: Org, chosen: Iterable[Org] = ()):
    """The orgs a notice goes to: the chosen orgs and their subtrees (else the issuing org's whole
    subtree), existing today, the issuing org itself left out."""
    roots = list(chosen) or [org]
    return Org.objects.subtree_of(*roots).active_on().exclude(pk=org.pk).order_by("path")


def post_holders(org_ids: Iterable[int]) -> dict[int, list]:
    """Org id → the active users holding a secretary / 党务干部 post in it today (one query)."""
    ids = list(set(org_ids))
    out: dict[int, list] = {}
    if not ids:
        return out
    grants = (
        RoleGrant.objects.in_force()
        .filter(
            role__in=POST_ROLES, scope_kind=RoleGrant.ScopeKind.ORG, scope_id__in=ids, user__is_active=True
        )
        .select_related("user")
        .order_by("scope_id", "user_id")
    )
    for g in grants:
        users = out.setdefault(int(g.scope_id), [])
        if all(u.pk != g.user_id for u in users):
            users.append(g.user)
    return out


def _unique_users(groups: Iterable[list]) -> list:
    seen: dict[int, object] = {}
    for users in groups:
        for u in users:
            seen.setdefault(u.pk, u)
    return list(seen.values())


# --- drafts -------------------------------------------------------------------------------------


def _require_issuer(actor, org: Org) -> None:
    if not manages_org(actor, org):
        raise PermissionDenied(NOT_ISSUER)


def _clean(*, org: Org, title: str, body: str, audience: Sequence[Org], requires_receipt: bool, due_on):
    """Checked and normalised fields (a ValidationError with field → message)."""
    errors: dict[str, str] = {}
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        errors["title"] = "请填写通知标题。"
    elif len(title) > 200:
        errors["title"] = "标题不得超过 200 个字。"
    if not body:
        errors["body"] = "请填写通知正文。"
    outside = [o.name for o in audience if not o.path.startswith(org.path)]
    if outside:
        errors["audience"] = (
            f"受文组织必须是发文组织“{org.name}”或其下级组织，{'、'.join(outside)}不在其中，请重新选择。"
        )
    if not requires_receipt:
        due_on = None
    elif due_on is not None and due_on < timezone.localdate():
        errors["due_on"] = "签收截止日期不能早于今天，请重新选择。"
    if errors:
        raise ValidationError(errors)
    return title, body, due_on


def _check_uploads(attachments: Sequence, existing: int = 0) -> None:
    if existing + len(attachments) > MAX_ATTACHMENTS:
        raise ValidationError(
            {"attachments": f"每份通知最多 {MAX_ATTACHMENTS} 个附件，请合并或删减后再上传。"}
        )
    for upload in attachments:
        try:
            files.validate_upload(upload, allowed=ATTACHMENT_KINDS)
        except ValidationError as exc:
            raise ValidationError({"attachments": exc.messages}) from None


def _store(actor, notice: Notice, attachments: Sequence) -> list[StoredFile]:
    return [
        files.store_upload(
            up, actor=actor, owner_kind=OWNER_KIND, owner_id=notice.pk, allowed=ATTACHMENT_KINDS
        )
        for up in attachments
    ]


def attachments_of(notice_ids: Iterable[int]):
    """The files attached to these notices (one query), oldest first."""
    return StoredFile.objects.filter(owner_kind=OWNER_KIND, owner_id__in=list(notice_ids)).order_by("pk")


@transaction.atomic
def notice_create(
    *,
    actor,
    org: Org,
    title: str,
    body: str,
    audience: Sequence[Org] = (),
    requires_receipt: bool = False,
    due_on: date | None = None,
    attachments: Sequence = (),
    request=None,
) -> Notice:
    """Write a draft notice of an org the actor manages, with its attachments."""
    _require_issuer(actor, org)
    title, body, due_on = _clean(
        org=org, title=title, body=body, audience=audience, requires_receipt=requires_receipt, due_on=due_on
    )
    _check_uploads(attachments)
    notice = Notice.objects.create(
        org=org, title=title, body=body, requires_receipt=requires_receipt, due_on=due_on, created_by=actor
    )
    notice.audience.set(audience)
    stored = _store(actor, notice, attachments)
    audit.record(
        actor,
        "notices_create",
        notice,
        {"org": org.pk, "audience": sorted(o.pk for o in audience), "attachments": len(stored)},
        request=request,
    )
    return notice


@transaction.atomic
def notice_update(
    *,
    actor,
    notice: Notice,
    version: int | None,
    org: Org,
    title: str,
    body: str,
    audience: Sequence[Org] = (),
    requires_receipt: bool = False,
    due_on: date | None = None,
    attachments: Sequence = (),
    remove_attachments: Sequence[StoredFile] = (),
    request=None,
) -> Notice:
    """Change a draft (CAS on ``version``); published notices are withdrawn and issued anew instead."""
    _require_issuer(actor, notice.org)
    _require_issuer(actor, org)
    check_version(notice, version)
    if not notice.is_draft:
        raise Conflict("已发布或已撤回的通知不能再修改；如内容有误，请撤回后重新起草发布。")
    title, body, due_on = _clean(
        org=org, title=title, body=body, audience=audience, requires_receipt=requires_receipt, due_on=due_on
    )
    removing = [f.pk for f in remove_attachments if f.owner_kind == OWNER_KIND and f.owner_id == notice.pk]
    existing = attachments_of([notice.pk]).exclude(pk__in=removing).count()
    _check_uploads(attachments, existing)
    now = timezone.now()
    changed = Notice.objects.filter(pk=notice.pk, version=notice.version, state=Notice.State.DRAFT).update(
        org=org,
        title=title,
        body=body,
        requires_receipt=requires_receipt,
        due_on=due_on,
        updated_at=now,
        version=F("version") + 1,
    )
    if not changed:
        raise Conflict(STALE)
    notice.refresh_from_db()
    notice.audience.set(audience)
    if removing:
        # Detached, not destroyed: the file stays for the audit trail, served to its uploader only.
        StoredFile.objects.filter(pk__in=removing).update(owner_id=None)
    stored = _store(actor, notice, attachments)
    audit.record(
        actor,
        "notices_update",
        notice,
        {"audience": sorted(o.pk for o in audience), "added": len(stored), "removed": removing},
        request=request,
    )
    return notice


@transaction.atomic
def notice_delete(*, actor, notice: Notice, version: int | None, request=None) -> None:
    """Delete a draft that was never published (CAS on ``version``)."""
    _require_issuer(actor, notice.org)
    check_version(notice, version)
    if not notice.is_draft:
        raise Conflict("已发布的通知不能删除，只能撤回。")
    pk = notice.pk
    StoredFile.objects.filter(owner_kind=OWNER_KIND, owner_id=pk).update(owner_id=None)
    if not Notice.objects.filter(pk=pk, version=notice.version, state=Notice.State.DRAFT).delete()[0]:
        raise Conflict(STALE)
    audit.record(actor, "notices_delete", ("notices.notice", pk), {"org": notice.org_id}, request=request)


# --- publish and withdraw -----------------------------------------------------------------------


@transaction.atomic
def notice_publish(*, actor, notice: Notice, version: int | None, request=None) -> int:
    """Publish a draft: one receipt per audience org, a notification to each org's secretaries and
    党务干部. Returns the number of audience orgs."""
    _require_issuer(actor, notice.org)
    check_version(notice, version)
    if not notice.is_draft:
        raise Conflict("该通知已经发布或已撤回，不能再次发布。")
    today = timezone.localdate()
    if notice.requires_receipt and notice.due_on and notice.due_on < today:
        raise ValidationError("签收截止日期已过，请先修改截止日期再发布。")
    chosen = list(notice.audience.all())
    org_ids = list(audience_orgs(notice.org, chosen).values_list("pk", flat=True))
    if not org_ids:
        raise ValidationError("受文范围内没有下级组织：请在“修改”中选择受文组织，或改由上级组织发文。")
    now = timezone.now()
    changed = Notice.objects.filter(pk=notice.pk, version=notice.version, state=Notice.State.DRAFT).update(
        state=Notice.State.PUBLISHED,
        published_at=now,
        published_by=actor,
        dated=today,
        updated_at=now,
        version=F("version") + 1,
    )
    if not changed:
        raise Conflict(STALE)
    OrgReceipt.objects.bulk_create([OrgReceipt(notice_id=notice.pk, org_id=pk) for pk in org_ids])
    notice.refresh_from_db()
    users = _unique_users(post_holders(org_ids).values())
    body = f"请于 {notice.due_on:%Y年%m月%d日} 前阅知并签收。" if notice.due_on else "请及时阅知。"
    notify(users, title=f"有新的通知：{notice.title}", body=body, url=detail_url(notice.pk))
    audit.record(
        actor,
        "notices_publish",
        notice,
        {"receipts": len(org_ids), "notified": len(users), "audience": sorted(o.pk for o in chosen)},
        request=request,
    )
    return len(org_ids)


@transaction.atomic
def notice_withdraw(*, actor, notice: Notice, version: int | None, reason: str = "", request=None) -> Notice:
    """Withdraw a published notice (CAS on ``version``); its readers see that it was withdrawn."""
    _require_issuer(actor, notice.org)
    check_version(notice, version)
    if not notice.is_published:
        raise Conflict("只有已发布的通知可以撤回。")
    now = timezone.now()
    reason = (reason or "").strip()[:200]
    changed = Notice.objects.filter(
        pk=notice.pk, version=notice.version, state=Notice.State.PUBLISHED
    ).update(
        state=Notice.State.WITHDRAWN,
        withdrawn_at=now,
        withdrawn_by=actor,
        withdraw_reason=reason,
        updated_at=now,
        version=F("version") + 1,
    )
    if not changed:
        raise Conflict(STALE)
    notice.refresh_from_db()
    counts = receipt_counts(notice)
    org_ids = list(notice.receipts.values_list("org_id", flat=True))
    users = _unique_users(post_holders(org_ids).values())
    notify(users, title=f"通知已撤回：{notice.title}", url=detail_url(notice.pk))
    audit.record(
        actor,
        "notices_withdraw",
        notice,
        {"receipts": counts["total"], "read": counts["read"], "reason_given": bool(reason)},
        request=request,
    )
    return notice


# --- receipts -----------------------------------------------------------------------------------


def mark_read(*, actor, notice: Notice, request=None) -> int:
    """The first read by an org's secretary / 党务干部 marks the org's receipt 已阅 (a member's read
    records nothing). Returns the number of receipts marked now."""
    ids = post_org_ids(actor)
    if not ids or not notice.is_published:
        return 0
    pending = list(
        OrgReceipt.objects.filter(notice=notice, org_id__in=ids, read_at__isnull=True).values_list(
            "pk", "org_id"
        )
    )
    marked = 0
    for pk, org_id in pending:
        with transaction.atomic():
            if OrgReceipt.objects.filter(pk=pk, read_at__isnull=True).update(
                read_at=timezone.now(), read_by=actor
            ):
                audit.record(
                    actor,
                    "notices_receipt_read",
                    ("notices.orgreceipt", pk),
                    {"notice": notice.pk, "org": org_id},
                    request=request,
                )
                marked += 1
    return marked


def my_receipts(user, notice: Notice) -> list[OrgReceipt]:
    """The receipts of the orgs in which the user holds a post (what they sign for)."""
    ids = post_org_ids(user)
    if not ids:
        return []
    return list(
        OrgReceipt.objects.filter(notice=notice, org_id__in=ids).select_related("org").order_by("org__path")
    )


def acknowledge(*, actor, notice: Notice, request=None) -> list[OrgReceipt]:
    """签收 for each org in which the actor holds a post (idempotent: signed orgs stay as they are)."""
    if not notice.is_published:
        raise Conflict("该通知已撤回，无需签收。")
    if not notice.requires_receipt:
        raise ValidationError("该通知不需要签收：本组织书记或党务干部阅读后即记为“已阅”。")
    receipts = my_receipts(actor, notice)
    if not receipts:
        raise PermissionDenied("只有受文组织的书记、党务干部可以代表组织签收通知。")
    mark_read(actor=actor, notice=notice, request=request)
    for r in receipts:
        if r.acknowledged_at is not None:
            continue
        with transaction.atomic():
            if OrgReceipt.objects.filter(pk=r.pk, acknowledged_at__isnull=True).update(
                acknowledged_at=timezone.now(), acknowledged_by=actor
            ):
                audit.record(
                    actor,
                    "notices_receipt_ack",
                    ("notices.orgreceipt", r.pk),
                    {"notice": notice.pk, "org": r.org_id},
                    request=request,
                )
    return my_receipts(actor, notice)


def receipt_counts(notice: Notice) -> dict[str, int]:
    """Totals of a notice's receipts (one query): total, read (已阅 or signed), acked, unread, unacked."""
    agg = notice.receipts.aggregate(
        total=Count("pk"),
        read=Count("pk", filter=Q(read_at__isnull=False)),
        acked=Count("pk", filter=Q(acknowledged_at__isnull=False)),
    )
    agg["unread"] = agg["total"] - agg["read"]
    agg["unacked"] = agg["total"] - agg["acked"]
    return agg


def filter_receipts(qs, *, status: str = "", q: str = ""):
    """Receipts narrowed by status (unread / read / acked / unacked) and an org-name search."""
    if status == "unread":
        qs = qs.filter(read_at__isnull=True)
    elif status == "read":
        qs = qs.filter(read_at__isnull=False, acknowledged_at__isnull=True)
    elif status == "acked":
        qs = qs.filter(acknowledged_at__isnull=False)
    elif status == "unacked":
        qs = qs.filter(acknowledged_at__isnull=True)
    if q:
        qs = qs.filter(org__name__icontains=q)
    return qs


# --- the reminder job ---------------------------------------------------------------------------


@periodic("notices.receipt_reminders", at=time(8, 10), label="通知签收截止前一天提醒")
def receipt_reminders(today: date | None = None) -> int:
    """The day before a notice's receipt due date, remind each org that has not signed (its
    secretaries and 党务干部), once: the reminder key holds the notice, the org and the due date.
    Returns the number of orgs reminded now."""
    today = today or timezone.localdate()
    due = today + timedelta(days=1)
    rows = list(
        OrgReceipt.objects.filter(
            notice__state=Notice.State.PUBLISHED,
            notice__requires_receipt=True,
            notice__due_on=due,
            acknowledged_at__isnull=True,
        )
        .select_related("notice", "org")
        .only("pk", "org_id", "org__name", "notice_id", "notice__title")
        .order_by("notice_id", "org__path")
    )
    if not rows:
        return 0
    holders = post_holders(r.org_id for r in rows)
    sent = 0
    for r in rows:
        users = holders.get(r.org_id)
        if not users:
            continue
        key = f"notice:{r.notice_id}:org:{r.org_id}:due-1:{due.isoformat()}"
        title = f"【明日截止签收】{r.notice.title}（{r.org.name}）"
        if remind(
            key,
            users,
            title=title,
            body="本组织尚未签收该通知，请在明天之前阅知并签收。",
            url=detail_url(r.notice_id),
        ):
            sent += 1
    return sent
