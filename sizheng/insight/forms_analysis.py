"""Forms of the analysis screens: report filters, drafting, editing, workflow steps, recommendations,
and the lexicon editor (which turns the JSON lexicon into plain word lists and back)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from django import forms
from django.utils import timezone

from sizheng.core.rules import Period
from sizheng.insight.models import ReportKind, ReportState, Wave, WaveState

TEXTAREA = {"class": "form-control", "rows": 8}
_SPLIT = re.compile(r"[、，,；;\s]+")


def period_choices(today: date | None = None) -> list[tuple[str, str]]:
    """Recent periods, newest first: four half-years, six quarters, two years."""
    today = today or timezone.localdate()
    out: list[tuple[str, str]] = []
    for kind, count in (("half", 4), ("quarter", 6), ("year", 2)):
        p = Period.containing(kind, today)
        for _ in range(count):
            out.append((p.key, p.label))
            p = p.previous()
    return out


class ReportFilterForm(forms.Form):
    """Filters of the report list (GET)."""

    org = forms.ModelChoiceField(queryset=None, required=False, label="党组织", empty_label="全部党组织")
    kind = forms.ChoiceField(choices=[("", "全部类型"), *ReportKind.choices], required=False, label="类型")
    state = forms.ChoiceField(choices=[("", "全部状态"), *ReportState.choices], required=False, label="状态")
    period = forms.ChoiceField(required=False, label="分析期间")
    q = forms.CharField(required=False, label="标题", max_length=60)

    def __init__(self, *args, orgs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orgs
        self.fields["period"].choices = [("", "全部期间"), *period_choices()]
        for name, f in self.fields.items():
            f.widget.attrs["class"] = (
                "form-select" if name in ("org", "kind", "state", "period") else "form-control"
            )
        self.fields["q"].widget.attrs["placeholder"] = "按标题搜索"


class ReportDraftForm(forms.Form):
    """What a draft is written from: the org, the kind, the period and (optionally) the waves."""

    org = forms.ModelChoiceField(queryset=None, label="党组织", empty_label=None)
    kind = forms.ChoiceField(choices=ReportKind.choices, label="报告类型", initial=ReportKind.PERIODIC)
    period = forms.ChoiceField(label="分析期间")
    waves = forms.ModelMultipleChoiceField(
        queryset=Wave.objects.none(),
        required=False,
        label="数据来源（已结束的调查轮次）",
        help_text="不选则使用分析期间内结束的、由本组织或上级组织开展的全部调查。",
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, orgs, waves, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orgs
        self.fields["period"].choices = period_choices()
        self.fields["waves"].queryset = waves
        self.fields["waves"].label_from_instance = lambda w: (
            f"{w.survey.title}（{w.label}，{w.closes_on:%Y-%m-%d} 结束）"
        )
        for name in ("org", "kind", "period"):
            self.fields[name].widget.attrs["class"] = "form-select"


class ReportEditForm(forms.Form):
    """The title and the four sections of a draft."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    title = forms.CharField(
        label="标题", max_length=120, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    overall = forms.CharField(label="一、总体情况", required=False, widget=forms.Textarea(attrs=TEXTAREA))
    performance = forms.CharField(label="二、主要表现", required=False, widget=forms.Textarea(attrs=TEXTAREA))
    causes = forms.CharField(label="三、原因分析", required=False, widget=forms.Textarea(attrs=TEXTAREA))
    measures = forms.CharField(label="四、对策建议", required=False, widget=forms.Textarea(attrs=TEXTAREA))


class VersionForm(forms.Form):
    """A workflow step: the version the page was rendered with."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class RecommendationForm(forms.Form):
    """One adopted measure: the concern it answers, the measure, the group, the deadline."""

    concern = forms.CharField(
        label="你们提出的（干部职工反映的问题）",
        max_length=300,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "例如：加班较多，休假难"}),
    )
    action = forms.CharField(
        label="我们的措施（将作为责任事项名称）",
        max_length=200,
        widget=forms.TextInput(
            attrs={"class": "form-control", "placeholder": "例如：精简会议文件，落实调休制度"}
        ),
    )
    group = forms.ChoiceField(label="面向群体", required=False)
    due_on = forms.DateField(
        label="完成时限", widget=forms.DateInput(attrs={"type": "date", "class": "form-control"})
    )

    def __init__(self, *args, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = groups
        self.fields["group"].widget.attrs["class"] = "form-select"
        if not self.is_bound:
            self.initial.setdefault("due_on", timezone.localdate() + timedelta(days=30))


# --- the lexicon ------------------------------------------------------------------------------

LIST_FIELDS = (
    ("positive", "正面词"),
    ("negative", "负面词"),
    ("negators", "否定词"),
    ("softeners", "弱化否定词"),
    ("intensifiers", "程度副词"),
    ("boundaries", "转折连接词"),
    ("bridges", "桥接虚词"),
)
WEIGHTED = {"positive", "negative", "intensifiers"}


def _words_text(value) -> str:
    if isinstance(value, dict):
        return "、".join(w if float(x) == 1.0 else f"{w}={x:g}" for w, x in value.items())
    return "、".join(str(w) for w in value or [])


def _parse_words(raw: str, *, weighted: bool, label: str):
    items = [s for s in _SPLIT.split(raw or "") if s]
    words: dict[str, float] = {}
    for item in items:
        word, sep, weight = item.partition("=")
        if not word:
            continue
        if sep:
            if not weighted:
                raise forms.ValidationError(f"“{label}”不需要权重，请去掉“={weight}”。")
            try:
                words[word] = float(weight)
            except ValueError:
                raise forms.ValidationError(f"“{label}”中“{item}”的权重应是数字，例如 很=1.5。") from None
        else:
            words[word] = 1.0
    if weighted and any(x != 1.0 for x in words.values()):
        return words
    return list(words)


def lexicon_initial(data: dict) -> dict:
    """The form's initial values from the lexicon JSON."""
    themes = "\n".join(f"{name}：{'、'.join(words)}" for name, words in (data.get("themes") or {}).items())
    senti = data.get("sentiment") or {}
    initial = {"themes": themes}
    for name, _label in LIST_FIELDS:
        initial[name] = _words_text(senti.get(name, []))
    return initial


class LexiconForm(forms.Form):
    """The lexicon as word lists: one theme per line ("主题：词、词"), sentiment words separated by 、."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    themes = forms.CharField(
        label="主题及关键词",
        widget=forms.Textarea(attrs={"class": "form-control font-monospace", "rows": 14}),
        help_text="每行一个主题，格式为“主题：关键词、关键词”。关键词按原文匹配，每个至少两个字。",
    )
    positive = forms.CharField(
        label="正面词", required=False, widget=forms.Textarea(attrs={"class": "form-control", "rows": 3})
    )
    negative = forms.CharField(
        label="负面词", required=False, widget=forms.Textarea(attrs={"class": "form-control", "rows": 3})
    )
    negators = forms.CharField(
        label="否定词", required=False, widget=forms.Textarea(attrs={"class": "form-control", "rows": 2})
    )
    softeners = forms.CharField(
        label="弱化否定词", required=False, widget=forms.Textarea(attrs={"class": "form-control", "rows": 2})
    )
    intensifiers = forms.CharField(
        label="程度副词",
        required=False,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 2}),
        help_text="可写倍数，例如 很=1.5、非常=1.8。",
    )
    boundaries = forms.CharField(
        label="转折连接词", required=False, widget=forms.Textarea(attrs={"class": "form-control", "rows": 2})
    )
    bridges = forms.CharField(
        label="桥接虚词", required=False, widget=forms.Textarea(attrs={"class": "form-control", "rows": 2})
    )

    def clean_themes(self) -> dict:
        themes: dict[str, list[str]] = {}
        for number, line in enumerate((self.cleaned_data.get("themes") or "").splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            name, sep, words = (
                re.split(r"([:：])", line, maxsplit=1) if re.search(r"[:：]", line) else (line, "", "")
            )
            name = name.strip()
            if not sep or not name:
                raise forms.ValidationError(f"第 {number} 行应写成“主题：关键词、关键词”。")
            if name in themes:
                raise forms.ValidationError(f"主题“{name}”出现了两次，请合并为一行。")
            themes[name] = list(dict.fromkeys(w for w in _SPLIT.split(words) if w))
        if not themes:
            raise forms.ValidationError("请至少填写一个主题。")
        return themes

    def to_data(self, base: dict) -> dict:
        """The lexicon JSON (keys the form does not edit, such as the note, are kept)."""
        data = {k: v for k, v in base.items() if k not in ("themes", "sentiment")}
        data["themes"] = self.cleaned_data["themes"]
        senti = dict(base.get("sentiment") or {})
        for name, label in LIST_FIELDS:
            senti[name] = _parse_words(
                self.cleaned_data.get(name, ""), weighted=name in WEIGHTED, label=label
            )
        data["sentiment"] = senti
        return data

    def clean(self):
        cleaned = super().clean()
        for name, label in LIST_FIELDS:
            if name in cleaned:
                try:
                    _parse_words(cleaned[name], weighted=name in WEIGHTED, label=label)
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        return cleaned


def closed_waves_for(user):
    """Closed waves of the last three years the user may draft from (newest first): surveys owned by
    the orgs they manage, by those orgs' subtrees or by their ancestors — the service then keeps
    those of the chosen org and period."""
    from django.db.models import Q

    from sizheng.core.models import Role
    from sizheng.org.access import ancestor_ids, scope_of

    scope = scope_of(user)
    since = timezone.localdate() - timedelta(days=3 * 366)
    qs = Wave.objects.filter(state=WaveState.CLOSED, closes_on__gte=since)
    if not scope.has_everything(Role.COMMITTEE_ADMIN):
        q = Q(pk__in=[])
        for p in scope.paths(Role.SECRETARY, Role.ORG_ADMIN):
            q |= Q(survey__owner_org__path__startswith=p) | Q(survey__owner_org_id__in=ancestor_ids(p))
        qs = qs.filter(q)
    return qs.select_related("survey").order_by("-closes_on", "-pk")
