"""Forms of the funds screens (plain POST forms; amounts are Decimal, the services do the real checks)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone

from sizheng.funds import money
from sizheng.funds.models import ActivityKind, Category

TEXT = {"class": "form-control"}
SELECT = {"class": "form-select"}
DATE = {"class": "form-control", "type": "date"}
AMOUNT = {"class": "form-control text-end", "inputmode": "decimal", "autocomplete": "off"}


class AmountField(forms.Field):
    """A sum of money typed by a person ("1,234.50", "¥300"): a Decimal with two places, never a float."""

    def __init__(self, *args, allow_zero: bool = True, **kwargs):
        self.allow_zero = allow_zero
        kwargs.setdefault("widget", forms.TextInput(attrs={**AMOUNT, "maxlength": 32}))
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        text = str(value).strip() if value is not None else ""
        if text in self.empty_values:
            return None
        try:
            return money.parse(text, allow_zero=self.allow_zero, label=str(self.label or "金额"))
        except money.AmountError as exc:
            raise forms.ValidationError(str(exc)) from None

    def prepare_value(self, value):
        return money.to_text(value) if isinstance(value, Decimal) else value


def _years() -> list[tuple[int, int]]:
    this = timezone.localdate().year
    return [(y, f"{y} 年") for y in range(this + 1, this - 6, -1)]


class BudgetForm(forms.Form):
    """A unit's yearly budget: one amount per category (blank = 0), a note, the version seen."""

    note = forms.CharField(
        label="说明", required=False, max_length=500, widget=forms.Textarea(attrs={**TEXT, "rows": 2}),
        help_text="如预算来源、批复文号或年中调整的原因。",
    )  # fmt: skip
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code, label in Category.choices:
            self.fields[f"amount_{code}"] = AmountField(label=f"{label}（元）", required=False)
        # The amounts first, then the note.
        self.order_fields([f"amount_{c}" for c in Category.values] + ["note", "version"])

    def amounts(self) -> dict[str, Decimal | None]:
        return {c: self.cleaned_data.get(f"amount_{c}") for c in Category.values}


class SpendingForm(forms.Form):
    """A spending record: unit, date, amount, category, purpose, the activity served, a receipt."""

    unit = forms.ModelChoiceField(
        queryset=None, label="单位", widget=forms.Select(attrs=SELECT), empty_label=None
    )
    spent_on = forms.DateField(label="支出日期", widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    amount = AmountField(label="支出金额（元）", allow_zero=False, help_text="精确到分，例如 1286.40。")
    category = forms.ChoiceField(
        label="经费类别", choices=Category.choices, widget=forms.Select(attrs=SELECT)
    )
    purpose = forms.CharField(label="用途", max_length=200, widget=forms.TextInput(attrs=TEXT))
    activity_kind = forms.ChoiceField(
        label="服务的活动", required=False, choices=[("", "（不关联）"), *ActivityKind.choices],
        widget=forms.Select(attrs=SELECT),
        help_text="支出用于某次会议、某件困难诉求的慰问或某次学习培训时，选择类型并填写其编号（可在对应页面的地址中看到）。",
    )  # fmt: skip
    activity_id = forms.IntegerField(
        label="活动编号", required=False, min_value=1, widget=forms.NumberInput(attrs=TEXT)
    )
    receipt = forms.FileField(
        label="票据凭证", required=False, widget=forms.ClearableFileInput(attrs=TEXT),
        help_text="可选：电子发票（OFD、PDF）或票据扫描件、照片（JPG、PNG）。",
    )  # fmt: skip
    remove_receipt = forms.BooleanField(label="删除已上传的票据凭证", required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    error_messages = {"activity": "选择了活动类型时请填写活动编号；不关联活动时请留空编号。"}

    def __init__(self, *args, units=None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        if editing:
            # A record stays with its unit; moving it would change two units' ledgers at once.
            del self.fields["unit"]
        else:
            del self.fields["remove_receipt"]
            self.fields["spent_on"].initial = timezone.localdate()

    def clean(self):
        data = super().clean()
        kind, pk = data.get("activity_kind"), data.get("activity_id")
        if bool(kind) != (pk is not None) and "activity_id" not in self.errors:
            self.add_error("activity_id", self.error_messages["activity"])
        return data


class SpendingFilterForm(forms.Form):
    """Filters of the spending list and the ledger (the year is always set: a ledger is a year's)."""

    unit = forms.ModelChoiceField(
        queryset=None, label="单位", required=False, widget=forms.Select(attrs=SELECT), empty_label="全部单位"
    )
    year = forms.TypedChoiceField(label="年度", coerce=int, choices=(), widget=forms.Select(attrs=SELECT))
    category = forms.ChoiceField(
        label="类别",
        required=False,
        choices=[("", "全部类别"), *Category.choices],
        widget=forms.Select(attrs=SELECT),
    )
    q = forms.CharField(label="用途", required=False, max_length=100, widget=forms.TextInput(attrs=TEXT))
    since = forms.DateField(
        label="起始日期", required=False, widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d")
    )
    until = forms.DateField(
        label="截止日期", required=False, widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d")
    )

    def __init__(self, data=None, *, units=None):
        data = data.copy() if data is not None else {}
        data.setdefault("year", str(timezone.localdate().year))
        super().__init__(data)
        self.fields["unit"].queryset = units
        self.fields["year"].choices = _years()

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("起始日期不能晚于截止日期。")
        return data

    def filters(self) -> dict:
        """The valid filters (year falls back to this year when the input was invalid)."""
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "unit": data.get("unit"),
            "year": data.get("year") or timezone.localdate().year,
            "category": data.get("category") or "",
            "q": (data.get("q") or "").strip(),
            "since": data.get("since"),
            "until": data.get("until"),
        }


class DeleteForm(forms.Form):
    """The confirmation of a delete: the version the user saw."""

    version = forms.IntegerField(widget=forms.HiddenInput)
