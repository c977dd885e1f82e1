"""Forms of the round screens: a round's settings, its targets and assessors, confirmations, the list
filter, and the entry forms of a unit's self-assessment and an assessor's scores.

Choice lists are limited to what the user may pick (published systems, managed orgs, democratic
surveys they can see, assessor role holders); the services make the real checks.
"""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils import timezone

from sizheng.assess import access, rounds
from sizheng.assess.models import Entry, IndicatorSystem, RoundState, SystemState, WeightSet
from sizheng.org.access import managed_orgs
from sizheng.org.forms import OrgChoiceField, StyledForm
from sizheng.org.models import Org


def _date() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class SystemChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: IndicatorSystem) -> str:
        return str(obj)


class WeightSetChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: WeightSet) -> str:
        return f"{obj.system.year}年{obj.system.name} · {obj}"


class RoundForm(StyledForm):
    """A round's settings. Once the round is open only the title, due dates and the rectification
    line stay editable (the other fields are disabled)."""

    title = forms.CharField(label="轮次名称", max_length=120)
    system = SystemChoiceField(label="指标体系", queryset=IndicatorSystem.objects.none(),
                               help_text="只能选用已发布的体系版本。")  # fmt: skip
    weight_set = WeightSetChoiceField(
        label="权重方案", queryset=WeightSet.objects.none(), required=False,
        empty_label="使用体系内的直接权重", help_text="须是所选体系的权重方案；留空则按体系中各指标的权重计算。",
    )  # fmt: skip
    owner_org = OrgChoiceField(label="组织单位", queryset=Org.objects.none(), empty_label=None,
                               help_text="由该党组织组织考核；被考核单位从其下级党组织中选择。")  # fmt: skip
    period_start = forms.DateField(label="考核期开始", widget=_date())
    period_end = forms.DateField(label="考核期结束", widget=_date())
    self_due_on = forms.DateField(label="自评截止日期", required=False, widget=_date())
    scoring_due_on = forms.DateField(label="评分截止日期", required=False, widget=_date())
    democratic_survey = forms.ModelChoiceField(
        label="民主测评问卷", queryset=None, required=False, empty_label="不指定（考核期内已结束的全部民主测评）",
        help_text="只列出您能查看的“民主测评”模板问卷；指定后民主测评指标只统计这份问卷。",
    )  # fmt: skip
    use_topsis = forms.BooleanField(label="同时给出 TOPSIS 排序（发布时冻结参照点）", required=False)
    rectify_below = forms.FloatField(
        label="整改线（指标得分率 %）", min_value=0, max_value=100, initial=60,
        help_text="发布结果时，得分率低于此值的指标向被考核单位下发整改事项。",
    )  # fmt: skip
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, assessment=None, **kwargs):
        super().__init__(*args, **kwargs)
        from sizheng.insight.models import Survey, Template

        published = access.visible_systems(user).filter(state=SystemState.PUBLISHED)
        systems = published
        if assessment is not None:
            systems = IndicatorSystem.objects.filter(
                Q(pk__in=published.values("pk")) | Q(pk=assessment.system_id)
            )
        self.fields["system"].queryset = systems.order_by("-year", "name", "-number")
        self.fields["weight_set"].queryset = (
            WeightSet.objects.filter(system__in=systems)
            .select_related("system")
            .order_by("system_id", "-number")
        )
        owners = managed_orgs(user)
        if assessment is not None:
            owners = Org.objects.filter(Q(pk__in=owners.values("pk")) | Q(pk=assessment.owner_org_id))
        self.fields["owner_org"].queryset = owners.order_by("path")
        surveys = Survey.objects.visible_to(user).filter(template=Template.DEMOCRATIC)
        if assessment is not None and assessment.democratic_survey_id:
            surveys = Survey.objects.filter(
                Q(pk__in=surveys.values("pk")) | Q(pk=assessment.democratic_survey_id)
            )
        self.fields["democratic_survey"].queryset = surveys.order_by("-created_at")
        for name in ("system", "weight_set", "owner_org", "democratic_survey"):
            self.fields[name].error_messages["invalid_choice"] = "所选项不可用或不在您的范围内，请重新选择。"
        self.fields["title"].widget.attrs["placeholder"] = "例如：2026 年度基层党组织分类定级"
        if assessment is not None and assessment.state != RoundState.DRAFT:
            for name, field in self.fields.items():
                if name not in (*rounds.EDITABLE_WHEN_OPEN, "version"):
                    field.disabled = True
                    field.help_text = "轮次已开启，不能再修改此项。"

    def clean(self):
        data = super().clean()
        system, ws = data.get("system"), data.get("weight_set")
        if system and ws and ws.system_id != system.pk:
            self.add_error(
                "weight_set", "所选权重方案不属于所选指标体系，请重新选择，或留空使用体系内的直接权重。"
            )
        return data

    @staticmethod
    def initial_for(assessment) -> dict:
        return {
            "title": assessment.title,
            "system": assessment.system_id,
            "weight_set": assessment.weight_set_id,
            "owner_org": assessment.owner_org_id,
            "period_start": assessment.period_start,
            "period_end": assessment.period_end,
            "self_due_on": assessment.self_due_on,
            "scoring_due_on": assessment.scoring_due_on,
            "democratic_survey": assessment.democratic_survey_id,
            "use_topsis": assessment.use_topsis,
            "rectify_below": assessment.rectify_below,
            "version": assessment.version,
        }

    def service_fields(self) -> dict:
        d = self.cleaned_data
        return {name: d.get(name) for name in (
            "title", "system", "weight_set", "owner_org", "period_start", "period_end", "self_due_on",
            "scoring_due_on", "democratic_survey", "use_topsis", "rectify_below",
        )}  # fmt: skip


def _years() -> list[tuple[str, str]]:
    this = timezone.localdate().year
    return [("", "全部年度")] + [(str(y), f"{y} 年") for y in range(this + 1, this - 6, -1)]


class RoundFilterForm(StyledForm):
    q = forms.CharField(label="轮次名称", required=False, max_length=60)
    year = forms.ChoiceField(label="考核年度", required=False)
    state = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *RoundState.choices])
    system = forms.ModelChoiceField(label="指标体系", required=False, queryset=None, empty_label="全部体系")

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["year"].choices = _years()
        self.fields["system"].queryset = access.visible_systems(user).exclude(state=SystemState.DRAFT)
        self.fields["q"].widget.attrs["placeholder"] = "输入轮次名称中的字词"

    def filter(self, qs):
        """Apply the valid filters (an invalid one is ignored, never widened)."""
        self.is_valid()
        d = getattr(self, "cleaned_data", {})
        if d.get("q"):
            qs = qs.filter(title__icontains=d["q"].strip())
        if d.get("year"):
            qs = qs.filter(period_end__year=int(d["year"]))
        if d.get("state"):
            qs = qs.filter(state=d["state"])
        if d.get("system"):
            qs = qs.filter(system=d["system"])
        return qs

    @property
    def is_filtered(self) -> bool:
        d = getattr(self, "cleaned_data", {})
        return any(d.get(k) for k in ("q", "year", "state", "system"))


class TargetOrgField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Org) -> str:
        return f"{obj.name}（{obj.get_kind_display()}）"


class TargetsForm(StyledForm):
    orgs = TargetOrgField(
        label="被考核的党组织", queryset=Org.objects.none(), widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请至少选择一个被考核的党组织。",
                        "invalid_choice": "所选党组织不在组织单位的下级中，请重新选择。"},
    )  # fmt: skip
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, assessment, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["orgs"].queryset = rounds.candidate_orgs(assessment.owner_org)


class AssessorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj}（{obj.username}）" if str(obj) != obj.username else obj.username


class TargetChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.org.name


class AssignForm(StyledForm):
    user = AssessorChoiceField(label="考核组成员", queryset=None, empty_label="请选择考核组成员",
                               error_messages={"required": "请选择一位考核组成员。"})  # fmt: skip
    targets = TargetChoiceField(
        label="分配给他（她）评分的被考核单位", queryset=None, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请至少选择一个被考核单位。"},
    )  # fmt: skip

    def __init__(self, *args, assessment, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = rounds.assessor_users()
        self.fields["targets"].queryset = assessment.targets.select_related("org").order_by("org__path")


class UnassignForm(forms.Form):
    target = forms.IntegerField()
    user = forms.IntegerField()


class ConfirmForm(forms.Form):
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


# --- entries ------------------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


VETO_CHOICES = [("0", "否（未发生）"), ("1", "是（发生了）")]


class EntriesForm(StyledForm):
    """One row per form item: the value (``v_<id>``), a note (``n_<id>``), the version seen
    (``ver_<id>``) and, for the unit, new evidence (``f_<id>``) and evidence to remove (``rm_<id>``).

    ``changes()`` lists only the items whose value, note or evidence changed, so saving a page writes
    (and audits) only what was touched."""

    def __init__(self, data=None, files=None, *, items, entries: dict, evidence: dict, side: str, **kwargs):
        super().__init__(data, files, **kwargs)
        self.items, self.entries, self.evidence, self.side = items, entries, evidence, side
        for ind in items:
            entry = entries.get(ind.pk)
            kind = rounds.input_kind(ind)
            label = rounds.value_label(ind)
            if kind == "veto":
                field = forms.ChoiceField(
                    label=label, choices=VETO_CHOICES, required=False, widget=forms.RadioSelect
                )
                initial = None if entry is None or entry.value is None else str(int(entry.value))
            elif kind == "count":
                field = forms.IntegerField(label=label, required=False, min_value=0, max_value=10000)
                initial = None if entry is None or entry.value is None else int(entry.value)
            else:
                bounds = {"min_value": 0, "max_value": ind.max_score} if kind == "score" else {}
                if kind == "rate" and rounds.rate_unit(ind) == "%":
                    bounds = {"min_value": 0, "max_value": 100}
                field = forms.FloatField(label=label, required=False, **bounds)
                field.widget.attrs["step"] = "any"
                initial = None if entry is None or entry.value is None else entry.value
                if initial is not None and float(initial).is_integer():
                    initial = int(initial)  # “4”, not “4.0”, in the box
            field.initial = initial
            self.fields[f"v_{ind.pk}"] = field
            self.fields[f"n_{ind.pk}"] = forms.CharField(
                label="说明", required=False, max_length=rounds.NOTE_MAX, initial=entry.note if entry else "",
                widget=forms.Textarea(attrs={"rows": 2}),
            )  # fmt: skip
            self.fields[f"ver_{ind.pk}"] = forms.IntegerField(
                required=False, widget=forms.HiddenInput, initial=entry.version if entry else None
            )
            if side == Entry.Side.SELF:
                self.fields[f"f_{ind.pk}"] = MultipleFileField(label="上传佐证材料（可多选）", required=False)
                files_now = evidence.get(entry.pk, []) if entry else []
                self.fields[f"rm_{ind.pk}"] = forms.MultipleChoiceField(
                    label="删除已上传的材料", required=False, choices=[(str(f.uid), f.name) for f in files_now],
                    widget=forms.CheckboxSelectMultiple,
                )  # fmt: skip
        # The fields above were added after StyledForm styled the declared ones: style them too.
        for field in self.fields.values():
            w = field.widget
            if isinstance(w, forms.CheckboxSelectMultiple | forms.RadioSelect):
                w.attrs.setdefault("class", "form-check-input")
            elif not isinstance(w, forms.HiddenInput):
                w.attrs.setdefault("class", "form-control")

    def _value(self, ind):
        raw = self.cleaned_data.get(f"v_{ind.pk}")
        if raw in (None, ""):
            return None
        return float(raw)

    def changes(self) -> list[dict]:
        """The items to save: [{indicator, value, note, files, remove, version}]."""
        out = []
        for ind in self.items:
            entry = self.entries.get(ind.pk)
            value = self._value(ind)
            note = (self.cleaned_data.get(f"n_{ind.pk}") or "").strip()
            uploads = self.cleaned_data.get(f"f_{ind.pk}") or []
            remove = self.cleaned_data.get(f"rm_{ind.pk}") or []
            old_value = entry.value if entry else None
            old_note = entry.note if entry else ""
            if value == old_value and note == old_note and not uploads and not remove:
                continue
            out.append({"indicator": ind, "value": value, "note": note, "files": uploads, "remove": remove,
                        "version": self.cleaned_data.get(f"ver_{ind.pk}")})  # fmt: skip
        return out

    def groups(self, *, self_entries: dict | None = None, self_evidence: dict | None = None) -> list[dict]:
        """Rows grouped by level-1 indicator, for the template."""
        out: list[dict] = []
        for ind in self.items:
            entry = self.entries.get(ind.pk)
            row = {
                "item": ind,
                "rule": rounds.rule_text(ind),
                "kind": rounds.input_kind(ind),
                "value": self[f"v_{ind.pk}"],
                "note": self[f"n_{ind.pk}"],
                "version": self[f"ver_{ind.pk}"],
                "entry": entry,
                "files": self[f"f_{ind.pk}"] if f"f_{ind.pk}" in self.fields else None,
                "remove": self[f"rm_{ind.pk}"] if f"rm_{ind.pk}" in self.fields else None,
                "evidence": self.evidence.get(entry.pk, []) if entry else [],
            }
            if self_entries is not None:
                own = self_entries.get(ind.pk)
                row["self_entry"] = own
                row["self_evidence"] = (self_evidence or {}).get(own.pk, []) if own else []
            if not out or out[-1]["title"] != ind.group:
                out.append({"title": ind.group, "rows": []})
            out[-1]["rows"].append(row)
        return out
