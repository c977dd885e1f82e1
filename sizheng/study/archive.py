"""The yearly 学习档案专卷 of an org: one Word file (plan and topics, year-end summary, each study
session's minutes and attendance, observers' summaries, make-up reflections, the key figures of the
quarterly 学习情况通报, the speaking outlines, papers and reports) and a zip of the attachments of
those meetings and papers (core StoredFile rows with owner_kind "meeting" or "study_paper").

Everything is read in a fixed number of queries whatever the number of sessions.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import PurePosixPath

from django.db.models import Prefetch, Q
from django.utils import timezone

from sizheng.core.docx import OfficialDocument
from sizheng.core.models import StoredFile
from sizheng.core.rules import Period
from sizheng.core.storage import media_storage
from sizheng.life.models import Attendance, AttendanceStatus
from sizheng.org.models import Org
from sizheng.study.bulletin import bulletin_data
from sizheng.study.hours import study_meetings
from sizheng.study.models import Observation, StudyPaper, StudyPlan, StudyTopic

MEETING_OWNER_KIND = "meeting"
PAPER_OWNER_KIND = "study_paper"


def archive_papers(org: Org, year: int):
    """The year's outlines, papers and reports of the org's people, of its study groups' members and
    of its sessions, oldest first."""
    return (
        StudyPaper.objects.filter(year=year)
        .filter(Q(person__org=org) | Q(person__study_groups__org=org) | Q(session__meeting__org=org))
        .distinct()
        .select_related("person", "file")
        .order_by("submitted_on", "pk")
    )


def bulletin_rows(org: Org, year: int, today=None) -> list[list]:
    """The key figures of the year's quarterly 学习情况通报 (quarters begun by today), one row each."""
    today = today or timezone.localdate()
    rows = []
    for i in range(1, 5):
        period = Period.of("quarter", year, i)
        if period.start > today:
            break
        b = bulletin_data(org, period, today=today)
        cgs = b.cgs_rows
        rows.append([
            period.label, b.total("sessions"),
            "—" if b.attendance_rate is None else f"{b.attendance_rate:g}%",
            f"{sum(r.cgs_held or 0 for r in cgs)}/{sum(r.cgs_required or 0 for r in cgs)}" if cgs else "—",
            b.total("below_hours"), b.total("observations_late"),
        ])  # fmt: skip
    return rows


def archive_meetings(org: Org, year: int):
    """The org's counted study meetings of the year, oldest first, with what the archive prints."""
    return (
        study_meetings(year)
        .filter(org=org)
        .select_related("chair", "recorder", "speaker", "study_session", "study_session__topic")
        .prefetch_related(
            Prefetch(
                "attendance", queryset=Attendance.objects.select_related("person").order_by("person_id")
            ),
            "study_session__keynote_speakers",
        )
        .order_by("starts_at", "pk")
    )


def _fmt_time(meeting) -> str:
    start, end = timezone.localtime(meeting.starts_at), timezone.localtime(meeting.ends_at)
    return (
        f"{start:%Y-%m-%d %H:%M}—{end:%H:%M}"
        if start.date() == end.date()
        else f"{start:%Y-%m-%d %H:%M}—{end:%Y-%m-%d %H:%M}"
    )


def build_docx(org: Org, year: int) -> bytes:
    """The 学习档案专卷 as one .docx file."""
    plan = (
        StudyPlan.objects.filter(org=org, year=year, group__isnull=True)
        .prefetch_related(Prefetch("topics", queryset=StudyTopic.objects.order_by("order", "pk")))
        .first()
    )
    meetings = list(archive_meetings(org, year))
    observations = list(
        Observation.objects.filter(observed_org=org, planned_on__year=year)
        .select_related("observer")
        .order_by("planned_on", "pk")
    )
    doc = OfficialDocument(title=f"{org.full_name}\n{year}年度理论学习档案")

    doc.heading("学习计划")
    if plan is None:
        doc.paragraph(f"{year} 年度未录入学习计划。")
    else:
        doc.paragraph(f"《{plan.title}》（{plan.get_state_display()}）")
        topics = list(plan.topics.all())
        if topics:
            doc.table(
                ["序号", "学习专题", "计划时间", "学习材料"],
                [
                    [t.order, t.title, t.scheduled_on or (f"{t.month}月" if t.month else ""), t.materials]
                    for t in topics
                ],
                col_widths_mm=[14, 62, 30, 50],
            )
        else:
            doc.paragraph("学习计划尚未列出学习专题。")

    doc.heading("年度学习总结")
    doc.paragraph(plan.summary if plan is not None and plan.summary.strip() else "年度学习总结尚未填写。")

    doc.heading("学习活动记录")
    if not meetings:
        doc.paragraph("本年度没有已提交的学习活动记录。")
    makeups: list[tuple] = []
    for meeting in meetings:
        session = getattr(meeting, "study_session", None)
        doc.heading(f"{meeting.get_kind_display()}：{meeting.topic}", level=2)
        lines = [f"时间：{_fmt_time(meeting)}", f"地点：{meeting.place}"]
        if meeting.chair:
            lines.append(f"主持人：{meeting.chair.name}")
        if meeting.recorder:
            lines.append(f"记录人：{meeting.recorder.name}")
        if meeting.speaker:
            lines.append(f"主讲人：{meeting.speaker.name}")
        if session is not None:
            if session.topic:
                lines.append(f"学习专题：{session.topic.title}")
            speakers = "、".join(p.name for p in session.keynote_speakers.all())
            if speakers:
                lines.append(f"主旨发言：{speakers}")
            if session.materials:
                lines.append(f"学习材料：{session.materials}")
        lines.append(f"学时：{meeting.hours:g}")
        doc.paragraph("\n".join(lines))
        if meeting.agenda:
            doc.heading("议程", level=3)
            doc.paragraph(meeting.agenda)
        doc.heading("会议记录", level=3)
        doc.paragraph(meeting.minutes or "（未填写会议记录）")
        rows = list(meeting.attendance.all())
        doc.heading("出席情况", level=3)
        if rows:
            doc.table(
                ["姓名", "出席情况", "原因", "补学日期"],
                [[a.person.name, a.get_status_display(), a.reason, a.made_up_on] for a in rows],
                col_widths_mm=[30, 26, 60, 40],
            )
        else:
            doc.paragraph("未登记出席情况。")
        makeups.extend(
            (meeting, a)
            for a in rows
            if a.made_up_on and a.status in (AttendanceStatus.ABSENT, AttendanceStatus.ON_LEAVE)
        )

    doc.heading("列席旁听情况")
    if not observations:
        doc.paragraph("本年度没有安排列席旁听。")
    for obs in observations:
        doc.heading(f"{obs.observer.name}（学习日期 {obs.planned_on:%Y-%m-%d}）", level=2)
        sent = f"{obs.materials_sent_on:%Y-%m-%d}" if obs.materials_sent_on else "未报送"
        doc.paragraph(f"材料报送时限：{obs.materials_due_on:%Y-%m-%d}，实际报送：{sent}。")
        doc.paragraph(obs.summary or "列席人尚未提交小结。")

    doc.heading("补学情况")
    if not makeups:
        doc.paragraph("本年度没有补学记录。")
    for meeting, a in makeups:
        doc.heading(f"{a.person.name}补学“{meeting.topic}”（{a.made_up_on:%Y-%m-%d}）", level=2)
        doc.paragraph(a.make_up_note or "（未填写补学心得）")

    doc.heading("学习情况通报")
    quarters = bulletin_rows(org, year)
    if quarters:
        doc.paragraph("各季度学习情况通报的主要数据如下（学时未达标按年度要求的相应比例计算）。")
        doc.table(
            [
                "季度",
                "学习活动（次）",
                "出勤率",
                "中心组学习（已学/应学）",
                "学时未达标（人）",
                "列席逾期（件）",
            ],
            quarters,
            col_widths_mm=[36, 22, 22, 30, 24, 22],
        )
    else:
        doc.paragraph(f"{year} 年度尚无学习情况通报。")

    doc.heading("发言提纲和学习文章")
    papers = list(archive_papers(org, year))
    if not papers:
        doc.paragraph("本年度没有提交发言提纲、心得文章或调研报告。")
    else:
        doc.table(
            ["提交日期", "类型", "标题", "作者", "附件"],
            [
                [p.submitted_on, p.get_kind_display(), p.title, p.person.name, p.file.name if p.file else ""]
                for p in papers
            ],
            col_widths_mm=[26, 24, 58, 20, 28],
        )
    for paper in papers:
        if paper.kind == StudyPaper.Kind.OUTLINE and paper.text:
            doc.heading(f"{paper.person.name}：{paper.title}（发言提纲）", level=2)
            doc.paragraph(paper.text)

    doc.signature(org.full_name, timezone.localdate())
    return doc.to_bytes()


def build_zip(org: Org, year: int) -> bytes:
    """A zip of the attachments of the year's study meetings (valid and possibly empty)."""
    meeting_ids = list(archive_meetings(org, year).values_list("pk", flat=True))
    paper_ids = list(archive_papers(org, year).values_list("pk", flat=True))
    files = StoredFile.objects.filter(
        Q(owner_kind=MEETING_OWNER_KIND, owner_id__in=meeting_ids)
        | Q(owner_kind=PAPER_OWNER_KIND, owner_id__in=paper_ids)
    ).order_by("pk")
    storage = media_storage()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        used: set[str] = set()
        for stored in files:
            # Through the storage (the filesystem or MinIO), never a MEDIA_ROOT path; a file gone from it
            # is left out, as before.
            try:
                source = storage.open(stored.path, "rb")
            except (FileNotFoundError, IsADirectoryError):
                continue
            # Only the base name, prefixed with the owner: no path from a user reaches the zip.
            prefix = "文章" if stored.owner_kind == PAPER_OWNER_KIND else ""
            name = f"{prefix}{stored.owner_id}-{PurePosixPath(stored.name).name or 'file'}"
            while name in used:
                name = f"{stored.pk}-{name}"
            used.add(name)
            info = zipfile.ZipInfo(name, date_time=timezone.localtime(stored.uploaded_at).timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            with source, zf.open(info, "w") as target:
                shutil.copyfileobj(source, target, 1 << 20)
    return buffer.getvalue()
