"""Forms of the meetings screens: the list filter, the record form with one status per attendee,
review, report upward and rectification items.

Forms validate input and limit choices to the user's scope; writes live in ``services``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, time

from django import forms
from django.utils import timezone

from sizheng.life.models import AttendanceStatus, MeetingKind, MeetingState
from sizheng.org.forms import StyledForm
from sizheng.org.models import Org, Person

# Rows of motions offered on the record form (a meeting rarely votes on more).
VOTE_ROWS = 3
# Statuses a secretary picks for an expected attendee (列席 people are not on the roster).
ROSTER_STATUSES = [
    (AttendanceStatus.PRESENT, "出席"),
    (AttendanceStatus.ABSENT, "缺席"),
    (AttendanceStatus.ON_LEAVE, "请假"),
]
STEP_KINDS = (MeetingKind.LIFE_MEETING, MeetingKind.DEMOCRATIC_LIFE_MEETING)


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _time_widget() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def roster_key(people) -> str:
    """A short fingerprint of a roster: a posted form whose roster changed is caught."""
    ids = ",".join(str(p.pk) for p in sorted(people, key=lambda p: p.pk))
    return hashlib.sha256(ids.encode()).hexdigest()[:16]


class MeetingFilterForm(StyledForm):
    """Filters of the meetings list (GET)."""

    org = forms.ModelChoiceField(label="党组织（含下级）", queryset=Org.objects.none(), required=False,
                                 empty_label="全部")  # fmt: skip
    kind = forms.ChoiceField(label="会议类型", choices=[("", "全部"), *MeetingKind.choices], required=False)
    state = forms.ChoiceField(label="状态", choices=[("", "全部"), *MeetingState.choices], required=False)
    date_from = forms.DateField(label="开始日期自", required=False, widget=_date_widget())
    date_to = forms.DateField(label="至", required=False, widget=_date_widget())
    q = forms.CharField(label="主题", required=False, max_length=50)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = Org.objects.visible_to(user).distinct().order_by("path")

    def clean(self):
        """A date range must not run backwards."""
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", "结束日期不能早于开始日期。")
        return data


class MeetingForm(StyledForm):
    """The record form: short on purpose (a secretary fills it in on a phone in two minutes).

    Each expected attendee gets a status select (default 出席) and a reason field, so absences are
    entered once, as data. ``orgs`` is None when editing (org and kind are then fixed).
    """

    org = forms.ModelChoiceField(label="党组织", queryset=Org.objects.none(), empty_label=None)
    kind = forms.ChoiceField(label="会议类型", choices=MeetingKind.choices)
    topic = forms.CharField(label="会议主题", max_length=200)
    day = forms.DateField(label="日期", widget=_date_widget())
    start_time = forms.TimeField(label="开始时间", widget=_time_widget())
    end_time = forms.TimeField(label="结束时间", widget=_time_widget())
    place = forms.CharField(label="地点", max_length=120)
    chair = forms.ModelChoiceField(label="主持人", queryset=Person.objects.none(), required=False)
    recorder = forms.ModelChoiceField(label="记录人", queryset=Person.objects.none(), required=False)
    speaker = forms.ModelChoiceField(label="党课主讲人", queryset=Person.objects.none(), required=False,
                                     help_text="仅党课填写。")  # fmt: skip
    agenda = forms.CharField(label="议程", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    minutes = forms.CharField(label="会议记录", required=False, widget=forms.Textarea(attrs={"rows": 5}))
    resolutions = forms.CharField(label="决议事项", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    theme = forms.CharField(label="会议主题（组织生活会/民主生活会）", max_length=200, required=False)
    talks_done = forms.BooleanField(label="会前已开展谈心谈话", required=False)
    criticism = forms.CharField(label="批评和自我批评情况", required=False,
                                widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    roster = forms.CharField(widget=forms.HiddenInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, orgs, people, roster, **kwargs):
        super().__init__(*args, **kwargs)
        self.roster = list(roster)
        self.initial.setdefault("roster", roster_key(self.roster))
        if orgs is None:
            del self.fields["org"], self.fields["kind"]
        else:
            self.fields["org"].queryset = orgs
        for name in ("chair", "recorder", "speaker"):
            self.fields[name].queryset = people
        for i in range(1, VOTE_ROWS + 1):
            self.fields[f"motion_{i}"] = forms.CharField(label=f"表决事项{i}", max_length=200, required=False)
            for part, label in (("ayes", "赞成"), ("noes", "反对"), ("abstentions", "弃权")):
                self.fields[f"{part}_{i}"] = forms.IntegerField(label=label, min_value=0, required=False)
        for person in self.roster:
            self.fields[f"att_{person.pk}"] = forms.ChoiceField(
                label=person.name, choices=ROSTER_STATUSES, initial=AttendanceStatus.PRESENT
            )
            self.fields[f"reason_{person.pk}"] = forms.CharField(
                label=f"{person.name}缺席或请假原因", max_length=200, required=False
            )
        # Fields added after StyledForm.__init__ need its classes too.
        for name, f in self.fields.items():
            if name.startswith(("att_", "motion_", "ayes_", "noes_", "abstentions_", "reason_")):
                cls = "form-select" if isinstance(f.widget, forms.Select) else "form-control"
                f.widget.attrs.setdefault("class", cls)

    # -- template helpers ---------------------------------------------------------------

    def attendance_rows(self):
        """(person, status field, reason field) per expected attendee."""
        return [(p, self[f"att_{p.pk}"], self[f"reason_{p.pk}"]) for p in self.roster]

    def vote_rows(self):
        """The motion rows' bound fields."""
        return [
            [self[f"{part}_{i}"] for part in ("motion", "ayes", "noes", "abstentions")]
            for i in range(1, VOTE_ROWS + 1)
        ]

    # -- validation -----------------------------------------------------------------------

    def clean(self):
        """Times in order, reasons for absence, complete motions, an unchanged roster."""
        data = super().clean()
        if data.get("start_time") and data.get("end_time") and data["end_time"] <= data["start_time"]:
            self.add_error("end_time", "结束时间必须晚于开始时间。")
        if "roster" in data and data["roster"] and data["roster"] != roster_key(self.roster):
            self.add_error(None, "出席名单已按所选党组织和会议类型更新，请核对每位同志的出席情况后再保存。")
        for person in self.roster:
            status = data.get(f"att_{person.pk}")
            if (
                status in (AttendanceStatus.ABSENT, AttendanceStatus.ON_LEAVE)
                and not data.get(f"reason_{person.pk}", "").strip()
            ):
                self.add_error(f"reason_{person.pk}", f"{person.name}缺席或请假，请写明原因。")
        for i in range(1, VOTE_ROWS + 1):
            counts = [data.get(f"{p}_{i}") for p in ("ayes", "noes", "abstentions")]
            if data.get(f"motion_{i}") and counts[0] is None:
                self.add_error(f"ayes_{i}", "请填写赞成票数。")
            if not data.get(f"motion_{i}") and any(c for c in counts):
                self.add_error(f"motion_{i}", "填写了票数，请写明表决事项。")
        return data

    def starts_at(self) -> datetime:
        return timezone.make_aware(
            datetime.combine(self.cleaned_data["day"], self.cleaned_data["start_time"])
        )

    def ends_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.cleaned_data["day"], self.cleaned_data["end_time"]))

    def votes(self) -> list[dict]:
        """The motions as the ``votes`` JSON."""
        d = self.cleaned_data
        return [
            {"motion": d[f"motion_{i}"], "ayes": d.get(f"ayes_{i}") or 0, "noes": d.get(f"noes_{i}") or 0,
             "abstentions": d.get(f"abstentions_{i}") or 0}
            for i in range(1, VOTE_ROWS + 1) if d.get(f"motion_{i}")
        ]  # fmt: skip

    def steps(self, kind: str, previous: dict | None = None) -> dict:
        """The 组织生活会 steps (kept as they were for other kinds)."""
        steps = dict(previous or {})
        if kind in STEP_KINDS:
            d = self.cleaned_data
            steps.update(theme=d.get("theme", ""), talks_done=bool(d.get("talks_done")),
                         criticism=d.get("criticism", ""))  # fmt: skip
        return steps

    def attendance(self) -> dict[int, tuple[str, str]]:
        """{person id: (status, reason)} for the service."""
        d = self.cleaned_data
        return {p.pk: (d[f"att_{p.pk}"], d.get(f"reason_{p.pk}", "").strip()) for p in self.roster}

    def fields_for_service(self, kind: str, previous_steps: dict | None = None) -> dict:
        """The record's fields as the services take them."""
        d = self.cleaned_data
        return {
            "topic": d["topic"], "starts_at": self.starts_at(), "ends_at": self.ends_at(), "place": d["place"],
            "chair": d.get("chair"), "recorder": d.get("recorder"), "speaker": d.get("speaker"),
            "agenda": d.get("agenda", ""), "minutes": d.get("minutes", ""),
            "resolutions": d.get("resolutions", ""), "votes": self.votes(),
            "steps": self.steps(kind, previous_steps),
        }  # fmt: skip


def initial_from_meeting(meeting) -> dict:
    """The record form's initial values for an existing meeting."""
    start, end = timezone.localtime(meeting.starts_at), timezone.localtime(meeting.ends_at)
    initial = {
        "topic": meeting.topic, "day": start.date(), "start_time": start.time().replace(second=0, microsecond=0),
        "end_time": end.time().replace(second=0, microsecond=0), "place": meeting.place,
        "chair": meeting.chair_id, "recorder": meeting.recorder_id, "speaker": meeting.speaker_id,
        "agenda": meeting.agenda, "minutes": meeting.minutes, "resolutions": meeting.resolutions,
        "theme": (meeting.steps or {}).get("theme", ""), "talks_done": (meeting.steps or {}).get("talks_done"),
        "criticism": (meeting.steps or {}).get("criticism", ""), "version": meeting.version,
    }  # fmt: skip
    for i, vote in enumerate(meeting.votes or [], start=1):
        if i > VOTE_ROWS:
            break
        initial.update({f"motion_{i}": vote.get("motion", ""), f"ayes_{i}": vote.get("ayes"),
                        f"noes_{i}": vote.get("noes"), f"abstentions_{i}": vote.get("abstentions")})  # fmt: skip
    for a in meeting.attendance.all():
        initial[f"att_{a.person_id}"] = a.status
        initial[f"reason_{a.person_id}"] = a.reason
    return initial


DEFAULT_TIMES = (time(9, 0), time(11, 0))


class ReviewForm(StyledForm):
    """Approve or return a submitted record (the opinion is required to return)."""

    decision = forms.ChoiceField(choices=[("approve", "审核通过"), ("return", "退回")])
    opinion = forms.CharField(label="审核意见", max_length=300, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip
    version = forms.IntegerField(widget=forms.HiddenInput)

    def clean(self):
        """A return needs an opinion."""
        data = super().clean()
        if data.get("decision") == "return" and not data.get("opinion", "").strip():
            self.add_error("opinion", "退回时须写明退回意见。")
        return data


class VersionForm(StyledForm):
    """A bare action form (submit, notice) that carries the version it was shown on."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class ReportForm(StyledForm):
    """已报送上级: the date the 民主生活会's results went to the higher org."""

    reported_on = forms.DateField(label="报送日期", widget=_date_widget())
    version = forms.IntegerField(widget=forms.HiddenInput)

    def clean_reported_on(self):
        """Not in the future."""
        value = self.cleaned_data["reported_on"]
        if value > timezone.localdate():
            raise forms.ValidationError("报送日期不能晚于今天。")
        return value


class RectificationForm(StyledForm):
    """One rectification item of a 组织生活会; it opens a duty."""

    title = forms.CharField(label="整改事项", max_length=200)
    due_on = forms.DateField(label="整改时限", widget=_date_widget())
    version = forms.IntegerField(widget=forms.HiddenInput)
