"""Theory study (理论学习): yearly plans with topics, study groups, study sessions (each one a
``life.Meeting`` — the meeting is the record, the attendance and the hours), and observers (列席旁听)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sizheng.life.models import Meeting
from sizheng.org.models import Org, Person

# rules.md §4: the observer's summary is at most 500 characters.
SUMMARY_MAX_CHARS = 500
# A make-up reflection (补学心得) is short.
MAKEUP_MAX_CHARS = 1000


class StudyGroup(models.Model):
    """A study group: the org's own central group, a 青年理论学习小组 across branches, or another."""

    class Kind(models.TextChoices):
        CENTRAL = "central", _("理论学习中心组")
        YOUTH = "youth", _("青年理论学习小组")
        OTHER = "other", _("其他学习小组")

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.OTHER)
    org = models.ForeignKey(
        Org, on_delete=models.PROTECT, related_name="study_groups", verbose_name=_("主管组织")
    )
    description = models.CharField(_("说明"), max_length=300, blank=True)
    members = models.ManyToManyField(Person, blank=True, related_name="study_groups", verbose_name=_("成员"))
    is_active = models.BooleanField(_("在用"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("学习小组")
        verbose_name_plural = _("学习小组")
        ordering = ["org_id", "kind", "name", "id"]

    def __str__(self) -> str:
        return self.name


class StudyPlan(models.Model):
    """One org's (or one study group's) study plan for a year, with its year-end summary."""

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已印发")

    org = models.ForeignKey(
        Org, on_delete=models.PROTECT, related_name="study_plans", verbose_name=_("党组织")
    )
    group = models.ForeignKey(
        StudyGroup,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="plans",
        verbose_name=_("学习小组"),
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    title = models.CharField(_("标题"), max_length=200)
    summary = models.TextField(_("年度学习总结"), blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.DRAFT)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("学习计划")
        verbose_name_plural = _("学习计划")
        ordering = ["-year", "org_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["org", "year"],
                condition=models.Q(group__isnull=True),
                name="study_plan_one_per_org_year",
            ),
            models.UniqueConstraint(
                fields=["group", "year"],
                condition=models.Q(group__isnull=False),
                name="study_plan_one_per_group_year",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class StudyTopic(models.Model):
    """One topic (专题) of a plan, scheduled for a month or a day."""

    plan = models.ForeignKey(StudyPlan, on_delete=models.CASCADE, related_name="topics")
    title = models.CharField(_("专题"), max_length=200)
    month = models.PositiveSmallIntegerField(_("计划月份"), null=True, blank=True)
    scheduled_on = models.DateField(_("计划日期"), null=True, blank=True)
    materials = models.TextField(_("学习材料"), blank=True)
    order = models.PositiveSmallIntegerField(_("序号"), default=0)

    class Meta:
        verbose_name = _("学习专题")
        verbose_name_plural = _("学习专题")
        ordering = ["plan_id", "order", "id"]

    def __str__(self) -> str:
        return self.title


class StudySession(models.Model):
    """A meeting recorded as a study session: the ``Meeting`` holds time, minutes, attendance and
    hours; this row adds the group, the plan's topic, the keynote speakers and the materials."""

    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="study_session")
    group = models.ForeignKey(
        StudyGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sessions",
        verbose_name=_("学习小组"),
    )
    topic = models.ForeignKey(
        StudyTopic,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sessions",
        verbose_name=_("学习专题"),
    )
    keynote_speakers = models.ManyToManyField(
        Person, blank=True, related_name="study_keynotes", verbose_name=_("主旨发言人")
    )
    materials = models.TextField(_("学习材料"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("学习活动")
        verbose_name_plural = _("学习活动")
        ordering = ["-meeting__starts_at", "-id"]

    def __str__(self) -> str:
        return str(self.meeting)


class Observation(models.Model):
    """An observer (列席旁听) at a leading group's central-group study: materials are due 5 workdays
    before the session, the observer's summary (≤ 500 characters) 10 workdays after."""

    observed_org = models.ForeignKey(
        Org, on_delete=models.PROTECT, related_name="observations", verbose_name=_("被列席单位")
    )
    observer = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="observations", verbose_name=_("列席人")
    )
    session = models.ForeignKey(
        StudySession,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="observations",
        verbose_name=_("学习活动"),
    )
    planned_on = models.DateField(_("学习日期"))
    materials_due_on = models.DateField(_("材料报送时限"))
    materials_sent_on = models.DateField(_("材料报送日期"), null=True, blank=True)
    summary = models.TextField(_("列席情况小结"), blank=True)
    summary_due_on = models.DateField(_("小结提交时限"))
    summary_submitted_on = models.DateField(_("小结提交日期"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("列席旁听")
        verbose_name_plural = _("列席旁听")
        ordering = ["-planned_on", "-id"]
        indexes = [models.Index(fields=["observed_org", "planned_on"])]

    def __str__(self) -> str:
        return f"{self.observer} 列席 {self.observed_org} {self.planned_on}"


# A speaking outline typed in rather than uploaded stays short enough to print in the archive.
PAPER_TEXT_MAX_CHARS = 20000


class StudyPaper(models.Model):
    """A central-group member's yearly writing (rules.md §4): a speaking outline (发言提纲) for a keynote,
    a paper (心得文章) or a research report (调研报告); text typed in, a file uploaded, or both."""

    class Kind(models.TextChoices):
        OUTLINE = "outline", _("发言提纲")
        PAPER = "paper", _("心得文章")
        REPORT = "report", _("调研报告")

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="study_papers", verbose_name=_("作者")
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("标题"), max_length=200)
    text = models.TextField(_("正文"), blank=True)
    session = models.ForeignKey(
        StudySession,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="papers",
        verbose_name=_("学习活动"),
    )
    file = models.ForeignKey(
        "core.StoredFile",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("附件"),
    )
    submitted_on = models.DateField(_("提交日期"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("发言提纲和学习文章")
        verbose_name_plural = _("发言提纲和学习文章")
        ordering = ["-year", "submitted_on", "id"]
        indexes = [models.Index(fields=["person", "year"])]

    def __str__(self) -> str:
        return self.title
