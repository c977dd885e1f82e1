"""Forms of the volunteer screens. They validate input and limit choices to the user's scope; the
writes live in ``services``."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone

from sizheng.org.forms import OfficeChoiceField, OrgChoiceField, StyledForm
from sizheng.org.models import Office, Org, Person
from sizheng.volunteer import access
from sizheng.volunteer.models import (
    ActivityState,
    ApplicationState,
    Campaign,
    CivilityKind,
    SignupStatus,
)
from sizheng.volunteer.services import DEFAULT_VALID_YEARS, MAX_VALID_YEARS


def _dt_widget() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _years() -> list[tuple[str, str]]:
    this = timezone.localdate().year
    return [("", "全部")] + [(str(y), f"{y}年") for y in range(this + 1, this - 6, -1)]


class VersionForm(StyledForm):
    """Only the version the user saw (POST-only actions)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ConfirmedVersionForm(VersionForm):
    """A destructive action: the user ticks a confirmation first."""

    confirm = forms.BooleanField(label="我已确认此操作", required=False)

    def clean(self):
        data = super().clean()
        if not data.get("confirm"):
            self.add_error("confirm", "请先勾选确认，再执行此操作。")
        return data


# --- activities ----------------------------------------------------------------------------------


class ActivityFilterForm(StyledForm):
    """Filters of the activity list (GET)."""

    campaign = forms.ModelChoiceField(label="志愿行动", queryset=Campaign.objects.all(), required=False,
                                      empty_label="全部")  # fmt: skip
    org = OrgChoiceField(
        label="组织单位（含下级）", queryset=Org.objects.none(), required=False, empty_label="全部"
    )
    state = forms.ChoiceField(label="状态", choices=[("", "全部"), *ActivityState.choices], required=False)
    year = forms.ChoiceField(label="年度", choices=(), required=False)
    q = forms.CharField(label="活动名称或地点", required=False, max_length=50)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = Org.objects.visible_to(user).distinct().order_by("path")
        self.fields["year"].choices = _years()


class ActivityForm(StyledForm):
    """Plan or edit an activity; ``orgs`` is None when editing (the organising org is fixed)."""

    org = OrgChoiceField(label="组织单位", queryset=Org.objects.none(), empty_label=None)
    campaign = forms.ModelChoiceField(label="志愿行动", queryset=Campaign.objects.none(), empty_label=None)
    title = forms.CharField(label="活动名称", max_length=200)
    starts_at = forms.DateTimeField(label="开始时间", widget=_dt_widget())
    ends_at = forms.DateTimeField(label="结束时间", widget=_dt_widget())
    place = forms.CharField(label="地点", max_length=200)
    planned_hours = forms.DecimalField(label="计划服务时长（小时）", max_digits=5, decimal_places=1,
                                       min_value=Decimal("0.5"))  # fmt: skip
    capacity = forms.IntegerField(label="名额", required=False, min_value=1, help_text="不填为不限名额。")
    description = forms.CharField(label="活动内容", required=False, widget=forms.Textarea(attrs={"rows": 4}))
    open_now = forms.BooleanField(label="保存后立即开放报名", required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, orgs=None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        campaigns = Campaign.objects.filter(is_active=True)
        current = self.initial.get("campaign")
        if current is not None:
            campaigns = Campaign.objects.filter(
                pk__in=[*campaigns.values_list("pk", flat=True), getattr(current, "pk", current)]
            )
        self.fields["campaign"].queryset = campaigns.order_by("order", "pk")
        if editing:
            del self.fields["org"]
            del self.fields["open_now"]
            self.fields["version"].required = True
        else:
            self.fields["org"].queryset = orgs.order_by("path")
            del self.fields["version"]

    def clean(self):
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", "结束时间必须晚于开始时间。")
        return data


ACTIVITY_ACTIONS = [("open", "开放报名"), ("finish", "标记为已结束"), ("cancel", "取消活动")]


class ActivityTransitionForm(VersionForm):
    """Open, finish or cancel; cancelling needs a reason and a ticked confirmation."""

    action = forms.ChoiceField(choices=ACTIVITY_ACTIONS, widget=forms.HiddenInput)
    reason = forms.CharField(label="取消原因", required=False, max_length=300)
    confirm = forms.BooleanField(label="我确认取消该活动（已报名的人员会收到通知）", required=False)

    def clean(self):
        data = super().clean()
        if data.get("action") == "cancel":
            if not (data.get("reason") or "").strip():
                self.add_error("reason", "请填写取消活动的原因。")
            if not data.get("confirm"):
                self.add_error("confirm", "请先勾选确认，再取消活动。")
        return data


class WithdrawForm(ConfirmedVersionForm):
    """Withdraw one's sign-up."""

    confirm = forms.BooleanField(label="我确认取消报名", required=False)


class AttachForm(StyledForm):
    """An optional attachment (never a required photo)."""

    upload = forms.FileField(
        label="附件", help_text="可选：活动方案、通知等（PDF、Word、Excel、图片，不超过上传大小限制）。"
    )


CONFIRM_CHOICES = [("attended", "已参加"), ("absent", "未参加")]


class ConfirmForm(VersionForm):
    """One row per sign-up: attended (with hours) or not. Field names ``s<id>_status`` / ``s<id>_hours``."""

    def __init__(self, *args, signups, planned_hours: Decimal, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for s in signups:
            status = forms.ChoiceField(label=s.person.name, choices=CONFIRM_CHOICES, widget=forms.RadioSelect)
            status.initial = "absent" if s.status == SignupStatus.ABSENT else "attended"
            hours = forms.DecimalField(label="服务时长（小时）", required=False, max_digits=5, decimal_places=1,
                                       min_value=Decimal("0"))  # fmt: skip
            hours.initial = s.hours if s.hours is not None else planned_hours
            hours.widget.attrs.update({"class": "form-control", "step": "0.5"})
            self.fields[f"s{s.pk}_status"] = status
            self.fields[f"s{s.pk}_hours"] = hours
            self.rows.append(s)

    def bound_rows(self):
        """(sign-up, status field, hours field) for the template."""
        return [(s, self[f"s{s.pk}_status"], self[f"s{s.pk}_hours"]) for s in self.rows]

    def confirmations(self):
        from sizheng.volunteer.services import Confirmation

        data = self.cleaned_data
        return [
            Confirmation(s.pk, data.get(f"s{s.pk}_status") == "attended", data.get(f"s{s.pk}_hours"))
            for s in self.rows
        ]


# --- settings (committee admin) ------------------------------------------------------------------


class CampaignForm(StyledForm):
    """A volunteer campaign."""

    name = forms.CharField(label="志愿行动名称", max_length=100)
    description = forms.CharField(label="说明", required=False, max_length=500)
    order = forms.IntegerField(label="排序", required=False, min_value=0)
    is_active = forms.BooleanField(label="在用", required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class CriterionForm(StyledForm):
    """A criterion of a kind's checklist."""

    kind = forms.ChoiceField(label="创建类型", choices=CivilityKind.choices)
    title = forms.CharField(label="标准", max_length=200)
    requirement = forms.CharField(label="具体要求和佐证材料", required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip
    order = forms.IntegerField(label="序号", required=False, min_value=0)
    is_active = forms.BooleanField(label="在用", required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


# --- civility ------------------------------------------------------------------------------------


class ApplicationFilterForm(StyledForm):
    """Filters of the application list (GET)."""

    kind = forms.ChoiceField(label="创建类型", choices=[("", "全部"), *CivilityKind.choices], required=False)
    state = forms.ChoiceField(label="状态", choices=[("", "全部"), *ApplicationState.choices], required=False)
    year = forms.ChoiceField(label="申报年度", choices=(), required=False)
    unit = forms.ModelChoiceField(label="单位", queryset=None, required=False, empty_label="全部")
    q = forms.CharField(label="单位、处室或家庭代表", required=False, max_length=50)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = access.managed_units(user).order_by("order", "pk")
        self.fields["year"].choices = _years()


class PersonChoiceField(forms.ModelChoiceField):
    """People labelled with their unit (names repeat across units)."""

    def label_from_instance(self, obj: Person) -> str:
        return f"{obj.name}（{obj.unit.short_name or obj.unit.name}）"


class ApplicationCreateForm(StyledForm):
    """Start an application: the kind, the year and the applicant (a unit, an office or a family)."""

    kind = forms.ChoiceField(label="创建类型", choices=CivilityKind.choices, widget=forms.RadioSelect)
    year = forms.IntegerField(label="申报年度", min_value=2000, max_value=2100)
    unit = forms.ModelChoiceField(label="申报单位（文明单位）", queryset=None, required=False)
    office = OfficeChoiceField(label="申报处室（文明处室）", queryset=Office.objects.none(), required=False)
    person = PersonChoiceField(label="家庭代表（文明家庭）", queryset=Person.objects.none(), required=False,
                               help_text="由一名干部职工代表家庭申报。")  # fmt: skip
    summary = forms.CharField(label="创建情况概述", required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        units = access.managed_units(user)
        self.fields["unit"].queryset = units.order_by("order", "pk")
        self.fields["office"].queryset = Office.objects.filter(unit__in=units).select_related("unit")
        self.fields["person"].queryset = (
            Person.objects.current()
            .filter(unit__in=units)
            .select_related("unit")
            .order_by("unit_id", "name", "pk")
        )
        self.fields["year"].initial = timezone.localdate().year

    def clean(self):
        data = super().clean()
        needed = {CivilityKind.UNIT: "unit", CivilityKind.OFFICE: "office", CivilityKind.FAMILY: "person"}
        field = needed.get(data.get("kind"))
        if field and not data.get(field):
            messages = {"unit": "请选择申报单位。", "office": "请选择申报的处室。",
                        "person": "请选择代表家庭申报的干部职工。"}  # fmt: skip
            self.add_error(field, messages[field])
        return data


class ApplicationEditForm(VersionForm):
    """The summary and one evidence note per checklist item (field ``note_<item id>``)."""

    summary = forms.CharField(label="创建情况概述", required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            field = forms.CharField(label=f"{item.order}. {item.title}", required=False,
                                    widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}))  # fmt: skip
            field.initial = item.note
            self.fields[f"note_{item.pk}"] = field

    def bound_items(self):
        return [(item, self[f"note_{item.pk}"]) for item in self.items]

    def notes(self) -> dict[int, str]:
        return {item.pk: self.cleaned_data.get(f"note_{item.pk}", "") for item in self.items}


class ReviewForm(VersionForm):
    """The committee admin's decision: approve with a validity period, or return with an opinion."""

    decision = forms.ChoiceField(label="审核结论", choices=[("approve", "通过"), ("return", "退回修改")],
                                 widget=forms.RadioSelect)  # fmt: skip
    valid_years = forms.IntegerField(label="有效期（年）", required=False, min_value=1, max_value=MAX_VALID_YEARS,
                                     initial=DEFAULT_VALID_YEARS)  # fmt: skip
    valid_from = forms.DateField(label="有效期起", required=False, widget=_date_widget(),
                                 help_text="不填为审核当天。")  # fmt: skip
    opinion = forms.CharField(label="审核意见", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                              help_text="退回时必填，说明需要补充或修改的内容。")  # fmt: skip

    def clean(self):
        data = super().clean()
        if data.get("decision") == "return" and not (data.get("opinion") or "").strip():
            self.add_error("opinion", "退回时请填写审核意见，说明需要补充或修改的内容。")
        if data.get("decision") == "approve" and not data.get("valid_years"):
            self.add_error("valid_years", f"请填写有效期（1 至 {MAX_VALID_YEARS} 年）。")
        return data


class OverviewForm(StyledForm):
    """The aggregate pages' choices: an org (its children are the rows) and a year."""

    org = OrgChoiceField(label="党组织", queryset=Org.objects.none(), required=False, empty_label="（默认）")
    year = forms.IntegerField(label="年度", required=False, min_value=2000, max_value=2100)

    def __init__(self, *args, orgs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orgs.distinct().order_by("path")
