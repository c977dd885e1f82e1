"""Forms of the compliance screens (heatmap filters, exemptions, local rules) and the rule writes.

The rule writes live here rather than in ``services.py`` only because that module was being edited
by others at the same time; they are audited like every service and may move there unchanged.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction

from sizheng.core import audit
from sizheng.core.rules import Period
from sizheng.life import compliance
from sizheng.life.models import ComplianceRule, MeetingKind
from sizheng.org.models import Org

GRAINS = [("month", "按月"), ("quarter", "按季度")]
# The order of the heatmap's summary rows (when it summarises many orgs).
SORTS = [("problems", "未达标多的在前"), ("tree", "按组织顺序")]
# The org kinds a rule may bind: the ones that hold organisational life of their own.
_BINDABLE = ("branch", "group", "leading_group", "general_branch", "committee")
RULE_ORG_KINDS = sorted(
    ((v, str(label)) for v, label in Org.Kind.choices if v in _BINDABLE), key=lambda c: _BINDABLE.index(c[0])
)
# Messages of core.rules.Rule's ValueErrors, in Chinese, by a fragment of the English text.
RULE_ERRORS = [
    ("binds no org kind", "org_kinds", "请至少选择一种适用的组织类型。"),
    ("count must be", "count", "次数至少为 1。"),
    ("within must be", "within", "限定时段只能用于“每年”的规则，且须为 Q1–Q4、H1–H2 或 M01–M12。"),
    ("effective_from is after", "effective_to", "失效日期不能早于生效日期。"),
    ("unknown period", "period", "请选择有效的周期。"),
    ("unknown severity", "severity", "请选择有效的严重程度。"),
]


class HeatmapForm(forms.Form):
    """The heatmap's filters: year, grain, activity, the subtree and the summary's order (all optional)."""

    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100, required=False)
    grain = forms.ChoiceField(label="粒度", choices=GRAINS, required=False)
    kind = forms.ChoiceField(label="活动", required=False)
    sort = forms.ChoiceField(label="排序", choices=SORTS, required=False)
    under = forms.IntegerField(label="组织", required=False, widget=forms.HiddenInput)

    def __init__(self, *args, kinds: list[tuple[str, str]], **kwargs) -> None:
        """Offer "all" and the activities that have an active rule."""
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("all", "全部活动"), *kinds]
        for name in ("year", "grain", "kind", "sort"):
            self.fields[name].widget.attrs["class"] = "form-select" if name != "year" else "form-control"

    def values(self, today) -> dict:
        """The cleaned filters with defaults (this year, by month, all activities, gaps first).

        A bad value falls back to its default alone: the others keep theirs."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "year": data.get("year") or today.year,
            "grain": data.get("grain") or "month",
            "kind": data.get("kind") or "all",
            "sort": data.get("sort") or "problems",
            "under": data.get("under"),
        }


class ExemptionForm(forms.Form):
    """An exemption of one org from one rule for one period, with the reason (required)."""

    rule = forms.ModelChoiceField(
        label="规则", queryset=ComplianceRule.objects.filter(is_active=True), to_field_name="code"
    )
    period_key = forms.CharField(label="期间", max_length=10, help_text="如 2026-07、2026-Q3 或 2026。")
    reason = forms.CharField(
        label="豁免理由",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "豁免须写明理由。"},
    )

    def __init__(self, *args, **kwargs) -> None:
        """Chinese messages for the choice and the period key."""
        super().__init__(*args, **kwargs)
        self.fields["rule"].error_messages["invalid_choice"] = "请选择一条启用中的规则。"
        self.fields["rule"].error_messages["required"] = "请选择规则。"
        self.fields["period_key"].error_messages["required"] = "请填写期间。"

    def clean_period_key(self) -> str:
        """A key core.rules can read."""
        key = self.cleaned_data["period_key"].strip()
        try:
            Period.parse(key)
        except ValueError:
            raise ValidationError("期间格式应为 2026-07、2026-Q3、2026-H2 或 2026。") from None
        return key

    def clean_reason(self) -> str:
        """A reason that is more than blanks."""
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError("豁免须写明理由。")
        return reason


class RuleForm(forms.ModelForm):
    """A local rule (all fields) or a national default (only whether it is in force)."""

    org_kinds = forms.MultipleChoiceField(
        label="适用组织类型", choices=RULE_ORG_KINDS, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ComplianceRule
        fields = [
            "code",
            "label",
            "activity",
            "org_kinds",
            "count",
            "period",
            "within",
            "severity",
            "source",
            "scope_org",
            "effective_from",
            "effective_to",
            "is_active",
        ]
        widgets = {
            "effective_from": forms.DateInput(attrs={"type": "date"}),
            "effective_to": forms.DateInput(attrs={"type": "date"}),
            "source": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, orgs=None, **kwargs) -> None:
        """Lock a national default's content; only ``is_active`` stays editable."""
        super().__init__(*args, **kwargs)
        if orgs is not None:
            self.fields["scope_org"].queryset = orgs
        self.fields["scope_org"].required = False
        self.fields["activity"].choices = MeetingKind.choices
        if self.instance.pk:
            self.initial["org_kinds"] = [k.strip() for k in self.instance.org_kinds.split(",") if k.strip()]
            self.fields["code"].disabled = True
        if self.instance.pk and not self.instance.is_local:
            for name, field in self.fields.items():
                if name != "is_active":
                    field.disabled = True
        for name, field in self.fields.items():
            if name in ("org_kinds", "is_active"):
                continue
            field.widget.attrs.setdefault("class", "form-select" if name in _SELECTS else "form-control")

    def clean_code(self) -> str:
        """A unique code for a new local rule."""
        code = self.cleaned_data["code"].strip().upper()
        others = ComplianceRule.objects.filter(code=code).exclude(pk=self.instance.pk)
        if not self.instance.pk and others.exists():
            raise ValidationError("该规则编号已被使用，请换一个编号。")
        return code

    def clean_org_kinds(self) -> str:
        """Stored comma-separated, as core.rules reads it."""
        return ",".join(self.cleaned_data["org_kinds"])

    def clean(self) -> dict:
        """Check the rule through core.rules.Rule, turning its errors into Chinese form errors."""
        data = super().clean()
        if self.errors:
            return data
        row = self.instance
        for name in self._meta.fields:
            if name in data:
                setattr(row, name, data[name])
        try:
            compliance.to_rule(row)
        except ValueError as exc:
            text = str(exc)
            for fragment, field, message in RULE_ERRORS:
                if fragment in text:
                    self.add_error(field if field in self.fields else None, message)
                    break
            else:
                self.add_error(None, "这条规则无法检查，请核对活动、次数、周期和限定时段。")
        return data


_SELECTS = {"activity", "period", "severity", "scope_org"}


@transaction.atomic
def rule_create(*, actor, form: RuleForm) -> ComplianceRule:
    """Save a new local rule (always ``is_local``), with an audit row."""
    row = form.save(commit=False)
    row.is_local = True
    row.save()
    compliance.data_changed()
    audit.record(actor, "compliance_rule_create", row, {"code": row.code, "scope_org": row.scope_org_id})
    return row


@transaction.atomic
def rule_update(*, actor, form: RuleForm) -> ComplianceRule:
    """Save changes to a rule (a national default: only whether it is in force), with an audit row."""
    changed = sorted(form.changed_data)
    row = form.save()
    if changed:
        compliance.data_changed()
        audit.record(actor, "compliance_rule_update", row, {"code": row.code, "fields": changed,
                                                            "is_active": row.is_active})  # fmt: skip
    return row
