"""The audit trail: every write, and every read of T2/T3 data (ARCHITECTURE §5).

``record`` never takes content: pass ids and field *names*, never values of T2/T3 fields.
Anonymous submissions are recorded with ``record_anonymous`` (no actor, no object).
"""

from __future__ import annotations

from typing import Any

from django.db import models

from sizheng.core.models import AuditEvent

_current_ip: dict[str, str | None] = {"ip": None}


def _client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(actor, action: str, obj: Any = None, detail: dict | None = None, *, request=None) -> AuditEvent:
    """Append one audit row. ``obj`` may be a model instance, a (type, id) tuple, or None."""
    object_type = object_id = object_repr = ""
    if isinstance(obj, models.Model):
        object_type = obj._meta.label_lower
        object_id = str(obj.pk)
        object_repr = str(obj)[:200]
    elif isinstance(obj, tuple) and len(obj) == 2:
        object_type, object_id = str(obj[0]), str(obj[1])
    elif obj is not None:
        object_type = str(obj)
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_name=(user.get_username() if user else (str(actor) if actor else "")),
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        detail=detail or {},
        ip=_client_ip(request),
    )


def record_read(actor, obj: Any, fields: list[str] | tuple[str, ...], *, request=None) -> AuditEvent:
    """Audit a read of sensitive (T2/T3) fields: names of the fields only, never their values."""
    return record(actor, "read_sensitive", obj, {"fields": list(fields)}, request=request)


def record_anonymous(action: str, detail: dict | None = None) -> AuditEvent:
    """An event with no actor and no object (e.g. a wave's count of anonymous answers)."""
    return record(None, action, None, detail)
