"""Forms of the study screens (plain POST forms; the services do the real checks)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from sizheng.study.models import (
    MAKEUP_MAX_CHARS,
    PAPER_TEXT_MAX_CHARS,
    SUMMARY_MAX_CHARS,
    StudyGroup,
    StudyPaper,
)

TEXT = {"class": "form-control"}
SELECT = {"class": "form-select"}
DATE = {"class": "form-control", "type": "date"}


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form (field errors where the field exists)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class PlanForm(forms.Form):
    """A new study plan."""

    org = forms.ModelChoiceField(queryset=None, label="党组织", widget=forms.Select(attrs=SELECT),
                                 empty_label=None)  # fmt: skip
    year = forms.IntegerField(
        label="年度", min_value=2000, max_value=2100, widget=forms.NumberInput(attrs=TEXT)
    )
    title = forms.CharField(label="标题", max_length=200, widget=forms.TextInput(attrs=TEXT))
    group = forms.ModelChoiceField(
        queryset=None, label="学习小组", required=False, widget=forms.Select(attrs=SELECT),
        empty_label="（本组织的学习计划）", help_text="为学习小组（如青年理论学习小组）制定计划时选择；小组须属于所选党组织。",
    )  # fmt: skip

    def __init__(self, *args, orgs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orgs
        self.fields["group"].queryset = StudyGroup.objects.filter(org__in=orgs.values("pk"), is_active=True)
        self.fields["year"].initial = timezone.localdate().year


class PlanSummaryForm(forms.Form):
    """The plan's title and year-end summary."""

    title = forms.CharField(label="标题", max_length=200, widget=forms.TextInput(attrs=TEXT))
    summary = forms.CharField(
        label="年度学习总结", required=False, widget=forms.Textarea(attrs={**TEXT, "rows": 6})
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class TopicForm(forms.Form):
    """A topic of a plan."""

    title = forms.CharField(label="学习专题", max_length=200, widget=forms.TextInput(attrs=TEXT))
    month = forms.IntegerField(label="计划月份", required=False, min_value=1, max_value=12,
                               widget=forms.NumberInput(attrs=TEXT))  # fmt: skip
    scheduled_on = forms.DateField(label="计划日期", required=False, widget=forms.DateInput(attrs=DATE))
    materials = forms.CharField(
        label="学习材料", required=False, widget=forms.Textarea(attrs={**TEXT, "rows": 3})
    )


class GroupForm(forms.Form):
    """A new study group."""

    org = forms.ModelChoiceField(
        queryset=None, label="主管组织", widget=forms.Select(attrs=SELECT), empty_label=None
    )
    name = forms.CharField(label="名称", max_length=100, widget=forms.TextInput(attrs=TEXT))
    kind = forms.ChoiceField(label="类型", choices=StudyGroup.Kind.choices, widget=forms.Select(attrs=SELECT))
    description = forms.CharField(label="说明", max_length=300, required=False,
                                  widget=forms.TextInput(attrs={**TEXT, "placeholder": "如：35 岁及以下青年干部"}))  # fmt: skip

    def __init__(self, *args, orgs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orgs


class MemberForm(forms.Form):
    """Add a member to a group (people the user may list)."""

    person = forms.ModelChoiceField(queryset=None, label="人员", widget=forms.Select(attrs=SELECT))

    def __init__(self, *args, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people


class SessionForm(forms.Form):
    """Link a recorded meeting as a study session."""

    meeting = forms.ModelChoiceField(queryset=None, label="会议记录", widget=forms.Select(attrs=SELECT))
    group = forms.ModelChoiceField(
        queryset=None, label="学习小组", required=False, widget=forms.Select(attrs=SELECT)
    )
    topic = forms.ModelChoiceField(
        queryset=None, label="学习专题", required=False, widget=forms.Select(attrs=SELECT)
    )
    keynote_speakers = forms.ModelMultipleChoiceField(
        queryset=None,
        label="主旨发言人",
        required=False,
        widget=forms.SelectMultiple(attrs={**SELECT, "size": 6}),
    )
    materials = forms.CharField(
        label="学习材料", required=False, widget=forms.Textarea(attrs={**TEXT, "rows": 4})
    )

    def __init__(self, *args, meetings=None, groups=None, topics=None, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting"].queryset = meetings
        self.fields["group"].queryset = groups
        self.fields["topic"].queryset = topics
        self.fields["keynote_speakers"].queryset = people


class ObservationForm(forms.Form):
    """Send an observer to a central-group study."""

    observed_org = forms.ModelChoiceField(
        queryset=None, label="被列席单位", widget=forms.Select(attrs=SELECT)
    )
    observer = forms.ModelChoiceField(queryset=None, label="列席人", widget=forms.Select(attrs=SELECT))
    planned_on = forms.DateField(label="学习日期", widget=forms.DateInput(attrs=DATE),
                                 help_text="材料报送时限为学习日期前 5 个工作日，小结提交时限为学习日期后 10 个工作日。")  # fmt: skip

    def __init__(self, *args, orgs=None, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["observed_org"].queryset = orgs
        self.fields["observer"].queryset = people


class MaterialsSentForm(forms.Form):
    """The observed unit sent the materials."""

    on = forms.DateField(label="报送日期", widget=forms.DateInput(attrs=DATE))
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["on"].initial = timezone.localdate()


class SummaryForm(forms.Form):
    """The observer's summary (≤ 500 characters; the service counts)."""

    summary = forms.CharField(label="列席情况小结", widget=forms.Textarea(attrs={**TEXT, "rows": 8}),
                              help_text=f"不超过 {SUMMARY_MAX_CHARS} 字。")  # fmt: skip
    version = forms.IntegerField(widget=forms.HiddenInput)


class MakeUpForm(forms.Form):
    """A make-up with a short written reflection."""

    attendance = forms.IntegerField(widget=forms.HiddenInput)
    on = forms.DateField(label="补学日期", widget=forms.DateInput(attrs=DATE))
    note = forms.CharField(label="补学心得", widget=forms.Textarea(attrs={**TEXT, "rows": 4}),
                           help_text=f"简要写下补学的内容和体会，不超过 {MAKEUP_MAX_CHARS} 字。")  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["on"].initial = timezone.localdate()


class YearForm(forms.Form):
    """Pick a year."""

    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100, required=False,
                              widget=forms.NumberInput(attrs=TEXT))  # fmt: skip


class PaperForm(forms.Form):
    """A speaking outline, paper or research report (text, a file, or both)."""

    person = forms.ModelChoiceField(queryset=None, label="作者", widget=forms.Select(attrs=SELECT),
                                    empty_label=None)  # fmt: skip
    year = forms.IntegerField(
        label="年度", min_value=2000, max_value=2100, widget=forms.NumberInput(attrs=TEXT)
    )
    kind = forms.ChoiceField(label="类型", choices=StudyPaper.Kind.choices, widget=forms.Select(attrs=SELECT))
    title = forms.CharField(label="标题", max_length=200, widget=forms.TextInput(attrs=TEXT))
    session = forms.ModelChoiceField(
        queryset=None, label="学习活动", required=False, widget=forms.Select(attrs=SELECT),
        empty_label="（不关联）", help_text="主旨发言的提纲可关联到发言的那次学习活动。",
    )  # fmt: skip
    text = forms.CharField(
        label="正文", required=False, widget=forms.Textarea(attrs={**TEXT, "rows": 6}),
        help_text=f"发言提纲可直接填写（不超过 {PAPER_TEXT_MAX_CHARS} 字）；文章和报告也可只上传文件。",
    )  # fmt: skip
    upload = forms.FileField(
        label="文件", required=False, widget=forms.ClearableFileInput(attrs=TEXT),
        help_text="可上传 PDF、Word、WPS、OFD 或文本文件。",
    )  # fmt: skip
    on = forms.DateField(label="提交日期", widget=forms.DateInput(attrs=DATE))

    def __init__(self, *args, people=None, sessions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people
        self.fields["session"].queryset = sessions
        self.fields["year"].initial = timezone.localdate().year
        self.fields["on"].initial = timezone.localdate()
