"""Printable records of meetings: the 会议记录 and the 签到表 (Word), the 三会一课台账 (Excel)."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from sizheng.core.docx import OfficialDocument
from sizheng.core.xlsx import write_ledger
from sizheng.life.models import Attendance, AttendanceStatus, Meeting, MeetingKind
from sizheng.life.services import motion_passes, quorum

LEDGER_HEADERS = [
    "党组织",
    "会议类型",
    "日期",
    "主题",
    "地点",
    "主持人",
    "应到",
    "实到",
    "缺席",
    "请假",
    "状态",
]


def record_title(meeting: Meeting) -> str:
    """ "××党支部党员大会会议记录" — the org's name and the kind."""
    return f"{meeting.org.name}{meeting.get_kind_display()}会议记录"


def _span(meeting: Meeting) -> str:
    start, end = timezone.localtime(meeting.starts_at), timezone.localtime(meeting.ends_at)
    return f"{start:%Y年%m月%d日 %H:%M}—{end:%H:%M}"


def _attendance(meeting: Meeting) -> list[Attendance]:
    return list(meeting.attendance.select_related("person").order_by("person__name"))


def meeting_record_docx(meeting: Meeting) -> bytes:
    """会议记录: the facts table, agenda, minutes, resolutions, votes and signature lines."""
    rows = _attendance(meeting)
    q = quorum(meeting)
    absent = [a for a in rows if a.status in (AttendanceStatus.ABSENT, AttendanceStatus.ON_LEAVE)]
    observers = [a.person.name for a in rows if a.status == AttendanceStatus.NON_VOTING]
    # The org's name on its own line: long names otherwise break the title mid-word (GB/T 9704 7.3.1).
    doc = OfficialDocument(title=f"{meeting.org.name}\n{meeting.get_kind_display()}会议记录")
    facts = [
        ("时间", _span(meeting)),
        ("地点", meeting.place),
        ("主持人", meeting.chair.name if meeting.chair else ""),
        ("记录人", meeting.recorder.name if meeting.recorder else ""),
        ("应到人数", q["expected"]),
        ("实到人数", q["present"]),
        ("缺席人员及原因",
         "；".join(f"{a.person.name}（{a.get_status_display()}：{a.reason}）" for a in absent) or "无"),
        ("列席人员", "、".join(observers) or "无"),
        ("会议主题", meeting.topic),
    ]  # fmt: skip
    if meeting.kind == MeetingKind.PARTY_LECTURE:
        facts.insert(4, ("党课主讲人", meeting.speaker.name if meeting.speaker else ""))
    if q["quorum"] is not None:
        facts.append(("法定人数", f"应不少于{q['quorum']}人，{'已达到' if q['quorum_met'] else '未达到'}"))
    doc.table(["项目", "内容"], facts, col_widths_mm=[36, 120])
    doc.heading("会议议程")
    doc.paragraph(meeting.agenda or "（未填写）")
    doc.heading("会议内容")
    doc.paragraph(meeting.minutes or "（未填写）")
    steps = meeting.steps or {}
    if meeting.kind in (MeetingKind.LIFE_MEETING, MeetingKind.DEMOCRATIC_LIFE_MEETING) and steps:
        doc.heading("会议环节")
        doc.paragraph(f"会议主题：{steps.get('theme') or '（未填写）'}")
        doc.paragraph(f"会前谈心谈话：{'已开展' if steps.get('talks_done') else '未记录'}")
        doc.paragraph(f"批评和自我批评：{steps.get('criticism') or '（未填写）'}")
        for i, item in enumerate(steps.get("rectification", []), start=1):
            doc.paragraph(f"整改事项{i}：{item.get('title', '')}（时限：{item.get('due_on', '')}）")
    doc.heading("决议事项")
    doc.paragraph(meeting.resolutions or "无")
    if meeting.votes:
        doc.heading("表决情况")
        voting = sum(1 for a in rows if a.is_voting and a.status != AttendanceStatus.NON_VOTING)
        doc.table(
            ["表决事项", "赞成", "反对", "弃权", "结果"],
            [
                [v.get("motion", ""), v.get("ayes", 0), v.get("noes", 0), v.get("abstentions", 0),
                 "通过" if motion_passes(int(v.get("ayes", 0)), voting) else "未通过"]
                for v in meeting.votes
            ],
            col_widths_mm=[68, 20, 20, 20, 28],
        )  # fmt: skip
    doc.paragraph("")
    doc.paragraph("主持人（签字）：　　　　　　　　记录人（签字）：", indent=False)
    return doc.to_bytes()


def signin_sheet_docx(meeting: Meeting) -> bytes:
    """签到表: the expected attendees with an empty signature column."""
    rows = [a for a in _attendance(meeting) if a.status != AttendanceStatus.NON_VOTING]
    doc = OfficialDocument(title=f"{meeting.org.name}{meeting.get_kind_display()}签到表")
    doc.paragraph(f"会议主题：{meeting.topic}", indent=False)
    doc.paragraph(f"时间：{_span(meeting)}　地点：{meeting.place}", indent=False)
    doc.table(
        ["序号", "姓名", "签到", "备注"],
        [[i, a.person.name, "", ""] for i, a in enumerate(rows, start=1)],
        col_widths_mm=[18, 40, 60, 38],
    )
    return doc.to_bytes()


def ledger_rows(meetings: Iterable[Meeting]) -> Iterable[list]:
    """One ledger row per meeting (the queryset carries the counts of ``queries.with_counts``)."""
    for m in meetings:
        yield [
            m.org.name, m.get_kind_display(), timezone.localtime(m.starts_at).date(), m.topic, m.place,
            m.chair.name if m.chair else "", m.n_expected, m.n_present, m.n_absent, m.n_leave,
            m.get_state_display(),
        ]  # fmt: skip


def ledger_xlsx(meetings: Iterable[Meeting], note: str = "") -> bytes:
    """三会一课台账."""
    return write_ledger(
        title="三会一课台账", headers=LEDGER_HEADERS, rows=ledger_rows(meetings), note=note or None
    )
