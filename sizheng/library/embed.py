"""What other apps show on their pages: the library materials attached to a study plan, a study session
or a 党课 — ``attachments_for(kind, id, user)`` for a view's context, and the same as an inclusion tag::

    {% load library_tags %}
    {% library_attachments "study_session" session.pk %}

Only published materials whose audience includes the viewer are listed (three to four queries).
"""

from __future__ import annotations

from django.urls import reverse

from sizheng.library import targets
from sizheng.library.models import Attachment, Material, TargetKind
from sizheng.org.access import manages_org


def attachments_for(kind: str, target_id: int, user) -> dict:
    """The context of ``library/_attachments.html`` for one target page."""
    if kind not in TargetKind.values:
        raise ValueError(f"未知的资料使用对象类型：{kind}")
    rows = list(
        Attachment.objects.filter(
            target_kind=kind,
            target_id=target_id,
            material__in=Material.objects.visible_to(user).published().values("pk"),
        )
        .select_related("material", "material__file")
        .prefetch_related("material__topics")
        .order_by("attached_at", "pk")
    )
    target = targets.get(kind, target_id, user)
    can_manage = target is not None and manages_org(user, target.org)
    items = [
        {
            "attachment": a,
            "material": a.material,
            "url": reverse("library:material_detail", args=[a.material_id]),
            "download_url": reverse("library:material_download", args=[a.material_id])
            if a.material.file_id
            else "",
        }
        for a in rows
    ]
    return {
        "kind": kind,
        "kind_label": TargetKind(kind).label,
        "target_id": target_id,
        "items": items,
        "can_manage": can_manage,
        "pick_url": reverse("library:attach_pick", args=[kind, target_id]) if can_manage else "",
    }
