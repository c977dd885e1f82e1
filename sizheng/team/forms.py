"""Forms of the team screens: choices limited to the user's scope; the register's rules live in services."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils import timezone

from sizheng.org.forms import StyledForm
from sizheng.org.models import Org, Person
from sizheng.team.models import CoverageRule, ExternalTraining, Subtype, TeamRole

TIME_CHOICES = [("", "全部"), ("full", "专职"), ("part", "兼职")]
STATE_CHOICES = [("current", "在册"), ("ended", "已终止"), ("all", "全部")]


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def year_choices(today=None) -> list[tuple[int, str]]:
    """This year and the four before it (a coverage check of a coming year has nothing to judge)."""
    year = (today or timezone.localdate()).year
    return [(y, f"{y}年") for y in range(year, year - 5, -1)]


class OrgChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Org) -> str:
        return f"{'　' * max(0, obj.depth - 1)}{obj.name}"


class OrgsChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Org) -> str:
        return f"{obj.name}（{obj.get_kind_display()}）"


class PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Person) -> str:
        where = obj.office.name if obj.office_id and obj.office else obj.unit.short_name or obj.unit.name
        return f"{obj.name}（{where}{'，' + obj.position if obj.position else ''}）"


class MemberFilterForm(StyledForm):
    """Filters of the register list (GET)."""

    org = OrgChoice(label="党组织（含下级）", queryset=Org.objects.none(), required=False, empty_label="全部")
    role = forms.ChoiceField(label="队伍类别", choices=[("", "全部"), *TeamRole.choices], required=False)
    time = forms.ChoiceField(label="专兼职", choices=TIME_CHOICES, required=False)
    state = forms.ChoiceField(label="状态", choices=STATE_CHOICES, required=False)
    q = forms.CharField(label="姓名或岗位", required=False, max_length=50,
                        widget=forms.TextInput(attrs={"placeholder": "输入姓名或岗位关键字"}))  # fmt: skip

    def __init__(self, *args, orgs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orgs


class OrgPickForm(StyledForm):
    """Step one of a new entry (GET): whose register, and a name to narrow the people list."""

    org = OrgChoice(label="登记到哪个党组织的名册", queryset=Org.objects.none(), empty_label="请选择")
    q = forms.CharField(label="姓名", required=False, max_length=50,
                        widget=forms.TextInput(attrs={"placeholder": "可输入姓名缩小人员范围"}))  # fmt: skip

    def __init__(self, *args, orgs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orgs


def people_for(user, org: Org, needle: str = ""):
    """The people who may be put on an org's register: current staff of its subtree or its units.

    The 机关工委 (the root) registers its own staff only: the whole city would be one huge list, and a
    branch's people belong on the branch's register."""
    members = Q(org_id=org.pk) if org.parent_id is None else Q(org__path__startswith=org.path)
    q = members | Q(org__isnull=True, unit__in=org.units.all())
    qs = Person.objects.visible_to(user).current().filter(q).select_related("unit", "office")
    if needle:
        qs = qs.filter(name__contains=needle)
    return qs.order_by("name", "pk")


def coverable_orgs(org: Org):
    """The orgs an entry of ``org``'s register may cover: the org and those below it, still in being."""
    today = timezone.localdate()
    return (
        Org.objects.filter(path__startswith=org.path)
        .exclude(kind__in=[Org.Kind.LEADING_GROUP])
        .exclude(dissolved_on__lte=today)
        .order_by("path")
    )


class MemberForm(StyledForm):
    """A register entry: who (on create), role, type, full/part-time, position, covered orgs, qualifications."""

    person = PersonChoice(label="人员", queryset=Person.objects.none(), empty_label="请选择")
    role = forms.ChoiceField(label="队伍类别", choices=TeamRole.choices,
                             widget=forms.RadioSelect(attrs={"class": "form-check-input"}))  # fmt: skip
    subtype = forms.ChoiceField(label="骨干类型", choices=Subtype.choices, required=False,
                                help_text="仅思政骨干填写：青年干部、先进典型或宣讲骨干。")  # fmt: skip
    is_full_time = forms.TypedChoiceField(
        label="专兼职", choices=[("1", "专职"), ("0", "兼职")], coerce=lambda v: v == "1", initial="0",
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )  # fmt: skip
    position = forms.CharField(label="岗位/职务", required=False, max_length=60,
                               widget=forms.TextInput(attrs={"placeholder": "如：机关党委专职副书记、工会主席"}))  # fmt: skip
    covers = OrgsChoice(label="负责的党组织", queryset=Org.objects.none(),
                        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
                        error_messages={"required": "请至少选择一个负责的党组织。"})  # fmt: skip
    qualifications = forms.CharField(
        label="资格资历", required=False, max_length=2400,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "每行一项，如：市委党校中青年干部培训班结业"}),
        help_text="每行一项，最多 20 项。培训学时由系统根据参加的理论学习自动计算，无需在此填写。",
    )  # fmt: skip
    since = forms.DateField(label="起始日期", widget=_date_widget())
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user, org: Org, member=None, needle: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["covers"].queryset = coverable_orgs(org)
        if member is None:
            self.fields["person"].queryset = people_for(user, org, needle)
            del self.fields["version"]
        else:
            del self.fields["person"]


class EndForm(StyledForm):
    """End a register entry (confirmation page)."""

    until = forms.DateField(label="终止日期", widget=_date_widget())
    reason = forms.CharField(label="终止原因", required=False, max_length=200,
                             widget=forms.TextInput(attrs={"placeholder": "如：岗位调整、退休、调离"}))  # fmt: skip
    version = forms.IntegerField(widget=forms.HiddenInput)


class TrainingForm(StyledForm):
    """A training outside the platform (上级调训 …), entered by an administrator."""

    kind = forms.ChoiceField(label="类型", choices=ExternalTraining.Kind.choices)
    title = forms.CharField(label="培训名称", max_length=200)
    organiser = forms.CharField(label="举办单位", required=False, max_length=100)
    starts_on = forms.DateField(label="开始日期", widget=_date_widget())
    ends_on = forms.DateField(label="结束日期", widget=_date_widget())
    days = forms.DecimalField(label="天数", required=False, max_digits=5, decimal_places=1, min_value=0)


class RuleForm(StyledForm):
    """The editable part of a staffing rule (committee admin)."""

    min_members = forms.IntegerField(label="党员人数不少于", min_value=0, max_value=10000)
    count = forms.IntegerField(label="至少配备人数", min_value=1, max_value=20)
    severity = forms.ChoiceField(label="严重程度", choices=CoverageRule.Severity.choices)
    is_active = forms.BooleanField(label="启用", required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


class CoverageFilterForm(StyledForm):
    """Which org's subtree and which year the coverage page shows (GET)."""

    org = OrgChoice(label="党组织（含下级）", queryset=Org.objects.none(), required=False, empty_label="全部")
    year = forms.TypedChoiceField(label="年度", coerce=int, required=False, choices=())

    def __init__(self, *args, orgs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orgs
        self.fields["year"].choices = year_choices()
