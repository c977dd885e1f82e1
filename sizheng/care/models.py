"""Care cases (困难诉求, T2 details) and the wellbeing pathway (心理疏导与危机干预, T3).

T2: a care case's category, tier, description and action notes are encrypted and readable only
by the person, the handler and whoever opened it (``care.access``); the ledger shows who, when,
handler and state. T3: screenings, contact requests, crisis alerts and counseling notes are
encrypted and readable by counselors only (a backup counselor sees an alert once escalated).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sizheng.core.crypto import EncryptedCharField, EncryptedTextField
from sizheng.org.models import Org, Person, Unit

# --- care cases ---------------------------------------------------------------------------


class Category(models.TextChoices):
    LIVING = "living", _("生活困难")
    HOUSING = "housing", _("住房")
    EDUCATION = "education", _("子女教育")
    MEDICAL = "medical", _("医疗")
    FAMILY = "family", _("家庭变故")
    PRESSURE = "pressure", _("工作压力")
    CAREER = "career", _("职业发展")
    ELDER_CARE = "elder_care", _("老人照护")
    OTHER = "other", _("其他")


class Tier(models.TextChoices):
    DEEP = "deep", _("深度困难")
    RELATIVE = "relative", _("相对困难")
    SUDDEN = "sudden", _("意外致困")


class Handler(models.TextChoices):
    SECRETARY = "secretary", _("党组织书记")
    UNION = "union", _("工会")


class OpenedVia(models.TextChoices):
    SELF = "self", _("本人反映")
    SECRETARY = "secretary", _("书记谈话后代为登记")
    UNION = "union", _("工会登记")


class CaseState(models.TextChoices):
    ACCEPTED = "accepted", _("受理")
    IN_PROGRESS = "in_progress", _("处理中")
    RESOLVED = "resolved", _("已解决")
    FOLLOWED_UP = "followed_up", _("已回访")


class ConsentMethod(models.TextChoices):
    ORAL = "oral", _("当面口头同意")
    WRITTEN = "written", _("书面签字同意")
    ONLINE = "online", _("线上确认")


class CareCaseQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Cases whose metadata the user may see (ARCHITECTURE §4–5)."""
        from sizheng.care.access import visible_case_q

        return self.filter(visible_case_q(user)).distinct()

    def metadata_only(self):
        return self.defer("category", "tier", "description").select_related("person", "org", "unit")


class CareCase(models.Model):
    """One staff difficulty and its handling. ``__str__`` carries no details."""

    T2_FIELDS = ("category", "tier", "description")

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="care_cases", verbose_name=_("当事人")
    )
    org = models.ForeignKey(
        Org,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="care_cases",
        verbose_name=_("党组织"),
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="care_cases", verbose_name=_("单位")
    )
    opened_via = models.CharField(_("来源"), max_length=12, choices=OpenedVia.choices)
    handler = models.CharField(_("承办方"), max_length=12, choices=Handler.choices, default=Handler.SECRETARY)
    # The org whose secretary handles the case (or whose union handlers do).
    handler_org = models.ForeignKey(
        Org, on_delete=models.PROTECT, related_name="+", verbose_name=_("承办党组织")
    )
    category = EncryptedCharField(_("困难类别"), max_length=20, choices=Category.choices)
    tier = EncryptedCharField(_("困难程度"), max_length=12, choices=Tier.choices, blank=True, default="")
    description = EncryptedTextField(_("困难情况"))
    # Consent (who gave it, when, how) is required when anyone but the person opens the case.
    consent_on = models.DateField(_("本人同意日期"), null=True, blank=True)
    consent_method = models.CharField(_("同意方式"), max_length=12, choices=ConsentMethod.choices, blank=True)
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_talk = models.ForeignKey(
        "talks.Talk", null=True, blank=True, on_delete=models.SET_NULL, related_name="care_cases"
    )
    state = models.CharField(_("状态"), max_length=12, choices=CaseState.choices, default=CaseState.ACCEPTED)
    satisfaction = models.PositiveSmallIntegerField(_("满意度（1-5）"), null=True, blank=True)
    is_ongoing = models.BooleanField(_("长期困难（每年复核）"), default=False)
    recheck_on = models.DateField(_("下次复核日期"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("重新打开次数"), default=0)
    duty_id = models.IntegerField(null=True, blank=True)  # the open "关爱跟进" duty, if any
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(_("受理时间"), default=timezone.now)
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)
    followed_up_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = CareCaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("困难诉求")
        verbose_name_plural = _("困难诉求")
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["handler_org", "state"]), models.Index(fields=["state", "opened_at"])]

    def __str__(self) -> str:
        return f"困难诉求 #{self.pk}"


class CareAction(models.Model):
    """One step taken on a case (visit, help given, referral, return visit); the note is T2."""

    class Kind(models.TextChoices):
        ACCEPT = "accept", _("受理")
        VISIT = "visit", _("走访慰问")
        HELP = "help", _("帮扶措施")
        TRANSITION = "transition", _("状态变更")
        FOLLOW_UP = "follow_up", _("回访")
        REOPEN = "reopen", _("重新打开")
        RECHECK = "recheck", _("年度复核")

    case = models.ForeignKey(CareCase, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    note = EncryptedTextField(_("说明"), blank=True, default="")
    to_state = models.CharField(max_length=12, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("帮扶记录")
        verbose_name_plural = _("帮扶记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"帮扶记录 #{self.pk}"


# --- wellbeing (T3) ------------------------------------------------------------------------


class Instrument(models.TextChoices):
    PHQ9 = "phq9", _("PHQ-9 抑郁症状自评")
    GAD7 = "gad7", _("GAD-7 焦虑症状自评")


class HealthConsent(models.Model):
    """A person's consent to processing their health data for a named screening (separate consent)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    given_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("健康信息处理同意")
        verbose_name_plural = _("健康信息处理同意")

    def __str__(self) -> str:
        return f"健康信息处理同意 #{self.pk}"


class Screening(models.Model):
    """A named self-screening (T3: answers, score and band encrypted). The person may delete it."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    org = models.ForeignKey(Org, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    instrument = models.CharField(max_length=8, choices=Instrument.choices)
    answers = EncryptedTextField()  # JSON list of item scores
    score = EncryptedCharField(max_length=4)
    band = EncryptedCharField(max_length=20)
    crisis = EncryptedCharField(max_length=1, default="0")  # "1": item 9 positive or severe band
    wave = models.CharField(max_length=7)  # YYYY-MM: aggregates use the wave, like anonymous ones
    taken_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("心理自评（实名）")
        verbose_name_plural = _("心理自评（实名）")
        ordering = ["-taken_at", "-id"]

    def __str__(self) -> str:
        return f"心理自评 #{self.pk}"


class AnonymousScreening(models.Model):
    """An anonymous self-screening (ARCHITECTURE §5): a random key, the month only, the reporting
    group, no link to the person; written in shuffled batches through ``core.anonymous``."""

    key = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    instrument = models.CharField(max_length=8, choices=Instrument.choices)
    answers = EncryptedTextField()
    score = EncryptedCharField(max_length=4)
    band = EncryptedCharField(max_length=20)
    crisis = EncryptedCharField(max_length=1, default="0")
    wave = models.CharField(max_length=7)  # YYYY-MM
    group = models.CharField(max_length=24)  # reporting group, e.g. "org:12"
    deletion_key = models.CharField(max_length=64, unique=True)  # blind index of the code shown once

    class Meta:
        verbose_name = _("心理自评（匿名）")
        verbose_name_plural = _("心理自评（匿名）")

    def __str__(self) -> str:
        return "匿名心理自评"


class ContactRequest(models.Model):
    """ "请心理咨询员联系我": a named request, never linked to an (anonymous) answer."""

    class State(models.TextChoices):
        OPEN = "open", _("待联系")
        CONTACTED = "contacted", _("已联系")
        CLOSED = "closed", _("已结束")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    org = models.ForeignKey(Org, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    how = EncryptedTextField(_("联系方式与方便时间"), blank=True, default="")
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("联系请求")
        verbose_name_plural = _("联系请求")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"联系请求 #{self.pk}"


class CrisisAlert(models.Model):
    """An alert to the primary counselor of the person's org; escalates to the backup if not
    acknowledged in time. Visible to the assigned counselor and, once escalated, the backups."""

    class State(models.TextChoices):
        OPEN = "open", _("待确认")
        ESCALATED = "escalated", _("已升级")
        ACKNOWLEDGED = "acknowledged", _("已确认")
        CLOSED = "closed", _("已结束")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    org = models.ForeignKey(Org, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = EncryptedCharField(max_length=40)  # contact_request / item9 / severe (T3)
    screening = models.ForeignKey(
        Screening, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact_request = models.ForeignKey(
        ContactRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    counselor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="crisis_alerts"
    )
    raised_at = models.DateTimeField(default=timezone.now)
    ack_due_at = models.DateTimeField()
    escalated_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("危机预警")
        verbose_name_plural = _("危机预警")
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["state", "ack_due_at"])]

    def __str__(self) -> str:
        return f"危机预警 #{self.pk}"


class CounselingCase(models.Model):
    """A counselor's case: from a contact request or an alert to closure, with T3 session notes."""

    class State(models.TextChoices):
        OPEN = "open", _("跟进中")
        REFERRED = "referred", _("已转介")
        CLOSED = "closed", _("已结案")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    org = models.ForeignKey(Org, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    counselor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="counseling_cases"
    )
    alert = models.ForeignKey(CrisisAlert, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    contact_request = models.ForeignKey(
        ContactRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    referral = EncryptedTextField(_("转介情况"), blank=True, default="")
    closing_note = EncryptedTextField(_("结案说明"), blank=True, default="")
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("心理辅导个案")
        verbose_name_plural = _("心理辅导个案")
        ordering = ["-opened_at", "-id"]

    def __str__(self) -> str:
        return f"心理辅导个案 #{self.pk}"


class Appointment(models.Model):
    """A counseling appointment (time and place are T3 too: they reveal that someone is seen)."""

    case = models.ForeignKey(CounselingCase, on_delete=models.CASCADE, related_name="appointments")
    starts_at = models.DateTimeField()
    place = EncryptedCharField(max_length=100, blank=True, default="")
    done = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("辅导预约")
        verbose_name_plural = _("辅导预约")
        ordering = ["starts_at"]

    def __str__(self) -> str:
        return f"辅导预约 #{self.pk}"


class SessionNote(models.Model):
    """A counselor's session note (T3)."""

    case = models.ForeignKey(CounselingCase, on_delete=models.CASCADE, related_name="notes")
    note = EncryptedTextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("辅导记录")
        verbose_name_plural = _("辅导记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"辅导记录 #{self.pk}"
