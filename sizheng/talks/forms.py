"""Forms of the talks screens: the ledger filter, the record/edit form, cancelling and a follow-up duty.

Forms limit choices to the user's scope and validate the input's shape; the rules of a talk record
(who may be a participant, dates, tags, the pre-meeting link) live in ``services``.
"""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils import timezone

from sizheng.org.forms import StyledForm
from sizheng.org.models import Org, Person
from sizheng.talks import services
from sizheng.talks.models import TAGS, Kind, Mode, Status

SELECTGROUP = "form-selectgroup-input"
WELLBEING_HINT = (
    "勾选后，本党组织书记（未参加谈话的）只能看到谈话人、时间、方式和状态；"
    "谈话类型、标签、摘要和内容改由本党组织的心理咨询员查看。"
)


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _person_label(p: Person) -> str:
    return p.name


class TalkFilterForm(StyledForm):
    """Filters of the ledger and of "my talks" (GET). No filter on kind or tags: they are T2."""

    org = forms.ModelChoiceField(label="党组织（含下级）", queryset=Org.objects.none(), required=False,
                                 empty_label="全部")  # fmt: skip
    q = forms.CharField(label="姓名", required=False, max_length=50,
                        widget=forms.TextInput(attrs={"placeholder": "谈话人或谈话对象的姓名"}))  # fmt: skip
    mode = forms.ChoiceField(label="谈话方式", choices=[("", "全部"), *Mode.choices], required=False)
    status = forms.ChoiceField(label="状态", choices=[("", "全部"), *Status.choices], required=False)
    date_from = forms.DateField(label="谈话日期自", required=False, widget=_date_widget())
    date_to = forms.DateField(label="至", required=False, widget=_date_widget())

    def __init__(self, *args, user, with_org: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if with_org:
            self.fields["org"].queryset = Org.objects.visible_to(user).distinct().order_by("path")
        else:
            del self.fields["org"]

    def clean(self):
        """A date range must not run backwards."""
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", "结束日期不能早于开始日期。")
        return data


class PersonChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Person) -> str:
        return _person_label(obj)


class TalkForm(StyledForm):
    """Record (or edit) a talk: short on purpose — two minutes on a phone.

    The org is chosen before the form (``?org=``), so the counterparts are that org's roster; a
    name search (``?q=``) narrows the list shown without JavaScript.
    """

    initiator = forms.ModelChoiceField(label="谈话人", queryset=Person.objects.none(), empty_label="请选择")
    counterparts = PersonChoices(label="谈话对象", queryset=Person.objects.none(),
                                 widget=forms.CheckboxSelectMultiple(attrs={"class": SELECTGROUP}),
                                 error_messages={"required": "请至少选择一名谈话对象。"})  # fmt: skip
    status = forms.ChoiceField(label="状态", choices=[(Status.HELD, "已谈话"), (Status.PLANNED, "已约谈（尚未开展）")],
                               widget=forms.RadioSelect(attrs={"class": SELECTGROUP}), initial=Status.HELD)  # fmt: skip
    held_on = forms.DateField(label="谈话日期", widget=_date_widget())
    mode = forms.ChoiceField(label="谈话方式", choices=Mode.choices, initial=Mode.IN_PERSON,
                             widget=forms.RadioSelect(attrs={"class": SELECTGROUP}))  # fmt: skip
    kind = forms.ChoiceField(label="谈话类型", choices=Kind.choices, initial=Kind.DAILY)
    tags = forms.MultipleChoiceField(label="话题标签", choices=[(t, t) for t in TAGS], required=False,
                                     widget=forms.CheckboxSelectMultiple(attrs={"class": SELECTGROUP}))  # fmt: skip
    summary = forms.CharField(label="谈话摘要", required=False, max_length=services.SUMMARY_MAX,
                              widget=forms.Textarea(attrs={"rows": 3, "placeholder": "谈了哪些方面、达成了什么共识、需要帮助解决什么"}),
                              help_text="已谈话的必须填写；约谈可以先不填。")  # fmt: skip
    content = forms.CharField(label="谈话内容（详细记录，可不填）", required=False, max_length=services.CONTENT_MAX,
                              widget=forms.Textarea(attrs={"rows": 5}))  # fmt: skip
    is_wellbeing = forms.BooleanField(label="涉及心理健康", required=False, help_text=WELLBEING_HINT)
    next_talk_on = forms.DateField(label="下次谈话日期", required=False, widget=_date_widget())
    meeting = forms.ModelChoiceField(label="会前谈心所属会议", queryset=None, required=False,
                                     empty_label="不属于会前谈心",
                                     help_text="组织生活会、民主生活会前开展的谈心谈话，请选择对应的会议。")  # fmt: skip
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, org: Org, actor, search: str = "", keep=(), talk=None, **kwargs):
        super().__init__(*args, **kwargs)
        from sizheng.org.access import scope_of

        self.org = org
        person_id = scope_of(actor).person_id
        own = (
            Q(pk=person_id, left_on__isnull=True, org_id__in=services.ancestor_ids(org))
            if person_id
            else Q(pk__in=[])
        )
        # Editing keeps the talk's own people on the lists even if they have left or moved since.
        current = Q(talk_participations__talk=talk) if talk is not None else Q(pk__in=[])
        roster = services.roster(org).values("pk")
        people = Person.objects.filter(Q(pk__in=roster) | current).distinct().order_by("name", "pk")
        self.fields["initiator"].queryset = (
            Person.objects.filter(Q(pk__in=roster) | own | current).distinct().order_by("name", "pk")
        )
        # The recorder is usually the initiator: leave them off the list of people to talk to.
        self.fields["counterparts"].queryset = (
            people.exclude(pk=person_id) if talk is None and person_id else people
        )
        self.fields["meeting"].queryset = services.pre_meetings(
            org, around=talk.held_on if talk else None, also=talk.meeting_id if talk else None
        )
        self.fields["meeting"].label_from_instance = lambda m: (
            f"{timezone.localtime(m.starts_at):%Y-%m-%d} {m.get_kind_display()}（{m.org.name}）"
        )
        self.search = (search or "").strip()
        if self.search and not self.is_bound:
            # Narrow what is shown, not what is valid: the ones already picked stay on the list.
            keep_ids = {str(k) for k in keep}
            shown = [(p.pk, p.name) for p in people if self.search in p.name or str(p.pk) in keep_ids]
            self.fields["counterparts"].widget.choices = shown
        for name in ("status", "mode"):
            self.fields[name].widget.attrs["class"] = SELECTGROUP

    def service_kwargs(self) -> dict:
        """The cleaned data as ``talk_record`` / ``talk_update`` arguments."""
        d = self.cleaned_data
        return {
            "initiator": d["initiator"], "counterparts": list(d["counterparts"]), "held_on": d["held_on"],
            "mode": d["mode"], "kind": d["kind"], "tags": list(d.get("tags") or []), "summary": d.get("summary", ""),
            "content": d.get("content", ""), "is_wellbeing": bool(d.get("is_wellbeing")),
            "next_talk_on": d.get("next_talk_on"), "meeting": d.get("meeting"), "status": d["status"],
        }  # fmt: skip


class CancelForm(StyledForm):
    """Cancel a planned talk (a reason is required)."""

    reason = forms.CharField(label="取消原因", max_length=200)
    version = forms.IntegerField(widget=forms.HiddenInput)


class FollowUpForm(StyledForm):
    """A follow-up duty for a talk: only its deadline (the title is always "谈心谈话提醒")."""

    due_on = forms.DateField(label="跟进期限", widget=_date_widget())
