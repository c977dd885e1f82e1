"""Surveys, their waves and answers, the theme lexicon, and analysis reports (思想动态分析研判).

Anonymous answers follow ARCHITECTURE §5 to the letter: :class:`AnonymousResponse` has a random
UUID key, the wave (no finer time), the reporting group and the encrypted answers — no person,
no user, no timestamp; they are written in shuffled batches through ``core.anonymous``; who has
answered is kept apart in :class:`AnswerLedger` (random key, no time) so each person answers once.
Results are published only over the survey's fixed hierarchy of reporting groups, with
suppression below ``ANONYMITY_MIN_GROUP`` (``insight.suppression``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sizheng.core.crypto import EncryptedTextField
from sizheng.org.models import Org, Unit


class Template(models.TextChoices):
    THOUGHT = "thought", _("思想动态调查")
    SATISFACTION = "satisfaction", _("满意度测评")
    DEMOCRATIC = "democratic", _("民主测评")
    CUSTOM = "custom", _("自定义问卷")


class SurveyMode(models.TextChoices):
    ANONYMOUS = "anonymous", _("匿名")
    NAMED = "named", _("实名")


class Hierarchy(models.TextChoices):
    """The one fixed hierarchy of reporting groups a survey reports over (never free filters)."""

    ORG = "org", _("按党组织层级")
    UNIT = "unit", _("按单位—处室")


class SurveyState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    CLOSED = "closed", _("已结束")


class Schedule(models.TextChoices):
    ONCE = "once", _("一次性")
    MONTH = "month", _("每月")
    QUARTER = "quarter", _("每季度")
    HALF = "half", _("每半年")
    YEAR = "year", _("每年")


class SurveyQuerySet(models.QuerySet):
    def visible_to(self, user):
        from sizheng.insight.access import visible_survey_q

        return self.filter(visible_survey_q(user)).distinct()


class Survey(models.Model):
    """A questionnaire run by an org for an audience, in waves; its mode is fixed at creation."""

    title = models.CharField(_("问卷名称"), max_length=120)
    description = models.TextField(_("说明"), blank=True)
    template = models.CharField(_("模板"), max_length=16, choices=Template.choices, default=Template.CUSTOM)
    mode = models.CharField(
        _("作答方式"), max_length=12, choices=SurveyMode.choices, default=SurveyMode.ANONYMOUS
    )
    hierarchy = models.CharField(
        _("统计分组"), max_length=8, choices=Hierarchy.choices, default=Hierarchy.ORG
    )
    owner_org = models.ForeignKey(
        Org, on_delete=models.PROTECT, related_name="surveys", verbose_name=_("组织单位")
    )
    audience_orgs = models.ManyToManyField(
        Org, blank=True, related_name="+", verbose_name=_("面向党组织（含下级）")
    )
    audience_units = models.ManyToManyField(Unit, blank=True, related_name="+", verbose_name=_("面向单位"))
    schedule = models.CharField(_("频次"), max_length=8, choices=Schedule.choices, default=Schedule.ONCE)
    wave_days = models.PositiveSmallIntegerField(_("每轮作答天数"), default=14)
    state = models.CharField(_("状态"), max_length=12, choices=SurveyState.choices, default=SurveyState.DRAFT)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = SurveyQuerySet.as_manager()

    class Meta:
        verbose_name = _("问卷")
        verbose_name_plural = _("问卷")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_anonymous(self) -> bool:
        return self.mode == SurveyMode.ANONYMOUS


class Dimension(models.Model):
    """A group of questions reported together (e.g. 工作状态, 组织认同)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="dimensions")
    name = models.CharField(_("维度"), max_length=60)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("维度")
        verbose_name_plural = _("维度")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class QuestionKind(models.TextChoices):
    LIKERT = "likert", _("五级量表")
    SINGLE = "single", _("单选")
    MULTI = "multi", _("多选")
    RATING = "rating", _("0—10 分评价")
    TEXT = "text", _("文字意见")


LIKERT_LABELS = ["非常不同意", "不同意", "一般", "同意", "非常同意"]


class Question(models.Model):
    """One question; ``options`` for single/multiple choice (a list of labels)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    dimension = models.ForeignKey(
        Dimension, null=True, blank=True, on_delete=models.SET_NULL, related_name="questions"
    )
    kind = models.CharField(_("题型"), max_length=8, choices=QuestionKind.choices)
    text = models.CharField(_("题目"), max_length=300)
    options = models.JSONField(_("选项"), default=list, blank=True)
    required = models.BooleanField(_("必答"), default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("题目")
        verbose_name_plural = _("题目")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.text


class WaveState(models.TextChoices):
    PLANNED = "planned", _("未开始")
    OPEN = "open", _("作答中")
    CLOSED = "closed", _("已结束")


class Wave(models.Model):
    """One round of a survey; the finest time an anonymous answer carries is its wave."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="waves")
    number = models.PositiveSmallIntegerField(_("轮次"))
    label = models.CharField(_("名称"), max_length=40)  # e.g. "2026年第三季度"
    opens_on = models.DateField(_("开始日期"))
    closes_on = models.DateField(_("截止日期"))
    state = models.CharField(_("状态"), max_length=8, choices=WaveState.choices, default=WaveState.PLANNED)
    # Expected respondents per reporting group, fixed when the wave opens (participation rates).
    audience_counts = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("调查轮次")
        verbose_name_plural = _("调查轮次")
        ordering = ["survey", "number"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "number"], name="insight_wave_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.survey.title} · {self.label}"


class AnonymousResponse(models.Model):
    """An anonymous answer sheet: random key, wave, reporting group, encrypted answers. Nothing else."""

    key = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="anonymous_responses")
    group = models.CharField(max_length=24)  # the respondent's leaf reporting group, e.g. "org:12"
    answers = EncryptedTextField()  # JSON {question_id: value}

    class Meta:
        verbose_name = _("匿名答卷")
        verbose_name_plural = _("匿名答卷")

    def __str__(self) -> str:
        return "匿名答卷"


class AnswerLedger(models.Model):
    """Who has answered a wave (anonymous mode): a random key and no time, so it lines up with nothing."""

    key = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="ledger")
    person = models.ForeignKey("org.Person", on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("作答登记")
        verbose_name_plural = _("作答登记")
        constraints = [models.UniqueConstraint(fields=["wave", "person"], name="insight_ledger_once")]

    def __str__(self) -> str:
        return "作答登记"


class NamedResponse(models.Model):
    """A named answer sheet (named mode only)."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="named_responses")
    person = models.ForeignKey("org.Person", on_delete=models.CASCADE, related_name="+")
    group = models.CharField(max_length=24)
    answers = models.JSONField(default=dict)
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("实名答卷")
        verbose_name_plural = _("实名答卷")
        constraints = [models.UniqueConstraint(fields=["wave", "person"], name="insight_named_once")]

    def __str__(self) -> str:
        return f"实名答卷 #{self.pk}"


class Lexicon(models.Model):
    """The editable theme and sentiment lexicon (one active row; defaults from insight/data)."""

    data = models.JSONField(default=dict)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("主题词库")
        verbose_name_plural = _("主题词库")

    def __str__(self) -> str:
        return f"主题词库 v{self.version}"


class RiskAlert(models.Model):
    """Risk phrases found in a wave's anonymous comments for a reporting group: counselors of that
    group are told, with no identity, so they can offer support to the whole group."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="risk_alerts")
    group = models.CharField(max_length=24)
    count = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("风险提示")
        verbose_name_plural = _("风险提示")
        constraints = [models.UniqueConstraint(fields=["wave", "group"], name="insight_risk_once")]

    def __str__(self) -> str:
        return f"风险提示 #{self.pk}"


class ReportKind(models.TextChoices):
    PERIODIC = "periodic", _("定期分析")
    THEMATIC = "thematic", _("专题分析")
    IMMEDIATE = "immediate", _("即时报告")


class ReportState(models.TextChoices):
    DRAFT = "draft", _("起草中")
    FINAL = "final", _("已定稿")
    SUBMITTED = "submitted", _("已报送")
    RECEIVED = "received", _("上级已签收")


class InsightReport(models.Model):
    """An analysis report (分析研判报告): four sections drafted from the data, edited, sent upward."""

    org = models.ForeignKey(
        Org, on_delete=models.PROTECT, related_name="insight_reports", verbose_name=_("党组织")
    )
    kind = models.CharField(_("类型"), max_length=12, choices=ReportKind.choices, default=ReportKind.PERIODIC)
    period = models.CharField(_("分析期间"), max_length=10)  # core.rules Period key, e.g. "2026-H2"
    title = models.CharField(_("标题"), max_length=120)
    overall = models.TextField(_("总体情况"), blank=True)
    performance = models.TextField(_("主要表现"), blank=True)
    causes = models.TextField(_("原因分析"), blank=True)
    measures = models.TextField(_("对策建议"), blank=True)
    waves = models.ManyToManyField(Wave, blank=True, related_name="reports", verbose_name=_("数据来源轮次"))
    state = models.CharField(_("状态"), max_length=12, choices=ReportState.choices, default=ReportState.DRAFT)
    submitted_to = models.ForeignKey(Org, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("分析研判报告")
        verbose_name_plural = _("分析研判报告")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Recommendation(models.Model):
    """A measure from a report's 对策建议: opens a duty; staff of the group see it when it closes
    ("你们提出的 → 我们做了")."""

    report = models.ForeignKey(InsightReport, on_delete=models.CASCADE, related_name="recommendations")
    concern = models.CharField(_("你们提出的"), max_length=300)
    action = models.CharField(_("我们的措施"), max_length=300)
    group = models.CharField(_("面向群体"), max_length=24, blank=True)  # a reporting group id, or "" for all
    duty_id = models.IntegerField(null=True, blank=True)
    done_on = models.DateField(_("完成日期"), null=True, blank=True)
    outcome = models.CharField(_("我们做了"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("对策建议")
        verbose_name_plural = _("对策建议")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.concern[:40]
