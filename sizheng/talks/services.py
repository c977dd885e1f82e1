"""Every write of the talks ledger: recording, editing and cancelling a talk, and its follow-up duty.

T2 (kind, tags, summary, content) never leaves these functions except into the encrypted columns:
audit rows carry ids and field names, notifications say only that a talk was recorded.
"""

from __future__ import annotations

import json
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from sizheng.core import audit
from sizheng.core.apitools import Conflict
from sizheng.org.access import ancestor_ids as path_ancestor_ids
from sizheng.org.access import manages_org, scope_of
from sizheng.org.models import Org, Person
from sizheng.talks import access
from sizheng.talks.models import TAGS, Kind, Mode, Status, Talk, TalkParticipant

NOTICE_TITLE = "谈心谈话记录"
NOTICE_BODY = "有一条与您相关的谈心谈话记录已登记。"
SUMMARY_MAX = 2000
CONTENT_MAX = 20000
# Status changes an edit may make (cancelling goes through talk_cancel, which needs a reason).
TRANSITIONS: dict[str, set[str]] = {
    Status.PLANNED: {Status.PLANNED, Status.HELD, Status.CANCELLED},
    Status.HELD: {Status.HELD},
    Status.CANCELLED: set(),
}
EDITABLE = frozenset(
    {"initiator", "counterparts", "held_on", "mode", "kind", "tags", "summary", "content", "is_wellbeing",
     "next_talk_on", "meeting", "status"}
)  # fmt: skip
PRE_MEETING_KINDS = ("life_meeting", "democratic_life_meeting")  # life.MeetingKind 组织生活会 / 民主生活会


# --- reads the services and forms share -----------------------------------------------------------


def roster(org: Org):
    """The people a talk recorded in ``org`` may be held with: its subtree's current members; for a
    党组, its unit's leadership team; for an org at the top of a unit, the unit's non-party staff."""
    q = Q(org__path__startswith=org.path)
    if org.kind == Org.Kind.LEADING_GROUP:
        q |= Q(unit__in=org.units.all(), is_leader=True)
    elif org.depth == 1:
        q |= Q(org__isnull=True, unit__in=org.units.all())
    return Person.objects.current().filter(q)


def ancestor_ids(org: Org) -> list[int]:
    """The org and its ancestors (the materialised path holds their ids)."""
    return path_ancestor_ids(org.path)


def recording_orgs(user):
    """Orgs the user may record a talk in: those they manage, and their own org (as a participant)."""
    from sizheng.org.forms import managed_orgs

    scope = scope_of(user)
    q = Q(pk__in=managed_orgs(user).values("pk"))
    if scope.own_org_id:
        q |= Q(pk=scope.own_org_id)
    return Org.objects.filter(q).order_by("path")


def may_record(user, org: Org, people_ids: set[int]) -> bool:
    """A participant records their own talk; a secretary or 党务干部 records any talk of their orgs."""
    scope = scope_of(user)
    return (scope.person_id is not None and scope.person_id in people_ids) or manages_org(user, org)


def pre_meetings(org: Org, around: date | None = None, days: int | None = 90, also: int | None = None):
    """The 组织生活会 / 民主生活会 of the org and its ancestors (within ``days`` of a day, when given, plus
    the meeting ``also`` a talk is already linked to) that a pre-meeting talk may attach to."""
    from datetime import timedelta

    from sizheng.life.models import Meeting

    qs = Meeting.objects.filter(org_id__in=ancestor_ids(org), kind__in=PRE_MEETING_KINDS)
    if days is not None:
        day = around or timezone.localdate()
        window = Q(
            starts_at__date__gte=day - timedelta(days=days), starts_at__date__lte=day + timedelta(days=days)
        )
        qs = qs.filter(window | Q(pk=also) if also else window)
    return qs.select_related("org").order_by("-starts_at")


def with_people(qs):
    """Talks with no T2 column loaded and their participants (with names) in one extra query."""
    from django.db.models import Prefetch

    people = TalkParticipant.objects.select_related("person").order_by("-is_initiator", "person__name", "pk")
    return qs.metadata_only().prefetch_related(Prefetch("participants", queryset=people, to_attr="people"))


def filter_talks(qs, data: dict):
    """The ledger filters — metadata only: org subtree, a participant's name, mode, status, dates."""
    if data.get("org"):
        qs = qs.filter(org__path__startswith=data["org"].path)
    if data.get("q"):
        qs = qs.filter(participants__person__name__icontains=data["q"].strip())
    if data.get("mode"):
        qs = qs.filter(mode=data["mode"])
    if data.get("status"):
        qs = qs.filter(status=data["status"])
    if data.get("date_from"):
        qs = qs.filter(held_on__gte=data["date_from"])
    if data.get("date_to"):
        qs = qs.filter(held_on__lte=data["date_to"])
    return qs


# --- validation --------------------------------------------------------------------------------


def _validate(
    *, org: Org, initiator: Person, counterparts: list[Person], held_on: date, mode: str, kind: str,
    tags: list[str], summary: str, content: str, next_talk_on: date | None, meeting, status: str,
    known: frozenset[int] = frozenset(), known_meetings: frozenset[int] = frozenset(),
) -> None:  # fmt: skip
    """Every rule of one talk record, as Chinese field errors (all at once). People in ``known`` are
    already on the talk: an edit keeps them even if they have left or moved since."""
    errors: dict[str, str] = {}
    ids = {p.pk for p in counterparts}
    if not counterparts:
        errors["counterparts"] = "请至少选择一名谈话对象。"
    elif initiator is not None and initiator.pk in ids:
        errors["counterparts"] = "谈话人不能同时是谈话对象，请从谈话对象中去掉谈话人。"
    else:
        new = [p for p in counterparts if p.pk not in known]
        left = [p.name for p in new if p.left_on is not None]
        in_roster = set(roster(org).filter(pk__in=[p.pk for p in new]).values_list("pk", flat=True))
        outside = [p.name for p in new if p.pk not in in_roster and p.left_on is None]
        if left:
            errors["counterparts"] = f"{'、'.join(left)}已离开本单位，不能作为谈话对象。"
        elif outside:
            errors["counterparts"] = f"{'、'.join(outside)}不在该党组织的人员名单中，请在对应的党组织下登记。"
    if initiator is None:
        errors["initiator"] = "请选择谈话人。"
    elif initiator.pk in known:
        pass
    elif initiator.left_on is not None:
        errors["initiator"] = f"{initiator.name}已离开本单位，不能作为谈话人。"
    elif not (
        roster(org).filter(pk=initiator.pk).exists()
        or Person.objects.filter(pk=initiator.pk, org_id__in=ancestor_ids(org)).exists()
    ):
        errors["initiator"] = f"{initiator.name}不是该党组织或其上级党组织的人员，不能作为谈话人。"
    if status not in Status.values:
        errors["status"] = "请选择谈话状态。"
    today = timezone.localdate()
    if held_on is None:
        errors["held_on"] = "请填写谈话日期。"
    elif status == Status.HELD and held_on > today:
        errors["held_on"] = "已开展的谈话，谈话日期不能晚于今天；尚未开展的请登记为“已约谈”。"
    if mode not in Mode.values:
        errors["mode"] = "请选择谈话方式。"
    if kind not in Kind.values:
        errors["kind"] = "请选择谈话类型。"
    unknown = [t for t in tags if t not in TAGS]
    if unknown:
        errors["tags"] = "话题标签只能从列出的标签中选择。"
    if status == Status.HELD and not summary.strip():
        errors["summary"] = "请填写谈话摘要（谈了哪些方面、达成了什么共识）。"
    elif len(summary) > SUMMARY_MAX:
        errors["summary"] = f"谈话摘要不得超过 {SUMMARY_MAX} 个字。"
    if len(content) > CONTENT_MAX:
        errors["content"] = f"谈话内容不得超过 {CONTENT_MAX} 个字。"
    if next_talk_on is not None and held_on is not None and next_talk_on <= held_on:
        errors["next_talk_on"] = "下次谈话日期应晚于本次谈话日期。"
    if (
        meeting is not None
        and getattr(meeting, "pk", None) not in known_meetings
        and (meeting.kind not in PRE_MEETING_KINDS or meeting.org_id not in ancestor_ids(org))
    ):
        errors["meeting"] = "会前谈心只能关联本党组织或上级党组织的组织生活会、民主生活会。"
    if errors:
        raise ValidationError(errors)


def _tags_json(tags) -> str:
    return json.dumps(list(dict.fromkeys(tags)), ensure_ascii=False) if tags else ""


def _held(talk: Talk) -> None:
    """Tell the triggers that a talk was held (their duties close); skipped until that module exists."""
    try:
        from sizheng.talks.triggers import on_talk_held
    except ModuleNotFoundError as exc:
        if exc.name != "sizheng.talks.triggers":
            raise
        return
    on_talk_held(talk)


def _notify_counterparts(talk: Talk, people: list[Person], actor) -> None:
    """A content-free notice to the counterparts (never the actor), after commit."""
    users = [p.user for p in people if p.user_id and p.user_id != getattr(actor, "pk", None)]
    if not users:
        return
    url = reverse("talks:detail", args=[talk.pk])

    def send() -> None:
        from sizheng.core.notify import notify

        notify(users, title=NOTICE_TITLE, body=NOTICE_BODY, url=url)

    transaction.on_commit(send)


# --- services ----------------------------------------------------------------------------------


@transaction.atomic
def talk_record(
    *,
    actor,
    org: Org,
    initiator: Person,
    counterparts,
    held_on: date,
    mode: str,
    kind: str,
    tags,
    summary: str,
    content: str = "",
    is_wellbeing: bool = False,
    next_talk_on: date | None = None,
    meeting=None,
    status: str = Status.HELD,
) -> Talk:
    """Record a talk (held, or planned) with its participants; the counterparts get a content-free notice."""
    counterparts = list(dict.fromkeys(counterparts))
    tags = list(tags or [])
    if not Org.objects.visible_to(actor).filter(pk=org.pk).exists():
        raise PermissionDenied("您无权在该党组织登记谈心谈话。")
    people_ids = {p.pk for p in counterparts} | ({initiator.pk} if initiator is not None else set())
    if not may_record(actor, org, people_ids):
        raise PermissionDenied("只有谈话参与人，或该党组织的书记、党务干部，可以登记这次谈心谈话。")
    summary, content = (summary or "").strip(), (content or "").strip()
    if status == Status.CANCELLED:
        raise ValidationError({"status": "新登记的谈话只能是“已谈话”或“已约谈”。"})
    _validate(org=org, initiator=initiator, counterparts=counterparts, held_on=held_on, mode=mode, kind=kind,
              tags=tags, summary=summary, content=content, next_talk_on=next_talk_on, meeting=meeting,
              status=status)  # fmt: skip
    talk = Talk.objects.create(
        org=org,
        initiator=initiator,
        held_on=held_on,
        mode=mode,
        status=status,
        is_wellbeing=bool(is_wellbeing),
        kind=kind,
        tags=_tags_json(tags),
        summary=summary,
        content=content,
        next_talk_on=next_talk_on,
        meeting=meeting,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    TalkParticipant.objects.bulk_create(
        [TalkParticipant(talk=talk, person=initiator, is_initiator=True)]
        + [TalkParticipant(talk=talk, person=p) for p in counterparts]
    )
    talk._participant_ids = people_ids
    audit.record(actor, "talk_record", talk, {"org": org.pk, "initiator": initiator.pk,
                                              "counterparts": sorted(p.pk for p in counterparts),
                                              "status": status})  # fmt: skip
    if status == Status.HELD:
        _held(talk)
    _notify_counterparts(talk, counterparts, actor)
    return talk


def _cas(talk: Talk, version: int, **changes) -> None:
    """Compare-and-swap on ``version``: a concurrent edit fails with 409, never a silent overwrite."""
    if not Talk.objects.filter(pk=talk.pk, version=version).update(version=F("version") + 1, **changes):
        raise Conflict("该谈话记录已被他人修改，请刷新页面后重新填写。")
    for k, v in changes.items():
        setattr(talk, k, v)
    talk.version = version + 1


def _check_transition(talk: Talk, to: str) -> None:
    if to not in TRANSITIONS.get(talk.status, set()):
        target = Status(to).label if to in Status.values else to
        raise Conflict(f"该谈话记录当前为“{talk.get_status_display()}”，不能改为“{target}”。")


@transaction.atomic
def talk_update(*, actor, talk: Talk, version: int, **changes) -> Talk:
    """Edit a talk (CAS on ``version``), for whoever may edit it; validated like a new record."""
    if not access.may_edit(actor, talk):
        raise PermissionDenied("您可以查看该谈话记录，但没有修改它的权限。")
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValidationError(f"不能修改这些项目：{'、'.join(sorted(unknown))}。")
    if talk.status == Status.CANCELLED:
        raise Conflict("已取消的谈话记录不能再修改。")
    full = Talk.objects.select_related("initiator", "org", "meeting").get(pk=talk.pk)
    if full.version != version:
        raise Conflict("该谈话记录已被他人修改，请刷新页面后重新填写。")
    parts = list(full.participants.select_related("person"))
    current_counterparts = [p.person for p in parts if not p.is_initiator]
    new = {
        "initiator": changes.get("initiator", full.initiator),
        "counterparts": list(dict.fromkeys(changes.get("counterparts", current_counterparts))),
        "held_on": changes.get("held_on", full.held_on),
        "mode": changes.get("mode", full.mode),
        "kind": changes.get("kind", full.kind),
        "tags": list(changes.get("tags", full.tag_list)),
        "summary": (changes.get("summary", full.summary) or "").strip(),
        "content": (changes.get("content", full.content) or "").strip(),
        "next_talk_on": changes.get("next_talk_on", full.next_talk_on),
        "meeting": changes.get("meeting", full.meeting),
        "status": changes.get("status", full.status),
    }
    _check_transition(full, new["status"])
    if new["status"] == Status.CANCELLED:
        raise Conflict("取消约谈请使用“取消约谈”，并写明原因。")
    known = frozenset({p.person_id for p in parts})
    _validate(org=full.org, known=known, known_meetings=frozenset({full.meeting_id} - {None}), **new)
    columns = {
        "initiator": new["initiator"],
        "held_on": new["held_on"],
        "mode": new["mode"],
        "kind": new["kind"],
        "tags": _tags_json(new["tags"]),
        "summary": new["summary"],
        "content": new["content"],
        "next_talk_on": new["next_talk_on"],
        "meeting": new["meeting"],
        "status": new["status"],
        "is_wellbeing": bool(changes.get("is_wellbeing", full.is_wellbeing)),
    }
    changed = {k: v for k, v in columns.items() if getattr(full, k) != v}
    old_ids = {p.person_id for p in parts if not p.is_initiator}
    new_ids = {p.pk for p in new["counterparts"]}
    people_changed = old_ids != new_ids or new["initiator"].pk != full.initiator_id
    if not changed and not people_changed:
        return talk
    _cas(talk, version, **changed)
    if people_changed:
        TalkParticipant.objects.filter(talk=talk).delete()
        TalkParticipant.objects.bulk_create(
            [TalkParticipant(talk=talk, person=new["initiator"], is_initiator=True)]
            + [TalkParticipant(talk=talk, person=p) for p in new["counterparts"]]
        )
        talk._participant_ids = new_ids | {new["initiator"].pk}
    fields = sorted(set(changed) | ({"counterparts"} if old_ids != new_ids else set()))
    audit.record(actor, "talk_update", talk, {"fields": fields})
    if full.status != Status.HELD and new["status"] == Status.HELD:
        _held(talk)
    added = [p for p in new["counterparts"] if p.pk not in old_ids]
    if added:
        _notify_counterparts(talk, added, actor)
    return talk


@transaction.atomic
def talk_cancel(*, actor, talk: Talk, version: int, reason: str) -> Talk:
    """Cancel a planned talk; the reason is kept with the (encrypted) summary, never in the audit row."""
    if not access.may_edit(actor, talk):
        raise PermissionDenied("您可以查看该谈话记录，但没有取消它的权限。")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请写明取消约谈的原因。"})
    if len(reason) > 200:
        raise ValidationError({"reason": "取消原因不得超过 200 个字。"})
    if talk.status != Status.PLANNED:
        raise Conflict("只有“已约谈”（尚未开展）的谈话可以取消。")
    full = Talk.objects.only("summary", "version").get(pk=talk.pk)
    if full.version != version:
        raise Conflict("该谈话记录已被他人修改，请刷新页面后重试。")
    # The reason may itself be sensitive, so it is stored encrypted with the summary (T2).
    summary = f"{full.summary}\n取消原因：{reason}" if full.summary else f"取消原因：{reason}"
    _cas(talk, version, status=Status.CANCELLED, summary=summary)
    audit.record(actor, "talk_cancel", talk, {"from": Status.PLANNED, "to": Status.CANCELLED})
    return talk


@transaction.atomic
def talk_follow_up_duty(*, actor, talk: Talk, due_on: date, owner: Person | None = None):
    """Open the talk's follow-up duty; it is titled "谈心谈话提醒" and says nothing of the talk."""
    from sizheng.duties.models import SourceKind
    from sizheng.duties.services import duty_open

    if not access.may_edit(actor, talk):
        raise PermissionDenied("只有登记该谈话的同志或谈话人可以为它安排跟进事项。")
    if talk.status == Status.CANCELLED:
        raise Conflict("已取消的谈话不能安排跟进事项。")
    if due_on is None or due_on < timezone.localdate():
        raise ValidationError({"due_on": "跟进期限不能早于今天。"})
    duty = duty_open(
        org=talk.org, title="谈心谈话提醒", due_on=due_on, source=(SourceKind.TALK, talk.pk), actor=actor,
        owner=owner,
    )  # fmt: skip
    audit.record(actor, "talk_follow_up_duty", talk, {"duty": duty.pk})
    return duty
