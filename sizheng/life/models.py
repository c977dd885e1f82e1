"""Organisational life: meetings and their attendance, compliance rules as data with exemptions,
and the annual appraisal of members (民主评议党员)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sizheng.org.models import Org, Person


class MeetingKind(models.TextChoices):
    """Kinds from the glossary (三会一课, 主题党日, 组织生活会, 民主生活会, 民主评议, 中心组学习, 联席会议)."""

    MEMBERS_MEETING = "members_meeting", _("党员大会")
    COMMITTEE_MEETING = "committee_meeting", _("支委会")
    GROUP_MEETING = "group_meeting", _("党小组会")
    PARTY_LECTURE = "party_lecture", _("党课")
    THEME_DAY = "theme_day", _("主题党日")
    LIFE_MEETING = "life_meeting", _("组织生活会")
    DEMOCRATIC_LIFE_MEETING = "democratic_life_meeting", _("民主生活会")
    MEMBER_APPRAISAL = "member_appraisal", _("民主评议党员")
    CENTRAL_GROUP_STUDY = "central_group_study", _("中心组学习")
    JOINT_MEETING = "joint_meeting", _("联席会议")


class MeetingState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    APPROVED = "approved", _("已审核")
    RETURNED = "returned", _("已退回")


class MeetingQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Meetings of orgs in the user's scope (T0)."""
        from sizheng.org.access import visible_org_q
        from sizheng.org.models import Org

        return self.filter(org__in=Org.objects.filter(visible_org_q(user)).values("pk"))

    def counted(self):
        """Records that count for compliance: submitted, or approved where approval is required.

        Approval is required per kind by ``settings.LIFE_APPROVAL_REQUIRED`` (a rule-set switch).
        """
        required = list(getattr(settings, "LIFE_APPROVAL_REQUIRED", ()))
        return self.filter(
            models.Q(state=MeetingState.APPROVED)
            | (models.Q(state=MeetingState.SUBMITTED) & ~models.Q(kind__in=required))
        )

    def for_list(self):
        return self.select_related("org", "chair", "recorder")


class Meeting(models.Model):
    """One meeting record — also the study record, the attendance fact, the compliance fact and
    the archive entry (一次填报，多处使用)."""

    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="meetings", verbose_name=_("党组织"))
    kind = models.CharField(_("会议类型"), max_length=32, choices=MeetingKind.choices)
    topic = models.CharField(_("主题"), max_length=200)
    session_no = models.CharField(_("届次/期数"), max_length=40, blank=True)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    place = models.CharField(_("地点"), max_length=120)
    chair = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("主持人")
    )
    recorder = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("记录人")
    )
    speaker = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("党课主讲人"),
    )
    agenda = models.TextField(_("议程"), blank=True)
    minutes = models.TextField(_("会议记录"), blank=True)
    resolutions = models.TextField(_("决议事项"), blank=True)
    # Votes on motions: [{"motion": "…", "ayes": n, "noes": n, "abstentions": n}] (BR-MTG-1q).
    votes = models.JSONField(_("表决情况"), default=list, blank=True)
    # Steps of a 组织生活会 / 民主生活会 (BR-OLM-1): {"theme": "…", "talks_done": true, "criticism": "…"}.
    steps = models.JSONField(_("会议环节"), default=dict, blank=True)
    report_due_on = models.DateField(_("报送上级时限"), null=True, blank=True)  # DLM-7: within 15 days
    reported_on = models.DateField(_("报送上级日期"), null=True, blank=True)
    state = models.CharField(
        _("状态"), max_length=12, choices=MeetingState.choices, default=MeetingState.DRAFT
    )
    return_opinion = models.CharField(_("退回意见"), max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        verbose_name = _("会议记录")
        verbose_name_plural = _("会议记录")
        ordering = ["-starts_at", "-id"]
        indexes = [
            models.Index(fields=["org", "kind", "starts_at"]),
            models.Index(fields=["kind", "state", "starts_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.topic}"

    @property
    def hours(self) -> float:
        """Training hours (学时) of the session: half a day = 4 (rules.md §4), by duration, at most 8."""
        seconds = (self.ends_at - self.starts_at).total_seconds()
        return round(min(8.0, max(0.0, seconds / 3600)), 1)


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", _("实到")
    ABSENT = "absent", _("缺席")
    ON_LEAVE = "on_leave", _("请假")
    NON_VOTING = "non_voting", _("列席")


class Attendance(models.Model):
    """One expected attendee of a meeting and what happened (列席 attendees are not expected)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="attendance")
    status = models.CharField(_("出席情况"), max_length=12, choices=AttendanceStatus.choices)
    reason = models.CharField(_("缺席/请假原因"), max_length=200, blank=True)
    is_voting = models.BooleanField(
        _("有表决权"), default=True
    )  # full members; probationary members do not vote
    made_up_on = models.DateField(_("补学日期"), null=True, blank=True)
    make_up_note = models.TextField(_("补学心得"), blank=True)

    class Meta:
        verbose_name = _("出席情况")
        verbose_name_plural = _("出席情况")
        constraints = [models.UniqueConstraint(fields=["meeting", "person"], name="life_attendance_unique")]
        indexes = [models.Index(fields=["person", "status"])]

    def __str__(self) -> str:
        return f"{self.person} {self.get_status_display()}"


class ComplianceRule(models.Model):
    """A compliance rule as data (core.rules.Rule): the national defaults, or a stricter local rule."""

    class Severity(models.TextChoices):
        WARNING = "warning", _("提醒（一般）")
        VIOLATION = "violation", _("违规（至少/应当）")

    class Period(models.TextChoices):
        MONTH = "month", _("每月")
        QUARTER = "quarter", _("每季度")
        HALF = "half", _("每半年")
        YEAR = "year", _("每年")

    code = models.CharField(_("规则编号"), max_length=32, unique=True)
    activity = models.CharField(_("活动"), max_length=32, choices=MeetingKind.choices)
    org_kinds = models.CharField(_("适用组织类型"), max_length=120, help_text=_("逗号分隔，如 branch,group"))
    count = models.PositiveSmallIntegerField(_("次数"), default=1)
    period = models.CharField(_("周期"), max_length=8, choices=Period.choices)
    within = models.CharField(_("限定时段"), max_length=4, blank=True, help_text=_("如 Q4：只计第四季度"))
    severity = models.CharField(_("严重程度"), max_length=10, choices=Severity.choices)
    label = models.CharField(_("规则说明"), max_length=120)
    source = models.CharField(_("依据"), max_length=300)
    is_local = models.BooleanField(_("本地规则"), default=False)
    scope_org = models.ForeignKey(
        Org,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("只适用于该组织及下级"),
    )
    effective_from = models.DateField(_("生效日期"), null=True, blank=True)
    effective_to = models.DateField(_("失效日期"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("组织生活规则")
        verbose_name_plural = _("组织生活规则")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class Exemption(models.Model):
    """An administrator's exemption of an org from a rule for a period, with a reason."""

    rule = models.ForeignKey(ComplianceRule, on_delete=models.CASCADE, related_name="exemptions")
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="exemptions")
    period_key = models.CharField(_("期间"), max_length=10, help_text=_("如 2026-Q3、2026-07、2026"))
    reason = models.CharField(_("豁免理由"), max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("豁免")
        verbose_name_plural = _("豁免")
        constraints = [
            models.UniqueConstraint(fields=["rule", "org", "period_key"], name="life_exemption_unique")
        ]

    def __str__(self) -> str:
        return f"{self.org} {self.rule.code} {self.period_key}"


class Grade(models.TextChoices):
    """Appraisal grades (BR-EVAL-2)."""

    EXCELLENT = "excellent", _("优秀")
    QUALIFIED = "qualified", _("合格")
    BASIC = "basic", _("基本合格")
    UNQUALIFIED = "unqualified", _("不合格")


class Appraisal(models.Model):
    """One branch's 民主评议党员 for a year: self-assessment → peer review → democratic rating → grades."""

    class State(models.TextChoices):
        OPEN = "open", _("评议中")
        PROPOSED = "proposed", _("已提出等次")
        APPROVED = "approved", _("已审批")

    org = models.ForeignKey(
        Org, on_delete=models.PROTECT, related_name="appraisals", verbose_name=_("党支部")
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    meeting = models.ForeignKey(
        Meeting,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("评议会议"),
    )
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.OPEN)
    # More than 1/3 优秀 needs a written reason and is flagged to the higher org (BR-EVAL-2: 一般不超过).
    excellent_reason = models.TextField(_("优秀超过三分之一的理由"), blank=True)
    is_flagged = models.BooleanField(_("已提示上级"), default=False)
    # The higher org's opinion when it returns the proposed grades (cleared on approval).
    return_opinion = models.CharField(_("退回意见"), max_length=300, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("民主评议党员")
        verbose_name_plural = _("民主评议党员")
        constraints = [models.UniqueConstraint(fields=["org", "year"], name="life_appraisal_unique")]

    def __str__(self) -> str:
        return f"{self.org} {self.year}年民主评议"


class AppraisalEntry(models.Model):
    """One member's appraisal: visible to the member and the branch's secretary only."""

    appraisal = models.ForeignKey(Appraisal, on_delete=models.CASCADE, related_name="entries")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="appraisals")
    self_assessment = models.TextField(_("个人自评"), blank=True)
    peer_summary = models.TextField(_("党员互评意见"), blank=True)
    # Democratic rating: counts of votes per grade, e.g. {"excellent": 12, "qualified": 5, …}.
    rating = models.JSONField(_("民主测评"), default=dict, blank=True)
    proposed_grade = models.CharField(_("支部建议等次"), max_length=12, choices=Grade.choices, blank=True)
    final_grade = models.CharField(_("评定等次"), max_length=12, choices=Grade.choices, blank=True)

    class Meta:
        verbose_name = _("评议结果")
        verbose_name_plural = _("评议结果")
        constraints = [
            models.UniqueConstraint(fields=["appraisal", "person"], name="life_appraisal_entry_unique")
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.get_final_grade_display() or '未评定'}"
