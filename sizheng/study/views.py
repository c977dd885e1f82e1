"""Screens of the study app: my study, plans and topics, study groups, sessions, observers
(列席旁听), make-up (补学) and the yearly 学习档案专卷.

Each view checks access (study.access: 404 outside scope, 403 for a visible record the user may not
change), validates a form, calls one service and renders. A failed form re-renders with 422, a stale
version with 409; a wrong method gets 405.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizheng.core import audit, formflow
from sizheng.core.apitools import Conflict
from sizheng.core.docx import docx_response
from sizheng.core.files import content_disposition
from sizheng.core.models import Role
from sizheng.core.paging import paginate
from sizheng.life.models import Attendance, AttendanceStatus, Meeting
from sizheng.org.access import get_org_or_404, managed_orgs, require, scope_of
from sizheng.org.models import Org, Person
from sizheng.study import access, archive, bulletin, forms, hours, services
from sizheng.study.models import Observation, StudyGroup, StudyPaper, StudyPlan, StudySession, StudyTopic

NO_MANAGED_ORG = "您不是任何党组织的书记或党务干部，不能进行此项操作。"


def _year(request: HttpRequest) -> int:
    """The year asked for (?year=), else this year."""
    raw = request.GET.get("year", "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else timezone.localdate().year


def _meeting_url(meeting: Meeting) -> str:
    """The meeting page in the life app, when its URLs are installed."""
    for name in ("life:meeting_detail", "life:meeting"):
        try:
            return reverse(name, args=[meeting.pk])
        except NoReverseMatch:
            continue
    return ""


FORM_PAGES = {
    "plan": ("新建学习计划", "建立计划", "study:plans", "plans"),
    "group": ("新建学习小组", "建立小组", "study:groups", "groups"),
    "session": ("登记学习活动", "登记", "study:sessions", "sessions"),
    "observation": ("安排列席旁听", "安排", "study:observations", "observations"),
}


def _form_page(request: HttpRequest, kind: str, form, status: int = 200) -> HttpResponse:
    """One of the "new …" pages (a 422 re-render keeps the input and shows the errors)."""
    heading, submit_label, cancel, tab = FORM_PAGES[kind]
    ctx = {
        "form": form,
        "heading": heading,
        "submit_label": submit_label,
        "cancel_url": reverse(cancel),
        "tab": tab,
    }
    return render(request, "study/form_page.html", ctx, status=status)


def _conflict_message(exc: Conflict) -> str:
    return getattr(exc, "message", "") or "该记录已被他人修改，请刷新页面后重试。"


# --- my study ------------------------------------------------------------------------------------


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """My sessions this year, my hours against the requirement, my pending make-ups; for a secretary,
    how many of the members reached the requirement (a count, never a ranked list)."""
    user, year = request.user, _year(request)
    scope = scope_of(user)
    ctx = {"year": year, "years": range(timezone.localdate().year, timezone.localdate().year - 5, -1)}
    if scope.person_id:
        rows = list(
            Attendance.objects.filter(
                person_id=scope.person_id, meeting__in=hours.study_meetings(year).values("pk")
            )
            .select_related("meeting", "meeting__org")
            .order_by("-meeting__starts_at")
        )
        ctx["sessions"] = rows
        ctx["standing"] = hours.standing([scope.person_id], year)[scope.person_id]
        ctx["pending"] = [
            (a, forms.MakeUpForm(initial={"attendance": a.pk}, auto_id=f"id_m{a.pk}_%s"))
            for a in rows
            if a.status in (AttendanceStatus.ABSENT, AttendanceStatus.ON_LEAVE) and a.made_up_on is None
        ]
        ctx["my_observations"] = list(
            Observation.objects.filter(observer_id=scope.person_id, summary_submitted_on__isnull=True)
            .select_related("observed_org")
            .order_by("planned_on")
        )
    coverage = []
    for path in scope.paths(Role.SECRETARY):
        org = Org.objects.filter(path=path).first()
        ids = list(
            Person.objects.current()
            .party_members()
            .filter(org__path__startswith=path)
            .values_list("pk", flat=True)
        )
        coverage.append({"org": org, **hours.coverage(ids, year)})
    ctx["coverage"] = coverage
    return render(request, "study/mine.html", ctx)


@login_required
@require_POST
def makeup(request: HttpRequest) -> HttpResponse:
    """Record a make-up (补学) with a short reflection (the person themself or their secretary)."""
    user = request.user
    pk = request.POST.get("attendance", "")
    if not pk.isdigit():
        raise Http404("未找到该出席记录。")
    attendance = access.get_attendance_or_404(user, int(pk))
    form = forms.MakeUpForm(request.POST)
    if not services.may_make_up(user, attendance):
        raise PermissionDenied("只有缺席或请假的本人或其所在党组织的书记可以登记补学。")
    if form.is_valid():
        try:
            services.makeup_record(user, attendance, form.cleaned_data["note"], on=form.cleaned_data["on"])
        except Conflict as exc:
            return render(request, "study/makeup_form.html", {"form": form, "attendance": attendance,
                                                                 "message": _conflict_message(exc)}, status=409)  # fmt: skip
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, f"已登记补学：{attendance.meeting.topic}。")
            return redirect("study:mine")
    return render(request, "study/makeup_form.html", {"form": form, "attendance": attendance}, status=422)


# --- plans ---------------------------------------------------------------------------------------


@login_required
@require_GET
def plans(request: HttpRequest) -> HttpResponse:
    """Study plans of orgs in scope, newest year first."""
    qs = (
        access.plans_visible_to(request.user)
        .select_related("org", "group")
        .annotate(topic_count=Count("topics"))
        .order_by("-year", "org__path", "pk")
    )
    page = paginate(request, qs)
    return render(
        request, "study/plans.html", {"page": page, "can_create": managed_orgs(request.user).exists()}
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest) -> HttpResponse:
    """Start a year's plan for an org the user manages."""
    orgs = managed_orgs(request.user)
    require(orgs.exists(), NO_MANAGED_ORG)
    form = forms.PlanForm(request.POST or None, orgs=orgs)
    plan, status = formflow.run(request, form, lambda d: services.plan_create(actor=request.user, **d))
    if plan is not None:
        messages.success(request, f"已建立学习计划：{plan.title}。请接着添加学习专题。")
        return redirect("study:plan_detail", pk=plan.pk)
    return _form_page(request, "plan", form, status=status)


def _render_plan(request, plan: StudyPlan, *, summary_form=None, topic_form=None, message="", status=200):
    can_edit = access.manages(request.user, plan.org)
    topics = list(
        plan.topics.order_by("order", "pk").prefetch_related(
            Prefetch("sessions", queryset=StudySession.objects.select_related("meeting"))
        )
    )
    ctx = {
        "plan": plan,
        "topics": topics,
        "can_edit": can_edit,
        "summary_form": summary_form
        or forms.PlanSummaryForm(
            initial={"title": plan.title, "summary": plan.summary, "version": plan.version}
        ),
        "topic_form": topic_form or forms.TopicForm(),
        "message": message,
    }
    return render(request, "study/plan_detail.html", ctx, status=status)


@login_required
@require_GET
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A plan with its topics, the sessions held on each, and (for managers) the edit forms."""
    return _render_plan(request, access.get_plan_or_404(request.user, pk))


@login_required
@require_POST
def plan_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the title and the year-end summary."""
    plan = access.get_plan_or_404(request.user, pk)
    require(access.manages(request.user, plan.org))
    form = forms.PlanSummaryForm(request.POST)
    if not form.is_valid():
        return _render_plan(request, plan, summary_form=form, status=422)
    try:
        services.plan_update(actor=request.user, plan=plan, version=form.cleaned_data["version"],
                             title=form.cleaned_data["title"], summary=form.cleaned_data["summary"])  # fmt: skip
    except Conflict as exc:
        return _render_plan(request, plan, summary_form=form, message=_conflict_message(exc), status=409)
    except ValidationError as exc:
        forms.add_service_errors(form, exc)
        return _render_plan(request, plan, summary_form=form, status=422)
    messages.success(request, "学习计划已保存。")
    return redirect("study:plan_detail", pk=plan.pk)


@login_required
@require_POST
def plan_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """Publish (印发) the plan."""
    plan = access.get_plan_or_404(request.user, pk)
    require(access.manages(request.user, plan.org))
    version = request.POST.get("version", "")
    try:
        services.plan_publish(
            actor=request.user, plan=plan, version=int(version) if version.isdigit() else -1
        )
    except Conflict as exc:
        return _render_plan(request, plan, message=_conflict_message(exc), status=409)
    except ValidationError as exc:
        return _render_plan(request, plan, message="；".join(exc.messages), status=422)
    messages.success(request, "学习计划已印发。")
    return redirect("study:plan_detail", pk=plan.pk)


@login_required
@require_POST
def topic_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a topic to the plan."""
    plan = access.get_plan_or_404(request.user, pk)
    require(access.manages(request.user, plan.org))
    form = forms.TopicForm(request.POST)
    if form.is_valid():
        try:
            services.topic_add(actor=request.user, plan=plan, **form.cleaned_data)
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, f"已添加学习专题：{form.cleaned_data['title']}。")
            return redirect("study:plan_detail", pk=plan.pk)
    return _render_plan(request, plan, topic_form=form, status=422)


# --- groups --------------------------------------------------------------------------------------


@login_required
@require_GET
def groups(request: HttpRequest) -> HttpResponse:
    """Study groups in scope (and the user's own), with their member counts."""
    qs = (
        access.groups_visible_to(request.user)
        .select_related("org")
        .annotate(member_count=Count("members", distinct=True))
        .order_by("org__path", "kind", "name", "pk")
    )
    page = paginate(request, qs)
    return render(
        request, "study/groups.html", {"page": page, "can_create": managed_orgs(request.user).exists()}
    )


@login_required
@require_http_methods(["GET", "POST"])
def group_create(request: HttpRequest) -> HttpResponse:
    """Set up a study group."""
    orgs = managed_orgs(request.user)
    require(orgs.exists(), NO_MANAGED_ORG)
    form = forms.GroupForm(request.POST or None, orgs=orgs)
    group, status = formflow.run(request, form, lambda d: services.group_create(actor=request.user, **d))
    if group is not None:
        messages.success(request, f"已建立学习小组：{group.name}。请接着添加成员。")
        return redirect("study:group_detail", pk=group.pk)
    return _form_page(request, "group", form, status=status)


def _render_group(request, group: StudyGroup, *, member_form=None, status=200):
    can_edit = access.manages(request.user, group.org)
    people = Person.objects.visible_to(request.user).current().exclude(study_groups=group).order_by("name")
    ctx = {
        "group": group,
        "members": list(group.members.select_related("unit", "org").order_by("name")),
        "sessions": list(group.sessions.select_related("meeting").order_by("-meeting__starts_at")[:50]),
        "can_edit": can_edit,
        "member_form": member_form or (forms.MemberForm(people=people) if can_edit else None),
    }
    return render(request, "study/group_detail.html", ctx, status=status)


@login_required
@require_GET
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A group with its members and sessions."""
    return _render_group(request, access.get_group_or_404(request.user, pk))


@login_required
@require_POST
def group_member_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a member (anyone the user may list, from any branch)."""
    group = access.get_group_or_404(request.user, pk)
    require(access.manages(request.user, group.org))
    form = forms.MemberForm(request.POST, people=Person.objects.visible_to(request.user).current())
    if form.is_valid():
        try:
            services.group_member_add(actor=request.user, group=group, person=form.cleaned_data["person"])
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, f"已把{form.cleaned_data['person'].name}加入学习小组。")
            return redirect("study:group_detail", pk=group.pk)
    return _render_group(request, group, member_form=form, status=422)


@login_required
@require_POST
def group_member_remove(request: HttpRequest, pk: int, person_pk: int) -> HttpResponse:
    """Remove a member."""
    group = access.get_group_or_404(request.user, pk)
    require(access.manages(request.user, group.org))
    person = group.members.filter(pk=person_pk).first()
    if person is None:
        raise Http404("该人员不是此学习小组的成员。")
    services.group_member_remove(actor=request.user, group=group, person=person)
    messages.success(request, f"已把{person.name}移出学习小组。")
    return redirect("study:group_detail", pk=group.pk)


# --- sessions ------------------------------------------------------------------------------------


@login_required
@require_GET
def sessions(request: HttpRequest) -> HttpResponse:
    """Study sessions in scope (each one a meeting record)."""
    qs = (
        access.sessions_visible_to(request.user)
        .select_related("meeting", "meeting__org", "group", "topic")
        .order_by("-meeting__starts_at", "-pk")
    )
    page = paginate(request, qs)
    return render(
        request, "study/sessions.html", {"page": page, "can_create": managed_orgs(request.user).exists()}
    )


@login_required
@require_http_methods(["GET", "POST"])
def session_create(request: HttpRequest) -> HttpResponse:
    """Link a recorded meeting as a study session, with group, topic, keynote speakers and materials."""
    user = request.user
    orgs = managed_orgs(user)
    require(orgs.exists(), NO_MANAGED_ORG)
    org_ids = orgs.values("pk")
    form = forms.SessionForm(
        request.POST or None,
        meetings=Meeting.objects.filter(
            org__in=org_ids, kind__in=hours.LINKABLE_KINDS, study_session__isnull=True
        )
        .select_related("org")
        .order_by("-starts_at")[:200]
        if request.method == "GET"
        else Meeting.objects.filter(org__in=org_ids, kind__in=hours.LINKABLE_KINDS),
        groups=StudyGroup.objects.filter(org__in=org_ids, is_active=True),
        topics=StudyTopic.objects.filter(plan__org__in=org_ids).select_related("plan"),
        people=Person.objects.visible_to(user).current().order_by("name"),
    )
    session, status = formflow.run(request, form, lambda d: services.session_link(actor=user, **d))
    if session is not None:
        messages.success(request, f"已登记学习活动：{session.meeting.topic}。")
        return redirect("study:session_detail", pk=session.pk)
    return _form_page(request, "session", form, status=status)


@login_required
@require_GET
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A study session: the meeting it is, its topic, keynote speakers, materials and attendance."""
    session = access.get_session_or_404(request.user, pk)
    meeting = session.meeting
    ctx = {
        "session": session,
        "meeting": meeting,
        "meeting_url": _meeting_url(meeting),
        "speakers": list(session.keynote_speakers.order_by("name")),
        "attendance": list(meeting.attendance.select_related("person").order_by("person__name")),
        "observations": list(session.observations.select_related("observer")),
    }
    return render(request, "study/session_detail.html", ctx)


# --- observers (列席旁听) ------------------------------------------------------------------------


@login_required
@require_GET
def observations(request: HttpRequest) -> HttpResponse:
    """Observer assignments in scope and the user's own, with due dates and warnings on both sides."""
    today = timezone.localdate()
    qs = (
        access.observations_visible_to(request.user)
        .select_related("observed_org", "observer")
        .order_by("-planned_on", "-pk")
    )
    page = paginate(request, qs)
    rows = [(o, services.observation_warnings(o, today)) for o in page.object_list]
    ctx = {"page": page, "rows": rows, "can_create": managed_orgs(request.user).exists()}
    return render(request, "study/observations.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def observation_create(request: HttpRequest) -> HttpResponse:
    """Send an observer to an org's central-group study."""
    user = request.user
    orgs = managed_orgs(user)
    require(orgs.exists(), NO_MANAGED_ORG)
    form = forms.ObservationForm(
        request.POST or None,
        orgs=orgs.order_by("path"),
        people=Person.objects.visible_to(user).current().order_by("name"),
    )
    obs, status = formflow.run(request, form, lambda d: services.observation_assign(actor=user, **d))
    if obs is not None:
        messages.success(
            request,
            f"已安排{obs.observer.name}列席：材料须于 {obs.materials_due_on:%Y-%m-%d} 前报送，"
            f"小结须于 {obs.summary_due_on:%Y-%m-%d} 前提交。",
        )
        return redirect("study:observation_detail", pk=obs.pk)
    return _form_page(request, "observation", form, status=status)


def _render_observation(request, obs: Observation, *, materials_form=None, summary_form=None, message="",
                        status=200):  # fmt: skip
    user = request.user
    can_send = access.manages(user, obs.observed_org)
    is_observer = access.is_observer(user, obs)
    ctx = {
        "obs": obs,
        "warnings": services.observation_warnings(obs, timezone.localdate()),
        "can_send": can_send,
        "is_observer": is_observer,
        "materials_form": materials_form or forms.MaterialsSentForm(initial={"version": obs.version}),
        "summary_form": summary_form
        or forms.SummaryForm(initial={"version": obs.version, "summary": obs.summary}),
        "message": message,
    }
    return render(request, "study/observation_detail.html", ctx, status=status)


@login_required
@require_GET
def observation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One observer assignment: due dates, warnings, the materials-sent and summary forms."""
    return _render_observation(request, access.get_observation_or_404(request.user, pk))


@login_required
@require_POST
def observation_materials(request: HttpRequest, pk: int) -> HttpResponse:
    """The observed unit records that the materials were sent."""
    obs = access.get_observation_or_404(request.user, pk)
    require(
        access.manages(request.user, obs.observed_org), "只有被列席单位的书记或党务干部可以登记材料报送。"
    )
    form = forms.MaterialsSentForm(request.POST)
    if not form.is_valid():
        return _render_observation(request, obs, materials_form=form, status=422)
    try:
        services.observation_materials_sent(actor=request.user, observation=obs, version=form.cleaned_data["version"],
                                            on=form.cleaned_data["on"])  # fmt: skip
    except Conflict as exc:
        return _render_observation(
            request, obs, materials_form=form, message=_conflict_message(exc), status=409
        )
    except ValidationError as exc:
        forms.add_service_errors(form, exc)
        return _render_observation(request, obs, materials_form=form, status=422)
    messages.success(request, "已登记材料报送。")
    return redirect("study:observation_detail", pk=obs.pk)


@login_required
@require_POST
def observation_summary(request: HttpRequest, pk: int) -> HttpResponse:
    """The observer submits the summary (≤ 500 characters)."""
    obs = access.get_observation_or_404(request.user, pk)
    require(access.is_observer(request.user, obs), "只有列席人本人可以提交列席情况小结。")
    form = forms.SummaryForm(request.POST)
    if not form.is_valid():
        return _render_observation(request, obs, summary_form=form, status=422)
    try:
        services.observation_summary_submit(actor=request.user, observation=obs,
                                            version=form.cleaned_data["version"], summary=form.cleaned_data["summary"])  # fmt: skip
    except Conflict as exc:
        return _render_observation(
            request, obs, summary_form=form, message=_conflict_message(exc), status=409
        )
    except ValidationError as exc:
        forms.add_service_errors(form, exc)
        return _render_observation(request, obs, summary_form=form, status=422)
    messages.success(request, "列席情况小结已提交。")
    return redirect("study:observation_detail", pk=obs.pk)


# --- the yearly archive (学习档案专卷) ------------------------------------------------------------


@login_required
@require_GET
def archive_index(request: HttpRequest) -> HttpResponse:
    """Pick an org and a year for the 学习档案专卷 (orgs the user manages)."""
    orgs = list(managed_orgs(request.user).order_by("path")[:200])
    require(bool(orgs), NO_MANAGED_ORG)
    year = _year(request)
    periods = [(f"{year}-Q{i}", f"第{'一二三四'[i - 1]}季度") for i in range(1, 5)] + [(str(year), "全年")]
    return render(request, "study/archive.html", {"orgs": orgs, "year": year, "bulletin_periods": periods})


def _archive_org(request: HttpRequest, org_pk: int) -> Org:
    org = get_org_or_404(request.user, org_pk)
    require(access.manages(request.user, org), "只有本组织或上级组织的书记、党务干部可以导出学习档案。")
    return org


@login_required
@require_GET
def archive_docx(request: HttpRequest, org_pk: int, year: int) -> HttpResponse:
    """The 学习档案专卷 as one Word file (audited)."""
    org = _archive_org(request, org_pk)
    data = archive.build_docx(org, year)
    audit.record(request.user, "study_archive_docx", org, {"year": year}, request=request)
    return docx_response(data, f"{org.name}{year}年度理论学习档案")


@login_required
@require_GET
def archive_zip(request: HttpRequest, org_pk: int, year: int) -> HttpResponse:
    """The attachments of the year's study meetings as a zip (audited; possibly empty)."""
    org = _archive_org(request, org_pk)
    data = archive.build_zip(org, year)
    audit.record(request.user, "study_archive_zip", org, {"year": year}, request=request)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = content_disposition(f"{org.name}{year}年度理论学习档案附件.zip")
    return response


# --- the 学习情况通报 ------------------------------------------------------------------------------


@login_required
@require_GET
def bulletin_docx(request: HttpRequest, org_pk: int, period_key: str) -> HttpResponse:
    """The 学习情况通报 of an org's subtree for a quarter or a year, as a 公文 Word file (audited)."""
    org = get_org_or_404(request.user, org_pk)
    require(access.manages(request.user, org), "只有本组织或上级组织的书记、党务干部可以导出学习情况通报。")
    try:
        period = bulletin.parse_period(period_key)
    except ValueError as exc:
        raise Http404("通报期间应为季度（如 2026-Q3）或年度（如 2026）。") from exc
    data = bulletin.bulletin_data(org, period)
    audit.record(request.user, "study_bulletin_export", org, {"period": period.key}, request=request)
    return docx_response(bulletin.build_docx(data), f"{org.name}{data.title}")


# --- papers and speaking outlines ----------------------------------------------------------------


def _paper_people(user):
    """Whom the user may submit for: themself, and (a 书记) the people of their orgs."""
    scope = scope_of(user)
    q = Q(pk=scope.person_id) if scope.person_id else Q(pk__in=[])
    for p in scope.paths(Role.SECRETARY):
        q |= Q(org__path__startswith=p)
    return Person.objects.current().filter(q).order_by("name")


def _central_counts(user, year: int) -> list[dict]:
    """For each central group of an org the user manages: members, keynotes given, papers submitted
    (counts only; three queries whatever the number of groups)."""
    groups = list(
        StudyGroup.objects.filter(
            org__in=managed_orgs(user).values("pk"), kind=StudyGroup.Kind.CENTRAL, is_active=True
        ).order_by("org__path", "name")[:50]
    )
    links = list(
        StudyGroup.members.through.objects.filter(
            studygroup_id__in=[g.pk for g in groups], person__left_on__isnull=True
        ).values_list("studygroup_id", "person_id")
    )
    status = services.writing_status({pid for _, pid in links}, year)
    out = []
    for g in groups:
        ids = [pid for gid, pid in links if gid == g.pk]
        out.append({"group": g, "total": len(ids), "keynote": sum(status[i]["keynote"] for i in ids),
                    "paper": sum(status[i]["paper"] for i in ids)})  # fmt: skip
    return out


def _render_papers(request: HttpRequest, year: int, form=None, status: int = 200) -> HttpResponse:
    user = request.user
    scope = scope_of(user)
    people = _paper_people(user)
    sessions = (
        access.sessions_visible_to(user).filter(meeting__starts_at__year=year).select_related("meeting")
    )
    if form is None:
        form = forms.PaperForm(people=people, sessions=sessions.order_by("-meeting__starts_at")[:200],
                               initial={"person": scope.person_id, "year": year})  # fmt: skip
    q = Q(person_id=scope.person_id) if scope.person_id else Q(pk__in=[])
    q |= Q(person__org__in=managed_orgs(user).values("pk"))
    qs = (
        StudyPaper.objects.filter(q, year=year)
        .select_related("person", "file", "session", "session__meeting")
        .order_by("submitted_on", "pk")
    )
    ctx = {
        "year": year,
        "years": range(timezone.localdate().year, timezone.localdate().year - 5, -1),
        "page": paginate(request, qs),
        "form": form,
        "can_submit": people.exists(),
        "checklist": services.writing_status([scope.person_id], year)[scope.person_id]
        if scope.person_id
        else None,
        "central": _central_counts(user, year),
        "tab": "papers",
    }
    return render(request, "study/papers.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def papers(request: HttpRequest) -> HttpResponse:
    """Speaking outlines, papers and research reports: my checklist (keynote given, paper submitted),
    the counts of each central group for its secretary, the year's list and the submit form."""
    user = request.user
    if request.method == "GET":
        return _render_papers(request, _year(request))
    people = _paper_people(user)
    require(people.exists(), "您没有可以提交发言提纲或学习文章的人员。")
    form = forms.PaperForm(request.POST, request.FILES, people=people,
                           sessions=access.sessions_visible_to(user).select_related("meeting"))  # fmt: skip
    if form.is_valid():
        d = form.cleaned_data
        try:
            paper = services.paper_submit(
                user, person=d["person"], year=d["year"], kind=d["kind"], title=d["title"], text=d["text"],
                session=d["session"], upload=d["upload"], on=d["on"],
            )  # fmt: skip
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, f"已提交{paper.get_kind_display()}：{paper.title}。")
            return redirect(f"{reverse('study:papers')}?year={paper.year}")
    year = form.cleaned_data.get("year") if hasattr(form, "cleaned_data") else None
    return _render_papers(request, year or _year(request), form=form, status=422)
