"""Forms of the wellbeing pathway: the screening, deletion by code, contact request, the caseload."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone

from sizheng.care import instruments, wellbeing

CONSENT_TEXT = (
    "我已阅读并同意：本平台为完成本次心理自评处理我的健康信息（各题答案、总分和结果分级）。"
    "匿名自评不保存任何能识别我身份的信息；实名自评的结果只有心理咨询员能看到，"
    "我的上级、书记和单位领导都看不到，也不会用于任何考核；我可以随时删除本人的自评记录。"
)
MODE_CHOICES = [
    ("anonymous", "匿名（默认）：不保存姓名，结果只在本页显示一次，凭删除码可删除"),
    ("named", "实名：保存在我的记录中，结果提示需要帮助时会通知心理咨询员主动联系我"),
]

_TEXT = {"class": "form-control"}


class ScreeningForm(forms.Form):
    """A PHQ-9 or GAD-7 questionnaire with the separate consent and the anonymous/named choice."""

    consent = forms.BooleanField(
        label="同意处理健康信息",
        help_text=CONSENT_TEXT,
        error_messages={"required": wellbeing.MSG_CONSENT},
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    mode = forms.ChoiceField(
        label="提交方式",
        choices=MODE_CHOICES,
        initial="anonymous",
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"required": "请选择匿名或实名提交。", "invalid_choice": "请选择匿名或实名提交。"},
    )

    def __init__(self, *args, instrument: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.instrument = instruments.get(instrument)
        choices = [(str(v), label) for v, label in instruments.OPTIONS]
        for n, text in enumerate(self.instrument.items, start=1):
            self.fields[f"item_{n}"] = forms.TypedChoiceField(
                label=f"{n}. {text}",
                choices=choices,
                coerce=int,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                error_messages={
                    "required": f"请回答第 {n} 题。",
                    "invalid_choice": f"第 {n} 题的答案无效，请重新选择。",
                },
            )

    def item_fields(self) -> list:
        return [self[f"item_{n}"] for n in range(1, len(self.instrument.items) + 1)]

    def answers(self) -> list[int]:
        return [self.cleaned_data[f"item_{n}"] for n in range(1, len(self.instrument.items) + 1)]

    @property
    def anonymous(self) -> bool:
        return self.cleaned_data.get("mode", "anonymous") != "named"


class DeletionCodeForm(forms.Form):
    """The deletion code of an anonymous screening, typed back."""

    code = forms.CharField(
        label="删除码",
        max_length=40,
        help_text="提交匿名自评后页面上显示的 16 位删除码，大小写和短横线均可忽略。",
        error_messages={"required": "请输入删除码。"},
        widget=forms.TextInput(
            attrs={**_TEXT, "autocomplete": "off", "placeholder": "如 K7QX-M2PA-9RTD-HB4N"}
        ),
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"]
        try:
            wellbeing.normalize_code(code)
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["code"]) from None
        return code


class ContactForm(forms.Form):
    """ "请心理咨询员联系我", with an optional note on how and when (T3)."""

    how = forms.CharField(
        label="怎样、什么时间联系您方便（可不填）",
        required=False,
        max_length=500,
        help_text="例如：工作日中午打我手机；或者请发平台通知约时间。只有心理咨询员能看到。",
        error_messages={"max_length": "联系方式与方便时间请控制在 500 字以内。"},
        widget=forms.Textarea(attrs={**_TEXT, "rows": 3}),
    )


class VersionForm(forms.Form):
    """A POST carrying the version the page was rendered with (stale → 409)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class NoteForm(forms.Form):
    """A session note (T3)."""

    note = forms.CharField(
        label="辅导记录",
        max_length=5000,
        error_messages={"required": "请填写辅导记录。"},
        widget=forms.Textarea(attrs={**_TEXT, "rows": 4}),
    )


class AppointmentForm(forms.Form):
    """An appointment: when and where."""

    starts_at = forms.DateTimeField(
        label="预约时间",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        error_messages={"required": "请填写预约时间。", "invalid": "预约时间格式不正确，请重新选择。"},
        widget=forms.DateTimeInput(attrs={**_TEXT, "type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    place = forms.CharField(label="地点", max_length=100, required=False, widget=forms.TextInput(attrs=_TEXT))

    def clean_starts_at(self):
        value = self.cleaned_data["starts_at"]
        if value < timezone.now() - timedelta(days=1):
            raise forms.ValidationError("预约时间不能早于昨天，请重新选择。")
        return value


class ReferForm(VersionForm):
    """A referral."""

    referral = forms.CharField(
        label="转介去向和情况",
        max_length=2000,
        error_messages={"required": "请填写转介去向和情况。"},
        widget=forms.Textarea(attrs={**_TEXT, "rows": 3}),
    )


class CloseForm(VersionForm):
    """Closing a case."""

    closing_note = forms.CharField(
        label="结案说明",
        max_length=2000,
        error_messages={"required": "请填写结案说明。"},
        widget=forms.Textarea(attrs={**_TEXT, "rows": 3}),
    )


class HandoverForm(VersionForm):
    """Handing a case to another counselor covering the org."""

    to = forms.ModelChoiceField(
        label="转交给",
        queryset=None,
        empty_label="请选择心理咨询员",
        error_messages={
            "required": "请选择要转交的心理咨询员。",
            "invalid_choice": "只能转交给负责该党组织的其他心理咨询员。",
        },
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        from sizheng.core.models import User

        self.fields["to"].queryset = User.objects.filter(pk__in=[u.pk for u in candidates]).order_by("pk")
        self.fields["to"].label_from_instance = lambda u: u.display_name or u.get_username()
