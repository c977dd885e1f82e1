"""Forms of the duty screens: the board filter, a new duty, a campaign, a year's list, each workflow
action and the evidence upload.

Forms parse input and limit every choice to the user's scope; the workflow rules and their Chinese
messages live in ``services`` (a service's ValidationError lands on the form through
``add_service_errors``).
"""

from __future__ import annotations

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from sizheng.core.formflow import add_service_errors
from sizheng.duties import queries
from sizheng.duties.models import Duty, DutyList, Priority, SourceKind, State
from sizheng.duties.warnings import LABELS as WARNING_LABELS
from sizheng.duties.workflow import TRANSITIONS
from sizheng.org import access as org_access
from sizheng.org import pickers
from sizheng.org.forms import OrgChoiceField, StyledForm
from sizheng.org.models import Org, Person

__all__ = ["add_service_errors"]

INVALID_CHOICE = "所选项不在您的查看范围内，请重新选择。"


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class CampaignChoiceField(forms.ModelChoiceField):
    """Campaigns labelled with their deadline."""

    def label_from_instance(self, obj) -> str:
        return f"{obj.title}（{queries.cn_date(obj.due_on)}）"


# --- the board ---------------------------------------------------------------------------------


class ListKind(pickers.Kind):
    """Responsibility lists for pickers: searched by title (which names the org and the year)."""

    name, noun, model = "duty_list", "责任清单", DutyList
    search_fields = ("title", "org__code")
    ordering = ("-year", "title", "pk")

    def label(self, obj: DutyList) -> str:
        return obj.title

    def exact_q(self, text: str) -> Q:
        return Q(title=text)


pickers.register_kind(ListKind())
pickers.register_scope(
    pickers.Scope(
        "org",
        "assignable",
        lambda user: queries.assignable_orgs(queries.assigning_orgs(user)),
        queries.may_assign,
    )
)
pickers.register_scope(
    pickers.Scope(
        "duty_list",
        "visible",
        queries.visible_lists,
        org_access.sees_beyond_own_org,
        # An org board's lists: the subtree of an org the user sees (an org out of scope: no lists,
        # as for an unknown pk, so the lists never tell which hidden orgs are above visible ones).
        narrow={"within": pickers.within(Org.objects.visible_to, "org__path", path=True)},
    )
)


class BoardFilterForm(StyledForm):
    """Search, filters and sort of the board; the Excel ledger reuses the same query string."""

    q = forms.CharField(label="事项名称", required=False, max_length=50)
    state = forms.ChoiceField(label="状态", required=False)
    warning = forms.ChoiceField(label="预警", required=False)
    source = forms.ChoiceField(label="来源", required=False)
    owner = forms.CharField(label="责任人", required=False, max_length=50)
    org = pickers.PickerField("org", scope="visible", label="责任单位（含下级）", required=False,
                              filtering=True, placeholder="全部单位：输入名称或代码查找")  # fmt: skip
    due_from = forms.DateField(label="完成时限自", required=False, widget=_date_widget())
    due_to = forms.DateField(label="完成时限至", required=False, widget=_date_widget())
    campaign = CampaignChoiceField(label="集中部署", queryset=queries.Campaign.objects.none(), required=False,
                                   empty_label="全部")  # fmt: skip
    # One list per org per year: a picker too, since a select would grow with the tree.
    duty_list = pickers.PickerField("duty_list", scope="visible", label="责任清单", required=False,
                                    filtering=True, placeholder="全部：输入清单名称查找")  # fmt: skip
    sort = forms.ChoiceField(label="排序", required=False, choices=queries.SORT_CHOICES)

    FILTERS = (
        "q",
        "state",
        "warning",
        "source",
        "owner",
        "org",
        "due_from",
        "due_to",
        "campaign",
        "duty_list",
    )

    def __init__(self, data=None, *, user, fixed_org: Org | None = None, **kwargs):
        super().__init__(data, **kwargs)
        self.user, self.fixed_org = user, fixed_org
        self.fields["state"].choices = [
            ("", "全部状态"),
            (queries.OPEN, "未办结（全部在办状态）"),
            *State.choices,
        ]
        self.fields["warning"].choices = [
            ("", "全部"),
            *((w, WARNING_LABELS[w]) for w in queries.WARNING_LEVELS),
        ]
        self.fields["source"].choices = [("", "全部来源"), *SourceKind.choices]
        if fixed_org is not None:
            del self.fields["org"]
        pickers.bind(self, user)
        if fixed_org is not None:
            self.fields["duty_list"].narrow_to("within", fixed_org.pk)
        self.fields["campaign"].queryset = queries.visible_campaigns(user).order_by("-created_at", "-pk")
        for name in ("state", "warning", "source", "org", "campaign", "duty_list", "sort"):
            if name in self.fields:
                self.fields[name].error_messages["invalid_choice"] = INVALID_CHOICE
        self.fields["due_from"].error_messages["invalid"] = "请输入有效的日期，如 2026-06-30。"
        self.fields["due_to"].error_messages["invalid"] = "请输入有效的日期，如 2026-06-30。"
        self.fields["q"].widget.attrs["placeholder"] = "输入事项名称中的字词"
        self.fields["owner"].widget.attrs["placeholder"] = "输入责任人姓名"

    def clean(self):
        data = super().clean()
        if data.get("due_from") and data.get("due_to") and data["due_to"] < data["due_from"]:
            self.add_error("due_to", "“完成时限至”不能早于“完成时限自”。")
        return data

    def filters(self) -> queries.BoardFilters:
        """The valid filters (an invalid one is left out and shown as an error)."""
        self.is_valid()
        return queries.BoardFilters.from_cleaned(getattr(self, "cleaned_data", {}), fixed_org=self.fixed_org)

    @property
    def is_filtered(self) -> bool:
        """Whether any filter or search is set (the empty state then says to widen them)."""
        d = getattr(self, "cleaned_data", {})
        return any(d.get(k) for k in self.FILTERS)

    def as_params(self) -> dict[str, str]:
        """The valid filters as query parameters (for the audit row of an export)."""
        d = getattr(self, "cleaned_data", {})
        out = {}
        for k in (*self.FILTERS, "sort"):
            v = d.get(k)
            if v:
                out[k] = str(v.pk if hasattr(v, "pk") else v)
        return out


class RollupSearchForm(StyledForm):
    """The roll-up page's own search (the board's filters ride along in the query string)."""

    name = forms.CharField(label="党组织名称", required=False, max_length=50)
    order = forms.ChoiceField(label="排序", required=False, choices=list(queries.ROLLUP_ORDERS.items()))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["placeholder"] = "输入党组织名称中的字词"


# --- a new duty, a campaign, a year's list ------------------------------------------------------


class _AssignerMixin:
    """The assigning org (the user's own admin orgs, the root for gongwei) and, below it, the assignee."""

    def _setup_assigner(self, assigners: list[Org]) -> None:
        self.assigners = assigners
        field = self.fields["assigning_org"]
        field.queryset = Org.objects.filter(pk__in=[o.pk for o in assigners]).order_by("path")
        field.error_messages["invalid_choice"] = "您不能以该党组织的名义部署事项，请重新选择。"
        if len(assigners) == 1:
            field.initial = assigners[0].pk
            field.widget = forms.HiddenInput()

    def _infer_assigner(self, data: dict, org: Org | None) -> Org | None:
        """A missing assigning org: the only one the user has, or the nearest above the assignee."""
        if data.get("assigning_org") is None and not self.has_error("assigning_org"):
            if len(self.assigners) == 1:
                data["assigning_org"] = self.assigners[0]
            elif org is not None:
                data["assigning_org"] = queries.assigner_for(self.assigners, org)
        return data.get("assigning_org")

    def _check_below(self, data: dict, org: Org | None, name: str) -> None:
        """An assignee outside the assigning org's subtree is an error on field ``name``."""
        assigner = self._infer_assigner(data, org)
        if assigner and org and not org.path.startswith(assigner.path):
            self.add_error(name, f"{org.name}不在{assigner.name}的管理范围内，请重新选择。")


class DutyForm(_AssignerMixin, StyledForm):
    """Assign one duty to one org in the user's admin scope."""

    assigning_org = OrgChoiceField(
        label="部署单位", queryset=Org.objects.none(), required=False, empty_label=None
    )
    org = pickers.PickerField(
        "org", scope="assignable", label="责任单位", placeholder="输入党组织名称或代码查找"
    )
    title = forms.CharField(label="事项名称", max_length=200)
    category = forms.CharField(label="类别", max_length=32, required=False,
                               help_text="如：理论学习、分析研判、谈心谈话。")  # fmt: skip
    description = forms.CharField(label="具体要求", required=False, widget=_textarea(4))
    evidence_required = forms.CharField(label="佐证要求", max_length=300, required=False,
                                        help_text="报送时须提供的材料，如“会议记录、签到表”。")  # fmt: skip
    due_on = forms.DateField(label="完成时限", widget=_date_widget(),
                             help_text="如遇节假日，自动顺延至下一个工作日。")  # fmt: skip
    priority = forms.ChoiceField(label="紧急程度", choices=Priority.choices, initial=Priority.NORMAL)
    owner_name = forms.CharField(label="责任人姓名", max_length=50, required=False,
                                 help_text="可不填，由责任单位认领后确定；填写时须是责任单位的在册人员。")  # fmt: skip
    supervising_org = pickers.PickerField("org", scope="visible", label="督查单位", required=False,
                                          placeholder="不指定（由部署单位督查）")  # fmt: skip
    tags = forms.CharField(label="标签", max_length=200, required=False, help_text="多个标签用空格分开。")

    def __init__(self, data=None, *, user, assigners: list[Org], **kwargs):
        super().__init__(data, **kwargs)
        self._setup_assigner(assigners)
        # The "assignable" scope's orgs, from the assigners the view already has (no query more).
        pickers.bind(self, user, querysets={"org": queries.assignable_orgs(assigners)})
        self.fields["org"].error_messages["invalid_choice"] = "您不能向该党组织部署事项，请重新选择。"
        self.fields["supervising_org"].error_messages["invalid_choice"] = INVALID_CHOICE
        self.fields["due_on"].error_messages["invalid"] = "请输入有效的日期，如 2026-06-30。"
        self.fields["title"].error_messages["required"] = "请填写事项名称。"
        self.fields["org"].error_messages["required"] = "请选择责任单位。"
        self.fields["due_on"].error_messages["required"] = "请选择完成时限。"

    def clean_due_on(self):
        due_on = self.cleaned_data["due_on"]
        if due_on < timezone.localdate():
            raise ValidationError("完成时限不能早于今天。")
        return due_on

    def clean(self):
        data = super().clean()
        org = data.get("org")
        self._check_below(data, org, "org")
        name = (data.get("owner_name") or "").strip()
        data["owner"] = None
        if name and org is not None:
            matches = list(
                Person.objects.current()
                .filter(Q(org__path__startswith=org.path) | Q(unit__in=org.units.all()), name=name)
                .distinct()[:3]
            )
            if not matches:
                self.add_error(
                    "owner_name", f"{org.name}没有名为“{name}”的在册人员，请核对姓名，或先不填责任人。"
                )
            elif len(matches) > 1:
                self.add_error(
                    "owner_name",
                    f"{org.name}有多名“{name}”，请先不填责任人，部署后在事项页“调整责任人”中选择。",
                )
            else:
                data["owner"] = matches[0]
        return data


class CampaignForm(_AssignerMixin, StyledForm):
    """集中部署: one duty to many orgs below the assigning org at once."""

    assigning_org = OrgChoiceField(
        label="部署单位", queryset=Org.objects.none(), required=False, empty_label=None
    )
    title = forms.CharField(label="任务名称", max_length=200)
    description = forms.CharField(label="任务说明", required=False, widget=_textarea(4))
    evidence_required = forms.CharField(label="佐证要求", max_length=300, required=False)
    due_on = forms.DateField(label="完成时限", widget=_date_widget(),
                             help_text="如遇节假日，自动顺延至下一个工作日。")  # fmt: skip
    priority = forms.ChoiceField(label="紧急程度", choices=Priority.choices, initial=Priority.NORMAL)
    all_children = forms.BooleanField(label="部署到全部直属下级组织", required=False,
                                      help_text="勾选后无需逐个选择；也可以只勾选下面的部分组织。")  # fmt: skip
    # Any org below the assigning org is valid, but only its direct children are listed (a checkbox per
    # org of the tree would be 1,530 at demo scale 10); deeper orgs are reached with 含下级 or by name.
    orgs = forms.ModelMultipleChoiceField(label="责任单位（直属下级组织）", queryset=Org.objects.none(),
                                          required=False, widget=forms.CheckboxSelectMultiple)  # fmt: skip
    with_descendants = forms.BooleanField(label="含下级：同时部署到所选组织的全部下级组织", required=False)
    more = forms.CharField(label="其他下级组织", required=False, max_length=2000, widget=_textarea(3),
                           help_text="不在上面列出的下级组织：每行填写一个党组织的名称或代码"
                                     "（勾选“含下级”时连同其下级）。")  # fmt: skip

    LISTED = 50  # at most this many direct children are listed as checkboxes

    def __init__(self, data=None, *, assigners: list[Org], **kwargs):
        super().__init__(data, **kwargs)
        self._setup_assigner(assigners)
        below = queries.assignable_orgs(assigners).exclude(pk__in=[o.pk for o in assigners])
        field = self.fields["orgs"]
        field.queryset = below  # validation: any org below, exactly as before
        posted = [
            v for v in (self.data.getlist("orgs") if hasattr(self.data, "getlist") else []) if v.isdigit()
        ]
        children = list(below.filter(parent__in=[o.pk for o in assigners])[: self.LISTED + 1])
        if len(children) > self.LISTED:  # the root at demo scale 10 has ~700: typed names, or all of them
            children = []
            field.widget = forms.MultipleHiddenInput()
            self.fields["more"].label = "责任单位"
            self.fields["more"].help_text = (
                f"直属下级组织超过 {self.LISTED} 个，不逐一列出：请勾选上方“部署到全部直属下级组织”，"
                "或在这里每行填写一个党组织的名称或代码（勾选“含下级”时连同其下级）。"
            )
        known = {o.pk for o in children}
        extra = [o for o in below.filter(pk__in=posted) if o.pk not in known] if posted else []
        field.widget.choices = [(o.pk, f"{'　' * max(o.depth - 1, 0)}{o.name}") for o in children + extra]
        # Typed names resolve as an org picker's text does, within the same orgs.
        self._resolver = pickers.PickerField("org", scope="assignable")
        self._resolver.queryset, self._resolver.form = below, self
        self.fields["orgs"].error_messages["invalid_choice"] = "所选责任单位不在您的管理范围内，请重新选择。"
        self.fields["due_on"].error_messages["invalid"] = "请输入有效的日期，如 2026-06-30。"
        self.fields["title"].error_messages["required"] = "请填写任务名称。"
        self.fields["due_on"].error_messages["required"] = "请选择完成时限。"

    def clean_due_on(self):
        due_on = self.cleaned_data["due_on"]
        if due_on < timezone.localdate():
            raise ValidationError("完成时限不能早于今天。")
        return due_on

    def clean_more(self) -> list[Org]:
        found, errors = [], []
        for n, line in enumerate((self.cleaned_data.get("more") or "").splitlines(), 1):
            if line.strip():
                try:
                    found.append(self._resolver.resolve_text(line.strip()))
                except ValidationError as exc:
                    errors.append(f"第 {n} 行：{exc.messages[0]}")
        if errors:
            raise ValidationError(errors)
        return found

    def clean(self):
        data = super().clean()
        # One entry per org however often it was ticked or typed (a duplicate would open two duties).
        picked: dict[int, Org] = {}
        for org in [*(data.get("orgs") or []), *(data.get("more") or [])]:
            picked.setdefault(org.pk, org)
        assigner = self._infer_assigner(data, next(iter(picked.values()), None))
        if assigner is None:
            if not self.has_error("assigning_org"):
                self.add_error("assigning_org", "请选择部署单位。")
            data["targets"] = []
            return data
        if data.get("all_children"):
            for org in Org.objects.filter(parent=assigner).active_on().order_by("order", "path"):
                picked.setdefault(org.pk, org)
        if data.get("with_descendants") and picked:  # after all_children: 含下级 applies to them too
            below = Q(pk__in=[])
            for org in picked.values():
                below |= Q(path__startswith=org.path)
            for org in self.fields["orgs"].queryset.filter(below):
                picked.setdefault(org.pk, org)
        chosen = list(picked.values())
        outside = [o.name for o in chosen if not o.path.startswith(assigner.path)]
        if outside:
            self.add_error("orgs", f"{'、'.join(outside)}不在{assigner.name}的管理范围内，请重新选择。")
        chosen = [o for o in chosen if o.path.startswith(assigner.path) and o.pk != assigner.pk]
        if not chosen and not self.errors:
            self.add_error(
                "orgs", "请至少选择一个责任单位，或勾选“部署到全部直属下级组织”，或填写其他下级组织的名称。"
            )
        data["targets"] = chosen
        return data


class DutyListForm(_AssignerMixin, StyledForm):
    """A year's responsibility list for an org: from the default template, or copied from last year."""

    MODES = [("template", "从默认模板创建（机关思想政治工作责任清单）"), ("copy", "复制该组织上一年度的清单")]

    assigning_org = OrgChoiceField(
        label="部署单位", queryset=Org.objects.none(), required=False, empty_label=None
    )
    org = pickers.PickerField(
        "org", scope="assignable", label="党组织", placeholder="输入党组织名称或代码查找"
    )
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    mode = forms.ChoiceField(label="创建方式", choices=MODES, initial="template", widget=forms.RadioSelect)
    title = forms.CharField(label="清单名称", max_length=120, required=False,
                            help_text="可不填，默认为“组织名称＋年度＋思想政治工作责任清单”。")  # fmt: skip

    def __init__(self, data=None, *, user, assigners: list[Org], **kwargs):
        kwargs.setdefault("initial", {"year": timezone.localdate().year})
        super().__init__(data, **kwargs)
        self._setup_assigner(assigners)
        # The "assignable" scope's orgs, from the assigners the view already has (no query more).
        pickers.bind(self, user, querysets={"org": queries.assignable_orgs(assigners)})
        self.fields["org"].error_messages["invalid_choice"] = "您不能为该党组织创建责任清单，请重新选择。"
        self.fields["org"].error_messages["required"] = "请选择党组织。"
        self.fields["year"].error_messages.update(
            required="请填写年度。", invalid="年度须是四位数字。", min_value="年度须是四位数字。",
            max_value="年度须是四位数字。",
        )  # fmt: skip
        self.fields["mode"].widget.attrs["class"] = "form-check-input"

    def clean(self):
        data = super().clean()
        self._check_below(data, data.get("org"), "org")
        return data


# --- the duty page: workflow actions and evidence ------------------------------------------------

ACTION_BUTTONS = {
    "pass": "btn-success",
    "return": "btn-warning",
    "cancel": "btn-danger",
    "reject_extension": "btn-outline-danger",
    "urge": "btn-outline-danger",
}
ACTION_HINTS = {
    "accept": "认领后，责任单位即对该事项负责。",
    "start": "开始落实后即可上传佐证材料并报送。",
    "report": "请先在下方“佐证材料”中上传附件，再填写落实情况报送；逾期仍可报送，将标记为逾期。",
    "review": "开始督查后，可以销号或退回。",
    "pass": "确认已按要求完成，予以销号。",
    "return": "退回后，责任单位须重新落实并报送。",
    "urge": "督办意见会通知责任人和责任单位书记、党务干部。",
    "request_extension": "延期申请由部署单位审批，审批前完成时限不变。",
    "approve_extension": "同意后，完成时限改为申请的日期。",
    "reject_extension": "不同意时，完成时限不变。",
    "reassign": "新的责任人须是责任单位的在册人员。",
    "cancel": "撤销后该事项不再办理，也不能恢复。",
}


class ActionForm(StyledForm):
    """One workflow action with the fields it needs; ``version`` guards against acting on a stale page."""

    action = forms.CharField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput,
                                 error_messages={"required": "页面已过期，请刷新后重试。",
                                                 "invalid": "页面已过期，请刷新后重试。"})  # fmt: skip
    evidence = forms.CharField(label="落实情况及佐证说明", required=False, widget=_textarea(5))
    late_reason = forms.CharField(label="逾期原因", required=False, max_length=300)
    new_due_on = forms.DateField(label="申请延期至", required=False, widget=_date_widget(),
                                 error_messages={"invalid": "请输入有效的日期，如 2026-06-30。"})  # fmt: skip
    owner_id = forms.TypedChoiceField(label="新的责任人", required=False, coerce=int, empty_value=None)
    reason = forms.CharField(label="理由", required=False, max_length=300, widget=_textarea(2))
    confirm = forms.BooleanField(label="我确认撤销该事项（撤销后不能恢复）", required=False)
    comment = forms.CharField(label="说明", required=False, max_length=1000, widget=_textarea(2))

    def __init__(self, data=None, *, action: str, duty: Duty, today: date, owners=None, **kwargs):
        kwargs.setdefault("auto_id", f"id_{action}_%s")
        kwargs.setdefault("initial", {"action": action, "version": duty.version})
        super().__init__(data, **kwargs)
        self.transition = TRANSITIONS[action]
        # ``action_name`` for templates: there ``form.action`` is the hidden field, not this string.
        self.action = self.action_name = action
        self.duty = duty
        self.label = self.transition.label
        self.button = ACTION_BUTTONS.get(action, "btn-primary")
        self.hint = ACTION_HINTS.get(action, "")
        keep = {"action", "version", "comment", *self.transition.needs}
        if action == "report" and today > duty.due_on:
            keep.add("late_reason")
        if action == "cancel":
            keep.add("confirm")
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        if "owner_id" in self.fields:
            self.fields["owner_id"].choices = [("", "请选择"), *(owners or [])]
            self.fields["owner_id"].error_messages["invalid_choice"] = "新的责任人须是责任单位的在册人员。"
        if "reason" in self.fields:
            self.fields["reason"].label = {"return": "退回理由", "cancel": "撤销理由",
                                           "request_extension": "延期理由"}.get(action, "理由")  # fmt: skip
        if action == "urge":
            self.fields["comment"].label = "督办意见"

    def clean_action(self):
        if self.cleaned_data["action"] != self.action:
            raise ValidationError("操作不一致，请刷新页面后重试。")
        return self.action

    def clean(self):
        data = super().clean()
        if self.action == "cancel" and not data.get("confirm"):
            self.add_error("confirm", "请勾选确认后再撤销。")
        return data

    def service_kwargs(self) -> dict:
        """The cleaned fields as keyword arguments of ``services.duty_transition``."""
        d = self.cleaned_data
        return {
            "action": self.action,
            "version": d["version"],
            "comment": d.get("comment") or "",
            "evidence": d.get("evidence") or "",
            "late_reason": d.get("late_reason") or "",
            "new_due_on": d.get("new_due_on"),
            "owner_id": d.get("owner_id"),
            "reason": d.get("reason") or "",
        }


class UploadForm(StyledForm):
    """One evidence file (type, size and content are checked by ``core.files``)."""

    file = forms.FileField(label="佐证材料", error_messages={"required": "请选择要上传的文件。",
                                                              "empty": "所选文件是空文件，请检查后重新上传。"})  # fmt: skip

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_upload_%s")
        super().__init__(*args, **kwargs)
