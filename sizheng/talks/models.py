"""Talks (谈心谈话): who talked with whom, when and how (T2 metadata, visible in scope), and what was
said (kind, tags, summary, content — T2, encrypted, readable only as ``talks.access`` allows)."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sizheng.core.crypto import EncryptedCharField, EncryptedTextField
from sizheng.org.models import Org, Person


class Mode(models.TextChoices):
    IN_PERSON = "in_person", _("面谈")
    ONLINE = "online", _("线上（键对键）")
    PHONE = "phone", _("电话")


class Kind(models.TextChoices):
    """The kind of a talk (T2: stored encrypted, never counted, never a filter)."""

    DAILY = "daily", _("日常谈心")
    JOB_CHANGE = "job_change", _("岗位变动必谈")
    DISCIPLINE = "discipline", _("组织处理必谈")
    FAMILY = "family", _("家庭变故或困难必谈")
    WARNING = "warning", _("思想波动必谈")
    PRE_OLM = "pre_olm", _("组织生活会前谈心")
    PRE_DLM = "pre_dlm", _("民主生活会前谈心")
    CARE = "care", _("关爱谈话")


# Topic tags (T2). A fixed list keeps insight's counts comparable across orgs.
TAGS = [
    "工作",
    "学习",
    "家庭",
    "健康",
    "职业发展",
    "思想认识",
    "人际关系",
    "生活困难",
    "心理压力",
    "廉洁自律",
]


class Status(models.TextChoices):
    PLANNED = "planned", _("已约谈")
    HELD = "held", _("已谈话")
    CANCELLED = "cancelled", _("已取消")


class TalkQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Talks whose metadata (who, when, mode, status) the user may see (ARCHITECTURE §4–5)."""
        from sizheng.talks.access import visible_talk_q

        return self.filter(visible_talk_q(user)).distinct()

    def metadata_only(self):
        """Lists load no T2 column at all: a template cannot show what was never read."""
        return self.defer("kind", "tags", "summary", "content").select_related("org", "initiator")

    def held(self):
        return self.filter(status=Status.HELD)


class Talk(models.Model):
    """One heart-to-heart talk. ``__str__`` carries no content (the audit log stores it)."""

    T2_FIELDS = ("kind", "tags", "summary", "content")

    org = models.ForeignKey(
        Org, on_delete=models.PROTECT, related_name="talks", verbose_name=_("记录所在党组织")
    )
    initiator = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="talks_initiated", verbose_name=_("谈话人")
    )
    counterparts = models.ManyToManyField(
        Person, through="TalkParticipant", related_name="talks", verbose_name=_("谈话对象")
    )
    held_on = models.DateField(_("谈话日期"))
    mode = models.CharField(_("谈话方式"), max_length=12, choices=Mode.choices, default=Mode.IN_PERSON)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.HELD)
    # Wellbeing-flagged: the 书记 (unless a participant) sees metadata only; the org's counselors see all.
    is_wellbeing = models.BooleanField(_("涉及心理健康"), default=False)
    kind = EncryptedCharField(_("谈话类型"), max_length=20, choices=Kind.choices, default=Kind.DAILY)
    tags = EncryptedTextField(_("话题标签"), blank=True, default="")  # JSON list of TAGS
    summary = EncryptedTextField(_("谈话摘要"), blank=True, default="")
    content = EncryptedTextField(_("谈话内容"), blank=True, default="")
    next_talk_on = models.DateField(_("下次谈话日期"), null=True, blank=True)
    # A talk before a 组织生活会 / 民主生活会 attaches to that meeting's pre-meeting step (BR-OLM-1, DLM-6).
    meeting = models.ForeignKey(
        "life.Meeting",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="talks",
        verbose_name=_("会前谈心所属会议"),
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TalkQuerySet.as_manager()

    class Meta:
        verbose_name = _("谈心谈话")
        verbose_name_plural = _("谈心谈话")
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["org", "held_on"]), models.Index(fields=["held_on", "status"])]

    def __str__(self) -> str:
        return f"谈心谈话 #{self.pk}"

    @property
    def tag_list(self) -> list[str]:
        try:
            return list(json.loads(self.tags)) if self.tags else []
        except ValueError:
            return []


class TalkParticipant(models.Model):
    """A person in a talk: the initiator has a row too, so "talks with X" is one join."""

    talk = models.ForeignKey(Talk, on_delete=models.CASCADE, related_name="participants")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="talk_participations")
    is_initiator = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("谈话参与人")
        verbose_name_plural = _("谈话参与人")
        constraints = [models.UniqueConstraint(fields=["talk", "person"], name="talks_participant_unique")]
        indexes = [models.Index(fields=["person", "talk"])]

    def __str__(self) -> str:
        return f"谈话 #{self.talk_id} 参与人 #{self.person_id}"


class TriggerReason(models.TextChoices):
    """Why a talk is due (四必谈, BR-TALK-2). Position change and transfer come from the roster."""

    POSITION_CHANGE = "position_change", _("职务变动")
    TRANSFER = "transfer", _("调动")
    FAMILY_CHANGE = "family_change", _("家庭重大变化")
    DISCIPLINE = "discipline", _("受到组织处理")
    WARNING = "warning", _("思想出现波动")


class TalkTrigger(models.Model):
    """A talk that must happen with a person by a date; its duty closes when a talk with them is recorded.

    The reason is shown only to those who may read T2 of talks in the org; the duty it opens is
    titled "谈心谈话提醒" and carries no reason (ARCHITECTURE §1)."""

    class State(models.TextChoices):
        OPEN = "open", _("待谈话")
        DONE = "done", _("已谈话")
        CANCELLED = "cancelled", _("已撤销")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="talk_triggers")
    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="talk_triggers")
    reason = models.CharField(_("原因"), max_length=20, choices=TriggerReason.choices)
    note = EncryptedTextField(_("情况说明"), blank=True, default="")  # T2: a family change's details
    occurred_on = models.DateField(_("发生日期"))
    due_on = models.DateField(_("应谈日期"))
    state = models.CharField(_("状态"), max_length=12, choices=State.choices, default=State.OPEN)
    duty_id = models.IntegerField(
        null=True, blank=True
    )  # duties.Duty, by id (source ("talk_trigger", trigger.pk))
    talk = models.ForeignKey(Talk, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("必谈提醒")
        verbose_name_plural = _("必谈提醒")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["person", "state"]), models.Index(fields=["org", "state"])]

    def __str__(self) -> str:
        return f"必谈提醒 #{self.pk}"


class CoverageRule(models.Model):
    """Talk coverage rules as data (BR-TALK-1, rules.md §3 and §5), read into ``core.rules.Rule``.

    ``target_kind`` names the relationship a rule binds: each branch member with a branch
    committee member; each leadership team member with the unit's principal leader; each member of
    a 党小组 with its 党小组长. Administrators edit count, severity and whether it is in force."""

    class Severity(models.TextChoices):
        WARNING = "warning", _("预警（一般）")
        VIOLATION = "violation", _("违规（至少/应当）")

    code = models.CharField(_("规则编号"), max_length=40, unique=True)
    target_kind = models.CharField(_("适用对象"), max_length=40)
    label = models.CharField(_("规则"), max_length=200)
    count = models.PositiveSmallIntegerField(_("每年至少次数"), default=1)
    severity = models.CharField(
        _("严重程度"), max_length=12, choices=Severity.choices, default=Severity.WARNING
    )
    source = models.CharField(_("依据"), max_length=300, blank=True)
    is_local = models.BooleanField(_("地方规定"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("谈话覆盖规则")
        verbose_name_plural = _("谈话覆盖规则")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.label
