"""Notices (通知) sent down the org tree, and one receipt per audience org (never per person).

A ``Notice`` is written by whoever manages its issuing org, kept as a draft, then published to its
audience: the chosen orgs and everything below them (by default the whole subtree of the issuing
org), the issuing org itself excluded. Publishing creates one ``OrgReceipt`` per audience org. The
receipt is the org's, not a person's: the first read by one of the org's secretaries / 党务干部 marks
it 已阅, and when the notice asks for it one of them signs it (签收). Plain members read the notice
without leaving any trace, so there is nothing to rank people by.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sizheng.org.models import Org


class NoticeQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Notices the user may open: issued by an org they manage, or addressed to their org."""
        from sizheng.notices.access import visible_q

        return self.filter(visible_q(user))


class Notice(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        WITHDRAWN = "withdrawn", _("已撤回")

    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"), help_text=_("纯文本，保留换行。"))
    org = models.ForeignKey(
        Org, on_delete=models.PROTECT, related_name="notices_issued", verbose_name=_("发文组织")
    )
    audience = models.ManyToManyField(
        Org,
        blank=True,
        related_name="+",
        verbose_name=_("受文组织"),
        help_text=_("所选组织及其下级组织；不选则为发文组织下的全部组织。"),
    )
    requires_receipt = models.BooleanField(_("需要签收"), default=False)
    due_on = models.DateField(_("签收截止日期"), null=True, blank=True)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.DRAFT)
    dated = models.DateField(_("日期"), default=timezone.localdate, help_text=_("发布时改为发布当天。"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdraw_reason = models.CharField(_("撤回原因"), max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-dated", "-id"]
        indexes = [models.Index(fields=["state", "dated"]), models.Index(fields=["org", "state"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_draft(self) -> bool:
        return self.state == self.State.DRAFT

    @property
    def is_published(self) -> bool:
        return self.state == self.State.PUBLISHED

    @property
    def is_withdrawn(self) -> bool:
        return self.state == self.State.WITHDRAWN


class OrgReceipt(models.Model):
    """One audience org's receipt of a published notice: 未阅 → 已阅 (→ 已签收 when asked for)."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="receipts")
    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="+", verbose_name=_("受文组织"))
    read_at = models.DateTimeField(_("阅知时间"), null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("组织阅知回执")
        verbose_name_plural = _("组织阅知回执")
        ordering = ["notice_id", "id"]
        constraints = [models.UniqueConstraint(fields=["notice", "org"], name="notices_receipt_unique")]
        indexes = [models.Index(fields=["org", "notice"])]

    def __str__(self) -> str:
        return f"{self.notice_id}·{self.org_id}"

    @property
    def status(self) -> str:
        if self.acknowledged_at:
            return "acked"
        return "read" if self.read_at else "unread"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


STATUS_LABELS = {"unread": "未阅", "read": "已阅", "acked": "已签收"}
