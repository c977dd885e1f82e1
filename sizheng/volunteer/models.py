"""Volunteering (志愿行动) and civilised-unit creation (文明创建).

Volunteering: ``Campaign`` (e.g. one of the 市直机关十大志愿行动, kept by the committee admin), ``Activity``
(organised by an org, open to the people of its subtree), ``Signup`` (a person's sign-up; after the
activity the organiser confirms attendance and hours — confirmed hours are facts, never app time and
never self-reported). No points, no rankings of people: figures are aggregated by org only.

Civility: ``Criterion`` (the checklist of each kind of title, as data), ``Application`` (a unit, an
office, or a family represented by a staff member) and its ``ApplicationItem`` rows (one per criterion,
with an evidence note and an optional file), reviewed by the committee admin and valid for a period.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sizheng.org.models import Office, Org, Person, Unit

# --- volunteering ----------------------------------------------------------------------------------


class Campaign(models.Model):
    """A volunteer campaign (志愿行动), e.g. one of the 市直机关十大志愿行动; data the committee admin edits."""

    name = models.CharField(_("志愿行动名称"), max_length=100, unique=True)
    description = models.CharField(_("说明"), max_length=500, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("在用"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("志愿行动")
        verbose_name_plural = _("志愿行动")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class ActivityState(models.TextChoices):
    """Where a volunteer activity stands."""

    PLANNED = "planned", _("计划中")
    OPEN = "open", _("报名中")
    DONE = "done", _("已结束")
    CANCELLED = "cancelled", _("已取消")


class ActivityQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Activities the user sees: organised in their scope, or open to them (volunteer.access)."""
        from sizheng.volunteer.access import visible_activity_q

        return self.filter(visible_activity_q(user))

    def for_list(self):
        """What the list shows, with sign-up figures, in one query."""
        return self.select_related("org", "campaign").annotate(
            n_signed=models.Count(
                "signups", filter=Q(signups__status__in=[SignupStatus.SIGNED_UP, SignupStatus.ATTENDED,
                                                          SignupStatus.ABSENT])
            ),
            n_attended=models.Count("signups", filter=Q(signups__status=SignupStatus.ATTENDED)),
            confirmed_hours=models.Sum("signups__hours", filter=Q(signups__status=SignupStatus.ATTENDED)),
        )  # fmt: skip


class Activity(models.Model):
    """One volunteer activity: what, when, where, by which org, for how many people."""

    title = models.CharField(_("活动名称"), max_length=200)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="activities", verbose_name=_("志愿行动")
    )
    org = models.ForeignKey(
        Org, on_delete=models.PROTECT, related_name="volunteer_activities", verbose_name=_("组织单位")
    )
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    place = models.CharField(_("地点"), max_length=200)
    planned_hours = models.DecimalField(_("计划服务时长（小时）"), max_digits=5, decimal_places=1)
    capacity = models.PositiveIntegerField(_("名额"), null=True, blank=True, help_text=_("不填为不限"))
    description = models.TextField(_("活动内容"), blank=True)
    state = models.CharField(
        _("状态"), max_length=12, choices=ActivityState.choices, default=ActivityState.PLANNED
    )
    cancel_reason = models.CharField(_("取消原因"), max_length=300, blank=True)
    # An optional attachment (活动方案, a notice); a photo is never required (国办函〔2026〕12号).
    attachment = models.ForeignKey(
        "core.StoredFile",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("附件"),
    )
    # Seats taken (signed up, attended or absent), kept by compare-and-swap so capacity holds under races.
    seats_taken = models.PositiveIntegerField(default=0, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("志愿活动")
        verbose_name_plural = _("志愿活动")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["org", "starts_at"]), models.Index(fields=["state", "starts_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="volunteer_activity_ends_after_start"),
            models.CheckConstraint(condition=Q(planned_hours__gt=0), name="volunteer_activity_hours_positive"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.title

    @property
    def duration_hours(self) -> Decimal:
        """The span from start to end in hours (the ceiling of confirmable hours)."""
        return Decimal(int((self.ends_at - self.starts_at).total_seconds())) / Decimal(3600)

    @property
    def has_started(self) -> bool:
        return self.starts_at <= timezone.now()

    @property
    def has_ended(self) -> bool:
        return self.ends_at <= timezone.now()

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self.seats_taken)


class SignupStatus(models.TextChoices):
    """A sign-up's status; only ``attended`` carries confirmed hours."""

    SIGNED_UP = "signed_up", _("已报名")
    WITHDRAWN = "withdrawn", _("已取消报名")
    ATTENDED = "attended", _("已参加")
    ABSENT = "absent", _("未参加")


# Statuses that hold a seat: withdrawing gives the seat back; a confirmation keeps it.
SEAT_STATUSES = (SignupStatus.SIGNED_UP, SignupStatus.ATTENDED, SignupStatus.ABSENT)


class Signup(models.Model):
    """A person's sign-up for an activity and, once the organiser confirmed it, their hours."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="signups")
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="volunteer_signups", verbose_name=_("人员")
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=SignupStatus.choices, default=SignupStatus.SIGNED_UP
    )
    hours = models.DecimalField(
        _("确认服务时长（小时）"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    signed_up_at = models.DateTimeField(_("报名时间"), default=timezone.now)
    withdrawn_at = models.DateTimeField(_("取消报名时间"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("志愿活动报名")
        verbose_name_plural = _("志愿活动报名")
        ordering = ["activity_id", "signed_up_at", "id"]
        indexes = [models.Index(fields=["person", "status"])]
        constraints = [
            models.UniqueConstraint(fields=["activity", "person"], name="volunteer_signup_once"),
            # Hours exist only as a confirmed fact of attendance (never self-reported).
            models.CheckConstraint(
                condition=Q(status="attended", hours__gt=0) | (~Q(status="attended") & Q(hours__isnull=True)),
                name="volunteer_signup_hours_only_when_attended",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.activity_id}:{self.person_id}"


# --- civility --------------------------------------------------------------------------------------


class CivilityKind(models.TextChoices):
    """The kinds of civility titles (文明创建)."""

    UNIT = "unit", _("文明单位")
    OFFICE = "office", _("文明处室")
    FAMILY = "family", _("文明家庭")


class Criterion(models.Model):
    """One item of the checklist for a kind of title (data the committee admin edits)."""

    kind = models.CharField(_("创建类型"), max_length=10, choices=CivilityKind.choices)
    title = models.CharField(_("标准"), max_length=200)
    requirement = models.TextField(_("具体要求和佐证材料"), blank=True)
    order = models.PositiveSmallIntegerField(_("序号"), default=0)
    is_active = models.BooleanField(_("在用"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("创建标准")
        verbose_name_plural = _("创建标准")
        ordering = ["kind", "order", "id"]

    def __str__(self) -> str:
        return self.title


class ApplicationState(models.TextChoices):
    """Where an application stands; an approved title expires at the end of its validity."""

    DRAFT = "draft", _("填报中")
    SUBMITTED = "submitted", _("申报中")
    APPROVED = "approved", _("已通过")
    RETURNED = "returned", _("已退回")
    EXPIRED = "expired", _("已过期")


class ApplicationQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Applications the user may see (volunteer.access)."""
        from sizheng.volunteer.access import visible_application_q

        return self.filter(visible_application_q(user))

    def for_list(self):
        """What the list shows, in one query."""
        return self.select_related("unit", "office", "person")

    def valid_on(self, day: date):
        """Titles in force on a day (approved, or since expired but valid then)."""
        return self.filter(
            state__in=[ApplicationState.APPROVED, ApplicationState.EXPIRED],
            valid_from__lte=day,
            valid_until__gte=day,
        )


class Application(models.Model):
    """An application for a civility title by a unit, an office, or a family (represented by a staff member)."""

    kind = models.CharField(_("创建类型"), max_length=10, choices=CivilityKind.choices)
    year = models.PositiveSmallIntegerField(_("申报年度"))
    # Always set: the office's or the representative's unit for the other kinds (the scope hangs off it).
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="civility_applications", verbose_name=_("单位")
    )
    office = models.ForeignKey(
        Office,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="civility_applications",
        verbose_name=_("处室"),
    )
    person = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="civility_applications",
        verbose_name=_("家庭代表"),
    )
    summary = models.TextField(_("创建情况"), blank=True)
    state = models.CharField(
        _("状态"), max_length=12, choices=ApplicationState.choices, default=ApplicationState.DRAFT
    )
    opinion = models.TextField(_("审核意见"), blank=True)
    submitted_at = models.DateTimeField(_("申报时间"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    valid_from = models.DateField(_("有效期起"), null=True, blank=True)
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("文明创建申报")
        verbose_name_plural = _("文明创建申报")
        ordering = ["-year", "unit_id", "kind", "id"]
        indexes = [
            models.Index(fields=["unit", "kind", "state"]),
            models.Index(fields=["state", "valid_until"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="unit", office__isnull=True, person__isnull=True)
                           | Q(kind="office", office__isnull=False, person__isnull=True)
                           | Q(kind="family", office__isnull=True, person__isnull=False)),
                name="volunteer_application_applicant_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="volunteer_application_validity_forward",
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.applicant_name}{self.year}年度{self.get_kind_display()}申报"

    @property
    def applicant_name(self) -> str:
        """The unit, the office (with its unit) or the representative's family."""
        if self.kind == CivilityKind.OFFICE and self.office_id:
            return f"{self.unit.short_name or self.unit.name}{self.office.name}"
        if self.kind == CivilityKind.FAMILY and self.person_id:
            return f"{self.person.name}家庭"
        return self.unit.name

    def is_valid_on(self, day: date) -> bool:
        return (
            self.state in (ApplicationState.APPROVED, ApplicationState.EXPIRED)
            and self.valid_from is not None
            and self.valid_until is not None
            and self.valid_from <= day <= self.valid_until
        )


class ApplicationItem(models.Model):
    """The applicant's evidence for one criterion: a note and an optional file (photos never required)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="items")
    criterion = models.ForeignKey(
        Criterion, null=True, blank=True, on_delete=models.SET_NULL, related_name="items"
    )
    # Copied when the application starts, so later edits of the criteria never change a filed application.
    title = models.CharField(_("标准"), max_length=200)
    requirement = models.TextField(_("具体要求"), blank=True)
    order = models.PositiveSmallIntegerField(_("序号"), default=0)
    note = models.TextField(_("落实情况和佐证说明"), blank=True)
    file = models.ForeignKey(
        "core.StoredFile",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("佐证附件"),
    )

    class Meta:
        verbose_name = _("申报材料")
        verbose_name_plural = _("申报材料")
        ordering = ["application_id", "order", "id"]

    def __str__(self) -> str:
        return self.title
