"""Forms of the notices screens (the services do the real checks)."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from sizheng.core.models import StoredFile
from sizheng.notices.models import Notice
from sizheng.org.forms import StyledForm
from sizheng.org.models import Org

INDENT = "\u3000"


class OrgChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{INDENT * obj.depth}{obj.name}"


class OrgMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{INDENT * obj.depth}{obj.name}"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern); an empty list when none."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class NoticeForm(StyledForm):
    """A draft notice: issuing org, title, body, audience, receipt requirement, attachments."""

    org = OrgChoiceField(queryset=Org.objects.none(), label="发文组织", empty_label=None)
    title = forms.CharField(label="标题", max_length=200)
    body = forms.CharField(
        label="正文", widget=forms.Textarea(attrs={"rows": 12}),
        help_text="纯文本，换行会保留；文件原件请作为附件上传。",
    )  # fmt: skip
    audience = OrgMultipleChoiceField(
        queryset=Org.objects.none(), label="受文组织", required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text="可多选（按住 Ctrl 或 Shift）；所选组织的下级组织也会收到。不选则发给发文组织下的全部组织。",
    )  # fmt: skip
    requires_receipt = forms.BooleanField(
        label="需要受文组织签收", required=False,
        help_text="勾选后，受文组织的书记或党务干部须点击“签收”；不勾选时，他们阅读即记为“已阅”。",
    )  # fmt: skip
    due_on = forms.DateField(
        label="签收截止日期", required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="需要签收时可填写；截止前一天会提醒尚未签收的组织。",
    )  # fmt: skip
    attachments = MultipleFileField(
        label="附件",
        help_text="可选，可一次选择多个：PDF、OFD、Word、Excel、PPT、WPS、图片、ZIP 或文本文件。",
    )
    remove_attachments = forms.ModelMultipleChoiceField(
        queryset=StoredFile.objects.none(), label="删除已上传的附件", required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, orgs, existing=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orgs
        self.fields["audience"].queryset = orgs
        if existing is None:
            del self.fields["remove_attachments"]
        else:
            self.fields["remove_attachments"].queryset = existing

    def clean(self):
        data = super().clean()
        if data.get("due_on") and not data.get("requires_receipt"):
            self.add_error(
                "due_on", "只有需要签收的通知才设签收截止日期：请勾选“需要受文组织签收”，或清空日期。"
            )
        return data


class ConfirmForm(forms.Form):
    """A confirmation step (publish, delete): the version seen."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class WithdrawForm(StyledForm):
    reason = forms.CharField(
        label="撤回原因", required=False, max_length=200,
        help_text="可选，受文组织打开通知时会看到。",
    )  # fmt: skip
    version = forms.IntegerField(widget=forms.HiddenInput)


class ListFilterForm(StyledForm):
    q = forms.CharField(label="搜索", required=False, max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": "标题或发文组织"}))  # fmt: skip
    state = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *Notice.State.choices])
    year = forms.TypedChoiceField(label="年度", required=False, coerce=int, empty_value=None, choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        this = timezone.localdate().year
        self.fields["year"].choices = [("", "全部年度")] + [(y, f"{y} 年") for y in range(this, this - 6, -1)]

    def filters(self) -> dict:
        if not self.is_valid():
            return {"q": "", "state": "", "year": None}
        return {
            "q": self.cleaned_data["q"].strip(),
            "state": self.cleaned_data["state"],
            "year": self.cleaned_data["year"],
        }


STATUS_CHOICES = [
    ("", "全部"),
    ("unread", "未阅"),
    ("read", "已阅未签收"),
    ("acked", "已签收"),
    ("unacked", "未签收（含未阅）"),
]


class StatusFilterForm(StyledForm):
    status = forms.ChoiceField(label="阅知情况", required=False, choices=STATUS_CHOICES)
    q = forms.CharField(label="组织名称", required=False, max_length=100)

    def filters(self) -> dict:
        if not self.is_valid():
            return {"status": "", "q": ""}
        return {"status": self.cleaned_data["status"], "q": self.cleaned_data["q"].strip()}
