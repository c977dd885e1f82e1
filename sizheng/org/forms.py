"""Forms of the org screens: the people filter, org and person edits, transfers, posts, 换届, grants.

Forms validate input and limit every choice list to the user's scope; the writes themselves and
the roster rules live in ``services`` (a service's ValidationError lands on the form through
``core.formflow``).
"""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from sizheng.core.crypto import blind_index
from sizheng.core.models import SYSTEM_ROLES, Role, User
from sizheng.org import access, pickers
from sizheng.org.idcard import normalize_id_number
from sizheng.org.models import ID_INDEX_PURPOSE, Office, Org, OrgRole, Person, PoliticalStatus, Unit

_ID_SHAPE = re.compile(r"^(\d{17}[\dX]|\d{15})$")
# A committee has at most 7 members (BR-COM-1), so a handover form offers 7 rows.
HANDOVER_ROWS = 7


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class StyledForm(forms.Form):
    """A form whose widgets carry the Tabler/Bootstrap classes (no inline styles: the CSP forbids them)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple | forms.RadioSelect):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                widget.attrs.setdefault("class", "form-select")
            elif not isinstance(widget, forms.HiddenInput):
                widget.attrs.setdefault("class", "form-control")


# --- scope helpers ---------------------------------------------------------------------------


def managed_orgs(user) -> QuerySet[Org]:
    """Orgs the user may change (``org.access.managed_orgs``; kept here for the forms that import it)."""
    return access.managed_orgs(user)


def may_create_accounts(user) -> bool:
    """Bulk account creation is for the committee admin and org admins (党务干部)."""
    scope = access.scope_of(user)
    return scope.has_everything(Role.COMMITTEE_ADMIN, Role.ORG_ADMIN) or bool(scope.paths(Role.ORG_ADMIN))


class OfficeChoiceField(forms.ModelChoiceField):
    """Offices labelled with their unit, since many units have an 办公室."""

    def label_from_instance(self, obj: Office) -> str:
        return f"{obj.unit.short_name or obj.unit.name} · {obj.name}"


class OrgChoiceField(forms.ModelChoiceField):
    """Orgs labelled with their code, indented by depth so the tree shows in a plain select."""

    def label_from_instance(self, obj: Org) -> str:
        return f"{'　' * obj.depth}{obj.name}（{obj.code}）"


# --- the people list -------------------------------------------------------------------------


def years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier (29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


AGE_BANDS = {"le35": (None, 35), "36_45": (36, 45), "46_55": (46, 55), "ge56": (56, None)}
AGE_BAND_CHOICES = [("", "全部年龄"), ("le35", "35 岁及以下"), ("36_45", "36–45 岁"), ("46_55", "46–55 岁"),
                    ("ge56", "56 岁及以上")]  # fmt: skip
SORTS = {
    "unit": ("unit__order", "unit_id", "office__order", "office_id", "name", "pk"),
    "name": ("name", "pk"),
    "age": (F("birth_date").desc(nulls_last=True), "pk"),
    "-age": (F("birth_date").asc(nulls_last=True), "pk"),
}
SORT_CHOICES = [
    ("unit", "按单位排序"),
    ("name", "按姓名排序"),
    ("age", "年龄从小到大"),
    ("-age", "年龄从大到小"),
]


def age_band_bounds(band: str, today: date) -> tuple[date | None, date | None]:
    """(born after, born on or before) for an age band, computed from today with birthdays respected."""
    low, high = AGE_BANDS[band]
    return (
        years_before(today, high + 1) if high is not None else None,
        years_before(today, low) if low is not None else None,
    )


def age_band_q(band: str, today: date) -> Q:
    """People whose age today falls in the band (no birth date: in no band)."""
    after, until = age_band_bounds(band, today)
    q = Q(birth_date__isnull=False)
    if after is not None:
        q &= Q(birth_date__gt=after)
    if until is not None:
        q &= Q(birth_date__lte=until)
    return q


class PeopleFilterForm(StyledForm):
    """Search, filters and sort of the people list; the Excel export reuses ``filter``.

    Unit, office and org are pickers (``org.pickers``): the page lists none of them, however large
    the tree; the URL still carries their pks (``?unit=5``).
    """

    q = forms.CharField(label="姓名或身份证号", required=False, max_length=50)
    unit = pickers.PickerField("unit", scope="people", label="单位", required=False, filtering=True,
                               placeholder="全部单位")  # fmt: skip
    office = pickers.PickerField("office", scope="people", label="处室", required=False, filtering=True,
                                 placeholder="全部处室", narrow="unit")  # fmt: skip
    org = pickers.PickerField("org", scope="visible", label="党组织", required=False, filtering=True,
                              placeholder="全部党组织")  # fmt: skip
    political_status = forms.ChoiceField(label="政治面貌", required=False)
    leader = forms.ChoiceField(label="领导班子成员", required=False,
                               choices=[("", "不限"), ("yes", "是"), ("no", "否")])  # fmt: skip
    age = forms.ChoiceField(label="年龄段", required=False, choices=AGE_BAND_CHOICES)
    sort = forms.ChoiceField(label="排序", required=False, choices=SORT_CHOICES)

    error_messages = {"invalid_choice": "所选项不在您的查看范围内，请重新选择。"}

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        pickers.bind(self, user)
        base = Person.objects.visible_to(user).current()
        present = set(base.order_by().values_list("political_status", flat=True).distinct())
        self.fields["political_status"].choices = [("", "全部")] + [
            (value, label) for value, label in PoliticalStatus.choices if value in present
        ]
        for name in ("unit", "office", "org", "political_status", "leader", "age", "sort"):
            self.fields[name].error_messages["invalid_choice"] = self.error_messages["invalid_choice"]
        self.fields["q"].widget.attrs["placeholder"] = "输入姓名，或完整的 18 位身份证号"

    def filter(self, qs: QuerySet[Person]) -> QuerySet[Person]:
        """Apply the valid filters and the sort to ``qs`` (invalid ones are left out, never widened)."""
        self.is_valid()
        d = getattr(self, "cleaned_data", {})
        q = (d.get("q") or "").strip()
        if q:
            number = normalize_id_number(q)
            if _ID_SHAPE.match(number):
                # A full 身份证号: one indexed lookup through the blind index, never a decrypting scan.
                qs = qs.filter(id_index=blind_index(number, purpose=ID_INDEX_PURPOSE))
            else:
                qs = qs.filter(name__icontains=q)
        if d.get("unit"):
            qs = qs.filter(unit=d["unit"])
        if d.get("office"):
            qs = qs.filter(office=d["office"])
        if d.get("org"):
            qs = qs.filter(org__path__startswith=d["org"].path)
        if d.get("political_status"):
            qs = qs.filter(political_status=d["political_status"])
        if d.get("leader"):
            qs = qs.filter(is_leader=d["leader"] == "yes")
        if d.get("age"):
            qs = qs.filter(age_band_q(d["age"], timezone.localdate()))
        return qs.order_by(*SORTS[d.get("sort") or "unit"])

    @property
    def is_filtered(self) -> bool:
        """Whether any filter or search is set (the empty state then says to widen them)."""
        d = getattr(self, "cleaned_data", {})
        return any(d.get(k) for k in ("q", "unit", "office", "org", "political_status", "leader", "age"))


# --- orgs ------------------------------------------------------------------------------------

# Which kinds may sit under which (rules.md §1–2): a 党小组 only under a 党支部, a 党组 only under the root.
CHILD_KINDS = {
    Org.Kind.WORK_COMMITTEE: [
        Org.Kind.COMMITTEE,
        Org.Kind.GENERAL_BRANCH,
        Org.Kind.BRANCH,
        Org.Kind.LEADING_GROUP,
    ],
    Org.Kind.COMMITTEE: [Org.Kind.GENERAL_BRANCH, Org.Kind.BRANCH],
    Org.Kind.GENERAL_BRANCH: [Org.Kind.BRANCH],
    Org.Kind.BRANCH: [Org.Kind.GROUP],
}


class OrgForm(StyledForm):
    """An org's own fields (not its place in the tree); ``version`` guards against lost updates."""

    name = forms.CharField(label="组织名称", max_length=120,
                           help_text="不含“中共”二字，如“市财政局机关第一支部委员会”；正式全称自动加“中共”。")  # fmt: skip
    category = forms.CharField(label="组织类别", max_length=32, initial="党政机关")
    relation = forms.ChoiceField(label="与单位关系", choices=Org.Relation.choices)
    units = forms.ModelMultipleChoiceField(label="所属单位", queryset=Unit.objects.none(), required=False,
                                           help_text="联合党支部最多覆盖 5 个单位；按住 Ctrl 可多选。")  # fmt: skip
    founded_on = forms.DateField(label="成立日期", required=False, widget=_date_widget())
    dissolved_on = forms.DateField(label="撤销日期", required=False, widget=_date_widget())
    term_starts_on = forms.DateField(label="本届任期开始", required=False, widget=_date_widget())
    term_ends_on = forms.DateField(label="本届任期届满", required=False, widget=_date_widget())
    contact = forms.CharField(label="联系人及电话", max_length=100, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    FIELDS = ("name", "category", "relation", "founded_on", "dissolved_on", "term_starts_on", "term_ends_on",
              "contact")  # fmt: skip

    def __init__(self, *args, user, org: Org | None = None, **kwargs):
        if org is not None:
            kwargs["initial"] = {**{k: getattr(org, k) for k in self.FIELDS}, "version": org.version,
                                 "units": list(org.units.all())}  # fmt: skip
        super().__init__(*args, **kwargs)
        units = access.managed_units(user)
        if org is not None:
            # Units the org already covers stay choosable even when they lie outside the user's units.
            units = Unit.objects.filter(Q(pk__in=units.values("pk")) | Q(orgs=org)).distinct()
        self.fields["units"].queryset = units.order_by("order", "pk")
        self.fields["units"].widget.attrs["size"] = 8

    def clean_units(self):
        units = self.cleaned_data["units"]
        if len(units) > 5:
            raise ValidationError("联合党支部最多覆盖 5 个单位（《支部工作条例》），请减少所选单位。")
        return units

    def clean(self):
        data = super().clean()
        pairs = [("founded_on", "dissolved_on", "撤销日期必须晚于成立日期。"),
                 ("term_starts_on", "term_ends_on", "任期届满日期必须晚于任期开始日期。")]  # fmt: skip
        for start, end, message in pairs:
            if data.get(start) and data.get(end) and data[end] <= data[start]:
                self.add_error(end, message)
        return data

    def changes(self) -> dict:
        """The cleaned fields as keyword arguments of ``services.org_update`` / ``org_create``."""
        return {k: self.cleaned_data[k] for k in (*self.FIELDS, "units")}


class OrgCreateForm(OrgForm):
    """A new org under a parent: its kind and unique code, besides the fields of an edit."""

    kind = forms.ChoiceField(label="组织类型")
    code = forms.CharField(label="组织代码", max_length=32, help_text="全市唯一的简短代码，如“CZJ-01”。")
    version = None

    field_order = ["name", "kind", "code"]

    def __init__(self, *args, parent: Org, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(Org.Kind.choices)
        self.fields["kind"].choices = [(k, labels[k]) for k in CHILD_KINDS.get(parent.kind, [])]
        self.fields["units"].initial = list(parent.units.all())

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        if Org.objects.filter(code__iexact=code).exists():
            raise ValidationError("该组织代码已被其他党组织使用，请换一个。")
        return code


# --- people ----------------------------------------------------------------------------------


class PersonForm(StyledForm):
    """A person's roster fields (rules.md §7). On edit the identifiers stay blank unless re-entered."""

    name = forms.CharField(label="姓名", max_length=50)
    gender = forms.ChoiceField(label="性别", choices=[("", "—"), *Person.Gender.choices], required=False)
    ethnicity = forms.CharField(label="民族", max_length=20, required=False)
    native_place = forms.CharField(label="籍贯", max_length=50, required=False)
    birth_date = forms.DateField(label="出生日期", required=False, widget=_date_widget())
    birth_month_only = forms.BooleanField(label="出生日期只精确到月", required=False)
    id_number = forms.CharField(label="公民身份证号", max_length=30, required=False)
    phone = forms.CharField(label="联系电话", max_length=20, required=False)
    education = forms.CharField(label="学历", max_length=20, required=False)
    work_started_on = forms.DateField(label="参加工作日期", required=False, widget=_date_widget())
    political_status = forms.ChoiceField(label="政治面貌", choices=PoliticalStatus.choices,
                                         initial=PoliticalStatus.MASSES)  # fmt: skip
    joined_on = forms.DateField(label="入党日期", required=False, widget=_date_widget(),
                                help_text="以入党志愿书上支部大会接收为预备党员的日期为准。")  # fmt: skip
    confirmed_on = forms.DateField(label="转正日期", required=False, widget=_date_widget())
    position = forms.CharField(label="职务/职级", max_length=60, required=False)
    category = forms.CharField(label="人员类别", max_length=30, required=False)
    is_leader = forms.BooleanField(label="领导班子成员", required=False)
    left_on = forms.DateField(label="离开日期", required=False, widget=_date_widget(),
                              help_text="调离本系统、退休或去世时填写；填写后不再出现在人员名单中。")  # fmt: skip

    ROSTER = ("name", "gender", "ethnicity", "native_place", "birth_date", "birth_month_only", "education",
              "work_started_on", "political_status", "joined_on", "confirmed_on", "position", "category",
              "is_leader", "left_on")  # fmt: skip

    def clean_id_number(self) -> str:
        return normalize_id_number(self.cleaned_data["id_number"])

    def clean_phone(self) -> str:
        return re.sub(r"[\s-]+", "", self.cleaned_data["phone"])


class PersonCreateForm(PersonForm):
    """A new person: roster fields plus unit, office and org, each limited to what the user manages."""

    unit = pickers.PickerField("unit", scope="placement", label="单位")
    office = pickers.PickerField("office", scope="placement", label="处室", required=False, narrow="unit")
    org = pickers.PickerField("org", scope="placement", label="所在党组织", required=False,
                              help_text="党员必填；非党员留空，归属所在单位。")  # fmt: skip

    field_order = ["name", "unit", "office", "org"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        limit_placement(self, user)

    def clean(self):
        data = super().clean()
        check_placement(self, self.user)
        return data

    def fields_for_service(self) -> dict:
        """Keyword arguments for ``services.person_create``."""
        d = self.cleaned_data
        return {**{k: d[k] for k in self.ROSTER}, "id_number": d["id_number"], "phone": d["phone"],
                "unit": d["unit"], "office": d["office"], "org": d["org"]}  # fmt: skip


class PersonEditForm(PersonForm):
    """Edit a person's roster fields; unit, office and org change only through a transfer."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, person: Person, **kwargs):
        kwargs["initial"] = {**{k: getattr(person, k) for k in self.ROSTER}, "version": person.version}
        super().__init__(*args, **kwargs)
        self.fields[
            "id_number"
        ].help_text = "为保护个人信息，这里不显示原号码；留空表示不修改，需更正时输入完整号码。"
        self.fields["phone"].help_text = "留空表示不修改；需更正时输入新号码。"

    def changes(self) -> dict:
        """Keyword arguments for ``services.person_update``: identifiers only when re-entered."""
        d = self.cleaned_data
        out = {k: d[k] for k in self.ROSTER}
        for name in ("id_number", "phone"):
            if d[name]:
                out[name] = d[name]
        return out


def limit_placement(form: forms.Form, user) -> None:
    """Unit, office and org pickers: only what the user manages (the committee admin: everything;
    the ``placement`` scopes of ``org.pickers``)."""
    pickers.bind(form, user)
    form.fields["unit"].error_messages["invalid_choice"] = "只能选择您管理的单位，请重新选择。"
    form.fields["office"].error_messages["invalid_choice"] = "只能选择您管理的单位的处室，请重新选择。"
    form.fields["org"].error_messages["invalid_choice"] = "只能选择您管理的党组织，请重新选择。"
    form.fields["unit"].error_messages["required"] = "请填写单位：输入单位名称并从候选项中选择。"


def check_placement(form: forms.Form, user) -> None:
    """The office must belong to the unit, and the user must manage where the person ends up."""
    d = form.cleaned_data
    unit, office, org = d.get("unit"), d.get("office"), d.get("org")
    if unit is None:
        return
    if office is not None and office.unit_id != unit.pk:
        form.add_error("office", "所选处室不属于所选单位，请重新选择。")
    placed = Person(unit=unit, org=org)
    if not access.manages_person(user, placed):
        field = "org" if org is not None or "org" in form.errors else "unit"
        form.add_error(
            field,
            "您只能把人员安排在自己管理的党组织或单位内；非党员须由单位机关党委（党总支、党支部）管理。",
        )


class TransferForm(StyledForm):
    """A transfer (调动): date, the new unit, office and org, and why."""

    on = forms.DateField(label="调动日期", widget=_date_widget())
    unit = pickers.PickerField("unit", scope="placement", label="调入单位")
    office = pickers.PickerField("office", scope="placement", label="调入处室", required=False, narrow="unit")
    org = pickers.PickerField("org", scope="placement", label="调入党组织", required=False,
                              help_text="党员必填；非党员留空。")  # fmt: skip
    reason = forms.CharField(label="调动原因", max_length=200, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, user, person: Person, **kwargs):
        # The objects, not their pks: the pickers label them without a query of their own.
        kwargs["initial"] = {"on": timezone.localdate(), "unit": person.unit, "office": person.office,
                             "org": person.org, "version": person.version}  # fmt: skip
        super().__init__(*args, **kwargs)
        self.user = user
        limit_placement(self, user)

    def clean(self):
        data = super().clean()
        check_placement(self, self.user)
        return data


# --- org posts and 换届 -------------------------------------------------------------------------


def post_candidates(org: Org) -> QuerySet[Person]:
    """Who may take a post in an org: current people of its subtree (members come from the org)."""
    return (
        Person.objects.current().filter(org__path__startswith=org.path).select_related("org").order_by("name")
    )


def bind_candidates(form: forms.Form, user, org: Org) -> None:
    """Set the form's person pickers to exactly ``post_candidates(org)`` (the ``post_candidates`` scope
    narrowed to the org): the endpoint suggests only those, a pk or a name outside them is refused."""
    people = post_candidates(org)
    names = [
        n for n, f in form.fields.items() if isinstance(f, pickers.PickerField) and f.kind.name == "person"
    ]
    pickers.bind(form, user, querysets=dict.fromkeys(names, people))
    for name in names:
        if form.fields[name].widget.url:
            form.fields[name].widget.url += f"&org={org.pk}"


class PostAssignForm(StyledForm):
    """任命: a person, a post and its term (the role it grants lasts exactly the term)."""

    person = pickers.PickerField("person", scope="post_candidates", label="人员",
                                 placeholder="输入姓名、单位或处室查找")  # fmt: skip
    title = forms.ChoiceField(label="职务", choices=OrgRole.Title.choices)
    starts_on = forms.DateField(label="任职日期", widget=_date_widget())
    ends_on = forms.DateField(label="任期届满日期", required=False, widget=_date_widget(),
                              help_text="留空则为本届任期届满日期。")  # fmt: skip

    def __init__(self, *args, user, org: Org, **kwargs):
        kwargs.setdefault("initial", {"starts_on": timezone.localdate(), "ends_on": org.term_ends_on})
        super().__init__(*args, **kwargs)
        bind_candidates(self, user, org)
        self.fields["person"].error_messages["required"] = "请填写人员：输入姓名并从候选项中选择。"
        self.fields["person"].error_messages["invalid_choice"] = "只能任命本组织及下级组织的在册人员。"

    def clean(self):
        data = super().clean()
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", "任期届满日期不能早于任职日期。")
        return data


class PostEndForm(StyledForm):
    """离任: the last day of the post."""

    on = forms.DateField(
        label="离任日期", widget=_date_widget(), help_text="此人当天仍在任，次日起不再拥有该职务的权限。"
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class HandoverForm(StyledForm):
    """换届: the date, the new term's end and the new committee (up to seven posts)."""

    on = forms.DateField(label="换届日期", widget=_date_widget(), help_text="新一届委员从这一天起任职。")
    term_ends_on = forms.DateField(label="新一届任期届满", widget=_date_widget())
    confirm = forms.BooleanField(
        label="我已知晓：上一届全部委员将于换届日期前一天结束时离任，并失去相应的查看和管理权限。",
        error_messages={"required": "请勾选确认，表示已知晓上一届委员将失去权限。"},
    )

    def __init__(self, *args, user, org: Org, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(1, HANDOVER_ROWS + 1):
            person = pickers.PickerField("person", scope="post_candidates", label=f"第 {i} 位委员",
                                         required=False, placeholder="输入姓名查找")  # fmt: skip
            person.error_messages["invalid_choice"] = "只能选择本组织及下级组织的在册人员。"
            person.widget.attrs.setdefault("class", "form-control")  # added after the base init
            self.fields[f"person_{i}"] = person
            self.fields[f"title_{i}"] = forms.ChoiceField(label="职务", required=False,
                                                          choices=[("", "—"), *OrgRole.Title.choices])  # fmt: skip
            self.fields[f"title_{i}"].widget.attrs.setdefault("class", "form-select")
        bind_candidates(self, user, org)

    @property
    def rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        """The post rows as (person, title) bound-field pairs, for the template."""
        return [(self[f"person_{i}"], self[f"title_{i}"]) for i in range(1, HANDOVER_ROWS + 1)]

    def clean(self):
        data = super().clean()
        posts, seen = [], set()
        for i in range(1, HANDOVER_ROWS + 1):
            person, title = data.get(f"person_{i}"), data.get(f"title_{i}")
            if person is None and not title:
                continue
            if person is None or not title:
                self.add_error(
                    f"person_{i}" if person is None else f"title_{i}", "每一行须同时选择人员和职务。"
                )
                continue
            if (person.pk, title) in seen:
                self.add_error(f"person_{i}", "同一人员不能重复担任同一职务。")
                continue
            seen.add((person.pk, title))
            posts.append((person, title))
        if not posts and not self.errors:
            raise ValidationError("请至少填写一名新一届委员（通常为书记）。")
        if data.get("on") and data.get("term_ends_on") and data["term_ends_on"] <= data["on"]:
            self.add_error("term_ends_on", "新一届任期届满日期必须晚于换届日期。")
        data["posts"] = posts
        return data


# --- role grants (secadmin) ------------------------------------------------------------------

GRANTABLE = {
    Role.LEADER: "单位或全部单位",
    Role.ASSESSOR: "全部（考核轮次上线后按轮次授予）",
    Role.EXPERT: "全部（赋权会话上线后按会话授予）",
    Role.COUNSELOR: "一个党组织及其下级（主岗或备岗）",
    Role.UNION: "一个党组织及其下级",
}


class GrantForm(StyledForm):
    """Grant a non-roster role (ARCHITECTURE §4) to an account, with its scope."""

    username = forms.CharField(label="用户名", max_length=150)
    role = forms.CharField(label="角色", widget=forms.Select)
    all_units = forms.BooleanField(label="全部单位（仅领导）", required=False)
    unit = pickers.PickerField("unit", scope="grantable", label="单位（领导）", required=False)
    org = pickers.PickerField("org", scope="grantable", label="党组织（心理咨询员、工会）", required=False,
                              placeholder="输入党组织名称或代码查找")  # fmt: skip
    is_backup = forms.BooleanField(label="备岗（仅心理咨询员）", required=False)
    starts_on = forms.DateField(label="起始日期", required=False, widget=_date_widget())
    ends_on = forms.DateField(
        label="终止日期", required=False, widget=_date_widget(), help_text="留空表示长期有效。"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        pickers.bind(self, user)  # the ``grantable`` scopes: every active unit and org
        labels = dict(Role.choices)
        self.fields["role"].widget.choices = [("", "请选择")] + [(r, labels[r]) for r in GRANTABLE]

    def clean_username(self) -> User:
        username = self.cleaned_data["username"].strip()
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise ValidationError(
                f"没有找到用户名为“{username}”的在用账号，请先用上方的搜索查到准确的用户名。"
            )
        if user.has_role(*SYSTEM_ROLES):
            raise ValidationError("该账号是系统管理类账号（三员之一），按三员分立要求不能再授予业务角色。")
        return user

    def clean_role(self) -> str:
        role = self.cleaned_data["role"]
        if role in SYSTEM_ROLES:
            raise ValidationError(
                "系统管理员、安全管理员和安全审计员在安装时设立，按三员分立要求一人不得兼任，不能在这里授予。"
            )
        if role not in GRANTABLE:
            raise ValidationError("请选择可以在这里授予的角色：领导、考核组、专家、心理咨询员或工会。")
        return role

    def clean(self):
        data = super().clean()
        role = data.get("role")
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", "终止日期不能早于起始日期。")
        if role == Role.LEADER and not data.get("all_units") and not data.get("unit"):
            self.add_error("unit", "领导须选择一个单位，或勾选“全部单位”。")
        if role in (Role.COUNSELOR, Role.UNION) and not data.get("org"):
            self.add_error("org", "心理咨询员和工会须选择负责的党组织。")
        return data

    def grant_kwargs(self) -> dict:
        """Keyword arguments for ``core.services.role_grant``: the scope follows the role."""
        from sizheng.core.models import RoleGrant

        d = self.cleaned_data
        role = d["role"]
        kind, sid, backup = RoleGrant.ScopeKind.ALL, None, False
        if role == Role.LEADER and not d["all_units"]:
            kind, sid = RoleGrant.ScopeKind.UNIT, d["unit"].pk
        elif role in (Role.COUNSELOR, Role.UNION):
            kind, sid = RoleGrant.ScopeKind.ORG, d["org"].pk
            backup = role == Role.COUNSELOR and d["is_backup"]
        return {"user": d["username"], "role": role, "scope_kind": kind, "scope_id": sid, "is_backup": backup,
                "starts_on": d["starts_on"], "ends_on": d["ends_on"]}  # fmt: skip
