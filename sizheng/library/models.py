"""The study library (四史 · 法治 · 网络思政): materials stored on the platform, tagged by topic,
attached to study plans, study sessions and 党课; and each unit's in-house column (思政品牌) of articles.

No reading-time tracking, no likes, no per-person view counts, no points (国办函〔2026〕12号): the
library records what was published and where it was used, never who read what for how long.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from sizheng.library import text
from sizheng.org.models import Org

# An in-house article is typed in the browser; long enough for a lecture script, short enough to render.
BODY_MAX_CHARS = 50000
MATERIAL_OWNER_KIND = "library_material"


class Topic(models.Model):
    """A topic tag (党史, 新中国史, 法治 …): data the committee admin edits."""

    name = models.CharField(_("主题"), max_length=40, unique=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("在用"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("资料主题")
        verbose_name_plural = _("资料主题")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class MaterialKind(models.TextChoices):
    """What a material is; files get their kind from their extension, articles are typed in."""

    DOCUMENT = "document", _("文档")
    SLIDES = "slides", _("课件")
    AUDIO = "audio", _("音频")
    VIDEO = "video", _("视频")
    ARTICLE = "article", _("文章")


# Extensions the library accepts (all in core.files.ALLOWED) and the kind each one makes.
KIND_OF_EXTENSION: dict[str, str] = {
    "pdf": MaterialKind.DOCUMENT,
    "docx": MaterialKind.DOCUMENT,
    "doc": MaterialKind.DOCUMENT,
    "wps": MaterialKind.DOCUMENT,
    "ofd": MaterialKind.DOCUMENT,
    "txt": MaterialKind.DOCUMENT,
    "pptx": MaterialKind.SLIDES,
    "ppt": MaterialKind.SLIDES,
    "mp3": MaterialKind.AUDIO,
    "mp4": MaterialKind.VIDEO,
}
ALLOWED_EXTENSIONS: tuple[str, ...] = tuple(KIND_OF_EXTENSION)


class MaterialState(models.TextChoices):
    """Draft → published → withdrawn (→ back to draft to rework)."""

    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    WITHDRAWN = "withdrawn", _("已撤回")


class Column(models.Model):
    """A unit's in-house column (its 思政 brand, e.g. “机关e课堂”): articles by authorised staff."""

    org = models.ForeignKey(
        Org, on_delete=models.PROTECT, related_name="library_columns", verbose_name=_("主办组织")
    )
    name = models.CharField(_("专栏名称"), max_length=60)
    description = models.CharField(_("专栏简介"), max_length=500, blank=True)
    # Besides the managers of the org, the committee admin may name other authors (kept to managers).
    editors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="library_columns", verbose_name=_("授权撰稿人")
    )
    is_active = models.BooleanField(_("在用"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("思政专栏")
        verbose_name_plural = _("思政专栏")
        ordering = ["org_id", "name", "id"]
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="library_column_unique_name")]

    def __str__(self) -> str:
        return self.name


class MaterialQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Published materials whose audience includes the user, and everything the user may edit."""
        from sizheng.library.access import visible_material_q

        return self.filter(visible_material_q(user))

    def published(self):
        return self.filter(state=MaterialState.PUBLISHED)

    def for_list(self):
        """What the list shows, with the topics prefetched (two queries per page)."""
        return self.select_related("org", "audience_org", "column", "file").prefetch_related("topics")


class Material(models.Model):
    """One item of the library: a stored file (document, slides, audio, video) or an in-house article."""

    kind = models.CharField(_("类型"), max_length=10, choices=MaterialKind.choices)
    title = models.CharField(_("标题"), max_length=200)
    summary = models.CharField(_("内容简介"), max_length=1000, blank=True)
    source = models.CharField(_("来源"), max_length=120, blank=True)
    published_on = models.DateField(_("发布日期"))
    topics = models.ManyToManyField(Topic, blank=True, related_name="materials", verbose_name=_("主题"))
    org = models.ForeignKey(
        Org, on_delete=models.PROTECT, related_name="library_materials", verbose_name=_("所属组织")
    )
    # Null: everyone on the platform; else the people of this org's subtree.
    audience_org = models.ForeignKey(
        Org,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("阅览范围"),
    )
    column = models.ForeignKey(
        Column,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="articles",
        verbose_name=_("所属专栏"),
    )
    file = models.ForeignKey(
        "core.StoredFile",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("文件"),
    )
    body = models.TextField(_("正文"), blank=True)
    state = models.CharField(
        _("状态"), max_length=10, choices=MaterialState.choices, default=MaterialState.DRAFT
    )
    published_at = models.DateTimeField(_("上线时间"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("上传人"),
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = MaterialQuerySet.as_manager()

    class Meta:
        verbose_name = _("学习资料")
        verbose_name_plural = _("学习资料")
        ordering = ["-published_on", "-id"]
        indexes = [
            models.Index(fields=["state", "published_on"]),
            models.Index(fields=["org", "state", "published_at"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_article(self) -> bool:
        return self.kind == MaterialKind.ARTICLE

    @cached_property
    def body_html(self) -> SafeString:
        """The article rendered safely: every character of the input is escaped (text.render)."""
        return mark_safe(text.render(self.body))  # noqa: S308 (text.render escapes all input)


class TargetKind(models.TextChoices):
    """What a material may be attached to (pages of other apps)."""

    STUDY_PLAN = "study_plan", _("学习计划")
    STUDY_SESSION = "study_session", _("学习活动")
    PARTY_LECTURE = "party_lecture", _("党课")


class Attachment(models.Model):
    """A material used by a study plan, a study session or a 党课 (a generic target: kind + id)."""

    material = models.ForeignKey(Material, on_delete=models.CASCADE, related_name="attachments")
    target_kind = models.CharField(_("用于"), max_length=16, choices=TargetKind.choices)
    target_id = models.PositiveBigIntegerField(_("对象编号"))
    # The target's org when attached: scope of removal and the subtree metric without a join per kind.
    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="+", verbose_name=_("党组织"))
    attached_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    attached_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("资料使用")
        verbose_name_plural = _("资料使用")
        ordering = ["target_kind", "target_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["material", "target_kind", "target_id"], name="library_attachment_unique"
            )
        ]
        indexes = [
            models.Index(fields=["target_kind", "target_id"]),
            models.Index(fields=["org", "attached_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_target_kind_display()} {self.target_id}"
