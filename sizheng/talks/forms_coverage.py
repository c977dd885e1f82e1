"""Forms of the coverage and trigger screens."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from sizheng.talks.models import CoverageRule
from sizheng.talks.triggers import MANUAL_REASONS


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput | forms.CheckboxInput):
            continue
        widget.attrs.setdefault(
            "class", "form-select" if isinstance(widget, forms.Select) else "form-control"
        )


class CoverageFilterForm(forms.Form):
    """The coverage page's choices: the org, the year and a name search (all optional)."""

    org = forms.TypedChoiceField(label="党组织", coerce=int, required=False)
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100, required=False)
    q = forms.CharField(label="姓名", max_length=50, required=False)

    def __init__(self, *args, orgs: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org"].choices = orgs
        self.fields["org"].error_messages["invalid_choice"] = "请选择您范围内的党组织。"
        _style(self)


class CoverageRuleForm(forms.Form):
    """What an administrator may change in a coverage rule: count, severity, in force."""

    count = forms.IntegerField(
        label="每年至少次数",
        min_value=1,
        max_value=24,
        error_messages={"required": "请填写每年至少谈话次数。", "min_value": "每年次数至少为 1。",
                        "max_value": "每年次数不能超过 24。", "invalid": "请填写整数。"},
    )  # fmt: skip
    severity = forms.ChoiceField(
        label="未达到时",
        choices=CoverageRule.Severity.choices,
        error_messages={"required": "请选择严重程度。"},
    )
    is_active = forms.BooleanField(
        label="启用", required=False, widget=forms.CheckboxInput(attrs={"class": "form-check-input"})
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["severity"].error_messages["invalid_choice"] = "请选择有效的严重程度。"
        self.fields["version"].error_messages["required"] = "页面已过期，请刷新后重新填写。"
        self.fields["severity"].help_text = "“一般”应当做到的为预警，“至少/应当”为违规。"
        _style(self)


class TriggerForm(forms.Form):
    """A secretary records an event that makes a talk due (家庭重大变化, 组织处理, 思想波动)."""

    reason = forms.ChoiceField(
        label="必谈原因",
        choices=[(r.value, r.label) for r in MANUAL_REASONS],
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"required": "请选择必谈原因。", "invalid_choice": "请选择必谈原因。"},
    )
    occurred_on = forms.DateField(
        label="发生日期",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "请填写发生日期。", "invalid": "请按 2026-09-28 的格式填写日期。"},
    )
    note = forms.CharField(
        label="情况说明（可选）",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="只有该党组织书记能看到，查看会记入审计日志。请勿填写与谈话无关的个人隐私。",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _style(self)

    def clean_occurred_on(self):
        day = self.cleaned_data["occurred_on"]
        if day > timezone.localdate():
            raise ValidationError("发生日期不能晚于今天。")
        return day


STATE_CHOICES = [("open", "待谈话"), ("overdue", "已逾期"), ("done", "已谈话"), ("all", "全部")]


class TriggerFilterForm(forms.Form):
    """The trigger list's filters: state, org and a name search."""

    state = forms.ChoiceField(label="状态", choices=STATE_CHOICES, required=False)
    org = forms.TypedChoiceField(label="党组织", coerce=int, required=False)
    q = forms.CharField(label="姓名", max_length=50, required=False)

    def __init__(self, *args, orgs: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org"].choices = [("", "全部党组织"), *orgs]
        _style(self)
