"""The 思政 team (队伍建设): who does the work, the staffing rules as data, and the gaps found.

Training is never stored here: a team member's training record is computed from the study sessions
and meetings they attended (``life.Attendance`` + ``study.hours``, 一次填报，多处使用). The only
training rows this app keeps are trainings outside the platform (上级调训), entered by an
administrator and always shown apart from the computed record.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sizheng.org.models import Org, Person


class TeamRole(models.TextChoices):
    """The four kinds of people the issue names (队伍建设)."""

    PARTY_CADRE = "party_cadre", _("党务干部")
    POLITICAL_CADRE = "political_cadre", _("政工干部")
    MASS_CADRE = "mass_cadre", _("群团干部")
    BACKBONE = "backbone", _("思政骨干")


class Subtype(models.TextChoices):
    """What kind of 思政骨干 (only 思政骨干 carry one)."""

    NONE = "", _("一般")
    YOUNG_CADRE = "young_cadre", _("青年干部")
    ADVANCED_MODEL = "advanced_model", _("先进典型")
    LECTURER = "lecturer", _("宣讲骨干")


class TeamMemberQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Register entries the user may see (team.access: managers' subtrees, and one's own)."""
        from sizheng.team.access import visible_member_q

        return self.filter(visible_member_q(user))

    def current(self, day: date | None = None):
        """Entries in force on a day (today by default): started, not yet ended."""
        day = day or timezone.localdate()
        return self.filter(since__lte=day).filter(Q(until__isnull=True) | Q(until__gte=day))

    def in_year(self, year: int):
        """Entries in force on some day of the year."""
        return self.filter(since__lte=date(year, 12, 31)).filter(
            Q(until__isnull=True) | Q(until__gte=date(year, 1, 1))
        )

    def for_list(self):
        """What the register list shows, in one query (covered orgs are prefetched by the caller)."""
        return self.select_related("person", "person__unit", "org")


class TeamMember(models.Model):
    """One person's entry in the 思政 team register: role, full- or part-time, the orgs they cover."""

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="team_entries", verbose_name=_("人员")
    )
    # The org whose register holds the entry: its managers (and those above) keep it.
    org = models.ForeignKey(
        Org, on_delete=models.PROTECT, related_name="team_entries", verbose_name=_("所属党组织")
    )
    role = models.CharField(_("队伍类别"), max_length=20, choices=TeamRole.choices)
    subtype = models.CharField(_("骨干类型"), max_length=20, choices=Subtype.choices, blank=True, default="")
    is_full_time = models.BooleanField(_("专职"), default=False)
    position = models.CharField(_("岗位/职务"), max_length=60, blank=True)
    covers = models.ManyToManyField(Org, related_name="team_covered_by", verbose_name=_("负责的党组织"))
    # One qualification a line (资格证书、培训结业、专业职称 …): a short free-text list.
    qualifications = models.TextField(_("资格资历"), blank=True)
    since = models.DateField(_("起始日期"))
    until = models.DateField(_("终止日期"), null=True, blank=True)
    end_reason = models.CharField(_("终止原因"), max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TeamMemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("队伍成员")
        verbose_name_plural = _("队伍成员")
        ordering = ["id"]
        indexes = [models.Index(fields=["role", "is_full_time"]), models.Index(fields=["since", "until"])]
        constraints = [
            # One open entry per person, role and register: a second one is a duplicate, not a new post.
            models.UniqueConstraint(
                fields=["person", "role", "org"],
                condition=Q(until__isnull=True),
                name="team_member_one_open_entry",
            ),
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=models.F("since")),
                name="team_member_until_after_since",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person.name}（{self.get_role_display()}）"

    @property
    def qualification_list(self) -> list[str]:
        """The qualifications, one per non-empty line."""
        return [line.strip() for line in self.qualifications.splitlines() if line.strip()]

    @property
    def time_label(self) -> str:
        return "专职" if self.is_full_time else "兼职"

    def is_current(self, day: date | None = None) -> bool:
        """Whether the entry is in force on a day (today by default)."""
        day = day or timezone.localdate()
        return self.since <= day and (self.until is None or self.until >= day)


class CoverageRule(models.Model):
    """A staffing rule as data, read into ``core.rules.Rule`` (TEAM-1: rules.md §6; TEAM-2: local).

    "Each org of these kinds with at least ``min_members`` party members (in its subtree) has at
    least ``count`` people of ``team_role`` (full-time only when ``full_time_only``) covering it";
    with ``inherit`` a person covering an ancestor org (below the 机关工委) covers it too.
    Administrators edit the threshold, count, severity and whether the rule is in force."""

    class Severity(models.TextChoices):
        WARNING = "warning", _("预警（一般）")
        VIOLATION = "violation", _("违规（至少/应当）")

    code = models.CharField(_("规则编号"), max_length=32, unique=True)
    label = models.CharField(_("规则"), max_length=200)
    team_role = models.CharField(_("须配备的队伍类别"), max_length=20, choices=TeamRole.choices)
    full_time_only = models.BooleanField(_("只计专职"), default=False)
    inherit = models.BooleanField(_("上级组织的人员也算"), default=False)
    org_kinds = models.CharField(
        _("适用组织类型"), max_length=120, help_text=_("逗号分隔，如 committee,branch")
    )
    min_members = models.PositiveIntegerField(_("党员人数不少于"), default=0)
    count = models.PositiveSmallIntegerField(_("至少配备人数"), default=1)
    severity = models.CharField(
        _("严重程度"), max_length=12, choices=Severity.choices, default=Severity.WARNING
    )
    source = models.CharField(_("依据"), max_length=300, blank=True)
    is_local = models.BooleanField(_("地方规定"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("队伍配备规则")
        verbose_name_plural = _("队伍配备规则")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(k.strip() for k in self.org_kinds.split(",") if k.strip())

    @property
    def duty_title(self) -> str:
        """The duty a gap opens: "配备专职党务干部", "配备思政骨干" (T0, names nobody)."""
        return f"配备{'专职' if self.full_time_only else ''}{self.get_team_role_display()}"


class Gap(models.Model):
    """A staffing gap turned into a duty: once per rule, org and year (the link back from the duty)."""

    rule = models.ForeignKey(CoverageRule, on_delete=models.PROTECT, related_name="gaps")
    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="team_gaps")
    year = models.PositiveSmallIntegerField(_("年度"))
    members = models.PositiveIntegerField(_("党员人数"), default=0)
    duty_id = models.IntegerField(null=True, blank=True)  # duties.Duty, by id (source ("team", gap.pk))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("队伍配备缺口")
        verbose_name_plural = _("队伍配备缺口")
        ordering = ["-year", "org_id", "rule_id"]
        constraints = [models.UniqueConstraint(fields=["rule", "org", "year"], name="team_gap_once_a_year")]

    def __str__(self) -> str:
        return f"{self.year} {self.rule.code} #{self.org_id}"


class ExternalTraining(models.Model):
    """A training outside the platform (上级调训 …), entered by an administrator.

    Kept apart from the computed record on purpose: it never adds to the 学时 of ``study.hours``."""

    class Kind(models.TextChoices):
        SUMMONED = "summoned", _("上级调训")
        PARTY_SCHOOL = "party_school", _("党校培训")
        OTHER = "other", _("其他培训")

    member = models.ForeignKey(TeamMember, on_delete=models.CASCADE, related_name="external_trainings")
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, default=Kind.SUMMONED)
    title = models.CharField(_("培训名称"), max_length=200)
    organiser = models.CharField(_("举办单位"), max_length=100, blank=True)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    days = models.DecimalField(_("天数"), max_digits=5, decimal_places=1, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("调训记录")
        verbose_name_plural = _("调训记录")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="team_training_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.title
