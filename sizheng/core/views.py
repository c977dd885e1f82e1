"""Core screens: sign-in and account security, inbox, audit log, unlocks, holidays, errors."""

from __future__ import annotations

import base64
import io

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from sizheng.core import audit, files, notify, services
from sizheng.core.access import role_required
from sizheng.core.forms import AuditFilterForm, ChangePasswordForm, HolidayForm, LoginForm, OtpForm
from sizheng.core.models import AuditEvent, Holiday, Role
from sizheng.core.paging import paginate


class LoginView(auth_views.LoginView):
    """Sign-in; django-axes counts failures and locks after five."""

    template_name = "core/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        audit.record(self.request.user, "login", self.request.user, request=self.request)
        return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 422
        return response


def lockout_response(request, response=None, credentials=None, *args, **kwargs) -> HttpResponse:
    """What a locked account sees (django-axes AXES_LOCKOUT_CALLABLE)."""
    return render(request, "core/locked.html", status=403)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Sign out (POST only, so a link cannot log anyone out)."""
    if request.user.is_authenticated:
        audit.record(request.user, "logout", request.user, request=request)
    logout(request)
    messages.info(request, "您已安全退出。")
    return redirect("core:login")


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    """Change the password; required at first sign-in."""
    first = request.user.must_change_password
    form = ChangePasswordForm(request.user, request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            services.user_set_password(
                user=request.user,
                password=form.cleaned_data["new_password1"],
                actor=request.user,
                request=request,
            )
            update_session_auth_hash(request, request.user)
            messages.success(request, "密码已修改。")
            return redirect("core:home")
        return render(request, "core/password_change.html", {"form": form, "first": first}, status=422)
    return render(request, "core/password_change.html", {"form": form, "first": first})


def _totp_qr_svg(device: TOTPDevice) -> str:
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    buf = io.BytesIO()
    img.save(buf)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()


@login_required
@require_http_methods(["GET", "POST"])
def otp(request: HttpRequest) -> HttpResponse:
    """Set up (first time) or enter the TOTP code."""
    device = TOTPDevice.objects.filter(user=request.user).order_by("-confirmed", "id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="认证器", confirmed=False)
    form = OtpForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid() and device.verify_token(form.cleaned_data["token"]):
            if not device.confirmed:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                audit.record(request.user, "otp_enrol", request.user, request=request)
            otp_login(request, device)
            audit.record(request.user, "otp_verify", request.user, request=request)
            return redirect(request.GET.get("next") or "core:home")
        if form.is_valid():
            form.add_error("token", "动态验证码不正确或已过期，请重新输入。")
        status = 422
    else:
        status = 200
    ctx = {"form": form, "setup": not device.confirmed}
    if not device.confirmed:
        ctx["qr"] = _totp_qr_svg(device)
        ctx["secret"] = base64.b32encode(device.bin_key).decode()
    return render(request, "core/otp.html", ctx, status=status)


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The signed-in landing page: roles, unread notifications and where to go next."""
    from sizheng.core import home as home_cards

    grants = list(request.user.active_grants())
    recent = request.user.notifications.all()[:5]
    cards = home_cards.cards_for(request)
    return render(request, "core/home.html", {"grants": grants, "recent": recent, "cards": cards})


@login_required
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    """My account: roles, security settings."""
    grants = list(request.user.active_grants())
    has_otp = TOTPDevice.objects.filter(user=request.user, confirmed=True).exists()
    return render(request, "core/account.html", {"grants": grants, "has_otp": has_otp})


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """The notification inbox, newest first, paginated."""
    qs = request.user.notifications.all()
    if request.GET.get("unread") == "1":
        qs = qs.filter(read_at__isnull=True)
    page = paginate(request, qs)
    return render(request, "core/inbox.html", {"page": page, "unread_only": request.GET.get("unread") == "1"})


@login_required
@require_POST
def inbox_read(request: HttpRequest) -> HttpResponse:
    """Mark one (``id``) or all notifications read."""
    ids = request.POST.getlist("id")
    count = notify.mark_read(request.user, [int(i) for i in ids if i.isdigit()] if ids else None)
    messages.success(request, f"已将 {count} 条通知标为已读。")
    return redirect("core:inbox")


def _filtered_audit(request: HttpRequest):
    """The audit filter form and the rows it selects (all rows while the form is invalid)."""
    form = AuditFilterForm(request.GET or None)
    qs = AuditEvent.objects.all()
    if form.is_valid():
        d = form.cleaned_data
        filters = {
            "actor_name__icontains": d["q"],
            "action__icontains": d["action"],
            "object_type__icontains": d["object_type"],
            "at__date__gte": d["since"],
            "at__date__lte": d["until"],
        }
        qs = qs.filter(**{k: v for k, v in filters.items() if v})
    return form, qs


@role_required(Role.AUDITOR)
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    """The audit log, for the security auditor only; read-only, filterable, paginated."""
    form, qs = _filtered_audit(request)
    page = paginate(request, qs)
    status = 422 if form.is_bound and not form.is_valid() else 200
    return render(request, "core/audit_log.html", {"page": page, "form": form}, status=status)


@role_required(Role.AUDITOR)
@require_GET
def audit_export(request: HttpRequest) -> HttpResponse:
    """The filtered audit log as an Excel ledger (the export itself is audited)."""
    from sizheng.core.xlsx import write_ledger, xlsx_response

    _form, qs = _filtered_audit(request)
    audit.record(request.user, "audit_export", None, {"filters": request.GET.dict()}, request=request)
    rows = (
        (timezone.localtime(e.at), e.actor_name, e.action, e.object_type, e.object_id, e.object_repr, e.ip)
        for e in qs.iterator(chunk_size=2000)
    )
    data = write_ledger(
        title="审计日志",
        headers=["时间", "操作人", "动作", "对象类型", "对象编号", "对象", "IP"],
        rows=rows,
        note=f"导出人：{request.user.get_username()}；导出时间：{timezone.localtime():%Y-%m-%d %H:%M}",
    )
    return xlsx_response(data, f"审计日志-{timezone.localdate():%Y%m%d}.xlsx")


@role_required(Role.SECADMIN)
@require_GET
def lockouts(request: HttpRequest) -> HttpResponse:
    """Accounts locked by repeated failures, for the security administrator."""
    from axes.models import AccessAttempt

    q = request.GET.get("q", "").strip()
    qs = AccessAttempt.objects.filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT).order_by(
        "-attempt_time"
    )
    if q:
        qs = qs.filter(Q(username__icontains=q))
    page = paginate(request, qs)
    return render(request, "core/lockouts.html", {"page": page, "q": q})


@role_required(Role.SECADMIN)
@require_POST
def unlock(request: HttpRequest) -> HttpResponse:
    """Unlock one account."""
    username = request.POST.get("username", "").strip()
    if not username:
        messages.error(request, "请指定要解锁的账号。")
        return redirect("core:lockouts")
    services.account_unlock(username=username, actor=request.user, request=request)
    messages.success(request, f"账号 {username} 已解锁。")
    return redirect("core:lockouts")


@role_required(Role.SYSADMIN)
@require_http_methods(["GET", "POST"])
def holidays(request: HttpRequest) -> HttpResponse:
    """The admin-editable table of holidays and 调休 workdays, with the years still unarranged."""
    from sizheng.core.calendar import calendar_warnings

    form = HolidayForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            services.holiday_add(actor=request.user, **form.cleaned_data)
            messages.success(request, "已录入。")
            return redirect("core:holidays")
        status = 422
    year = timezone.localdate().year
    page = paginate(request, Holiday.objects.all())
    warnings = calendar_warnings([year, year + 1])
    return render(
        request, "core/holidays.html", {"form": form, "page": page, "warnings": warnings}, status=status
    )


@role_required(Role.SYSADMIN)
@require_POST
def holiday_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove an entered day (the page asks for confirmation first)."""
    holiday = get_object_or_404(Holiday, pk=pk)
    services.holiday_delete(holiday=holiday, actor=request.user)
    messages.success(request, f"已删除 {holiday.day} 的记录。")
    return redirect("core:holidays")


@login_required
@require_GET
def file_download(request: HttpRequest, uid) -> HttpResponse:
    """A stored file, if the user may read what it is attached to."""
    return files.file_response(request.user, uid, request=request)


def error_403(request, exception=None):
    return render(request, "403.html", {"message": str(exception) if exception else ""}, status=403)


def error_404(request, exception=None):
    return render(request, "404.html", status=404)


def error_500(request):
    return render(request, "500.html", status=500)


@role_required(Role.SYSADMIN)
@require_GET
def accounts(request: HttpRequest) -> HttpResponse:
    """Accounts for the system administrator: names, state, last sign-in, roles — no content."""
    from sizheng.core.models import User

    q = request.GET.get("q", "").strip()
    state = request.GET.get("state", "")
    qs = User.objects.order_by("username").prefetch_related("role_grants")
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    if state in ("active", "disabled"):
        qs = qs.filter(is_active=state == "active")
    page = paginate(request, qs)
    return render(request, "core/accounts.html", {"page": page, "q": q, "state": state})


@role_required(Role.SYSADMIN)
@require_POST
def account_action(request: HttpRequest, pk: int) -> HttpResponse:
    """Reset a password, or disable / enable an account."""
    from django.core.exceptions import ValidationError

    from sizheng.core.models import User

    user = get_object_or_404(User, pk=pk)
    action = request.POST.get("action")
    try:
        if action == "reset":
            password = services.user_reset_password(user=user, actor=request.user, request=request)
            return render(request, "core/account_reset.html", {"account": user, "password": password})
        if action in ("disable", "enable"):
            services.user_set_active(
                user=user, active=action == "enable", actor=request.user, request=request
            )
            messages.success(request, f"账号 {user.username} 已{'启用' if action == 'enable' else '停用'}。")
        else:
            messages.error(request, "未知的操作，请从账号列表重新选择。")
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    return redirect("core:accounts")
