"""Responsibility lists (责任清单), duties, their events and campaigns."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sizheng.org.models import Org, Person


class DutyList(models.Model):
    """A responsibility list of one org for one year."""

    org = models.ForeignKey(
        Org, on_delete=models.PROTECT, related_name="duty_lists", verbose_name=_("党组织")
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    title = models.CharField(_("清单名称"), max_length=120)
    template = models.CharField(_("来源模板"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("责任清单")
        verbose_name_plural = _("责任清单")
        ordering = ["-year", "org_id"]
        constraints = [models.UniqueConstraint(fields=["org", "year", "title"], name="duties_list_unique")]

    def __str__(self) -> str:
        return self.title


class Campaign(models.Model):
    """One duty assigned by the committee to many orgs at once, followed as a roll-up."""

    title = models.CharField(_("任务名称"), max_length=200)
    description = models.TextField(_("任务说明"), blank=True)
    assigning_org = models.ForeignKey(
        Org, on_delete=models.PROTECT, related_name="+", verbose_name=_("部署单位")
    )
    due_on = models.DateField(_("完成时限"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("集中部署任务")
        verbose_name_plural = _("集中部署任务")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class State(models.TextChoices):
    """Duty states (glossary): 部署 → 认领 → 落实 → 报送 → 督查 → 销号, or 退回 / 撤销."""

    ASSIGNED = "assigned", _("已部署")
    ACCEPTED = "accepted", _("已认领")
    IN_PROGRESS = "in_progress", _("落实中")
    REPORTED = "reported", _("已报送")
    UNDER_REVIEW = "under_review", _("督查中")
    RETURNED = "returned", _("已退回")
    CLOSED = "closed", _("已销号")
    CANCELLED = "cancelled", _("已撤销")


OPEN_STATES = frozenset(
    {State.ASSIGNED, State.ACCEPTED, State.IN_PROGRESS, State.REPORTED, State.UNDER_REVIEW, State.RETURNED}
)
# States in which the owner side has to act: the ones that carry a blue/yellow/red warning.
AWAITING_OWNER = frozenset({State.ASSIGNED, State.ACCEPTED, State.IN_PROGRESS, State.RETURNED})
STATE_LABELS = dict(State.choices)  # value → lazy label


class Priority(models.TextChoices):
    NORMAL = "normal", _("一般")
    HIGH = "high", _("重要")
    URGENT = "urgent", _("紧急")


class SourceKind(models.TextChoices):
    """Where a duty comes from (the closed loop's findings)."""

    MANUAL = "manual", _("手工部署")
    TEMPLATE = "template", _("清单模板")
    CAMPAIGN = "campaign", _("集中部署")
    INDICATOR = "indicator", _("考核指标整改")
    COMPLIANCE = "compliance", _("组织生活缺项")
    RECOMMENDATION = "recommendation", _("分析研判建议")
    CARE = "care", _("关爱跟进")
    TALK = "talk", _("谈心谈话提醒")
    TALK_TRIGGER = "talk_trigger", _("必谈提醒")
    INSPECTION = "inspection", _("督查发现")
    TEAM = "team", _("队伍建设缺口")
    FUNDS = "funds", _("经费执行预警")


class DutyQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Duties the user may see (ARCHITECTURE §4)."""
        from sizheng.duties.access import visible_duty_q

        return self.filter(visible_duty_q(user))

    def open(self):
        return self.filter(state__in=OPEN_STATES)

    def for_board(self):
        """What the board shows, in one query: every field of the duty, only the names of its orgs and
        owner (not the owner's encrypted identifiers, decrypted per row, nor the orgs' wide rows)."""
        own = [f.name for f in self.model._meta.concrete_fields]
        return self.select_related("assignee_org", "assigning_org", "owner").only(
            *own, "assignee_org__name", "assigning_org__name", "owner__name"
        )


class Duty(models.Model):
    """One duty: who does what by when, with evidence, inspected and closed (销号)."""

    duty_list = models.ForeignKey(
        DutyList,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duties",
        verbose_name=_("责任清单"),
    )
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duties",
        verbose_name=_("集中部署"),
    )
    title = models.CharField(_("事项"), max_length=200)
    description = models.TextField(_("具体要求"), blank=True)
    category = models.CharField(_("类别"), max_length=32, blank=True)
    assignee_org = models.ForeignKey(
        Org, on_delete=models.PROTECT, related_name="duties", verbose_name=_("责任单位")
    )
    owner = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duties",
        verbose_name=_("责任人"),
    )
    assigning_org = models.ForeignKey(
        Org, on_delete=models.PROTECT, related_name="+", verbose_name=_("部署单位")
    )
    supervising_org = models.ForeignKey(
        Org, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("督查单位")
    )
    due_on = models.DateField(_("完成时限"), db_index=True)
    evidence_required = models.CharField(_("佐证要求"), max_length=300, blank=True)
    priority = models.CharField(
        _("紧急程度"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    tags = models.CharField(_("标签"), max_length=200, blank=True)
    source_kind = models.CharField(
        _("来源"), max_length=20, choices=SourceKind.choices, default=SourceKind.MANUAL
    )
    source_id = models.BigIntegerField(_("来源编号"), null=True, blank=True)
    # Opened from T2/T3 data: the title is generic and the reason is never shown (ARCHITECTURE §1).
    is_sensitive = models.BooleanField(default=False, editable=False)
    state = models.CharField(
        _("状态"), max_length=16, choices=State.choices, default=State.ASSIGNED, db_index=True
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    evidence = models.TextField(_("落实情况及佐证说明"), blank=True)
    late_reason = models.CharField(_("逾期原因"), max_length=300, blank=True)
    is_late = models.BooleanField(_("逾期报送"), default=False)
    reported_on = models.DateField(_("报送日期"), null=True, blank=True)
    closed_on = models.DateField(_("销号日期"), null=True, blank=True)
    returns = models.PositiveSmallIntegerField(_("退回次数"), default=0)
    requested_due_on = models.DateField(_("申请延期至"), null=True, blank=True)
    extension_reason = models.CharField(_("延期理由"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = DutyQuerySet.as_manager()

    class Meta:
        verbose_name = _("责任事项")
        verbose_name_plural = _("责任事项")
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["assignee_org", "state", "due_on"]),
            models.Index(fields=["source_kind", "source_id"]),
            models.Index(fields=["state", "due_on"]),
        ]

    def __str__(self) -> str:
        return self.title

    def get_state_display(self) -> str:
        """As Django's, without rebuilding the choices dict on every call (lists call it per row)."""
        return str(STATE_LABELS.get(self.state, self.state))

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class DutyEvent(models.Model):
    """One step in a duty's timeline (every transition, urge, extension or reassignment)."""

    duty = models.ForeignKey(Duty, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("动作"), max_length=32)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    comment = models.TextField(_("说明"), blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("事项记录")
        verbose_name_plural = _("事项记录")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["action", "at"])]

    def __str__(self) -> str:
        return f"{self.duty_id} {self.action}"
