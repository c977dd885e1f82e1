"""Every write of the library (each audited): topics, materials and their files, the publishing
workflow, attachments to study plans / sessions / 党课, and the in-house columns.

Callers check access first (library.access: 404 outside scope, 403 read-only); the services check
what the data must satisfy and refuse a stale version (409) or a state the workflow does not allow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from sizheng.core import audit, files
from sizheng.core.apitools import Conflict
from sizheng.core.models import Role, RoleGrant
from sizheng.library.models import (
    ALLOWED_EXTENSIONS,
    BODY_MAX_CHARS,
    KIND_OF_EXTENSION,
    MATERIAL_OWNER_KIND,
    Attachment,
    Column,
    Material,
    MaterialKind,
    MaterialState,
    Topic,
)
from sizheng.library.targets import Target
from sizheng.org.access import manages_org
from sizheng.org.models import Org

STALE_MATERIAL = "该资料已被他人修改，请刷新页面后重新填写。"
STALE_COLUMN = "该专栏已被他人修改，请刷新页面后重新填写。"
STALE_TOPIC = "该主题已被他人修改，请刷新页面后重新填写。"


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


def _cas(model, obj, version: int, message: str, **changes) -> None:
    """Compare-and-swap on ``version`` (409 when someone else saved first)."""
    if not model.objects.filter(pk=obj.pk, version=version).update(version=F("version") + 1, **changes):
        raise Conflict(message)
    for k, v in changes.items():
        setattr(obj, k, v)
    obj.version = version + 1


def _check_version(obj, version, message: str) -> None:
    if version is None or int(version) != obj.version:
        raise Conflict(message)


# --- topics --------------------------------------------------------------------------------------


@transaction.atomic
def topic_create(*, actor, name: str, order: int | None = None) -> Topic:
    """Add a topic tag (the committee admin keeps the list)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "请填写主题名称。"})
    if Topic.objects.filter(name=name).exists():
        raise ValidationError({"name": f"已有名为“{name}”的主题。"})
    if order is None:
        order = (Topic.objects.order_by("-order").values_list("order", flat=True).first() or 0) + 1
    topic = Topic.objects.create(name=name, order=order)
    audit.record(actor, "library_topic_create", topic, {"order": order})
    return topic


@transaction.atomic
def topic_update(*, actor, topic: Topic, version: int, name: str, order: int, is_active: bool) -> Topic:
    """Rename, reorder or retire a topic (retired topics stay on the materials that carry them)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "请填写主题名称。"})
    if Topic.objects.filter(name=name).exclude(pk=topic.pk).exists():
        raise ValidationError({"name": f"已有名为“{name}”的主题。"})
    _check_version(topic, version, STALE_TOPIC)
    changes = {
        k: v
        for k, v in {"name": name, "order": order, "is_active": is_active}.items()
        if getattr(topic, k) != v
    }
    if changes:
        _cas(Topic, topic, version, STALE_TOPIC, **changes)
        audit.record(actor, "library_topic_update", topic, {"fields": sorted(changes)})
    return topic


# --- materials -----------------------------------------------------------------------------------


def _audience_errors(org: Org, audience_org: Org | None) -> dict[str, str]:
    """Everyone only for the 机关工委's own materials; else a subtree of the owning org."""
    if audience_org is None:
        if org.depth != 0:
            return {
                "audience_org": "面向全体人员的资料只能由机关工委发布，请选择本组织或其下级组织作为阅览范围。"
            }
        return {}
    if not audience_org.path.startswith(org.path):
        return {"audience_org": f"阅览范围应为“{org.name}”或其下级组织。"}
    return {}


def _meta_errors(*, title: str, published_on: date | None, topics: list[Topic]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "请填写资料标题。"
    elif len(title.strip()) > 200:
        errors["title"] = "标题不得超过 200 个字符。"
    if published_on is None:
        errors["published_on"] = "请填写发布日期。"
    elif published_on > timezone.localdate():
        errors["published_on"] = "发布日期不能晚于今天。"
    if not topics:
        errors["topics"] = "请至少选择一个主题，便于同事按主题查找。"
    return errors


def _publish_errors(material: Material) -> list[str]:
    if material.is_article and not material.body.strip():
        return ["文章还没有正文，请先填写正文再发布。"]
    if not material.is_article and material.file_id is None:
        return ["该资料还没有上传文件，请先上传文件再发布。"]
    return []


@transaction.atomic
def material_create(
    *, actor, org: Org, title: str, published_on: date | None, topics: Iterable[Topic] = (),
    summary: str = "", source: str = "", audience_org: Org | None = None, upload=None, body: str = "",
    column: Column | None = None, publish: bool = False,
) -> Material:  # fmt: skip
    """Add a material: an uploaded file (its kind follows the extension) or an article typed in."""
    topics = list(topics)
    body = (body or "").strip()
    errors = _meta_errors(title=title, published_on=published_on, topics=topics)
    if column is not None:
        org = column.org
        if not column.is_active:
            errors["column"] = "该专栏已停用，不能再发布文章。"
    errors.update(_audience_errors(org, audience_org))
    kind = MaterialKind.ARTICLE
    if column is not None and upload is not None:
        errors["upload"] = "专栏只发布在线撰写的文章，请把内容填写在正文中。"
    elif upload is not None and body:
        errors["body"] = "上传文件和在线撰写正文只能二选一。"
    elif upload is not None:
        try:
            ext, _content_type = files.validate_upload(upload, allowed=ALLOWED_EXTENSIONS)
        except ValidationError as exc:
            errors["upload"] = exc.messages[0]
        else:
            kind = KIND_OF_EXTENSION[ext]
    elif not body:
        errors["body" if column is not None else "upload"] = (
            "请填写文章正文。" if column is not None else "请上传资料文件，或在线撰写文章正文。"
        )
    if len(body) > BODY_MAX_CHARS:
        errors["body"] = f"正文不得超过 {BODY_MAX_CHARS} 个字符。"
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    material = Material.objects.create(
        kind=kind, title=title.strip(), summary=summary.strip(), source=source.strip(),
        published_on=published_on, org=org, audience_org=audience_org, column=column, body=body,
        state=MaterialState.DRAFT, created_by=_user(actor), created_at=now,
    )  # fmt: skip
    material.topics.set(topics)
    if upload is not None:
        stored = files.store_upload(
            upload,
            actor=actor,
            owner_kind=MATERIAL_OWNER_KIND,
            owner_id=material.pk,
            allowed=ALLOWED_EXTENSIONS,
        )
        Material.objects.filter(pk=material.pk).update(file=stored)
        material.file = stored
    if publish:
        Material.objects.filter(pk=material.pk).update(state=MaterialState.PUBLISHED, published_at=now)
        material.state, material.published_at = MaterialState.PUBLISHED, now
    audit.record(
        actor,
        "library_material_create",
        material,
        {"org": org.pk, "kind": kind, "state": material.state, "column": getattr(column, "pk", None),
         "topics": sorted(t.pk for t in topics), "file": material.file_id},
    )  # fmt: skip
    return material


@transaction.atomic
def material_update(
    *, actor, material: Material, version: int, title: str, published_on: date | None,
    topics: Iterable[Topic], summary: str = "", source: str = "", audience_org: Org | None = None,
    body: str | None = None, upload=None,
) -> Material:  # fmt: skip
    """Edit a draft or published material (409 on a stale version or once withdrawn)."""
    if material.state == MaterialState.WITHDRAWN:
        raise Conflict("已撤回的资料不能修改，请先恢复为草稿。")
    _check_version(material, version, STALE_MATERIAL)
    topics = list(topics)
    errors = _meta_errors(title=title, published_on=published_on, topics=topics)
    errors.update(_audience_errors(material.org, audience_org))
    body = None if body is None else body.strip()
    if material.is_article:
        if upload is not None:
            errors["upload"] = "文章不能上传文件，请把内容填写在正文中。"
        if body is not None and not body:
            errors["body"] = "请填写文章正文。"
        if body is not None and len(body) > BODY_MAX_CHARS:
            errors["body"] = f"正文不得超过 {BODY_MAX_CHARS} 个字符。"
    elif upload is not None:
        try:
            ext, _content_type = files.validate_upload(upload, allowed=ALLOWED_EXTENSIONS)
        except ValidationError as exc:
            errors["upload"] = exc.messages[0]
        else:
            if KIND_OF_EXTENSION[ext] != material.kind:
                errors["upload"] = (
                    f"替换的文件应仍为{material.get_kind_display()}，如需换成其他类型请新建一条资料。"
                )
    if errors:
        raise ValidationError(errors)
    fields = {
        "title": title.strip(),
        "summary": summary.strip(),
        "source": source.strip(),
        "published_on": published_on,
        "audience_org": audience_org,
    }
    if material.is_article and body is not None:
        fields["body"] = body
    changed = {k: v for k, v in fields.items() if getattr(material, k) != v}
    old_topics = set(material.topics.values_list("pk", flat=True))
    topics_changed = old_topics != {t.pk for t in topics}
    if upload is not None:
        stored = files.store_upload(
            upload,
            actor=actor,
            owner_kind=MATERIAL_OWNER_KIND,
            owner_id=material.pk,
            allowed=ALLOWED_EXTENSIONS,
        )
        changed["file"] = stored
    if not changed and not topics_changed:
        return material
    _cas(Material, material, version, STALE_MATERIAL, **changed)
    if topics_changed:
        material.topics.set(topics)
    names = sorted(changed) + (["topics"] if topics_changed else [])
    audit.record(actor, "library_material_update", material, {"fields": names})
    return material


@dataclass(frozen=True)
class Transition:
    """A step of the publishing workflow: the states it starts from and the state it leads to."""

    action: str
    label: str
    sources: frozenset[str]
    target: str


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition("publish", "发布", frozenset({MaterialState.DRAFT}), MaterialState.PUBLISHED),
        Transition("withdraw", "撤回", frozenset({MaterialState.PUBLISHED}), MaterialState.WITHDRAWN),
        Transition("redraft", "恢复为草稿", frozenset({MaterialState.WITHDRAWN}), MaterialState.DRAFT),
    ]
}


def available_actions(state: str) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if state in t.sources]


@transaction.atomic
def material_transition(*, actor, material: Material, action: str, version: int) -> Material:
    """Publish, withdraw or send back to draft (409 when the state or version does not allow it)."""
    t = TRANSITIONS.get(action)
    if t is None:
        raise ValidationError("未知的操作，请刷新页面后重试。")
    if material.state not in t.sources:
        raise Conflict(f"该资料当前为“{material.get_state_display()}”，不能{t.label}。")
    _check_version(material, version, STALE_MATERIAL)
    if t.target == MaterialState.PUBLISHED:
        problems = _publish_errors(material)
        if problems:
            raise ValidationError(problems)
    changes: dict = {"state": t.target}
    if t.target == MaterialState.PUBLISHED:
        changes["published_at"] = timezone.now()
    before = material.state
    _cas(Material, material, version, STALE_MATERIAL, **changes)
    audit.record(actor, f"library_material_{action}", material, {"from": before, "to": t.target})
    return material


# --- attachments ---------------------------------------------------------------------------------


@transaction.atomic
def attachment_add(*, actor, material: Material, target: Target) -> Attachment:
    """Use a published material on a study plan, study session or 党课 the actor manages."""
    if not manages_org(actor, target.org):
        raise PermissionDenied(
            f"只有“{target.org.name}”的书记、党务干部可以为该{target.kind_label}添加学习资料。"
        )
    if material.state != MaterialState.PUBLISHED:
        raise ValidationError("只有已发布的资料才能用于学习，请先发布该资料。")
    audience = material.audience_org
    if audience is not None and not target.org.path.startswith(audience.path):
        raise ValidationError(
            f"该资料的阅览范围是“{audience.name}”，不包括“{target.org.name}”，参加学习的同志将无法查看。"
        )
    exists = Attachment.objects.filter(
        material=material, target_kind=target.kind, target_id=target.id
    ).exists()
    if exists:
        raise ValidationError(f"该资料已经添加到这个{target.kind_label}。")
    try:
        with transaction.atomic():
            attachment = Attachment.objects.create(
                material=material, target_kind=target.kind, target_id=target.id, org=target.org,
                attached_by=_user(actor),
            )  # fmt: skip
    except IntegrityError as exc:
        raise ValidationError(f"该资料已经添加到这个{target.kind_label}。") from exc
    audit.record(
        actor, "library_attach", material, {"attachment": attachment.pk, "target_kind": target.kind,
                                            "target_id": target.id}
    )  # fmt: skip
    return attachment


@transaction.atomic
def attachment_remove(*, actor, attachment: Attachment) -> None:
    """Take a material off a study plan, session or 党课 (managers of the target's org)."""
    if not manages_org(actor, attachment.org):
        raise PermissionDenied("只有该学习活动所属党组织的书记、党务干部可以移除学习资料。")
    pk, material = attachment.pk, attachment.material
    detail = {"attachment": pk, "target_kind": attachment.target_kind, "target_id": attachment.target_id}
    attachment.delete()
    audit.record(actor, "library_detach", material, detail)


# --- columns -------------------------------------------------------------------------------------


@transaction.atomic
def column_create(*, actor, org: Org, name: str, description: str = "") -> Column:
    """Start an in-house column (思政品牌) of an org."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "请填写专栏名称，例如“机关e课堂”。"})
    if Column.objects.filter(org=org, name=name).exists():
        raise ValidationError({"name": f"“{org.name}”已有名为“{name}”的专栏。"})
    column = Column.objects.create(
        org=org, name=name, description=(description or "").strip(), created_by=_user(actor)
    )
    audit.record(actor, "library_column_create", column, {"org": org.pk})
    return column


@transaction.atomic
def column_update(
    *, actor, column: Column, version: int, name: str, description: str, is_active: bool
) -> Column:
    """Rename, describe or pause a column (409 on a stale version)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "请填写专栏名称。"})
    if Column.objects.filter(org=column.org_id, name=name).exclude(pk=column.pk).exists():
        raise ValidationError({"name": f"“{column.org.name}”已有名为“{name}”的专栏。"})
    _check_version(column, version, STALE_COLUMN)
    changes = {
        k: v
        for k, v in {"name": name, "description": (description or "").strip(), "is_active": is_active}.items()
        if getattr(column, k) != v
    }
    if changes:
        _cas(Column, column, version, STALE_COLUMN, **changes)
        audit.record(actor, "library_column_update", column, {"fields": sorted(changes)})
    return column


def may_be_editor(user) -> bool:
    """Authors the committee admin may name are kept to managers: a secretary or 党务干部 somewhere."""
    return RoleGrant.objects.in_force().filter(user=user, role__in=[Role.SECRETARY, Role.ORG_ADMIN]).exists()


@transaction.atomic
def column_editor_add(*, actor, column: Column, user) -> None:
    """Name an author of the column (the committee admin; the user must be a manager somewhere)."""
    if not may_be_editor(user):
        raise ValidationError({"user": "只能授权书记或党务干部为专栏撰稿人。"})
    if column.editors.filter(pk=user.pk).exists():
        raise ValidationError({"user": f"{user}已经是该专栏的撰稿人。"})
    column.editors.add(user)
    audit.record(actor, "library_column_editor_add", column, {"user": user.pk})


@transaction.atomic
def column_editor_remove(*, actor, column: Column, user) -> None:
    """Take an author off the column (their articles stay, with the org's managers)."""
    if not column.editors.filter(pk=user.pk).exists():
        raise ValidationError({"user": f"{user}不是该专栏的撰稿人。"})
    column.editors.remove(user)
    audit.record(actor, "library_column_editor_remove", column, {"user": user.pk})
