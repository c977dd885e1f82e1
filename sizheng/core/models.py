"""Core models: accounts and role grants, audit, notifications, reminders, files, tokens, holidays."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sizheng.core.crypto import EncryptedTextField


class Role(models.TextChoices):
    """Every role of ARCHITECTURE §4. Business roles come from the roster or a secadmin grant."""

    MEMBER = "member", _("党员/干部")
    SECRETARY = "secretary", _("书记")
    ORG_ADMIN = "org_admin", _("党务干部")
    COMMITTEE_ADMIN = "committee_admin", _("机关工委")
    LEADER = "leader", _("领导")
    ASSESSOR = "assessor", _("考核组")
    EXPERT = "expert", _("专家")
    COUNSELOR = "counselor", _("心理咨询员")
    UNION = "union", _("工会")
    SYSADMIN = "sysadmin", _("系统管理员")
    SECADMIN = "secadmin", _("安全管理员")
    AUDITOR = "auditor", _("安全审计员")


SYSTEM_ROLES = frozenset({Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR})


class User(AbstractUser):
    """A login account; a person's roster record links to it from the org app."""

    must_change_password = models.BooleanField(_("首次登录须修改密码"), default=False)
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)
    display_name = models.CharField(_("显示名"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("账号")
        verbose_name_plural = _("账号")

    def __str__(self) -> str:
        return self.display_name or self.username

    def active_grants(self, on=None):
        """Role grants in force on a date (today by default)."""
        return self.role_grants.in_force(on)

    def grants_today(self) -> list:
        """Today's grants, loaded once per request (the user object lives for one request): the
        menu's role checks and ``org.access.scope_of`` share this one query."""
        cache = getattr(self, "_grants_cache", None)
        if cache is None:
            cache = list(self.active_grants())
            self._grants_cache = cache
        return cache

    def has_role(self, *roles: str) -> bool:
        cache = getattr(self, "_role_cache", None)
        if cache is None:
            cache = {g.role for g in self.grants_today()}
            self._role_cache = cache
        return any(r in cache for r in roles)

    @property
    def is_system_role(self) -> bool:
        return self.has_role(*SYSTEM_ROLES)


class RoleGrantQuerySet(models.QuerySet):
    def in_force(self, on=None):
        on = on or timezone.localdate()
        return self.filter(models.Q(starts_on__isnull=True) | models.Q(starts_on__lte=on)).filter(
            models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=on)
        )


class RoleGrant(models.Model):
    """A role held by a user over a scope (an org, a unit, a round, or "all").

    ``core`` knows nothing of orgs: the scope is a generic (kind, id) pair that the
    ``org`` app interprets. Grants from the roster (OrgRole) are derived there.
    """

    class ScopeKind(models.TextChoices):
        ALL = "all", _("全部")
        SYSTEM = "system", _("系统")
        ORG = "org", _("党组织")
        UNIT = "unit", _("单位")
        ROUND = "round", _("考核轮次")
        SESSION = "session", _("赋权会话")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    scope_kind = models.CharField(
        _("范围类型"), max_length=16, choices=ScopeKind.choices, default=ScopeKind.ALL
    )
    scope_id = models.BigIntegerField(_("范围编号"), null=True, blank=True)
    is_backup = models.BooleanField(_("备岗"), default=False)
    starts_on = models.DateField(_("起始日期"), null=True, blank=True)
    ends_on = models.DateField(_("终止日期"), null=True, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Where the grant comes from: "manual" (a secadmin), or derived from the roster
    # ("org_role": an OrgRole's term; "person": the member role of a person's account).
    source = models.CharField(_("来源"), max_length=16, default="manual")
    source_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RoleGrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("角色授权")
        verbose_name_plural = _("角色授权")
        indexes = [models.Index(fields=["role", "scope_kind", "scope_id"])]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "scope_kind", "scope_id", "is_backup", "source", "source_id"],
                name="core_rolegrant_unique",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"

    def scope_dict(self) -> dict:
        if self.scope_kind in (self.ScopeKind.ALL, self.ScopeKind.SYSTEM):
            return {"kind": self.scope_kind}
        return {"kind": self.scope_kind, "id": self.scope_id, "backup": self.is_backup}


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("审计日志只能追加，不能修改。")

    def delete(self):
        raise PermissionError("审计日志只能追加，不能删除。")


class AuditEvent(models.Model):
    """One append-only audit row: a write, or a read of T2/T3 data. Never holds T2/T3 content."""

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(_("操作人"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=64, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True, db_index=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("审计日志只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("审计日志只能追加，不能删除。")


class Notification(models.Model):
    """An in-app message in a user's inbox (and an e-mail when configured)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class SentReminder(models.Model):
    """The record that a reminder with this key went out: the unique key makes it exactly-once."""

    key = models.CharField(max_length=255, unique=True)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("已发提醒")
        verbose_name_plural = _("已发提醒")

    def __str__(self) -> str:
        return self.key


class JobRun(models.Model):
    """One periodic job slot claimed by the scheduler (unique per job and slot)."""

    job = models.CharField(max_length=100)
    slot = models.CharField(max_length=40)
    enqueued_at = models.DateTimeField(default=timezone.now)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("定时任务记录")
        verbose_name_plural = _("定时任务记录")
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="core_jobrun_unique_slot")]

    def __str__(self) -> str:
        return f"{self.job}@{self.slot}"


class StoredFile(models.Model):
    """An uploaded file kept outside the static root; served only through a permission check."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("文件名"), max_length=255)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小"))
    sha256 = models.CharField(max_length=64)
    path = models.CharField(max_length=255)
    owner_kind = models.CharField(_("所属对象类型"), max_length=64, blank=True, db_index=True)
    owner_id = models.BigIntegerField(_("所属对象编号"), null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        indexes = [models.Index(fields=["owner_kind", "owner_id"])]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A revocable bearer token for the API; only its SHA-256 is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")

    def __str__(self) -> str:
        return f"{self.prefix}…"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class Holiday(models.Model):
    """An administrator-entered day: a holiday (放假) or a 调休 working day on a weekend."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("放假")
        WORKDAY = "workday", _("调休上班")

    day = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {self.get_kind_display()}"


class AnonymousPool(models.Model):
    """Anonymous answers waiting to be written (ARCHITECTURE §5): an encrypted list, flushed in a
    shuffled batch once it holds ≥ the anonymity threshold or when its wave closes, so neither
    insertion order nor row ids line the answers up with who answered when."""

    kind = models.CharField(max_length=40)
    wave = models.CharField(max_length=40)
    payload = EncryptedTextField(default="[]")
    size = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("匿名答卷缓冲区")
        verbose_name_plural = _("匿名答卷缓冲区")
        constraints = [models.UniqueConstraint(fields=["kind", "wave"], name="core_anonpool_unique_wave")]

    def __str__(self) -> str:
        return f"{self.kind}@{self.wave}"


class AnonymousTally(models.Model):
    """How many anonymous answers a wave received per reporting group: the wave keeps counts,
    so no per-answer audit row is needed (ARCHITECTURE §5)."""

    kind = models.CharField(max_length=40)
    wave = models.CharField(max_length=40)
    group = models.CharField(max_length=40)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("匿名答卷计数")
        verbose_name_plural = _("匿名答卷计数")
        constraints = [
            models.UniqueConstraint(fields=["kind", "wave", "group"], name="core_anontally_unique_group")
        ]

    def __str__(self) -> str:
        return f"{self.kind}@{self.wave}/{self.group}: {self.count}"
