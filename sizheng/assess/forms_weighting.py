"""Forms of the weighting screens: direct weights, a weighting session, an expert's comparison form,
aggregation, entropy from a round, combination, and the list filters."""

from __future__ import annotations

from django import forms

from sizheng.assess import weighting
from sizheng.assess.models import Assessment, Indicator, SessionState, WeightMethod, WeightSet
from sizheng.core.models import User
from sizheng.org.forms import StyledForm


class DirectWeightsForm(StyledForm):
    """A local weight for every scored indicator, grouped by parent (``groups`` for the template)."""

    name = forms.CharField(label="方案名称", max_length=100)

    def __init__(self, *args, indicators: list[Indicator], **kwargs):
        super().__init__(*args, **kwargs)
        self.indicators = indicators
        for ind in indicators:
            self.fields[f"w_{ind.pk}"] = forms.FloatField(
                label=f"{ind.code} {ind.name}",
                min_value=0,
                max_value=1,
                widget=forms.NumberInput(attrs={"step": "0.0001", "inputmode": "decimal"}),
                error_messages={"required": "请填写这一项的权重（0 到 1 之间）。"},
            )
            self.fields[f"w_{ind.pk}"].widget.attrs["class"] = "form-control"
        self.fields["name"].widget.attrs["class"] = "form-control"

    def groups(self) -> list[dict]:
        """[{"parent": name, "fields": [bound field, …]}] in tree order."""
        kids = weighting.children_map(self.indicators)
        by_pk = {i.pk: i for i in self.indicators}
        out = []
        for parent_id, group in kids.items():
            parent = by_pk.get(parent_id) if parent_id else None
            out.append(
                {"parent": weighting.parent_name(parent), "fields": [self[f"w_{i.pk}"] for i in group]}
            )
        return out

    def weights(self) -> dict[int, float]:
        return {ind.pk: self.cleaned_data[f"w_{ind.pk}"] for ind in self.indicators}


def _expert_label(user) -> str:
    return str(user)


class ExpertChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return _expert_label(obj)


class SessionForm(StyledForm):
    title = forms.CharField(label="名称", max_length=100)
    instructions = forms.CharField(
        label="填写说明", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="告诉专家比较时应考虑什么，例如“请按对机关党建工作实效的影响程度比较”。",
    )  # fmt: skip
    experts = ExpertChoiceField(
        label="邀请专家",
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请至少邀请一位专家。"},
        help_text="列出的是持有专家角色的账号；如需邀请新的专家，请先由安全管理员授予专家角色。",
    )
    due_on = forms.DateField(label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    ri_table = forms.ChoiceField(
        label="RI 表（随机一致性指标）", choices=list(weighting.RI_TABLE_LABELS.items())
    )
    priority = forms.ChoiceField(label="排序向量算法", choices=list(weighting.PRIORITY_LABELS.items()))
    threshold = forms.FloatField(
        label="一致性比率阈值",
        initial=0.1,
        min_value=0.01,
        max_value=1,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
        help_text="一致性比率 CR 小于该值才视为通过检验，通常为 0.1。",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["experts"].queryset = weighting.experts_qs()


class JudgmentForm(StyledForm):
    """The n(n−1)/2 pairs of one parent's children, each a select of the 1–9 scale in words."""

    accept_inconsistent = forms.BooleanField(
        label="仍然提交：我确认这些判断反映了我的真实看法，接受一致性检验未通过",
        required=False,
    )

    def __init__(self, *args, elements: list[Indicator], **kwargs):
        super().__init__(*args, **kwargs)
        self.pairs = weighting.all_pairs(elements)
        for a, b in self.pairs:
            choices = [("", "— 请选择 —")] + [
                (code, weighting.scale_label(code, a.name, b.name)) for code in weighting.SCALE_CODES
            ]
            self.fields[f"p_{a.pk}_{b.pk}"] = forms.ChoiceField(
                label=f"{a.name} 与 {b.name} 相比", choices=choices, required=False
            )
            self.fields[f"p_{a.pk}_{b.pk}"].widget.attrs.update(
                {"class": "form-select", "aria-label": f"{a.name} 与 {b.name} 相比，哪个更重要"}
            )

    def rows(self) -> list[dict]:
        return [{"a": a, "b": b, "field": self[f"p_{a.pk}_{b.pk}"]} for a, b in self.pairs]

    def answered(self) -> list[list]:
        """[[a_id, b_id, value], …] of the pairs answered (valid data, or the raw input when invalid)."""
        out = []
        data = self.cleaned_data if self.is_bound and self.is_valid() else None
        for a, b in self.pairs:
            key = f"p_{a.pk}_{b.pk}"
            if data is not None:
                value = data.get(key) or ""
            elif self.is_bound:
                value = self.data.get(key, "")
                value = value if value in weighting.SCALE_CODES else ""
            else:
                value = self.initial.get(key, "")
            if value:
                out.append([a.pk, b.pk, weighting.parse_scale(value)])
        return out

    @staticmethod
    def initial_from(pairs: list[list]) -> dict[str, str]:
        """Initial data from a stored judgment's pairs ([a, b, value], a over b)."""
        out = {}
        for a, b, value in pairs:
            out[f"p_{a}_{b}"] = weighting.scale_code(float(value))
            out[f"p_{b}_{a}"] = weighting.scale_code(1.0 / float(value))
        return out


class AggregateForm(StyledForm):
    name = forms.CharField(label="权重方案名称", max_length=100)
    version = forms.IntegerField(widget=forms.HiddenInput)


class EntropyForm(StyledForm):
    assessment = forms.ModelChoiceField(
        label="考核轮次", queryset=Assessment.objects.none(),
        error_messages={"required": "请选择一个已计算的考核轮次。"},
    )  # fmt: skip
    variant = forms.ChoiceField(label="数据处理", choices=list(weighting.VARIANT_LABELS.items()))
    name = forms.CharField(label="方案名称", max_length=100, required=False,
                           help_text="不填写时为“轮次名称（熵权）”。")  # fmt: skip

    def __init__(self, *args, rounds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assessment"].queryset = rounds


class WeightSetChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: WeightSet) -> str:
        return f"第 {obj.number} 版 · {obj.name}（{obj.get_method_display()}）"


class CombineForm(StyledForm):
    subjective = WeightSetChoiceField(
        label="主观权重（如专家赋权、直接赋权）", queryset=WeightSet.objects.none()
    )
    objective = WeightSetChoiceField(label="客观权重（如熵权）", queryset=WeightSet.objects.none())
    method = forms.ChoiceField(label="组合方法", choices=list(weighting.COMBINE_LABELS.items()))
    alpha = forms.FloatField(
        label="主观权重所占比例 α", initial=0.5, min_value=0, max_value=1, required=False,
        widget=forms.NumberInput(attrs={"step": "0.05"}), help_text="只用于线性加权，0 到 1 之间。",
    )  # fmt: skip
    name = forms.CharField(label="方案名称", max_length=100, required=False,
                           help_text="不填写时自动命名。")  # fmt: skip

    def __init__(self, *args, sets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subjective"].queryset = sets
        self.fields["objective"].queryset = sets

    def clean(self):
        data = super().clean()
        if data.get("subjective") and data.get("subjective") == data.get("objective"):
            self.add_error("objective", "主观权重和客观权重不能是同一个方案，请另选一个。")
        if data.get("method") == "linear" and data.get("alpha") is None:
            self.add_error("alpha", "线性加权需要填写 α（0 到 1 之间）。")
        return data


class SessionFilterForm(StyledForm):
    q = forms.CharField(label="搜索名称", required=False)
    state = forms.ChoiceField(label="状态", required=False, choices=[("", "全部"), *SessionState.choices])


class WeightSetFilterForm(StyledForm):
    q = forms.CharField(label="搜索名称", required=False)
    method = forms.ChoiceField(
        label="赋权方法", required=False, choices=[("", "全部"), *WeightMethod.choices]
    )
