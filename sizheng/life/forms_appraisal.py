"""Forms of 民主评议党员: open, self-assessment, the branch's review of one member, propose, approve."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from sizheng.life.appraisal import openable_orgs_q
from sizheng.life.models import Grade, Meeting, MeetingKind
from sizheng.org.models import Org

TEXTAREA = {"class": "form-control", "rows": 6}
# The democratic rating's vote fields, one per grade, in the order of the ballot.
VOTE_FIELDS = [(f"votes_{g.value}", g) for g in Grade]


class AppraisalOpenForm(forms.Form):
    """Open the year's appraisal for an org the user manages."""

    org = forms.ModelChoiceField(
        label="党支部", queryset=Org.objects.none(), widget=forms.Select(attrs={"class": "form-select"})
    )
    year = forms.IntegerField(label="年度", widget=forms.NumberInput(attrs={"class": "form-control"}))
    meeting = forms.ModelChoiceField(
        label="评议会议",
        queryset=Meeting.objects.none(),
        required=False,
        help_text="可选：关联已记录的“民主评议党员”会议（可与组织生活会合并召开）。",
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        orgs = Org.objects.filter(openable_orgs_q(user)).order_by("path")
        self.fields["org"].queryset = orgs
        self.fields["meeting"].queryset = (
            Meeting.objects.filter(org__in=orgs.values("pk"), kind=MeetingKind.MEMBER_APPRAISAL)
            .select_related("org")
            .order_by("-starts_at")
        )
        self.fields["meeting"].label_from_instance = lambda m: (
            f"{m.org.name} {timezone.localtime(m.starts_at):%Y-%m-%d} {m.topic}"
        )
        if not self.is_bound:
            self.initial.setdefault("year", timezone.localdate().year)

    def clean_year(self):
        """A year near now (an appraisal is for the past or the current year)."""
        year = self.cleaned_data["year"]
        this_year = timezone.localdate().year
        if not this_year - 5 <= year <= this_year:
            raise forms.ValidationError(f"年度应在 {this_year - 5} 年至 {this_year} 年之间。")
        return year


class SelfAssessmentForm(forms.Form):
    """个人自评, written by the member."""

    part = forms.CharField(widget=forms.HiddenInput, initial="self")
    self_assessment = forms.CharField(
        label="个人自评",
        max_length=3000,
        help_text="对照党员标准，从思想、学习、工作、作风、纪律等方面总结一年来的表现，查找不足并提出努力方向。",
        widget=forms.Textarea(attrs=TEXTAREA),
    )

    def __init__(self, *args, **kwargs):
        # The branch's review form can share the page (a secretary's own entry): distinct ids.
        kwargs.setdefault("auto_id", "self_%s")
        super().__init__(*args, **kwargs)


class EntryReviewForm(forms.Form):
    """The branch's record for one member: peer summary, democratic rating, proposed grade."""

    part = forms.CharField(widget=forms.HiddenInput, initial="review")
    peer_summary = forms.CharField(
        label="党员互评意见",
        required=False,
        max_length=3000,
        help_text="汇总党员互评中对该同志的主要评价和意见建议。",
        widget=forms.Textarea(attrs=TEXTAREA),
    )
    proposed_grade = forms.ChoiceField(
        label="支部建议等次",
        required=False,
        choices=[("", "尚未确定")] + list(Grade.choices),
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "review_%s")
        super().__init__(*args, **kwargs)
        for name, grade in VOTE_FIELDS:
            self.fields[name] = forms.IntegerField(
                label=f"民主测评：{grade.label}（票）",
                min_value=0,
                required=False,
                widget=forms.NumberInput(attrs={"class": "form-control", "min": 0}),
                error_messages={"min_value": "票数不能小于 0。", "invalid": "请填写整数票数。"},
            )

    @staticmethod
    def initial_for(entry) -> dict:
        """The form's initial values from an entry."""
        data = {"part": "review", "peer_summary": entry.peer_summary, "proposed_grade": entry.proposed_grade}
        for name, grade in VOTE_FIELDS:
            data[name] = (entry.rating or {}).get(grade.value, 0)
        return data

    def rating(self) -> dict[str, int]:
        """The votes per grade from the cleaned data."""
        return {grade.value: self.cleaned_data.get(name) or 0 for name, grade in VOTE_FIELDS}


class ProposeForm(forms.Form):
    """Propose the grades to the higher org (a reason when more than 1/3 are 优秀)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    excellent_reason = forms.CharField(
        label="优秀等次超过三分之一的理由",
        required=False,
        max_length=2000,
        help_text="优秀等次一般不超过参评党员的三分之一；超过时须写明理由，并将提示上级党组织重点审核。",
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 4}),
    )


class ApproveForm(forms.Form):
    """The higher org's decision: approve, or return with an opinion."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        label="审批意见",
        choices=[("approve", "同意支部提出的评议等次"), ("return", "退回支部重新评议")],
        widget=forms.RadioSelect,
    )
    opinion = forms.CharField(
        label="退回意见",
        required=False,
        max_length=300,
        help_text="退回时必填，将通知支部书记和党务干部。",
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 4}),
    )
