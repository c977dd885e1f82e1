"""Menu entries, the home card, the attachment access check and the reminder job of the notices app
(imported by ``NoticesConfig.ready``)."""

from __future__ import annotations

from django.db.models import Count, Q

from sizheng.core import files, home, nav
from sizheng.core.models import Role
from sizheng.notices import services  # noqa: F401  (registers the reminder job)
from sizheng.notices.access import OWNER_KIND, may_read_attachment, post_org_ids

GROUP = "通知公告"
ISSUERS = [Role.COMMITTEE_ADMIN, Role.SECRETARY, Role.ORG_ADMIN]

nav.register("通知公告", "notices:list", roles=[*ISSUERS, Role.MEMBER, Role.LEADER], order=8, group=GROUP)
nav.register("起草通知", "notices:create", roles=ISSUERS, order=9, group=GROUP)


def home_card(request) -> dict | None:
    """未读通知: for a secretary / 党务干部, the notices their orgs have not read or not yet signed
    (the grants are already loaded for the menu; one aggregate query)."""
    from sizheng.notices.models import Notice, OrgReceipt

    ids = post_org_ids(request.user)
    if not ids:
        return None
    agg = OrgReceipt.objects.filter(org_id__in=ids, notice__state=Notice.State.PUBLISHED).aggregate(
        unread=Count("pk", filter=Q(read_at__isnull=True)),
        unsigned=Count("pk", filter=Q(notice__requires_receipt=True, acknowledged_at__isnull=True)),
    )
    if not agg["unread"] and not agg["unsigned"]:
        return None
    return agg


home.register("notices.unread", template="notices/_home_card.html", context=home_card, order=5)
files.register_access(OWNER_KIND, may_read_attachment)
