"""Funds for party-building and 思政 work (经费保障): a unit's yearly budget by category, its spending
records, and the warnings the daily job turned into duties."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sizheng.org.models import Unit

# Amounts are money: Decimal with two places (分), never float (see money.py).
AMOUNT = {"max_digits": 14, "decimal_places": 2}


class Category(models.TextChoices):
    """Spending categories of party-building and 思政 work funds."""

    STUDY = "study", _("学习教育")
    POSITION = "position", _("阵地建设")
    CARE = "care", _("关爱慰问")
    ACTIVITY = "activity", _("主题活动")
    TRAINING = "training", _("培训")
    OTHER = "other", _("其他")


class ActivityKind(models.TextChoices):
    """What a spending served: a generic reference (kind + id) to another app's record."""

    MEETING = "meeting", _("组织生活会议")
    CARE_CASE = "care_case", _("困难诉求")
    STUDY_SESSION = "study_session", _("学习培训活动")


class BudgetQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Budgets of units whose funds the user may read (managers and the unit's leaders)."""
        from sizheng.funds.access import readable_units

        return self.filter(unit__in=readable_units(user).values("pk"))


class Budget(models.Model):
    """A unit's yearly budget for party-building and 思政 work; its amounts are the lines by category."""

    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="fund_budgets", verbose_name=_("单位")
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    note = models.CharField(_("说明"), max_length=500, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = BudgetQuerySet.as_manager()

    class Meta:
        verbose_name = _("经费预算")
        verbose_name_plural = _("经费预算")
        ordering = ["-year", "unit__order", "unit_id"]
        constraints = [models.UniqueConstraint(fields=["unit", "year"], name="funds_budget_unique_unit_year")]

    def __str__(self) -> str:
        return f"{self.year} 年度经费预算 #{self.pk}"


class BudgetLine(models.Model):
    """The budget of one category in a unit's yearly budget."""

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="lines")
    category = models.CharField(_("类别"), max_length=16, choices=Category.choices)
    amount = models.DecimalField(_("预算金额（元）"), default=Decimal("0.00"), **AMOUNT)

    class Meta:
        verbose_name = _("预算明细")
        verbose_name_plural = _("预算明细")
        ordering = ["budget_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["budget", "category"], name="funds_budgetline_unique_category"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="funds_budgetline_amount_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.amount}"


class SpendingQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Spending of units whose funds the user manages (leaders read aggregates, not the rows)."""
        from sizheng.funds.access import managed_units

        return self.filter(unit__in=managed_units(user).values("pk"))

    def for_list(self):
        return self.select_related("unit", "receipt", "created_by")


class Spending(models.Model):
    """One spending record against a unit's funds: when, how much, what for and the activity it served."""

    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="fund_spending", verbose_name=_("单位")
    )
    spent_on = models.DateField(_("支出日期"))
    amount = models.DecimalField(_("金额（元）"), **AMOUNT)
    category = models.CharField(_("类别"), max_length=16, choices=Category.choices)
    purpose = models.CharField(_("用途"), max_length=200)
    # The activity served, as a generic reference into life / care / study (kind + id, never details).
    activity_kind = models.CharField(
        _("服务的活动"), max_length=16, choices=ActivityKind.choices, blank=True, default=""
    )
    activity_id = models.PositiveBigIntegerField(_("活动编号"), null=True, blank=True)
    receipt = models.ForeignKey(
        "core.StoredFile",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("票据凭证"),
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = SpendingQuerySet.as_manager()

    class Meta:
        verbose_name = _("经费支出")
        verbose_name_plural = _("经费支出")
        ordering = ["-spent_on", "-id"]
        indexes = [models.Index(fields=["unit", "spent_on"]), models.Index(fields=["spent_on", "category"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="funds_spending_amount_gt_0"),
            models.CheckConstraint(
                condition=(models.Q(activity_kind="") & models.Q(activity_id__isnull=True))
                | (~models.Q(activity_kind="") & models.Q(activity_id__isnull=False)),
                name="funds_spending_activity_kind_and_id",
            ),
        ]

    def __str__(self) -> str:
        return f"经费支出 #{self.pk}（{self.spent_on}）"

    @property
    def quarter(self) -> int:
        return (self.spent_on.month - 1) // 3 + 1


class AlertKind(models.TextChoices):
    UNDERSPEND = "underspend", _("执行偏慢")
    OVERSPEND = "overspend", _("类别超支")


class Alert(models.Model):
    """A funds warning the daily job turned into a duty: once per unit, year, kind and category."""

    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="fund_alerts", verbose_name=_("单位")
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    kind = models.CharField(_("预警类型"), max_length=12, choices=AlertKind.choices)
    category = models.CharField(_("类别"), max_length=16, choices=Category.choices, blank=True, default="")
    duty_id = models.IntegerField(null=True, blank=True)  # the "经费执行预警" duty opened for it
    raised_on = models.DateField(_("预警日期"))
    cleared_on = models.DateField(_("解除日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("经费执行预警")
        verbose_name_plural = _("经费执行预警")
        ordering = ["-year", "unit_id", "kind", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "year", "kind", "category"], name="funds_alert_unique_per_warning"
            )
        ]

    def __str__(self) -> str:
        return f"经费执行预警 #{self.pk}"
