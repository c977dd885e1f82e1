"""Forms of the indicator-system screens: the list filter, a system's settings, the shipped systems,
copying, the indicator form (scoring parameters as plain fields, assembled into ``rule``) and the
table import. The services (``assess.systems``, ``assess.tableio``) do the real checks; these forms
turn text into numbers and lists."""

from __future__ import annotations

import re

from django import forms
from django.utils import timezone

from sizheng.assess import systems
from sizheng.assess.models import (
    Indicator,
    IndicatorKind,
    IndicatorSystem,
    MissingPolicy,
    RuleKind,
    SystemKind,
    SystemState,
    ValueSource,
)
from sizheng.org.forms import StyledForm

XLSX_SIGNATURE = b"PK\x03\x04"
OTHER_WORDS = {"其余", "其他", "以下", "*", "—", "-"}


def _years(extra: int | None = None) -> list[tuple[int, str]]:
    this = timezone.localdate().year
    years = set(range(this - 3, this + 3)) | ({extra} if extra else set())
    return [(y, f"{y} 年") for y in sorted(years, reverse=True)]


def _number(text: str, what: str) -> float:
    try:
        value = float(text.replace("%", "").replace("％", ""))
    except ValueError:
        raise forms.ValidationError(f"“{text}”不是数字，请检查{what}。") from None
    return value


class SystemFilterForm(StyledForm):
    q = forms.CharField(label="名称", required=False, max_length=50,
                        widget=forms.TextInput(attrs={"placeholder": "按体系名称搜索", "type": "search"}))  # fmt: skip
    year = forms.TypedChoiceField(label="年度", required=False, coerce=int, empty_value=None)
    kind = forms.ChoiceField(label="类型", required=False, choices=[("", "全部类型"), *SystemKind.choices])
    state = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *SystemState.choices])

    def __init__(self, *args, years: list[int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", "全部年度"), *[(y, f"{y} 年") for y in (years or [])]]

    def filter(self, qs):
        if not self.is_valid():
            return qs
        d = self.cleaned_data
        if d.get("q"):
            qs = qs.filter(name__icontains=d["q"].strip())
        if d.get("year"):
            qs = qs.filter(year=d["year"])
        if d.get("kind"):
            qs = qs.filter(kind=d["kind"])
        if d.get("state"):
            qs = qs.filter(state=d["state"])
        return qs


# --- a system's settings -------------------------------------------------------------------------


def bands_text(bands: list[dict]) -> str:
    return "\n".join(
        f"{b['grade']} {systems.num(b['min'])}" if b.get("min") is not None else b["grade"] for b in bands
    )


def caps_text(caps: list[dict]) -> str:
    return "\n".join(
        f"{c['indicator']} {systems.num(c['below'])} {c['max_grade']} {c.get('label', '')}".rstrip()
        for c in caps
    )


def parse_bands(text: str) -> list[dict]:
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        parts = line.replace("≥", " ").replace("，", " ").replace(",", " ").split()
        if not parts:
            continue
        if len(parts) > 2:
            raise forms.ValidationError(f"第 {n} 行应写成“等次 分数线”，例如“好 90”；最后一个等次只写名称。")
        out.append({"grade": parts[0], "min": _number(parts[1], "分数线") if len(parts) == 2 else None})
    return out


def parse_caps(text: str) -> list[dict]:
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        parts = line.replace("，", " ").split(maxsplit=3)
        if not parts:
            continue
        if len(parts) < 3:
            raise forms.ValidationError(
                f"第 {n} 行应写成“指标编号 界限 最高等次 说明”，例如“7.1 90 一般 满意率低于 90% 不能评为好或较好”。"
            )
        out.append({"indicator": parts[0], "below": _number(parts[1], "界限"), "max_grade": parts[2],
                    "label": parts[3] if len(parts) > 3 else ""})  # fmt: skip
    return out


class SystemForm(StyledForm):
    name = forms.CharField(label="体系名称", max_length=100)
    year = forms.TypedChoiceField(label="年度", coerce=int)
    kind = forms.ChoiceField(label="类型", choices=SystemKind.choices, initial=SystemKind.CUSTOM)
    description = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text="体系的适用范围、依据和计分总体说明，会显示在体系页面和导出的评分表中。")  # fmt: skip
    grade_bands = forms.CharField(
        label="等次划分", widget=forms.Textarea(attrs={"rows": 4}),
        help_text="每行一个等次，从高到低，写“等次 分数线”，例如“好 90”；最后一个等次只写名称（低于上一等次的都归入它）。",
    )  # fmt: skip
    caps = forms.CharField(
        label="等次上限规则", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="每行一条：“指标编号 界限 最高等次 说明”，表示该指标的取值低于界限时等次不高于所写等次，"
        "例如“7.1 90 一般 满意率低于 90% 不能评为好或较好”。最高等次写最低一档即为否决。",
    )  # fmt: skip
    bonus_cap = forms.FloatField(label="加分上限（分）", min_value=0, max_value=100, initial=5,
                                 help_text="各加分项合计最多加多少分；不设加分填 0。")  # fmt: skip
    self_share = forms.FloatField(label="自评占比（%）", min_value=0, max_value=100, initial=40,
                                  help_text="“自评与考核组评分合成”的指标中自评所占的比例，例如 40 表示自评 40%、考核组 60%。")  # fmt: skip
    missing_policy = forms.ChoiceField(label="缺数处理", choices=MissingPolicy.choices)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, system: IndicatorSystem | None = None, **kwargs):
        if system is not None:
            kwargs.setdefault("initial", {}).update(
                name=system.name, year=system.year, kind=system.kind, description=system.description,
                grade_bands=bands_text(system.grade_bands), caps=caps_text(system.caps or []),
                bonus_cap=system.bonus_cap, self_share=round(system.self_share * 100, 4),
                missing_policy=system.missing_policy, version=system.version,
            )  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = _years(system.year if system else None)
        if system is not None:  # the year and kind of a version are fixed: copy it to another year instead
            del self.fields["year"], self.fields["kind"]
        else:
            self.initial.setdefault("year", timezone.localdate().year)
            self.initial.setdefault("grade_bands", bands_text(IndicatorSystem().grade_bands))

    def clean_grade_bands(self):
        return parse_bands(self.cleaned_data["grade_bands"])

    def clean_caps(self):
        return parse_caps(self.cleaned_data.get("caps") or "")

    def clean_self_share(self):
        return self.cleaned_data["self_share"] / 100


class BuiltinForm(StyledForm):
    kind = forms.ChoiceField(
        label="内置体系", widget=forms.RadioSelect,
        choices=[(SystemKind.CLASSIFY, "基层党组织分类定级（百分制评分表：7 项一级指标、加分、一票否决）"),
                 (SystemKind.THOUGHT, "思想政治工作测评（6 项一级指标，多数指标从平台数据自动取数）")],
    )  # fmt: skip
    year = forms.TypedChoiceField(label="年度", coerce=int)
    publish = forms.BooleanField(
        label="直接发布（不勾选则建为草稿，可先调整指标再发布）", required=False, initial=True
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = _years()
        self.initial.setdefault("year", timezone.localdate().year)


class CopyForm(StyledForm):
    year = forms.TypedChoiceField(label="新版本的年度", coerce=int)

    def __init__(self, *args, system: IndicatorSystem, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = _years(system.year + 1)
        self.initial.setdefault("year", system.year + 1)


class VersionForm(forms.Form):
    """A confirmation step that carries the version the page showed."""

    version = forms.IntegerField(widget=forms.HiddenInput)


# --- indicators ----------------------------------------------------------------------------------


class ParentField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Indicator) -> str:
        return f"{obj.code} {obj.name}"


def _plain(value):
    """A whole float as an int for the form ("4", not "4.0"); weights keep their digits."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def bands_rule_text(rule: dict) -> str:
    return "\n".join(
        f"{'其余' if b.get('min') is None else systems.num(b['min'])} {systems.num(b.get('score'))}"
        for b in rule.get("bands") or []
    )


def parse_score_bands(text: str) -> list[dict]:
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        parts = re.split(r"[\s,，:：]+", line.replace("≥", " ").strip())
        parts = [p for p in parts if p]
        if not parts:
            continue
        if len(parts) != 2:
            raise forms.ValidationError(f"第 {n} 行应写成“最低值 得分率”，例如“90 100”；最后一行写“其余 0”。")
        low = None if parts[0] in OTHER_WORDS else _number(parts[0], "分档的最低值")
        out.append({"min": low, "score": _number(parts[1], "分档的得分率")})
    return out


class IndicatorForm(StyledForm):
    parent = ParentField(label="上级指标", queryset=Indicator.objects.none(), required=False,
                         empty_label="无（一级指标、加分项或一票否决项）")  # fmt: skip
    code = forms.CharField(label="编号", max_length=20, help_text="例如 1、1.2；加分项 B1，一票否决项 V1。")
    name = forms.CharField(label="指标名称", max_length=100)
    kind = forms.ChoiceField(label="类别", choices=IndicatorKind.choices, initial=IndicatorKind.SCORED)
    weight = forms.FloatField(
        label="权重（同一上级下各指标之和为 1）", min_value=0, max_value=1, required=False, initial=0,
        help_text="本级权重，例如 0.4。加分项和一票否决项不设权重。也可以在“权重方案”中用层次分析法、熵权法确定权重。",
    )  # fmt: skip
    order = forms.IntegerField(label="排序", min_value=0, max_value=32767, required=False,
                               help_text="同一上级下按此数字从小到大排列；不填排在最后。")  # fmt: skip
    key_points = forms.CharField(label="评分要点", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    method_text = forms.CharField(label="评分办法", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    source = forms.ChoiceField(label="取值来源", choices=ValueSource.choices, initial=ValueSource.ASSESSOR)
    metric_name = forms.ChoiceField(label="自动取数指标", required=False,
                                    help_text="取值来源为“平台数据自动取数”时选择；只列出可用于考核的统计指标。")  # fmt: skip
    rule_kind = forms.ChoiceField(label="计分方式", choices=RuleKind.choices, initial=RuleKind.DIRECT)
    max_score = forms.FloatField(label="满分", min_value=0.01, max_value=1000, initial=10,
                                 help_text="直接评分时取值的上限；按事项扣分时的起扣分；加分项最多可加的分数。")  # fmt: skip
    zero_at = forms.FloatField(label="零分点", required=False, help_text="线性折算：取值到此得 0 分。")
    full_at = forms.FloatField(label="满分点", required=False,
                               help_text="线性折算：取值到此得满分；比零分点小表示越低越好。")  # fmt: skip
    per_event = forms.FloatField(label="每项扣分（加分项：每项加分）", required=False, min_value=0.01,
                                 help_text="按事项扣分：每发生一项扣几分。加分项：每项加几分，不填表示取值就是加分分值。")  # fmt: skip
    max_deduction = forms.FloatField(label="最多扣分", required=False, min_value=0.01,
                                     help_text="按事项扣分：最多扣几分；不填则扣完为止。")  # fmt: skip
    bands = forms.CharField(
        label="分档", required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="分档计分：每行“最低值 得分率（0—100）”，从高到低，最后一行写“其余 得分率”，例如“90 100”“80 80”“其余 0”。",
    )  # fmt: skip
    evidence_required = forms.BooleanField(label="自评时须上传佐证材料", required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, system: IndicatorSystem, indicator: Indicator | None = None, **kwargs):
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("version", system.version)
        self._unit = None
        if indicator is not None:
            rule = indicator.rule or {}
            self._unit = rule.get("unit")  # kept on save: the form has no field for it
            initial.update(
                {f: _plain(getattr(indicator, f)) for f in systems.INDICATOR_FIELDS if f != "rule"}
            )
            initial.update(
                parent=indicator.parent_id, zero_at=_plain(rule.get("zero_at")), full_at=_plain(rule.get("full_at")),
                per_event=_plain(rule.get("per_event")), max_deduction=_plain(rule.get("max_deduction")),
                bands=bands_rule_text(rule),
            )  # fmt: skip
        super().__init__(*args, **kwargs)
        parents = system.indicators.filter(kind=IndicatorKind.SCORED).order_by("order", "code")
        if indicator is not None:
            parents = parents.exclude(pk__in=[indicator.pk, *systems._descendant_ids(indicator)])
        self.fields["parent"].queryset = parents
        self.fields["metric_name"].choices = [("", "（不自动取数）"), *systems.metric_choices()]
        for name in ("kind", "source", "rule_kind"):
            self.fields[name].widget.attrs["data-sz-toggle"] = name

    def clean(self):
        data = super().clean()
        kind, rule_kind = data.get("kind"), data.get("rule_kind")
        rule: dict = {}
        if kind == IndicatorKind.BONUS:
            if data.get("per_event") is not None:
                rule["per_event"] = data["per_event"]
        elif kind == IndicatorKind.SCORED:
            if rule_kind == RuleKind.LINEAR:
                rule = {"zero_at": data.get("zero_at"), "full_at": data.get("full_at")}
            elif rule_kind == RuleKind.DEDUCTION:
                rule = {"per_event": data.get("per_event")}
                if data.get("max_deduction") is not None:
                    rule["max_deduction"] = data["max_deduction"]
            elif rule_kind == RuleKind.BANDS:
                try:
                    rule = {"bands": parse_score_bands(data.get("bands") or "")}
                except forms.ValidationError as exc:
                    self.add_error("bands", exc)
        if self._unit and rule_kind in (RuleKind.LINEAR, RuleKind.BANDS) and kind == IndicatorKind.SCORED:
            rule["unit"] = self._unit
        data["rule"] = rule
        if data.get("weight") is None:
            data["weight"] = 0.0
        return data

    def service_fields(self) -> dict:
        d = self.cleaned_data
        fields = {f: d[f] for f in systems.INDICATOR_FIELDS if f in d and f != "order"}
        if d.get("order") is not None:
            fields["order"] = d["order"]
        return fields


class ImportForm(StyledForm):
    file = forms.FileField(
        label="评分表文件", help_text="Excel 表格（.xlsx），不超过 2 MB；读取第一个工作表和“体系设置”工作表。"
    )
    name = forms.CharField(label="体系名称", max_length=100)
    year = forms.TypedChoiceField(label="年度", coerce=int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = _years()
        self.initial.setdefault("year", timezone.localdate().year)
        self.fields["file"].widget.attrs["accept"] = ".xlsx"

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError("只能导入 .xlsx 格式的 Excel 表格；.xls 请先另存为 .xlsx。")
        if upload.size > 2 * 1024 * 1024:
            raise forms.ValidationError("文件超过 2 MB，请只保留评分表和体系设置两个工作表。")
        head = upload.read(4)
        upload.seek(0)
        if head != XLSX_SIGNATURE:
            raise forms.ValidationError(
                "文件内容不是有效的 Excel 表格，请确认没有改过扩展名，且文件没有加密。"
            )
        return upload
