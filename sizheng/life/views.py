"""Screens of organisational life: the meetings list and ledger, the branch calendar, recording,
reviewing and printing a meeting, and political birthdays.

Each view checks access (404 outside scope, 403 for a visible record the user may not change),
validates a form, calls one service and renders; a failed form re-renders with 422, a stale
version with 409.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizheng.core import audit, formflow
from sizheng.core.apitools import Conflict
from sizheng.core.docx import docx_response
from sizheng.core.models import Role
from sizheng.core.paging import paginate
from sizheng.core.xlsx import xlsx_response
from sizheng.life import birthdays as bdays
from sizheng.life import documents, forms, queries, services
from sizheng.life.models import AttendanceStatus, Meeting, MeetingKind, MeetingState
from sizheng.org import access
from sizheng.org.forms import managed_orgs
from sizheng.org.models import Org, Person

LEDGER_LIMIT = 5000
STATE_BADGES = {
    MeetingState.DRAFT: "bg-secondary-lt",
    MeetingState.SUBMITTED: "bg-blue-lt",
    MeetingState.APPROVED: "bg-green-lt",
    MeetingState.RETURNED: "bg-red-lt",
}
READ_ONLY = "您可以查看该会议记录，但没有修改它的权限。"


# --- access --------------------------------------------------------------------------------------


def _meeting_or_404(user, pk: int) -> Meeting:
    """A meeting in the user's scope, else 404."""
    meeting = (
        Meeting.objects.visible_to(user)
        .select_related("org__parent", "chair", "recorder", "speaker")
        .filter(pk=pk)
        .first()
    )
    if meeting is None:
        raise Http404("未找到该会议记录，或您无权查看。")
    return meeting


def _managed_meeting(request: HttpRequest, pk: int) -> Meeting:
    """A meeting of an org the user manages (404 outside scope, 403 read-only)."""
    meeting = _meeting_or_404(request.user, pk)
    access.require(access.manages_org(request.user, meeting.org), READ_ONLY)
    return meeting


def may_review(user, meeting: Meeting) -> bool:
    """The higher org's secretary or 党务干部 (or the committee admin) approves or returns a record."""
    parent = meeting.org.parent
    if parent is None:
        return access.scope_of(user).has_everything(Role.COMMITTEE_ADMIN)
    return access.manages_org(user, parent)


# --- the list, the ledger and the calendar ------------------------------------------------------


def _filtered(request: HttpRequest):
    form = forms.MeetingFilterForm(request.GET or None, user=request.user)
    data = form.cleaned_data if form.is_valid() else {}
    return form, queries.filter_meetings(request.user, data)


@login_required
@require_GET
def meetings(request: HttpRequest) -> HttpResponse:
    """三会一课 and other meetings in the user's scope: filters, pages, the ledger download."""
    form, qs = _filtered(request)
    page = paginate(request, queries.with_counts(qs))
    for m in page.object_list:
        m.badge = STATE_BADGES.get(m.state, "")
    ctx = {"form": form, "page": page, "can_record": managed_orgs(request.user).exists(),
           "export_query": request.GET.urlencode()}  # fmt: skip
    return render(request, "life/meeting_list.html", ctx)


@login_required
@require_GET
def meetings_ledger(request: HttpRequest) -> HttpResponse:
    """三会一课台账 (Excel) of the filtered list; the download is audited."""
    form, qs = _filtered(request)
    rows = list(queries.with_counts(qs)[:LEDGER_LIMIT])
    note = f"导出时间：{timezone.localtime():%Y年%m月%d日 %H:%M}；共 {len(rows)} 条。"
    data = documents.ledger_xlsx(rows, note=note)
    audit.record(
        request.user, "meetings_ledger_export", None, {"rows": len(rows), "query": request.GET.urlencode()}
    )
    return xlsx_response(data, f"三会一课台账{timezone.localdate():%Y%m%d}")


def _month(request: HttpRequest, today: date) -> tuple[int, int]:
    return bdays.parse_month(request.GET.get("month"), today)


def _shift(year: int, month: int, delta: int) -> str:
    index = year * 12 + month - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@login_required
@require_GET
def calendar(request: HttpRequest) -> HttpResponse:
    """The branch calendar: a month of held and planned meetings, with notices for planned ones."""
    user, today = request.user, timezone.localdate()
    org_id = request.GET.get("org")
    org = access.get_org_or_404(user, org_id) if org_id and org_id.isdigit() else queries.home_org(user)
    year, month = _month(request, today)
    rows = queries.month_meetings(user, org, year, month) if org else []
    now = timezone.now()
    for m in rows:
        m.planned = queries.is_planned(m, now)
    ctx = {
        "org": org,
        "weeks": queries.month_grid(rows, year, month),
        "year": year,
        "month": month,
        "prev": _shift(year, month, -1),
        "next": _shift(year, month, 1),
        "today": today,
        "planned": [m for m in rows if m.planned and timezone.localtime(m.starts_at).month == month],
        "manages": bool(org) and access.manages_org(user, org),
    }
    return render(request, "life/calendar.html", ctx)


@login_required
@require_POST
def meeting_notice(request: HttpRequest, pk: int) -> HttpResponse:
    """Send the expected attendees of a planned meeting an in-app notice."""
    meeting = _managed_meeting(request, pk)
    if not queries.is_planned(meeting):
        return _render_detail(request, meeting, 409, "只能为尚未召开的计划会议（草稿）发送会议通知。")
    sent = services.meeting_notify(actor=request.user, meeting=meeting)
    messages.success(request, f"已向 {sent} 位同志发送会议通知。")
    return redirect("life:meeting_detail", pk=meeting.pk)


# --- recording a meeting -------------------------------------------------------------------------


def _people_for(org: Org):
    return Person.objects.current().filter(org__path__startswith=org.path).order_by("name")


def _roster(org: Org, kind: str) -> list[Person]:
    return sorted(services.expected_attendees(org, kind), key=lambda p: (p.name, p.pk))


def _birthday_prefill(request: HttpRequest, org: Org, today: date) -> dict:
    """The 主题党日 template for a batch celebration of the month's political birthdays."""
    year, month = bdays.parse_month(request.GET.get("birthdays"), today)
    names = "、".join(
        b.person.name for b in bdays.in_month(bdays.members_of(Org.objects.filter(pk=org.pk)), year, month)
    )
    return {
        "kind": MeetingKind.THEME_DAY,
        "topic": f"主题党日：集体过政治生日（{year}年{month}月）",
        "agenda": f"1. 重温入党誓词\n2. 为本月过政治生日的同志送上政治生日贺卡：{names or '（本月无）'}\n3. 交流入党初心",
    }


@login_required
@require_http_methods(["GET", "POST"])
def meeting_create(request: HttpRequest) -> HttpResponse:
    """Record a meeting (保存草稿 or 提交); absentees are picked per person from the roster."""
    user, today = request.user, timezone.localdate()
    orgs = managed_orgs(user).order_by("path")
    source = request.POST if request.method == "POST" else request.GET
    org_id = source.get("org")
    if org_id and str(org_id).isdigit():
        org = access.get_org_or_404(user, org_id)
        access.require(access.manages_org(user, org), "您可以查看该党组织，但不能为它记录会议。")
    else:
        org = orgs.first()
        access.require(org is not None, "只有党组织书记和党务干部可以记录会议。")
    kind = source.get("kind") if source.get("kind") in MeetingKind.values else MeetingKind.MEMBERS_MEETING
    initial = {"org": org.pk, "kind": kind, "day": today, "start_time": forms.DEFAULT_TIMES[0],
               "end_time": forms.DEFAULT_TIMES[1]}  # fmt: skip
    if request.method == "GET" and request.GET.get("birthdays"):
        initial.update(_birthday_prefill(request, org, today))
        kind = initial["kind"]
    roster = _roster(org, kind)
    form = forms.MeetingForm(request.POST or None, initial=initial, orgs=orgs, people=_people_for(org),
                             roster=roster)  # fmt: skip

    def save(d):
        return services.meeting_record(
            actor=user, org=d["org"], kind=d["kind"], submit=request.POST.get("action") == "submit",
            attendance=form.attendance(), **form.fields_for_service(d["kind"]),
        )  # fmt: skip

    meeting, status = formflow.run(request, form, save)
    if meeting is not None:
        done = "已提交" if meeting.state == MeetingState.SUBMITTED else "已保存为草稿"
        messages.success(request, f"会议记录{done}。")
        return redirect("life:meeting_detail", pk=meeting.pk)
    ctx = {"form": form, "org": org, "kind": kind, "orgs": orgs, "kinds": MeetingKind.choices,
           "creating": True, "show_steps": True}  # fmt: skip
    return render(request, "life/meeting_form.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a draft or returned record (保存 or 提交); a stale form answers 409."""
    meeting = _managed_meeting(request, pk)
    if meeting.state not in (MeetingState.DRAFT, MeetingState.RETURNED):
        return _render_detail(
            request, meeting, 409, "已提交的会议记录不能再修改；如需更正，请由上级退回后修改。"
        )
    roster = [a.person for a in meeting.attendance.select_related("person").exclude(
        status=AttendanceStatus.NON_VOTING).order_by("person__name", "person_id")]  # fmt: skip
    form = forms.MeetingForm(request.POST or None, initial=forms.initial_from_meeting(meeting), orgs=None,
                             people=_people_for(meeting.org), roster=roster)  # fmt: skip

    def save(d):
        version = d.get("version")
        if version != meeting.version:
            raise Conflict("该会议记录已被他人修改，请刷新页面后重新填写。")
        services.meeting_edit(actor=request.user, meeting=meeting, version=version,
                              attendance=form.attendance(), **form.fields_for_service(meeting.kind, meeting.steps))  # fmt: skip
        if request.POST.get("action") == "submit":
            services.meeting_submit(actor=request.user, meeting=meeting, version=meeting.version)
        return meeting

    saved, status = formflow.run(request, form, save)
    if saved is not None:
        messages.success(
            request, "会议记录已提交。" if saved.state == MeetingState.SUBMITTED else "会议记录已保存。"
        )
        return redirect("life:meeting_detail", pk=meeting.pk)
    ctx = {"form": form, "meeting": meeting, "org": meeting.org, "kind": meeting.kind,
           "show_steps": meeting.kind in forms.STEP_KINDS}  # fmt: skip
    return render(request, "life/meeting_form.html", ctx, status=status)


# --- the meeting page and its actions ------------------------------------------------------------


def _detail_context(request: HttpRequest, meeting: Meeting, **extra) -> dict:
    user = request.user
    rows = list(meeting.attendance.select_related("person").order_by("status", "person__name"))
    q = services.quorum(meeting)
    voting = sum(1 for a in rows if a.is_voting and a.status != AttendanceStatus.NON_VOTING)
    votes = [
        dict(v, passes=services.motion_passes(int(v.get("ayes", 0)), voting)) for v in meeting.votes or []
    ]
    manages = access.manages_org(user, meeting.org)
    editable = meeting.state in (MeetingState.DRAFT, MeetingState.RETURNED)
    today = timezone.localdate()
    ctx = {
        "meeting": meeting,
        "badge": STATE_BADGES.get(meeting.state, ""),
        "rows": rows,
        "q": q,
        "votes": votes,
        "steps": meeting.steps or {},
        "has_steps": meeting.kind in forms.STEP_KINDS,
        "manages": manages,
        "can_edit": manages and editable,
        "can_review": meeting.state == MeetingState.SUBMITTED and may_review(user, meeting),
        "can_notice": manages and queries.is_planned(meeting),
        "is_dlm": meeting.kind == MeetingKind.DEMOCRATIC_LIFE_MEETING,
        "report_overdue": bool(
            meeting.report_due_on and not meeting.reported_on and meeting.report_due_on < today
        ),
        "version_form": forms.VersionForm(initial={"version": meeting.version}),
        "review_form": forms.ReviewForm(initial={"version": meeting.version}),
        "report_form": forms.ReportForm(initial={"version": meeting.version, "reported_on": today}),
        "rect_form": forms.RectificationForm(initial={"version": meeting.version}),
        "pre_talks": _pre_talks(user, meeting),
    }
    ctx.update(extra)
    return ctx


def _pre_talks(user, meeting: Meeting) -> dict | None:
    """会前谈心 (BR-OLM-1, DLM-6): the held talks attached to a 组织生活会 / 民主生活会 — who and when only."""
    if meeting.kind not in forms.STEP_KINDS:
        return None
    from sizheng.talks.coverage import pre_meeting_talks

    return pre_meeting_talks(user, meeting)


def _render_detail(request: HttpRequest, meeting: Meeting, status: int = 200, message: str = "", **extra):
    ctx = _detail_context(request, meeting, message=message, **extra)
    return render(request, "life/meeting_detail.html", ctx, status=status)


@login_required
@require_GET
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A meeting: all fields, attendance with quorum, votes, steps, review and reporting."""
    return _render_detail(request, _meeting_or_404(request.user, pk))


def _action(request: HttpRequest, meeting: Meeting, form, save, done: str, form_name: str) -> HttpResponse:
    """Run a detail-page action form; failures re-render the page with the form's errors."""
    result, status = formflow.run(request, form, save)
    if status == 200 and result is not None:
        messages.success(request, done)
        return redirect("life:meeting_detail", pk=meeting.pk)
    meeting.refresh_from_db()
    errors = " ".join(str(e) for errs in form.errors.values() for e in errs)
    return _render_detail(request, meeting, status, errors, **{form_name: form})


def _checked(meeting: Meeting, version: int) -> int:
    if version != meeting.version:
        raise Conflict("该会议记录已被他人修改，请刷新页面后重试。")
    return version


@login_required
@require_POST
def meeting_submit(request: HttpRequest, pk: int) -> HttpResponse:
    """提交 a draft or returned record."""
    meeting = _managed_meeting(request, pk)
    form = forms.VersionForm(request.POST)
    return _action(request, meeting, form, lambda d: services.meeting_submit(
        actor=request.user, meeting=meeting, version=_checked(meeting, d["version"])),
        "会议记录已提交。", "version_form")  # fmt: skip


@login_required
@require_POST
def meeting_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The higher org approves a submitted record or returns it with an opinion."""
    meeting = _meeting_or_404(request.user, pk)
    access.require(may_review(request.user, meeting), "只有上级党组织的书记或党务干部可以审核会议记录。")
    form = forms.ReviewForm(request.POST)
    approve = request.POST.get("decision") == "approve"
    return _action(request, meeting, form, lambda d: services.meeting_review(
        actor=request.user, meeting=meeting, version=_checked(meeting, d["version"]), approve=approve,
        opinion=d.get("opinion", "")), "会议记录已审核通过。" if approve else "会议记录已退回。",
        "review_form")  # fmt: skip


@login_required
@require_POST
def meeting_report(request: HttpRequest, pk: int) -> HttpResponse:
    """已报送上级: record the date a 民主生活会 was reported (DLM-7)."""
    meeting = _managed_meeting(request, pk)
    if meeting.kind != MeetingKind.DEMOCRATIC_LIFE_MEETING:
        return _render_detail(request, meeting, 409, "只有民主生活会需要向上级报送。")
    form = forms.ReportForm(request.POST)
    return _action(request, meeting, form, lambda d: services.meeting_report_upward(
        actor=request.user, meeting=meeting, version=_checked(meeting, d["version"]), on=d["reported_on"]),
        "已登记报送上级。", "report_form")  # fmt: skip


@login_required
@require_POST
def meeting_rectify(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a rectification item to a 组织生活会; it becomes a duty of the org."""
    meeting = _managed_meeting(request, pk)
    if meeting.kind not in forms.STEP_KINDS:
        return _render_detail(request, meeting, 409, "只有组织生活会、民主生活会有整改清单。")
    form = forms.RectificationForm(request.POST)
    return _action(request, meeting, form, lambda d: services.meeting_rectification_add(
        actor=request.user, meeting=meeting, version=_checked(meeting, d["version"]), title=d["title"],
        due_on=d["due_on"]), "整改事项已列入责任清单。", "rect_form")  # fmt: skip


@login_required
@require_GET
def meeting_record_doc(request: HttpRequest, pk: int) -> HttpResponse:
    """会议记录 as a Word file (audited)."""
    meeting = _meeting_or_404(request.user, pk)
    data = documents.meeting_record_docx(meeting)
    audit.record(request.user, "meeting_record_export", meeting, {"format": "docx"})
    start = timezone.localtime(meeting.starts_at)
    return docx_response(data, f"{documents.record_title(meeting)}{start:%Y%m%d}")


@login_required
@require_GET
def meeting_signin_doc(request: HttpRequest, pk: int) -> HttpResponse:
    """签到表 as a Word file (audited)."""
    meeting = _meeting_or_404(request.user, pk)
    data = documents.signin_sheet_docx(meeting)
    audit.record(request.user, "meeting_signin_export", meeting, {"format": "docx"})
    start = timezone.localtime(meeting.starts_at)
    return docx_response(data, f"{meeting.org.name}签到表{start:%Y%m%d}")


# --- political birthdays -------------------------------------------------------------------------


def birthday_orgs(user):
    """The branches whose political birthdays a user sees: those they manage, and their own."""
    scope = access.scope_of(user)
    managed = managed_orgs(user)
    if scope.own_org_id:
        managed = managed | Org.objects.filter(pk=scope.own_org_id)
    return managed.distinct()


@login_required
@require_GET
def birthdays(request: HttpRequest) -> HttpResponse:
    """This month's (or a chosen month's) 政治生日 of the user's branch(es)."""
    user, today = request.user, timezone.localdate()
    year, month = _month(request, today)
    orgs = birthday_orgs(user)
    rows = bdays.in_month(bdays.members_of(orgs), year, month)
    own = managed_orgs(user).order_by("path").first()
    ctx = {
        "rows": rows,
        "year": year,
        "month": month,
        "month_key": f"{year:04d}-{month:02d}",
        "prev": _shift(year, month, -1),
        "next": _shift(year, month, 1),
        "theme_org": own,
        "theme_url": (reverse("life:meeting_create") + f"?org={own.pk}&birthdays={year:04d}-{month:02d}")
        if own
        else "",
    }
    return render(request, "life/birthdays.html", ctx)


# --- the home card -------------------------------------------------------------------------------


def home_card(request: HttpRequest) -> dict | None:
    """工作台 card for secretaries and 党务干部: records to finish, records to review, this month's
    political birthdays (three small queries; None for users who manage no org)."""
    user, today = request.user, timezone.localdate()
    managed = managed_orgs(user)
    if not managed.exists():
        return None
    mine = Meeting.objects.filter(org__in=managed.values("pk"))
    to_finish = mine.filter(
        state__in=[MeetingState.DRAFT, MeetingState.RETURNED], starts_at__lte=timezone.now()
    )
    children = Meeting.objects.filter(org__parent__in=managed.values("pk"), state=MeetingState.SUBMITTED)
    return {
        "to_finish": to_finish.count(),
        "to_review": children.count(),
        "birthdays": len(bdays.in_month(bdays.members_of(managed), today.year, today.month)),
    }
