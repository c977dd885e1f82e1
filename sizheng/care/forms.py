"""Forms of the care-case screens: the ledger filter, the self-report and on-behalf forms, and one
form per workflow action. Forms validate input and limit choices to the user's scope; the writes
and the consent rule live in ``services``."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from sizheng.care.models import CareAction, CaseState, Category, ConsentMethod, Handler, Tier
from sizheng.care.workflow import TRANSITIONS
from sizheng.org.forms import StyledForm
from sizheng.org.models import Org

SATISFACTION_CHOICES = [
    (5, "5 分 · 非常满意"),
    (4, "4 分 · 满意"),
    (3, "3 分 · 一般"),
    (2, "2 分 · 不太满意"),
    (1, "1 分 · 不满意"),
]
HANDLER_HELP = (
    "党组织书记：由所在党组织书记了解情况、协调帮扶；工会：由工会帮扶（如困难职工帮扶、医疗互助）。"
)
CONSENT_SENTENCE = (
    "未经本人同意，不能代为登记困难诉求。请先征得本人同意，再如实填写同意的日期和方式；"
    "登记后，本人可以查看该诉求及办理情况。"
)
ACTION_BUTTONS = {"reopen": "btn-outline-danger", "add_action": "btn-outline-primary"}
ACTION_HINTS = {
    "start": "开始办理后，本人会收到“诉求有新进展”的提醒（提醒中不含具体内容）。",
    "resolve": "困难已经解决或帮扶措施已落实到位时办结；属于长期困难的，勾选后每年复核一次。",
    "follow_up": "回访时请询问本人对办理情况的满意度并如实记录；本人也可以自己评价，以本人的评价为准。",
    "rate": "请对办理情况作出评价，您的评价以您本人填写的为准。",
    "reopen": "困难再次出现或没有真正解决时，可以重新打开，承办人会继续跟进。",
    "add_action": "记录走访慰问、帮扶措施等情况；只有本人、承办人和登记人可以查看。",
}


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _textarea(rows: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class CaseFilterForm(StyledForm):
    """Filters of the care-case ledger (GET). No filter on the details: they are T2."""

    org = forms.ModelChoiceField(
        label="党组织（含下级）", queryset=Org.objects.none(), required=False, empty_label="全部"
    )
    state = forms.ChoiceField(label="状态", choices=[("", "全部"), *CaseState.choices], required=False)
    handler = forms.ChoiceField(label="承办方", choices=[("", "全部"), *Handler.choices], required=False)
    date_from = forms.DateField(label="受理日期自", required=False, widget=_date_widget())
    date_to = forms.DateField(label="至", required=False, widget=_date_widget())
    q = forms.CharField(label="当事人姓名", required=False, max_length=50)
    mine = forms.BooleanField(label="只看我承办的", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = Org.objects.visible_to(user).distinct().order_by("path")

    def clean(self):
        """A date range must not run backwards."""
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", "结束日期不能早于开始日期。")
        return data


class CaseForm(StyledForm):
    """What the difficulty is and who should handle it (the person's own report)."""

    category = forms.ChoiceField(
        label="困难类别",
        choices=[("", "请选择"), *Category.choices],
        error_messages={"required": "请选择困难类别。", "invalid_choice": "请选择困难类别。"},
    )
    description = forms.CharField(
        label="困难情况",
        max_length=4000,
        widget=_textarea(5),
        help_text="请简要写明遇到的困难和希望得到的帮助。只有您本人、承办人和登记人可以查看。",
    )
    tier = forms.ChoiceField(
        label="困难程度（可不填）", choices=[("", "不确定"), *Tier.choices], required=False
    )
    handler = forms.ChoiceField(
        label="希望由谁承办",
        choices=Handler.choices,
        initial=Handler.SECRETARY,
        widget=forms.RadioSelect,
        help_text=HANDLER_HELP,
    )


class BehalfForm(CaseForm):
    """Registering a case on a person's behalf (书记 after a talk, or the union): consent first."""

    person = forms.ModelChoiceField(label="当事人", queryset=None, empty_label="请选择")
    consent_on = forms.DateField(
        label="本人同意的日期",
        widget=_date_widget(),
        error_messages={
            "required": "代为登记困难诉求须先征得本人同意，请填写本人同意的日期。",
            "invalid": "请输入有效的日期，如 2026-06-30。",
        },
    )
    consent_method = forms.ChoiceField(
        label="本人同意的方式",
        choices=[("", "请选择"), *ConsentMethod.choices],
        error_messages={"required": "请选择本人同意的方式（当面口头、书面签字或线上确认）。"},
    )
    talk = forms.IntegerField(widget=forms.HiddenInput, required=False)

    field_order = ["person", "category", "description", "tier", "handler", "consent_on", "consent_method"]

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people
        self.fields["person"].label_from_instance = lambda p: (
            f"{p.name}（{p.unit.short_name or p.unit.name}）"
        )
        self.fields["person"].error_messages["invalid_choice"] = (
            "只能为您负责的党组织（或工会联系的单位）的同志登记。"
        )
        self.fields["description"].help_text = "请写明谈话中了解到的困难和本人希望得到的帮助。"


class ActionForm(StyledForm):
    """One workflow action with the fields it needs; ``version`` guards against acting on a stale page."""

    action = forms.CharField(widget=forms.HiddenInput)
    version = forms.IntegerField(
        widget=forms.HiddenInput,
        error_messages={"required": "页面已过期，请刷新后重试。", "invalid": "页面已过期，请刷新后重试。"},
    )
    kind = forms.ChoiceField(
        label="记录类型",
        choices=[(CareAction.Kind.HELP, "帮扶措施"), (CareAction.Kind.VISIT, "走访慰问")],
        required=False,
    )
    satisfaction = forms.TypedChoiceField(
        label="满意度",
        choices=SATISFACTION_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        required=False,
    )
    is_ongoing = forms.BooleanField(label="属于长期困难，每年复核一次", required=False)
    note = forms.CharField(label="说明", max_length=2000, required=False, widget=_textarea(3))

    def __init__(self, data=None, *, action: str, case, **kwargs):
        kwargs.setdefault("auto_id", f"id_{action}_%s")
        kwargs.setdefault(
            "initial", {"action": action, "version": case.version, "is_ongoing": case.is_ongoing}
        )
        super().__init__(data, **kwargs)
        self.transition = TRANSITIONS[action]
        self.action = self.action_name = action
        self.label = self.transition.label
        self.button = ACTION_BUTTONS.get(action, "btn-primary")
        self.hint = ACTION_HINTS.get(action, "")
        keep = {"action", "version", "note", *self.transition.needs}
        if action == "add_action":
            keep.add("kind")
        if action == "resolve":
            keep.add("is_ongoing")
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        if "note" in self.fields:
            self.fields["note"].label = {
                "reopen": "重新打开的原因",
                "add_action": "帮扶情况",
                "resolve": "办结情况（可不填）",
                "follow_up": "回访情况（可不填）",
                "rate": "意见和建议（可不填）",
                "start": "说明（可不填）",
            }.get(action, "说明")
            self.fields["note"].required = "note" in self.transition.needs
            self.fields["note"].error_messages["required"] = (
                "请说明重新打开的原因（如困难再次出现）。" if action == "reopen" else "请填写帮扶情况。"
            )
        if "satisfaction" in self.fields:
            self.fields["satisfaction"].required = True
            self.fields["satisfaction"].error_messages["required"] = (
                "请选择满意度（1–5 分，5 分为非常满意）。"
            )
            if action == "follow_up":
                self.fields["satisfaction"].label = "本人在回访中表示的满意度"

    def clean_action(self):
        if self.cleaned_data["action"] != self.action:
            raise ValidationError("操作不一致，请刷新页面后重试。")
        return self.action

    def service_kwargs(self) -> dict:
        """The cleaned fields as keyword arguments of ``services.care_case_transition``."""
        d = self.cleaned_data
        return {
            "action": self.action,
            "version": d["version"],
            "note": d.get("note") or "",
            "satisfaction": d.get("satisfaction"),
            "is_ongoing": d.get("is_ongoing") if self.action == "resolve" else None,
            "kind": d.get("kind") or "",
        }
