"""Forms of the survey screens: the list filter, creating and editing a survey, the builder's
dimension and question forms, opening a wave, and the answer sheet.

Forms limit choices to the user's scope and check the input's shape; the rules (who may target
whom, drafts only, answer once, the stored form of an answer) live in ``services``. The survey's
mode and hierarchy appear only on the creation form: the edit form has no such fields.
"""

from __future__ import annotations

from django import forms
from django.utils import timezone

from sizheng.insight import services
from sizheng.insight.models import (
    LIKERT_LABELS,
    Dimension,
    Hierarchy,
    Question,
    QuestionKind,
    Schedule,
    SurveyMode,
    SurveyState,
    Template,
)
from sizheng.org.forms import StyledForm, managed_orgs
from sizheng.org.models import Org, Unit

SELECTGROUP = "form-selectgroup-input"


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _radios() -> forms.RadioSelect:
    return forms.RadioSelect(attrs={"class": SELECTGROUP})


class OrgChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Org) -> str:
        return "　" * max(obj.depth - 1, 0) + obj.name


class UnitChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Unit) -> str:
        return obj.name


class SurveyFilterForm(StyledForm):
    """Filters of the survey list (GET)."""

    q = forms.CharField(label="问卷名称", required=False, max_length=50,
                        widget=forms.TextInput(attrs={"placeholder": "输入问卷名称中的字词"}))  # fmt: skip
    state = forms.ChoiceField(label="状态", choices=[("", "全部"), *SurveyState.choices], required=False)
    template = forms.ChoiceField(label="模板", choices=[("", "全部"), *Template.choices], required=False)
    org = forms.ModelChoiceField(label="组织单位（含下级）", queryset=Org.objects.none(), required=False,
                                 empty_label="全部")  # fmt: skip

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = Org.objects.visible_to(user).distinct().order_by("path")


def audience_org_choices(user):
    return managed_orgs(user).exclude(kind=Org.Kind.LEADING_GROUP).order_by("path")


def audience_unit_choices(user):
    from sizheng.org.access import managed_units

    return managed_units(user).order_by("order", "pk")


class SurveyCreateForm(StyledForm):
    """A new survey: its template, mode and hierarchy (fixed from now on), audience and schedule."""

    template = forms.ChoiceField(label="问卷模板", choices=Template.choices, initial=Template.THOUGHT,
                                 widget=_radios(),
                                 help_text="选择模板后会带入成套的维度和题目，发布前可以增删修改；“自定义问卷”从空白开始。")  # fmt: skip
    title = forms.CharField(label="问卷名称", max_length=services.TITLE_MAX, required=False,
                            help_text="不填时使用模板名称。")  # fmt: skip
    description = forms.CharField(label="说明（显示在答卷开头）", required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    owner_org = forms.ModelChoiceField(label="组织单位", queryset=Org.objects.none(), empty_label=None,
                                       help_text="负责本问卷的党组织，其书记和党务干部可以管理问卷、查看结果。")  # fmt: skip
    mode = forms.ChoiceField(label="作答方式", choices=SurveyMode.choices, initial=SurveyMode.ANONYMOUS,
                             widget=_radios(),
                             help_text="创建后不能修改。匿名问卷的答卷不与任何人关联，只按统计分组汇总；实名问卷记录答卷人。")  # fmt: skip
    hierarchy = forms.ChoiceField(label="统计分组", choices=Hierarchy.choices, initial=Hierarchy.ORG,
                                  widget=_radios(),
                                  help_text="创建后不能修改。结果只按这一套分组汇总，人数不足的分组不单独显示。")  # fmt: skip
    audience_orgs = OrgChoices(label="调查对象：党组织（含下级）", queryset=Org.objects.none(), required=False,
                               widget=forms.SelectMultiple(attrs={"size": 6}),
                               help_text="可多选；都不选时为组织单位及其下级的全体人员。")  # fmt: skip
    audience_units = UnitChoices(label="调查对象：单位（按单位—处室统计时可选）", queryset=Unit.objects.none(),
                                 required=False, widget=forms.SelectMultiple(attrs={"size": 4}))  # fmt: skip
    schedule = forms.ChoiceField(label="调查频次", choices=Schedule.choices, initial=Schedule.ONCE,
                                 help_text="定期调查在每个周期开始时自动开始新一轮。")  # fmt: skip
    wave_days = forms.IntegerField(label="每轮作答天数", min_value=1, max_value=services.WAVE_DAYS_MAX, initial=14,
                                   error_messages={"min_value": "每轮作答天数至少 1 天。",
                                                   "max_value": f"每轮作答天数不超过 {services.WAVE_DAYS_MAX} 天。"})  # fmt: skip

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_org"].queryset = audience_org_choices(user)
        self.fields["audience_orgs"].queryset = audience_org_choices(user)
        self.fields["audience_units"].queryset = audience_unit_choices(user)

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            "owner_org": d["owner_org"], "title": d.get("title") or "", "template": d["template"],
            "mode": d["mode"], "hierarchy": d["hierarchy"], "audience_orgs": list(d.get("audience_orgs") or []),
            "audience_units": list(d.get("audience_units") or []), "schedule": d["schedule"],
            "wave_days": d["wave_days"], "description": d.get("description") or "",
        }  # fmt: skip


class SurveyEditForm(StyledForm):
    """Edit a survey. No mode or hierarchy field: they are fixed at creation. The audience only
    while the survey is a draft."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    title = forms.CharField(label="问卷名称", max_length=services.TITLE_MAX)
    description = forms.CharField(label="说明（显示在答卷开头）", required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    audience_orgs = OrgChoices(label="调查对象：党组织（含下级）", queryset=Org.objects.none(), required=False,
                               widget=forms.SelectMultiple(attrs={"size": 6}))  # fmt: skip
    audience_units = UnitChoices(label="调查对象：单位", queryset=Unit.objects.none(), required=False,
                                 widget=forms.SelectMultiple(attrs={"size": 4}))  # fmt: skip
    schedule = forms.ChoiceField(label="调查频次", choices=Schedule.choices)
    wave_days = forms.IntegerField(label="每轮作答天数", min_value=1, max_value=services.WAVE_DAYS_MAX,
                                   error_messages={"min_value": "每轮作答天数至少 1 天。",
                                                   "max_value": f"每轮作答天数不超过 {services.WAVE_DAYS_MAX} 天。"})  # fmt: skip

    def __init__(self, *args, user, survey, **kwargs):
        super().__init__(*args, **kwargs)
        self.draft = survey.state == SurveyState.DRAFT
        if self.draft:
            orgs = audience_org_choices(user) | Org.objects.filter(pk__in=survey.audience_orgs.values("pk"))
            self.fields["audience_orgs"].queryset = orgs.distinct().order_by("path")
            units = audience_unit_choices(user) | Unit.objects.filter(
                pk__in=survey.audience_units.values("pk")
            )
            self.fields["audience_units"].queryset = units.distinct().order_by("order", "pk")
        else:
            del self.fields["audience_orgs"], self.fields["audience_units"]

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        out = {"title": d["title"], "description": d.get("description") or "", "schedule": d["schedule"],
               "wave_days": d["wave_days"]}  # fmt: skip
        if self.draft:
            out.update(audience_orgs=list(d.get("audience_orgs") or []),
                       audience_units=list(d.get("audience_units") or []))  # fmt: skip
        return out


class VersionForm(forms.Form):
    """A bare action on a survey (publish, close): the version the user saw."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class PublishForm(StyledForm):
    """Publish: the first wave starts today, or on a later day."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    opens_on = forms.DateField(label="第一轮开始日期", required=False, widget=_date_widget(),
                               help_text="不填则立即开始。")  # fmt: skip


class WaveOpenForm(StyledForm):
    """Open the next wave today or on a later day."""

    opens_on = forms.DateField(label="开始日期", widget=_date_widget())

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"opens_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class DimensionForm(StyledForm):
    """A dimension's name."""

    name = forms.CharField(label="维度名称", max_length=services.NAME_MAX,
                           error_messages={"required": "请填写维度名称。"})  # fmt: skip


class MoveForm(forms.Form):
    """Move a dimension or question one place up or down."""

    direction = forms.ChoiceField(choices=[("up", "上移"), ("down", "下移")],
                                  error_messages={"required": "请指定移动方向。", "invalid_choice": "请指定移动方向。"})  # fmt: skip

    @property
    def offset(self) -> int:
        return -1 if self.cleaned_data["direction"] == "up" else 1


class DimensionChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Dimension) -> str:
        return obj.name


class QuestionForm(StyledForm):
    """A question: kind, text, options (one per line, for choice questions), required, dimension."""

    kind = forms.ChoiceField(label="题型", choices=QuestionKind.choices, initial=QuestionKind.LIKERT,
                             widget=_radios())  # fmt: skip
    text = forms.CharField(label="题目", max_length=services.QUESTION_MAX,
                           widget=forms.Textarea(attrs={"rows": 2}), error_messages={"required": "请填写题目。"})  # fmt: skip
    options = forms.CharField(label="选项（单选题、多选题填写，每行一个）", required=False,
                              widget=forms.Textarea(attrs={"rows": 5}),
                              help_text="五级量表的选项固定为：" + "、".join(LIKERT_LABELS)
                              + "；0—10 分评价和文字意见不需要选项。")  # fmt: skip
    required = forms.BooleanField(label="必答", required=False, initial=True)
    dimension = DimensionChoice(label="所属维度", queryset=Dimension.objects.none(), required=False,
                                empty_label="（不归入维度）")  # fmt: skip

    def __init__(self, *args, survey, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dimension"].queryset = survey.dimensions.all()

    @staticmethod
    def initial_for(question: Question) -> dict:
        return {"kind": question.kind, "text": question.text, "options": "\n".join(question.options),
                "required": question.required, "dimension": question.dimension_id}  # fmt: skip

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {"kind": d["kind"], "text": d["text"], "options": (d.get("options") or "").splitlines(),
                "required": d.get("required", False), "dimension": d.get("dimension")}  # fmt: skip


def _choice_widget(multiple: bool = False) -> forms.Widget:
    """Radio buttons or check boxes styled as large boxes (Tabler's selectgroup, no JavaScript)."""
    cls = forms.CheckboxSelectMultiple if multiple else forms.RadioSelect
    return cls(attrs={"class": SELECTGROUP})


class AnswerForm(forms.Form):
    """The answer sheet: one field ``q<id>`` per question, in asking order, with Chinese messages.

    ``answers()`` gives the dict ``services.response_submit`` takes; the service checks it again.
    """

    def __init__(self, *args, questions: list[Question], **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for number, q in enumerate(questions, 1):
            self.fields[f"q{q.pk}"] = self._field(q, number)

    @staticmethod
    def _field(q: Question, number: int) -> forms.Field:
        messages = {"required": f"请回答第 {number} 题。", "invalid_choice": f"第 {number} 题：请从选项中选择。",
                    "invalid_list": f"第 {number} 题：请从选项中选择。"}  # fmt: skip
        label = f"{number}. {q.text}"
        if q.kind == QuestionKind.LIKERT:
            choices = [(str(i), lab) for i, lab in enumerate(LIKERT_LABELS, 1)]
            return forms.ChoiceField(label=label, choices=choices, required=q.required, widget=_choice_widget(),
                                     error_messages=messages)  # fmt: skip
        if q.kind == QuestionKind.RATING:
            choices = [(str(i), str(i)) for i in range(services.RATING_MAX + 1)]
            return forms.ChoiceField(label=label, choices=choices, required=q.required, widget=_choice_widget(),
                                     error_messages=messages)  # fmt: skip
        if q.kind == QuestionKind.SINGLE:
            choices = [(str(i), o) for i, o in enumerate(q.options)]
            return forms.ChoiceField(label=label, choices=choices, required=q.required, widget=_choice_widget(),
                                     error_messages=messages)  # fmt: skip
        if q.kind == QuestionKind.MULTI:
            choices = [(str(i), o) for i, o in enumerate(q.options)]
            return forms.MultipleChoiceField(label=label, choices=choices, required=q.required,
                                             widget=_choice_widget(multiple=True), error_messages=messages)  # fmt: skip
        messages["max_length"] = f"第 {number} 题：不得超过 {services.TEXT_ANSWER_MAX} 个字。"
        return forms.CharField(label=label, required=q.required, max_length=services.TEXT_ANSWER_MAX,
                               widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
                               error_messages=messages)  # fmt: skip

    def rows(self) -> list[dict]:
        """Each question with its bound field, for the template."""
        return [{"question": q, "field": self[f"q{q.pk}"], "kind": q.kind} for q in self.questions]

    def answers(self) -> dict:
        out = {}
        for q in self.questions:
            value = self.cleaned_data.get(f"q{q.pk}")
            if value in (None, "", []):
                continue
            if q.kind == QuestionKind.MULTI:
                out[str(q.pk)] = [int(v) for v in value]
            elif q.kind == QuestionKind.TEXT:
                out[str(q.pk)] = value
            else:
                out[str(q.pk)] = int(value)
        return out
