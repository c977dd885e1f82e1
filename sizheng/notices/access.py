"""Who issues, who reads, who signs a notice (ARCHITECTURE §4).

* **Issue** (write, publish, withdraw, see the per-org status table): whoever manages the issuing
  org (``org.access.manages_org``): the committee admin from the root, a secretary / 党务干部 from
  their org down.
* **Read**: the issuers, and every person whose own org received the published notice, and the
  secretaries / 党务干部 of a receiving org (a post may be held outside one's own member org).
* **Sign for the org**: only the secretaries / 党务干部 holding a post in the receiving org itself —
  the first read by one of them marks the org's receipt 已阅; a member's read records nothing.
* Everyone else: 404 (the notice does not exist for them); a reader asking for an issuer's page: 403.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from sizheng.core.models import Role, RoleGrant
from sizheng.org.access import managed_org_q, manages_org, require, scope_of

NOT_FOUND = "未找到该通知，或它不是发给您所在组织的。"
NOT_ISSUER = "只有发文组织的书记、党务干部（或机关工委）可以修改、发布、撤回通知和查看各组织阅知情况。"
POST_ROLES = (Role.SECRETARY, Role.ORG_ADMIN)
OWNER_KIND = "notices.notice"


def post_org_ids(user) -> list[int]:
    """Orgs in which the user holds a secretary / 党务干部 post today (no query once grants are loaded)."""
    if user is None or not user.is_authenticated:
        return []
    return sorted(
        {
            g.scope_id
            for g in user.grants_today()
            if g.role in POST_ROLES and g.scope_kind == RoleGrant.ScopeKind.ORG and g.scope_id is not None
        }
    )


def reader_org_ids(user) -> list[int]:
    """The orgs whose notices the user reads: their own member org and the orgs of their posts."""
    ids = set(post_org_ids(user))
    own = scope_of(user).own_org_id
    if own:
        ids.add(own)
    return sorted(ids)


def may_issue(user) -> bool:
    """Whether the user manages any org (and so may write notices at all)."""
    scope = scope_of(user)
    return scope.has_everything(Role.COMMITTEE_ADMIN) or bool(scope.paths(*POST_ROLES))


def issued_q(user) -> Q:
    """Notices issued by an org the user manages (drafts included)."""
    return managed_org_q(user, "org__")


def received_q(user) -> Q:
    """Published (or withdrawn) notices addressed to one of the user's orgs."""
    from sizheng.notices.models import Notice, OrgReceipt

    ids = reader_org_ids(user)
    if not ids:
        return Q(pk__in=[])
    return Q(
        state__in=[Notice.State.PUBLISHED, Notice.State.WITHDRAWN],
        pk__in=OrgReceipt.objects.filter(org_id__in=ids).values("notice_id"),
    )


def visible_q(user) -> Q:
    return issued_q(user) | received_q(user)


def may_manage(user, notice) -> bool:
    return manages_org(user, notice.org)


def get_notice_or_404(user, pk, *, manage: bool = False):
    """A notice the user may open (404 otherwise); with ``manage``, 403 for a reader who is no issuer."""
    from sizheng.notices.models import Notice

    notice = (
        Notice.objects.visible_to(user).select_related("org").filter(pk=pk).first()
        if str(pk).isdigit()
        else None
    )
    if notice is None:
        raise Http404(NOT_FOUND)
    if manage:
        require(may_manage(user, notice), NOT_ISSUER)
    return notice


def may_read_attachment(user, owner_id: int | None) -> bool:
    """core.files check: issuers always; readers only while the notice is published."""
    from sizheng.notices.models import Notice

    if owner_id is None:
        return False
    notice = Notice.objects.visible_to(user).select_related("org").filter(pk=owner_id).first()
    if notice is None:
        return False
    return notice.is_published or may_manage(user, notice)
