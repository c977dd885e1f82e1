"""The library API (issue 8 §5): search and read materials, add them (managers), publish or withdraw.

Every write goes through ``library.services``; errors come out in the core's one shape (403 read-only,
404 outside scope, 409 stale version or state, 422 bad input — Chinese messages). Nothing here
records who read what: no reading time, no views per person, no likes, no points.
"""

# No `from __future__ import annotations` here: ninja reads the parameter annotations at import time.

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.responses import Status

from sizheng.core.apitools import ErrorOut, Paged
from sizheng.library import access, services, targets
from sizheng.library.models import Attachment, Material, MaterialKind, MaterialState, Topic
from sizheng.org.access import get_org_or_404, manages_org, require
from sizheng.org.models import Org

router = Router(tags=["学习资料库"])

_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}
NO_RIGHT = "只有所属党组织的书记、党务干部可以发布学习资料。"


# --- schemas -----------------------------------------------------------------------


class FileOut(Schema):
    """The material's file (downloaded through the permission-checked view at ``url``)."""

    name: str
    size: int
    content_type: str
    url: str


class MaterialOut(Schema):
    """A material as lists show it (never the article text)."""

    id: int
    kind: str
    title: str
    summary: str
    source: str
    published_on: date
    org_id: int
    audience_org_id: int | None = Field(None, description="阅览范围（该组织及下级）；为空表示全体人员")
    column_id: int | None
    state: str
    version: int
    published_at: datetime | None
    topics: list[str]
    file: FileOut | None
    url: str

    @staticmethod
    def resolve_topics(obj: Material) -> list[str]:
        if isinstance(obj, dict):  # the detail endpoints answer a dict
            return obj["topics"]
        return [t.name for t in obj.topics.all()]

    @staticmethod
    def resolve_file(obj: Material) -> dict | None:
        if isinstance(obj, dict):
            return obj["file"]
        if obj.file is None:
            return None
        return {
            "name": obj.file.name,
            "size": obj.file.size,
            "content_type": obj.file.content_type,
            "url": reverse("library:material_download", args=[obj.pk]),
        }

    @staticmethod
    def resolve_url(obj: Material) -> str:
        if isinstance(obj, dict):
            return obj["url"]
        return reverse("library:material_detail", args=[obj.pk])


class UseOut(Schema):
    """Where the material is used (only targets the caller sees)."""

    id: int
    target_kind: str
    target_id: int
    label: str
    org_id: int


class MaterialDetailOut(MaterialOut):
    """One material with its article text and where it is used."""

    body: str
    uses: list[UseOut]


class MaterialFilter(Schema):
    """Search and filters of the list."""

    q: str | None = Field(None, max_length=100, description="关键词：标题、简介、来源或主题")
    topic_id: int | None = Field(None, description="主题")
    kind: MaterialKind | None = Field(None, description="类型")
    org_id: int | None = Field(None, description="所属组织（含下级组织）")
    year: int | None = Field(None, ge=1900, le=2100, description="发布年份")
    state: MaterialState | None = Field(None, description="状态（草稿和已撤回的只对可编辑的人可见）")


class MaterialIn(Schema):
    """A material's metadata; ``body`` makes it an in-house article (JSON), or upload a file (multipart)."""

    org_id: int | None = Field(None, description="所属组织（在专栏发表时可省略）")
    title: str = Field(..., min_length=1, max_length=200, description="标题")
    summary: str = Field("", max_length=1000, description="内容简介")
    source: str = Field("", max_length=120, description="来源")
    published_on: date = Field(..., description="发布日期")
    topic_ids: list[int] = Field(default_factory=list, description="主题编号（至少一个）")
    audience_org_id: int | None = Field(None, description="阅览范围；为空表示全体人员（仅机关工委可用）")
    column_id: int | None = Field(None, description="所属专栏（只发布文章）")
    body: str = Field("", max_length=50000, description="文章正文（在线撰写时填写）")
    publish: bool = Field(False, description="是否立即发布；否则保存为草稿")


class TopicOut(Schema):
    id: int
    name: str
    is_active: bool


class TransitionIn(Schema):
    """Publish, withdraw or send back to draft; ``version`` is the version the caller saw."""

    action: str = Field(..., max_length=16, description="操作：publish / withdraw / redraft")
    version: int = Field(..., ge=1, description="资料的当前版本号")


class StateOut(Schema):
    state: str
    version: int


# --- helpers -----------------------------------------------------------------------


def _filtered(user, f: MaterialFilter):
    qs = Material.objects.visible_to(user)
    through = Material.topics.through
    if f.q and f.q.strip():
        word = f.q.strip()
        qs = qs.filter(
            Q(title__icontains=word)
            | Q(summary__icontains=word)
            | Q(source__icontains=word)
            | Q(pk__in=through.objects.filter(topic__name__icontains=word).values("material_id"))
        )
    if f.topic_id is not None:
        qs = qs.filter(pk__in=through.objects.filter(topic_id=f.topic_id).values("material_id"))
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.org_id is not None:
        path = Org.objects.filter(pk=f.org_id).values_list("path", flat=True).first()
        # An unknown org selects nothing rather than answering 404: the list says nothing about orgs.
        qs = qs.filter(org__path__startswith=path) if path else qs.none()
    if f.year is not None:
        qs = qs.filter(published_on__year=f.year)
    if f.state:
        qs = qs.filter(state=f.state)
    return qs.for_list().order_by("-published_on", "-pk")


def _detail(user, material: Material) -> dict:
    uses = list(Attachment.objects.filter(material=material).order_by("attached_at", "pk"))
    seen = targets.visible([(a.target_kind, a.target_id) for a in uses], user)
    data = {name: getattr(material, name) for name in MaterialOut.model_fields if hasattr(material, name)}
    data.update(
        topics=MaterialOut.resolve_topics(material),
        file=MaterialOut.resolve_file(material),
        url=MaterialOut.resolve_url(material),
        body=material.body,
        uses=[
            {"id": a.pk, "target_kind": a.target_kind, "target_id": a.target_id,
             "label": seen[(a.target_kind, a.target_id)].label, "org_id": a.org_id}
            for a in uses
            if (a.target_kind, a.target_id) in seen
        ],
    )  # fmt: skip
    return data


def _create(request: HttpRequest, payload: MaterialIn, upload=None) -> Material:
    """Resolve the ids in the caller's scope, check the right to publish, call the service."""
    user = request.user
    column = None
    if payload.column_id is not None:
        column = access.get_column_or_404(user, payload.column_id)
        require(
            access.may_write_column(user, column),
            "只有主办组织的书记、党务干部或授权的撰稿人可以在专栏发表文章。",
        )
        org = column.org
    elif payload.org_id is None:
        raise ValidationError({"org_id": "请指定资料所属的党组织。"})
    else:
        org = get_org_or_404(user, payload.org_id)
        require(manages_org(user, org), NO_RIGHT)
    topics = list(Topic.objects.filter(pk__in=payload.topic_ids, is_active=True))
    if len(topics) != len(set(payload.topic_ids)):
        raise ValidationError({"topic_ids": "所选主题不存在或已停用，请重新选择。"})
    audience = None
    if payload.audience_org_id is not None:
        audience = Org.objects.visible_to(user).filter(pk=payload.audience_org_id).first()
        if audience is None:
            raise ValidationError({"audience_org_id": "阅览范围所选的党组织不存在，或不在您的管理范围内。"})
    return services.material_create(
        actor=user, org=org, title=payload.title, summary=payload.summary, source=payload.source,
        published_on=payload.published_on, topics=topics, audience_org=audience, column=column,
        body=payload.body, upload=upload, publish=payload.publish,
    )  # fmt: skip


# --- endpoints ---------------------------------------------------------------------


@router.get(
    "/topics", response={200: list[TopicOut], **_ERRORS}, url_name="library-topics", summary="资料主题"
)
def topic_list(request: HttpRequest):
    """The topic tags, in their order (retired ones flagged)."""
    return list(Topic.objects.order_by("order", "pk"))


@router.get(
    "/materials",
    response={200: list[MaterialOut], **_ERRORS},
    url_name="library-materials",
    summary="学习资料列表和搜索",
)
@paginate(Paged)
def material_list(request: HttpRequest, filters: Query[MaterialFilter]):
    """Materials the caller may read (and, for editors, their drafts), newest first."""
    return _filtered(request.user, filters)


@router.post(
    "/materials", response={201: MaterialDetailOut, **_ERRORS}, url_name="library-materials-create",
    summary="发布学习资料（元数据和在线撰写的文章）",
)  # fmt: skip
def material_create(request: HttpRequest, payload: MaterialIn):
    """Add an article (``body``) for an org the caller manages or a column they write for (JSON).

    A file is uploaded with ``POST /materials/upload`` (multipart) instead."""
    material = _create(request, payload)
    return Status(201, _detail(request.user, access.get_material_or_404(request.user, material.pk)))


@router.post(
    "/materials/upload", response={201: MaterialDetailOut, **_ERRORS}, url_name="library-materials-upload",
    summary="上传学习资料文件（multipart）",
)  # fmt: skip
def material_upload(request: HttpRequest, payload: Form[MaterialIn], file: File[UploadedFile]):
    """Add a file material (pdf, docx, pptx, mp3, mp4, txt …) with its metadata as form fields."""
    material = _create(request, payload, upload=file)
    return Status(201, _detail(request.user, access.get_material_or_404(request.user, material.pk)))


@router.get(
    "/materials/{material_id}", response={200: MaterialDetailOut, **_ERRORS}, url_name="library-materials-detail",
    summary="学习资料详情",
)  # fmt: skip
def material_detail(request: HttpRequest, material_id: int):
    """One material with its article text and the plans, sessions and 党课 it is used on."""
    return _detail(request.user, access.get_material_or_404(request.user, material_id))


@router.post(
    "/materials/{material_id}/transition", response={200: StateOut, **_ERRORS},
    url_name="library-materials-transition", summary="发布、撤回学习资料",
)  # fmt: skip
def material_transition(request: HttpRequest, material_id: int, payload: TransitionIn):
    """Publish, withdraw or send back to draft (editors only; 409 on a wrong state or stale version)."""
    material = access.get_material_or_404(request.user, material_id)
    require(
        access.may_edit_material(request.user, material),
        "只有该资料所属党组织的书记、党务干部或专栏撰稿人可以发布或撤回。",
    )
    material = services.material_transition(
        actor=request.user, material=material, action=payload.action, version=payload.version
    )
    return {"state": material.state, "version": material.version}
