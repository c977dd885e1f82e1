"""``{% library_attachments kind target_id %}``: the library materials used on another app's page."""

from __future__ import annotations

from django import template

from sizheng.library.embed import attachments_for

register = template.Library()


@register.inclusion_tag("library/_attachments.html", takes_context=True)
def library_attachments(context, kind: str, target_id: int) -> dict:
    """The attached materials the viewer may see, and the 添加 link for the target's managers."""
    request = context["request"]
    return {
        "library": attachments_for(kind, int(target_id), request.user),
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }
