"""What a material can be attached to — pages owned by other apps — read through their scope rules.

A target is (kind, id): a ``study.StudyPlan``, a ``study.StudySession`` or a ``life.Meeting`` of kind
党课. Each is fetched through the owning app's visibility rule (``study.access`` / ``Meeting.visible_to``)
so a target outside the user's scope behaves as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from sizheng.library.models import TargetKind
from sizheng.life.models import Meeting, MeetingKind
from sizheng.org.models import Org
from sizheng.study import access as study_access

NOT_FOUND = {
    TargetKind.STUDY_PLAN: "未找到该学习计划，或您无权查看。",
    TargetKind.STUDY_SESSION: "未找到该学习活动，或您无权查看。",
    TargetKind.PARTY_LECTURE: "未找到该党课记录，或您无权查看。",
}


@dataclass(frozen=True)
class Target:
    """A page a material is used on: its kind, id, a label, its org and its URL."""

    kind: str
    id: int
    label: str
    org: Org
    url: str

    @property
    def kind_label(self) -> str:
        return TargetKind(self.kind).label


def _url(name: str, pk: int) -> str:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""


def _day(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d")


def queryset(kind: str, user):
    """The targets of ``kind`` the user sees, ready to describe (org selected)."""
    if kind == TargetKind.STUDY_PLAN:
        return study_access.plans_visible_to(user).select_related("org")
    if kind == TargetKind.STUDY_SESSION:
        return study_access.sessions_visible_to(user).select_related("meeting", "meeting__org")
    if kind == TargetKind.PARTY_LECTURE:
        return Meeting.objects.visible_to(user).filter(kind=MeetingKind.PARTY_LECTURE).select_related("org")
    raise ValueError(kind)


def describe(kind: str, obj) -> Target:
    """A fetched row as a Target."""
    if kind == TargetKind.STUDY_PLAN:
        return Target(kind, obj.pk, f"{obj.year}年 {obj.title}", obj.org, _url("study:plan_detail", obj.pk))
    if kind == TargetKind.STUDY_SESSION:
        m = obj.meeting
        label = f"{_day(m.starts_at)} {m.get_kind_display()}：{m.topic}"
        return Target(kind, obj.pk, label, m.org, _url("study:session_detail", obj.pk))
    label = f"{_day(obj.starts_at)} 党课：{obj.topic}"
    return Target(kind, obj.pk, label, obj.org, _url("life:meeting_detail", obj.pk))


def get(kind: str, pk: int, user) -> Target | None:
    """One target the user sees, else None (one query)."""
    if kind not in TargetKind.values:
        return None
    obj = queryset(kind, user).filter(pk=pk).first()
    return describe(kind, obj) if obj is not None else None


def visible(pairs, user) -> dict[tuple[str, int], Target]:
    """Targets among (kind, id) pairs the user sees: one query per kind present."""
    ids: dict[str, set[int]] = {}
    for kind, pk in pairs:
        ids.setdefault(kind, set()).add(pk)
    out: dict[tuple[str, int], Target] = {}
    for kind, pks in ids.items():
        if kind not in TargetKind.values:
            continue
        for obj in queryset(kind, user).filter(pk__in=pks):
            out[(kind, obj.pk)] = describe(kind, obj)
    return out


def recent_managed(user, managed_orgs, *, limit: int = 60) -> dict[str, list[Target]]:
    """For the attach form: each kind's most recent targets in orgs the user manages (three queries)."""
    org_ids = managed_orgs.values("pk")
    plans = queryset(TargetKind.STUDY_PLAN, user).filter(org__in=org_ids).order_by("-year", "org__path")
    sessions = (
        queryset(TargetKind.STUDY_SESSION, user)
        .filter(meeting__org__in=org_ids)
        .order_by("-meeting__starts_at", "-pk")
    )
    lectures = queryset(TargetKind.PARTY_LECTURE, user).filter(org__in=org_ids).order_by("-starts_at", "-pk")
    return {
        TargetKind.STUDY_PLAN: [describe(TargetKind.STUDY_PLAN, o) for o in plans[:limit]],
        TargetKind.STUDY_SESSION: [describe(TargetKind.STUDY_SESSION, o) for o in sessions[:limit]],
        TargetKind.PARTY_LECTURE: [describe(TargetKind.PARTY_LECTURE, o) for o in lectures[:limit]],
    }
