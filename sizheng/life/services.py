"""Every write of organisational life: meeting records and their attendance, approval, exemptions."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from sizheng.core import audit, calendar
from sizheng.core.apitools import Conflict
from sizheng.life.compliance import data_changed
from sizheng.life.models import (
    Attendance,
    AttendanceStatus,
    ComplianceRule,
    Exemption,
    Meeting,
    MeetingKind,
    MeetingState,
)
from sizheng.org.models import Org, Person

# Kinds whose expected attendees are the org's leadership rather than all its members.
LEADERSHIP_KINDS = {MeetingKind.DEMOCRATIC_LIFE_MEETING, MeetingKind.CENTRAL_GROUP_STUDY}
# DLM-7: a 民主生活会 is reported upward within 15 days (local rule; calendar days).
DLM_REPORT_DAYS = 15


def expected_attendees(org: Org, kind: str):
    """Who is expected, from the roster: the org's current party members (for a 党组's meetings,
    its unit's leadership team; for a 支委会, the committee's current post holders)."""
    today = timezone.localdate()
    if org.kind == Org.Kind.LEADING_GROUP or kind in LEADERSHIP_KINDS:
        return Person.objects.current().filter(unit__in=org.units.all(), is_leader=True)
    if kind == MeetingKind.COMMITTEE_MEETING:
        # One filter() so every condition applies to the same OrgRole row: an exclude() across the
        # relation dropped anyone with *some* ended term, e.g. a re-elected secretary's previous one.
        return Person.objects.filter(
            Q(org_roles__ends_on__isnull=True) | Q(org_roles__ends_on__gte=today),
            org_roles__org=org,
            org_roles__starts_on__lte=today,
        ).distinct()
    return Person.objects.current().party_members().filter(org__path__startswith=org.path)


def _check_times(starts_at, ends_at) -> None:
    errors = {}
    if ends_at <= starts_at:
        errors["ends_at"] = "结束时间必须晚于开始时间。"
    elif ends_at - starts_at > timedelta(days=3):
        errors["ends_at"] = "一次会议不应超过 3 天，请检查结束时间。"
    if starts_at > timezone.now() + timedelta(days=366):
        errors["starts_at"] = "开始时间不能晚于一年以后。"
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def meeting_record(
    *,
    actor,
    org: Org,
    kind: str,
    topic: str,
    starts_at,
    ends_at,
    place: str,
    submit: bool = True,
    attendance: dict[int, tuple[str, str]] | None = None,
    **fields,
) -> Meeting:
    """Record a meeting with the roster's expected attendees (all present unless ``attendance``
    says otherwise: {person_id: (status, reason)}); submitted by default."""
    if kind not in MeetingKind.values:
        raise ValidationError({"kind": f"未知的会议类型：{kind}。"})
    if not topic.strip():
        raise ValidationError({"topic": "请填写会议主题。"})
    if not place.strip():
        raise ValidationError({"place": "请填写会议地点。"})
    _check_times(starts_at, ends_at)
    meeting = Meeting(
        org=org,
        kind=kind,
        topic=topic.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        place=place.strip(),
        created_by=actor if getattr(actor, "pk", None) else None,
        **fields,
    )
    if kind == MeetingKind.DEMOCRATIC_LIFE_MEETING:
        meeting.report_due_on = timezone.localtime(ends_at).date() + timedelta(days=DLM_REPORT_DAYS)
    if submit:
        meeting.state, meeting.submitted_at = MeetingState.SUBMITTED, timezone.now()
    meeting.save()
    attendance = attendance or {}
    rows = []
    for person in expected_attendees(org, kind):
        status, reason = attendance.get(person.pk, (AttendanceStatus.PRESENT, ""))
        rows.append(
            Attendance(
                meeting=meeting,
                person=person,
                status=status,
                reason=reason,
                is_voting=person.political_status == "cpc_member",
            )
        )
    Attendance.objects.bulk_create(rows)
    data_changed()
    audit.record(actor, "meeting_record", meeting, {"kind": kind, "org": org.pk, "state": meeting.state})
    return meeting


def quorum(meeting: Meeting) -> dict:
    """Attendance figures and the quorum a rule defines: BR-MTG-1q (more than half of voting members
    present at a 党员大会), DLM-3 (≥ 2/3 at a 民主生活会)."""
    rows = list(
        meeting.attendance.exclude(status=AttendanceStatus.NON_VOTING).values_list("status", "is_voting")
    )
    expected = len(rows)
    present = sum(1 for s, _ in rows if s == AttendanceStatus.PRESENT)
    voting = sum(1 for _, v in rows if v)
    voting_present = sum(1 for s, v in rows if v and s == AttendanceStatus.PRESENT)
    result = {"expected": expected, "present": present, "absent": expected - present, "quorum": None,
              "quorum_met": None, "rule": ""}  # fmt: skip
    if meeting.kind == MeetingKind.MEMBERS_MEETING:
        result.update(quorum=voting // 2 + 1, quorum_met=voting_present * 2 > voting, rule="BR-MTG-1q")
    elif meeting.kind == MeetingKind.DEMOCRATIC_LIFE_MEETING:
        result.update(quorum=-(-2 * expected // 3), quorum_met=present * 3 >= 2 * expected, rule="DLM-3")
    return result


def motion_passes(ayes: int, expected_voting: int) -> bool:
    """BR-MTG-1q: a motion passes with ayes above half of those who should attend with a vote."""
    return ayes * 2 > expected_voting


def _cas(meeting: Meeting, version: int, **changes) -> None:
    if not Meeting.objects.filter(pk=meeting.pk, version=version).update(version=F("version") + 1, **changes):
        raise Conflict("该会议记录已被他人修改，请刷新页面后重新填写。")
    data_changed()  # every change of a record goes through here (state, dates, org, kind)
    for k, v in changes.items():
        setattr(meeting, k, v)
    meeting.version = version + 1


@transaction.atomic
def meeting_update(*, actor, meeting: Meeting, version: int, **changes) -> Meeting:
    """Edit a draft or returned record (submitted and approved records are locked)."""
    if meeting.state not in (MeetingState.DRAFT, MeetingState.RETURNED):
        raise Conflict("已提交的会议记录不能再修改；如需更正，请由上级退回后修改。")
    if "starts_at" in changes or "ends_at" in changes:
        _check_times(changes.get("starts_at", meeting.starts_at), changes.get("ends_at", meeting.ends_at))
    changed = {k: v for k, v in changes.items() if getattr(meeting, k) != v}
    if changed:
        _cas(meeting, version, **changed)
        audit.record(actor, "meeting_update", meeting, {"fields": sorted(changed)})
    return meeting


@transaction.atomic
def attendance_set(*, actor, meeting: Meeting, person: Person, status: str, reason: str = "") -> Attendance:
    """Record one attendee's status (a reason is required for absence and leave)."""
    if meeting.state not in (MeetingState.DRAFT, MeetingState.RETURNED, MeetingState.SUBMITTED):
        raise Conflict("已审核的会议记录不能再修改出席情况。")
    if status in (AttendanceStatus.ABSENT, AttendanceStatus.ON_LEAVE) and not reason.strip():
        raise ValidationError({"reason": "缺席或请假须写明原因。"})
    row, _ = Attendance.objects.update_or_create(
        meeting=meeting, person=person, defaults={"status": status, "reason": reason.strip()}
    )
    audit.record(actor, "attendance_set", meeting, {"person": person.pk, "status": status})
    return row


@transaction.atomic
def meeting_submit(*, actor, meeting: Meeting, version: int) -> Meeting:
    """Submit a draft or returned record; from now on it counts (unless approval is required)."""
    if meeting.state not in (MeetingState.DRAFT, MeetingState.RETURNED):
        raise Conflict(f"会议记录当前为“{meeting.get_state_display()}”，不能提交。")
    _cas(meeting, version, state=MeetingState.SUBMITTED, submitted_at=timezone.now(), return_opinion="")
    audit.record(actor, "meeting_submit", meeting)
    return meeting


@transaction.atomic
def meeting_review(*, actor, meeting: Meeting, version: int, approve: bool, opinion: str = "") -> Meeting:
    """The higher org approves a submitted record, or returns it with an opinion."""
    if meeting.state != MeetingState.SUBMITTED:
        raise Conflict(f"会议记录当前为“{meeting.get_state_display()}”，不能审核。")
    if approve:
        _cas(meeting, version, state=MeetingState.APPROVED)
    else:
        if not opinion.strip():
            raise ValidationError({"opinion": "退回时须写明退回意见。"})
        _cas(meeting, version, state=MeetingState.RETURNED, return_opinion=opinion.strip())
    audit.record(actor, "meeting_approve" if approve else "meeting_return", meeting)
    return meeting


@transaction.atomic
def meeting_report_upward(*, actor, meeting: Meeting, version: int, on=None) -> Meeting:
    """Record that a 民主生活会 was reported to the higher org (DLM-7's tracked deadline)."""
    if meeting.kind != MeetingKind.DEMOCRATIC_LIFE_MEETING:
        raise ValidationError("只有民主生活会需要向上级报送。")
    _cas(meeting, version, reported_on=on or timezone.localdate())
    audit.record(actor, "meeting_report_upward", meeting)
    return meeting


@transaction.atomic
def exemption_add(*, actor, rule: ComplianceRule, org: Org, period_key: str, reason: str) -> Exemption:
    """Exempt an org from a rule for a period, with a reason (instead of a permanent red cell)."""
    from sizheng.core.rules import Period

    if not reason.strip():
        raise ValidationError({"reason": "豁免须写明理由。"})
    try:
        Period.parse(period_key)
    except ValueError as exc:
        raise ValidationError({"period_key": "期间格式应为 2026-07、2026-Q3、2026-H2 或 2026。"}) from exc
    if Exemption.objects.filter(rule=rule, org=org, period_key=period_key).exists():
        raise ValidationError({"period_key": "该期间已经登记过豁免。"})
    exemption = Exemption.objects.create(
        rule=rule,
        org=org,
        period_key=period_key,
        reason=reason.strip(),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    data_changed()
    audit.record(actor, "exemption_add", exemption, {"rule": rule.code, "org": org.pk, "period": period_key})
    return exemption


def gap_duty_open(*, actor, org: Org, rule: ComplianceRule, period_key: str):
    """Turn a compliance gap into a duty ("本季度尚未召开党员大会" → a duty due in 10 workdays)."""
    from sizheng.duties.models import SourceKind
    from sizheng.duties.services import duty_open

    if not actor.has_role("committee_admin") and not _manages(actor, org):
        raise PermissionDenied("只有上级党组织的书记、党务干部或机关工委可以把缺项转为督办事项。")
    label = rule.get_activity_display()
    due = calendar.add_workdays(timezone.localdate(), 10)
    return duty_open(
        org=org,
        title=f"补齐{period_key}{label}（{rule.code}）",
        due_on=due,
        source=(SourceKind.COMPLIANCE, rule.pk),
        actor=actor,
        description=f"{rule.label}。依据：{rule.source}",
        category="三会一课",
    )


def _manages(user, org: Org) -> bool:
    from sizheng.org.access import manages_org

    return manages_org(user, org)


# --- added for the meetings screens (issue 5, meetings helper) ----------------------------------


def meeting_notify(*, actor, meeting: Meeting) -> int:
    """Send an in-app notice of a planned meeting to its expected attendees with an account."""
    from sizheng.core.notify import notify

    users = [
        a.person.user
        for a in meeting.attendance.select_related("person__user").exclude(status=AttendanceStatus.NON_VOTING)
        if a.person.user_id and a.person.user.is_active
    ]
    start = timezone.localtime(meeting.starts_at)
    title = f"会议通知：{meeting.org.name}将于{start:%m月%d日 %H:%M}在{meeting.place}召开{meeting.get_kind_display()}"
    with transaction.atomic():
        notify(users, title=title, body=f"会议主题：{meeting.topic}。请准时参加，不能参加的请向支部书记请假。",
               url=f"/life/meetings/{meeting.pk}/")  # fmt: skip
        audit.record(actor, "meeting_notify", meeting, {"recipients": len(users)})
    return len(users)


@transaction.atomic
def meeting_rectification_add(*, actor, meeting: Meeting, version: int, title: str, due_on):
    """Add an item to a 组织生活会 / 民主生活会 rectification list and open a duty for it.

    Allowed after submission too: rectification follows the meeting. The duty's description names
    the meeting so the loop can be traced back.
    """
    from sizheng.duties.services import duty_open

    if meeting.kind not in (MeetingKind.LIFE_MEETING, MeetingKind.DEMOCRATIC_LIFE_MEETING):
        raise ValidationError("只有组织生活会、民主生活会有整改清单。")
    if not title.strip():
        raise ValidationError({"title": "请填写整改事项。"})
    if due_on is None or due_on < timezone.localdate():
        raise ValidationError({"due_on": "整改时限不能早于今天。"})
    steps = dict(meeting.steps or {})
    items = list(steps.get("rectification", []))
    duty = duty_open(
        org=meeting.org,
        title=title.strip()[:200],
        due_on=due_on,
        source=("manual", None),
        actor=actor,
        description=f"来源：{meeting.get_kind_display()}（会议记录编号 {meeting.pk}：{meeting.topic}）的整改清单。",
        category="组织生活会整改",
    )
    items.append({"title": title.strip()[:200], "due_on": due_on.isoformat(), "duty_id": duty.pk})
    steps["rectification"] = items
    _cas(meeting, version, steps=steps)
    audit.record(actor, "meeting_rectification_add", meeting, {"duty": duty.pk})
    return duty


@transaction.atomic
def meeting_edit(
    *, actor, meeting: Meeting, version: int, attendance: dict[int, tuple[str, str]] | None = None, **changes
) -> Meeting:
    """Edit a draft or returned record and its attendees' statuses in one go (CAS on version)."""
    meeting_update(actor=actor, meeting=meeting, version=version, **changes)
    current = {a.person_id: a for a in meeting.attendance.select_related("person")}
    for person_id, (status, reason) in (attendance or {}).items():
        row = current.get(person_id)
        if row is not None and (row.status, row.reason) != (status, reason):
            attendance_set(actor=actor, meeting=meeting, person=row.person, status=status, reason=reason)
    return meeting


@transaction.atomic
def compliance_rules_install_defaults(*, actor=None) -> int:
    """(Re)install the national default rules (core.rule_defaults) as data; local rules are kept.

    Returns how many rules were created. Existing defaults get their activity, count, period and
    severity back; an administrator's deactivation is kept.
    """
    from sizheng.core.rule_defaults import DEFAULT_RULES

    created = 0
    # Only meeting rules live here; talk coverage (BR-TALK-1) belongs to the talks app.
    for rule in (r for r in DEFAULT_RULES if r.activity in MeetingKind.values):
        _, made = ComplianceRule.objects.update_or_create(
            code=rule.id,
            defaults={
                "activity": rule.activity, "org_kinds": ",".join(sorted(rule.org_kinds)), "count": rule.count,
                "period": rule.period, "within": rule.within or "", "severity": rule.severity,
                "label": rule.label, "source": rule.source, "is_local": rule.local,
            },
        )  # fmt: skip
        created += made
    data_changed()
    audit.record(actor, "compliance_rules_install_defaults", None, {"created": created})
    return created
