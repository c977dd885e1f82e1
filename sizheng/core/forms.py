"""Forms of the core screens."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm

from sizheng.core.models import Holiday


class LoginForm(AuthenticationForm):
    """The login form with Chinese messages."""

    error_messages = {
        "invalid_login": "用户名或密码不正确。连续输错 5 次账号将被锁定。",
        "inactive": "该账号已停用，请联系系统管理员。",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "用户名"
        self.fields["password"].label = "密码"
        self.fields["username"].widget.attrs.update({"class": "form-control", "autocomplete": "username"})
        self.fields["password"].widget.attrs.update(
            {"class": "form-control", "autocomplete": "current-password"}
        )


class ChangePasswordForm(PasswordChangeForm):
    """Password change with Chinese labels."""

    error_messages = {
        **PasswordChangeForm.error_messages,
        "password_incorrect": "原密码不正确，请重新输入。",
        "password_mismatch": "两次输入的新密码不一致。",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "原密码"
        self.fields["new_password1"].label = "新密码"
        self.fields["new_password2"].label = "确认新密码"
        for f in self.fields.values():
            f.widget.attrs["class"] = "form-control"

    def clean_new_password1(self):
        pw = self.cleaned_data.get("new_password1")
        if pw and self.user.check_password(pw):
            raise forms.ValidationError("新密码不能与原密码相同。")
        return pw


class OtpForm(forms.Form):
    """A 6-digit TOTP code."""

    token = forms.RegexField(
        label="动态验证码",
        regex=r"^\d{6}$",
        error_messages={
            "invalid": "请输入认证器应用上显示的 6 位数字。",
            "required": "请输入 6 位动态验证码。",
        },
        widget=forms.TextInput(
            attrs={"class": "form-control", "autocomplete": "one-time-code", "inputmode": "numeric"}
        ),
    )


class HolidayForm(forms.ModelForm):
    """Add a holiday or a 调休 workday."""

    class Meta:
        model = Holiday
        fields = ["day", "kind", "name"]
        widgets = {
            "day": forms.DateInput(attrs={"type": "date", "class": "form-control"}),
            "kind": forms.Select(attrs={"class": "form-select"}),
            "name": forms.TextInput(attrs={"class": "form-control", "placeholder": "如：春节"}),
        }
        error_messages = {"day": {"unique": "这一天已经录入过了；如需修改，请先删除原记录。"}}


class AuditFilterForm(forms.Form):
    """Filters of the audit log."""

    q = forms.CharField(label="操作人", required=False)
    action = forms.CharField(label="动作", required=False)
    object_type = forms.CharField(label="对象类型", required=False)
    since = forms.DateField(label="起始日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            f.widget.attrs.setdefault("class", "form-control")

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("起始日期不能晚于截止日期。")
        return data
