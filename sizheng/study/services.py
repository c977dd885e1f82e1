"""Every write of the study app (each audited): plans and topics, study groups and their members,
linking a meeting as a study session, observers (列席旁听) and make-up (补学).

Dates of the observer loop are workdays on the administrators' calendar (core.calendar): materials
are due 5 workdays before the session, the observer's summary 10 workdays after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from sizheng.core import audit, calendar
from sizheng.core.apitools import Conflict
from sizheng.core.models import Role
from sizheng.life.models import Attendance, AttendanceStatus, Meeting, MeetingState
from sizheng.org.models import Org, Person, PoliticalStatus
from sizheng.study.hours import LINKABLE_KINDS, study_meetings
from sizheng.study.models import (
    MAKEUP_MAX_CHARS,
    PAPER_TEXT_MAX_CHARS,
    SUMMARY_MAX_CHARS,
    Observation,
    StudyGroup,
    StudyPaper,
    StudyPlan,
    StudySession,
    StudyTopic,
)

MATERIALS_LEAD_WORKDAYS = 5  # rules.md §4: the observed unit sends plan and materials 5 workdays ahead
SUMMARY_WORKDAYS = 10  # rules.md §4: the observer's summary within 10 workdays


def _user_or_none(actor):
    return actor if getattr(actor, "pk", None) else None


def _cas(model, obj, version: int, message: str, **changes) -> None:
    """Compare-and-swap on ``version`` (409 when someone else saved first)."""
    if not model.objects.filter(pk=obj.pk, version=version).update(version=F("version") + 1, **changes):
        raise Conflict(message)
    for k, v in changes.items():
        setattr(obj, k, v)
    obj.version = version + 1


def text_length(text: str) -> int:
    """Characters as a reader counts them: every Chinese character, letter, digit or mark is one;
    a line break (\\r\\n or \\n) is one; leading and trailing blanks are not counted."""
    return len(text.replace("\r\n", "\n").strip())


# --- plans and topics ----------------------------------------------------------------------------


@transaction.atomic
def plan_create(*, actor, org: Org, year: int, title: str, group: StudyGroup | None = None) -> StudyPlan:
    """Start a year's study plan for an org (or for one of its study groups)."""
    if not title.strip():
        raise ValidationError({"title": "请填写学习计划的标题。"})
    if not 2000 <= int(year) <= 2100:
        raise ValidationError({"year": "年度应为 2000 至 2100 之间的四位数字。"})
    if group is not None and group.org_id != org.pk:
        raise ValidationError({"group": "学习小组必须属于该党组织。"})
    exists = StudyPlan.objects.filter(org=org, year=year, group=group).exists()
    if exists:
        raise ValidationError({"year": f"{year} 年度的学习计划已经建立，请在原计划中修改。"})
    try:
        with transaction.atomic():
            plan = StudyPlan.objects.create(
                org=org, group=group, year=year, title=title.strip(), created_by=_user_or_none(actor)
            )
    except IntegrityError as exc:
        raise ValidationError({"year": f"{year} 年度的学习计划已经建立，请在原计划中修改。"}) from exc
    audit.record(
        actor, "study_plan_create", plan, {"org": org.pk, "year": year, "group": getattr(group, "pk", None)}
    )
    return plan


@transaction.atomic
def plan_update(*, actor, plan: StudyPlan, version: int, **changes) -> StudyPlan:
    """Edit the title or the year-end summary (409 on a stale version)."""
    allowed = {"title", "summary"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"不能修改的字段：{sorted(unknown)}")
    if "title" in changes:
        changes["title"] = changes["title"].strip()
        if not changes["title"]:
            raise ValidationError({"title": "请填写学习计划的标题。"})
    changed = {k: v for k, v in changes.items() if getattr(plan, k) != v}
    if changed:
        _cas(StudyPlan, plan, version, "该学习计划已被他人修改，请刷新页面后重新填写。", **changed)
        audit.record(actor, "study_plan_update", plan, {"fields": sorted(changed)})
    return plan


@transaction.atomic
def plan_publish(*, actor, plan: StudyPlan, version: int) -> StudyPlan:
    """Publish (印发) a draft plan; it needs at least one topic."""
    if plan.state != StudyPlan.State.DRAFT:
        raise Conflict("该学习计划已经印发。")
    if not plan.topics.exists():
        raise ValidationError("学习计划至少要有一个学习专题才能印发，请先添加专题。")
    _cas(
        StudyPlan,
        plan,
        version,
        "该学习计划已被他人修改，请刷新页面后重试。",
        state=StudyPlan.State.PUBLISHED,
    )
    audit.record(actor, "study_plan_publish", plan)
    return plan


@transaction.atomic
def topic_add(
    *, actor, plan: StudyPlan, title: str, month: int | None = None, scheduled_on: date | None = None,
    materials: str = "", order: int | None = None,
) -> StudyTopic:  # fmt: skip
    """Add a topic to a plan, for a month or a day of the plan's year."""
    errors = {}
    if not title.strip():
        errors["title"] = "请填写学习专题。"
    if month is not None and not 1 <= month <= 12:
        errors["month"] = "月份应在 1 至 12 之间。"
    if scheduled_on is not None and scheduled_on.year != plan.year:
        errors["scheduled_on"] = f"计划日期应在 {plan.year} 年内。"
    if errors:
        raise ValidationError(errors)
    if scheduled_on is not None and month is None:
        month = scheduled_on.month
    if order is None:
        order = plan.topics.count() + 1
    topic = StudyTopic.objects.create(
        plan=plan, title=title.strip(), month=month, scheduled_on=scheduled_on, materials=materials.strip(),
        order=order,
    )  # fmt: skip
    StudyPlan.objects.filter(pk=plan.pk).update(version=F("version") + 1)
    audit.record(actor, "study_topic_add", topic, {"plan": plan.pk})
    return topic


@transaction.atomic
def topic_remove(*, actor, topic: StudyTopic) -> None:
    """Remove a topic (sessions linked to it keep their meeting and lose the topic)."""
    plan_id, pk = topic.plan_id, topic.pk
    topic.delete()
    StudyPlan.objects.filter(pk=plan_id).update(version=F("version") + 1)
    audit.record(actor, "study_topic_remove", ("study.studytopic", pk), {"plan": plan_id})


# --- groups --------------------------------------------------------------------------------------


@transaction.atomic
def group_create(*, actor, org: Org, name: str, kind: str, description: str = "") -> StudyGroup:
    """Set up a study group owned by an org."""
    if not name.strip():
        raise ValidationError({"name": "请填写学习小组的名称。"})
    if kind not in StudyGroup.Kind.values:
        raise ValidationError({"kind": "请选择学习小组的类型。"})
    if StudyGroup.objects.filter(org=org, name=name.strip()).exists():
        raise ValidationError({"name": "该组织已有同名的学习小组。"})
    group = StudyGroup.objects.create(org=org, name=name.strip(), kind=kind, description=description.strip())
    audit.record(actor, "study_group_create", group, {"org": org.pk, "kind": kind})
    return group


@transaction.atomic
def group_member_add(*, actor, group: StudyGroup, person: Person) -> None:
    """Add a member (people of any branch may join, e.g. a youth group across branches)."""
    if person.left_on is not None:
        raise ValidationError({"person": f"{person.name}已不在本单位，不能加入学习小组。"})
    if group.members.filter(pk=person.pk).exists():
        raise ValidationError({"person": f"{person.name}已经是该学习小组的成员。"})
    group.members.add(person)
    audit.record(actor, "study_group_member_add", group, {"person": person.pk})


@transaction.atomic
def group_member_remove(*, actor, group: StudyGroup, person: Person) -> None:
    """Remove a member."""
    if not group.members.filter(pk=person.pk).exists():
        raise ValidationError({"person": f"{person.name}不是该学习小组的成员。"})
    group.members.remove(person)
    audit.record(actor, "study_group_member_remove", group, {"person": person.pk})


# --- sessions ------------------------------------------------------------------------------------


@transaction.atomic
def session_link(
    *, actor, meeting: Meeting, group: StudyGroup | None = None, topic: StudyTopic | None = None,
    keynote_speakers=(), materials: str = "",
) -> StudySession:  # fmt: skip
    """Record a meeting as a study session (the meeting stays the one record: 一次填报，多处使用)."""
    errors = {}
    if meeting.kind not in LINKABLE_KINDS:
        errors["meeting"] = f"“{meeting.get_kind_display()}”不能登记为学习活动。"
    if StudySession.objects.filter(meeting=meeting).exists():
        errors["meeting"] = "该会议已经登记为学习活动。"
    if (
        group is not None
        and not meeting.org.path.startswith(group.org.path)
        and group.org_id != meeting.org_id
    ):
        errors["group"] = "学习小组与会议不属于同一党组织。"
    if topic is not None:
        if topic.plan.year != timezone.localtime(meeting.starts_at).year:
            errors["topic"] = "学习专题所在计划的年度与会议日期不符。"
        elif topic.plan.org_id != meeting.org_id and (group is None or topic.plan.group_id != group.pk):
            errors["topic"] = "学习专题不属于该党组织或该学习小组的学习计划。"
    if errors:
        raise ValidationError(errors)
    session = StudySession.objects.create(
        meeting=meeting,
        group=group,
        topic=topic,
        materials=materials.strip(),
        created_by=_user_or_none(actor),
    )
    if keynote_speakers:
        session.keynote_speakers.set(keynote_speakers)
    audit.record(
        actor, "study_session_link", session,
        {"meeting": meeting.pk, "group": getattr(group, "pk", None), "topic": getattr(topic, "pk", None)},
    )  # fmt: skip
    if group is not None:
        group_attendance_add(actor=actor, meeting=meeting, group=group)
    return session


# A group member added to a meeting that is already submitted was not recorded by the secretary: they
# are put down as absent with this reason, so nobody gains hours they may not have earned and the
# secretary sees whom to correct.
UNRECORDED_REASON = "未登记"


@transaction.atomic
def group_attendance_add(*, actor, meeting: Meeting, group: StudyGroup) -> list[Attendance]:
    """Expect the group's current members at the meeting: those not yet on its attendance list are
    added as present while the meeting is a draft (the secretary still edits it), otherwise as absent
    with the reason “未登记” for the secretary to correct. Audited when anyone is added."""
    already = Attendance.objects.filter(meeting=meeting).values("person_id")
    missing = list(Person.objects.current().filter(study_groups=group).exclude(pk__in=already).order_by("pk"))
    if not missing:
        return []
    draft = meeting.state == MeetingState.DRAFT
    status = AttendanceStatus.PRESENT if draft else AttendanceStatus.ABSENT
    rows = Attendance.objects.bulk_create(
        [
            Attendance(
                meeting=meeting,
                person=p,
                status=status,
                reason="" if draft else UNRECORDED_REASON,
                is_voting=p.political_status == PoliticalStatus.CPC_MEMBER,
            )  # fmt: skip
            for p in missing
        ]
    )
    audit.record(
        actor, "study_group_attendance_add", meeting,
        {"group": group.pk, "people": [p.pk for p in missing], "status": status},
    )  # fmt: skip
    return rows


# --- observers (列席旁听) ------------------------------------------------------------------------


def materials_due(session_day: date) -> date:
    """Materials reach the observer 5 workdays before the session."""
    return calendar.add_workdays(session_day, -MATERIALS_LEAD_WORKDAYS)


def summary_due(session_day: date) -> date:
    """The observer's summary is due 10 workdays after the session."""
    return calendar.add_workdays(session_day, SUMMARY_WORKDAYS)


@transaction.atomic
def observation_assign(
    *, actor, observed_org: Org, observer: Person, planned_on: date | None = None,
    session: StudySession | None = None,
) -> Observation:  # fmt: skip
    """Send an observer to an org's central-group study (on a planned day or a recorded session)."""
    if session is not None:
        planned_on = timezone.localtime(session.meeting.starts_at).date()
        if session.meeting.org_id != observed_org.pk:
            raise ValidationError({"session": "所选学习活动不属于被列席单位。"})
    if planned_on is None:
        raise ValidationError({"planned_on": "请填写学习日期或选择已登记的学习活动。"})
    if observer.left_on is not None:
        raise ValidationError({"observer": f"{observer.name}已不在本单位，不能安排列席。"})
    if Observation.objects.filter(
        observed_org=observed_org, observer=observer, planned_on=planned_on
    ).exists():
        raise ValidationError({"observer": f"已安排{observer.name}列席该次学习。"})
    obs = Observation.objects.create(
        observed_org=observed_org, observer=observer, session=session, planned_on=planned_on,
        materials_due_on=materials_due(planned_on), summary_due_on=summary_due(planned_on),
        assigned_by=_user_or_none(actor),
    )  # fmt: skip
    audit.record(actor, "study_observation_assign", obs, {"org": observed_org.pk, "observer": observer.pk})
    return obs


@transaction.atomic
def observation_materials_sent(
    *, actor, observation: Observation, version: int, on: date | None = None
) -> Observation:
    """The observed unit records that plan, materials and speeches went to the observer."""
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise ValidationError({"on": "报送日期不能晚于今天。"})
    _cas(
        Observation, observation, version, "该列席安排已被他人修改，请刷新页面后重试。", materials_sent_on=on
    )
    audit.record(
        actor, "study_observation_materials_sent", observation, {"late": on > observation.materials_due_on}
    )
    return observation


@transaction.atomic
def observation_summary_submit(
    *, actor, observation: Observation, version: int, summary: str, on: date | None = None
) -> Observation:
    """The observer submits the summary (≤ 500 characters)."""
    summary = summary.replace("\r\n", "\n").strip()
    n = text_length(summary)
    if not n:
        raise ValidationError({"summary": "请填写列席情况小结。"})
    if n > SUMMARY_MAX_CHARS:
        raise ValidationError(
            {"summary": f"列席情况小结不能超过 {SUMMARY_MAX_CHARS} 字，当前为 {n} 字，请精简后再提交。"}
        )
    on = on or timezone.localdate()
    _cas(
        Observation, observation, version, "该列席安排已被他人修改，请刷新页面后重试。",
        summary=summary, summary_submitted_on=on,
    )  # fmt: skip
    audit.record(actor, "study_observation_summary", observation, {"late": on > observation.summary_due_on})
    return observation


@dataclass(frozen=True)
class LoopWarning:
    """One warning on the observer loop, with its Tabler badge class."""

    code: str
    label: str
    badge: str


def observation_warnings(obs: Observation, today: date) -> list[LoopWarning]:
    """Warnings on both sides of the loop: materials late (observed unit), summary late (observer)."""
    out = []
    if obs.materials_sent_on is None:
        if today > obs.materials_due_on:
            out.append(LoopWarning("materials_overdue", "材料逾期未报送", "bg-red-lt"))
        elif calendar.workdays_between(today, obs.materials_due_on) <= 2:
            out.append(LoopWarning("materials_soon", "材料即将到期", "bg-yellow-lt"))
    elif obs.materials_sent_on > obs.materials_due_on:
        out.append(LoopWarning("materials_late", "材料报送迟于时限", "bg-orange-lt"))
    if obs.summary_submitted_on is None:
        if today > obs.summary_due_on:
            out.append(LoopWarning("summary_overdue", "小结逾期未提交", "bg-red-lt"))
        elif today >= obs.planned_on and calendar.workdays_between(today, obs.summary_due_on) <= 3:
            out.append(LoopWarning("summary_soon", "小结即将到期", "bg-yellow-lt"))
    elif obs.summary_submitted_on > obs.summary_due_on:
        out.append(LoopWarning("summary_late", "小结提交迟于时限", "bg-orange-lt"))
    return out


# --- make-up (补学) ------------------------------------------------------------------------------


def may_make_up(user, attendance: Attendance) -> bool:
    """Only the absent or on-leave person themself, or a 书记 of their org (or above)."""
    from sizheng.org.access import scope_of

    person = attendance.person
    if person.user_id and person.user_id == getattr(user, "pk", None):
        return True
    if person.org_id is None:
        return False
    org_path = Org.objects.filter(pk=person.org_id).values_list("path", flat=True).first() or ""
    return any(org_path.startswith(p) for p in scope_of(user).paths(Role.SECRETARY))


@transaction.atomic
def makeup_record(actor, attendance: Attendance, note: str, *, on: date | None = None) -> Attendance:
    """Record a make-up (补学) with a short written reflection for a missed study session."""
    if not may_make_up(actor, attendance):
        raise PermissionDenied("只有缺席或请假的本人或其所在党组织的书记可以登记补学。")
    if attendance.status not in (AttendanceStatus.ABSENT, AttendanceStatus.ON_LEAVE):
        raise ValidationError("只有缺席或请假的学习才需要补学。")
    if not study_meetings().filter(pk=attendance.meeting_id).exists():
        raise ValidationError("该会议不是学习活动，无需登记补学。")
    note = note.replace("\r\n", "\n").strip()
    n = text_length(note)
    if not n:
        raise ValidationError({"note": "请写下补学心得。"})
    if n > MAKEUP_MAX_CHARS:
        raise ValidationError(
            {"note": f"补学心得不能超过 {MAKEUP_MAX_CHARS} 字，当前为 {n} 字，请精简后再提交。"}
        )
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise ValidationError({"on": "补学日期不能晚于今天。"})
    if on < timezone.localtime(attendance.meeting.starts_at).date():
        raise ValidationError({"on": "补学日期不能早于学习日期。"})
    updated = Attendance.objects.filter(pk=attendance.pk, made_up_on__isnull=True).update(
        made_up_on=on, make_up_note=note
    )
    if not updated:
        raise Conflict("该次学习已经登记过补学。")
    attendance.made_up_on, attendance.make_up_note = on, note
    audit.record(
        actor,
        "study_makeup_record",
        attendance.meeting,
        {"attendance": attendance.pk, "person": attendance.person_id},
    )
    return attendance


# --- papers and speaking outlines (发言提纲、心得文章、调研报告) -----------------------------------------

PAPER_FILE_KINDS = ("pdf", "docx", "doc", "wps", "ofd", "txt")


def _secretary_of(user, person: Person) -> bool:
    """A current 书记 of the person's org or of an org above it."""
    from sizheng.org.access import scope_of

    if person.org_id is None:
        return False
    org_path = Org.objects.filter(pk=person.org_id).values_list("path", flat=True).first() or ""
    return any(org_path.startswith(p) for p in scope_of(user).paths(Role.SECRETARY))


def may_submit_paper(user, person: Person) -> bool:
    """The author themself, or the 书记 of the author's org (or above)."""
    if person.user_id and person.user_id == getattr(user, "pk", None):
        return True
    return _secretary_of(user, person)


def may_read_paper(user, paper_id: int | None) -> bool:
    """Who may download a paper's file: the author and the managers of the author's org."""
    from sizheng.org.access import manages_org

    paper = StudyPaper.objects.filter(pk=paper_id).select_related("person", "person__org").first()
    if paper is None:
        return False
    if paper.person.user_id and paper.person.user_id == getattr(user, "pk", None):
        return True
    return paper.person.org is not None and manages_org(user, paper.person.org)


@transaction.atomic
def paper_submit(
    actor, *, person: Person, year: int, kind: str, title: str, text: str = "",
    session: StudySession | None = None, upload=None, on: date | None = None,
) -> StudyPaper:  # fmt: skip
    """Submit a speaking outline, paper or research report (the author or their 书记); audited.

    At least a text or a file; the file goes through ``core.files.store_upload`` with the owner kind
    ``study_paper`` (readable by the author and the managers of the author's org)."""
    from sizheng.core import files

    if not may_submit_paper(actor, person):
        raise PermissionDenied("只有作者本人或其所在党组织的书记可以提交发言提纲和学习文章。")
    errors = {}
    title, text = title.strip(), text.replace("\r\n", "\n").strip()
    if not title:
        errors["title"] = "请填写标题。"
    if kind not in StudyPaper.Kind.values:
        errors["kind"] = "请选择类型：发言提纲、心得文章或调研报告。"
    if not 2000 <= int(year) <= 2100:
        errors["year"] = "年度应为 2000 至 2100 之间的四位数字。"
    if text_length(text) > PAPER_TEXT_MAX_CHARS:
        errors["text"] = f"正文不能超过 {PAPER_TEXT_MAX_CHARS} 字，较长的文章请以附件上传。"
    if not text and upload is None:
        errors["text"] = "请填写正文或上传文件。"
    if session is not None and timezone.localtime(session.meeting.starts_at).year != int(year):
        errors["session"] = "所选学习活动不在该年度。"
    on = on or timezone.localdate()
    if on > timezone.localdate():
        errors["on"] = "提交日期不能晚于今天。"
    if errors:
        raise ValidationError(errors)
    paper = StudyPaper.objects.create(
        person=person, year=year, kind=kind, title=title, text=text, session=session, submitted_on=on,
        submitted_by=_user_or_none(actor),
    )  # fmt: skip
    if upload is not None:
        try:
            stored = files.store_upload(
                upload, actor=actor, owner_kind="study_paper", owner_id=paper.pk, allowed=PAPER_FILE_KINDS
            )
        except ValidationError as exc:
            raise ValidationError({"upload": exc.messages}) from exc
        paper.file = stored
        paper.save(update_fields=["file"])
    audit.record(
        actor, "study_paper_submit", paper,
        {"person": person.pk, "year": int(year), "kind": kind, "file": paper.file_id is not None},
    )  # fmt: skip
    return paper


def keynote_ids(person_ids, year: int) -> set[int]:
    """Those of the people who gave a keynote (主旨发言) at a counted study session of the year."""
    return set(
        StudySession.keynote_speakers.through.objects.filter(
            person_id__in=list(person_ids), studysession__meeting__in=study_meetings(year).values("pk")
        ).values_list("person_id", flat=True)
    )


def paper_ids(person_ids, year: int) -> set[int]:
    """Those of the people who submitted a paper or a research report for the year."""
    return set(
        StudyPaper.objects.filter(
            person_id__in=list(person_ids), year=year,
            kind__in=[StudyPaper.Kind.PAPER, StudyPaper.Kind.REPORT],
        ).values_list("person_id", flat=True)
    )  # fmt: skip


def writing_status(person_ids, year: int) -> dict[int, dict[str, bool]]:
    """{person_id: {"keynote": bool, "paper": bool}} in two queries — a checklist, not a score."""
    ids = list(person_ids)
    keynotes, papers = keynote_ids(ids, year), paper_ids(ids, year)
    return {pid: {"keynote": pid in keynotes, "paper": pid in papers} for pid in ids}


def writing_counts(person_ids, year: int) -> dict[str, int]:
    """How many gave a keynote and how many submitted a paper — counts for the secretary."""
    rows = writing_status(person_ids, year)
    return {
        "total": len(rows),
        "keynote": sum(r["keynote"] for r in rows.values()),
        "paper": sum(r["paper"] for r in rows.values()),
    }
