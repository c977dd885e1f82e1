"""Screens of volunteering (志愿行动): the activity list and its ledger, an activity with sign-up and
(for the organiser) its participants, the attendance confirmation, my volunteering, the aggregates per
org, and the campaigns (committee admin).

Each view checks access (volunteer.access: 404 outside scope, 403 for a visible record the user may
not change), validates a form, calls one service and renders. A failed form re-renders with 422, a
stale version or a wrong state with 409; a wrong method gets 405. No page ranks people: participants
are listed only to the organiser, in sign-up order; the aggregates are per org.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizheng.core import audit, formflow
from sizheng.core.apitools import Conflict
from sizheng.core.paging import paginate
from sizheng.core.xlsx import write_ledger, xlsx_response
from sizheng.org.access import require, scope_of
from sizheng.org.models import Org
from sizheng.volunteer import access, forms, queries, services
from sizheng.volunteer.models import (
    SEAT_STATUSES,
    Activity,
    ActivityState,
    Application,
    Campaign,
    Signup,
    SignupStatus,
)

LEDGER_LIMIT = 20000
STATE_BADGES = {
    ActivityState.PLANNED: "bg-secondary-lt",
    ActivityState.OPEN: "bg-green-lt",
    ActivityState.DONE: "bg-blue-lt",
    ActivityState.CANCELLED: "bg-red-lt",
}
NO_MANAGED_ORG = "您不是任何党组织的书记或党务干部，不能组织志愿活动。"


def _message(exc) -> str:
    if isinstance(exc, Conflict):
        return exc.message
    return "；".join(exc.messages)


def _year(raw: str | None) -> int:
    raw = raw or ""
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else timezone.localdate().year


# --- the list and its ledger ---------------------------------------------------------------------


def _filtered(request: HttpRequest):
    """The filter form and the activities in scope it selects."""
    user = request.user
    form = forms.ActivityFilterForm(request.GET or None, user=user)
    qs = Activity.objects.visible_to(user)
    if form.is_valid():
        d = form.cleaned_data
        if d.get("campaign"):
            qs = qs.filter(campaign=d["campaign"])
        if d.get("org"):
            qs = qs.filter(org__path__startswith=d["org"].path)
        if d.get("state"):
            qs = qs.filter(state=d["state"])
        if d.get("year"):
            qs = qs.filter(starts_at__year=int(d["year"]))
        if d.get("q"):
            qs = qs.filter(Q(title__icontains=d["q"]) | Q(place__icontains=d["q"]))
    return form, qs


@login_required
@require_GET
def activities(request: HttpRequest) -> HttpResponse:
    """Activities in scope and open to the user: filters, pages, sign-up figures (counts, not names)."""
    form, qs = _filtered(request)
    page = paginate(request, qs.for_list().order_by("-starts_at", "-pk"))
    person_id = scope_of(request.user).person_id
    mine = {}
    if person_id:
        mine = dict(
            Signup.objects.filter(
                person_id=person_id, activity__in=[a.pk for a in page.object_list]
            ).values_list("activity_id", "status")
        )
    for a in page.object_list:
        a.badge = STATE_BADGES.get(a.state, "")
        a.my_status = SignupStatus(mine[a.pk]).label if a.pk in mine else ""
    ctx = {
        "form": form,
        "page": page,
        "can_create": access.managed_orgs(request.user).exists(),
        "export_query": request.GET.urlencode(),
    }
    return render(request, "volunteer/activities.html", ctx)


@login_required
@require_GET
def activities_export(request: HttpRequest) -> HttpResponse:
    """志愿活动台账 (Excel) of the filtered list: per activity, counts and hours, no names; audited."""
    _form, qs = _filtered(request)
    rows = list(qs.for_list().order_by("starts_at", "pk")[:LEDGER_LIMIT])
    headers = ["序号", "活动名称", "志愿行动", "组织单位", "开始时间", "结束时间", "地点", "计划时长（小时）",
               "名额", "报名人数", "参加人数", "确认时长合计（小时）", "状态"]  # fmt: skip
    data = write_ledger(
        title="志愿活动台账",
        headers=headers,
        rows=(
            [
                i,
                a.title,
                a.campaign.name,
                a.org.name,
                a.starts_at,
                a.ends_at,
                a.place,
                a.planned_hours,
                a.capacity if a.capacity is not None else "不限",
                a.n_signed,
                a.n_attended,
                a.confirmed_hours or 0,
                a.get_state_display(),
            ]  # fmt: skip
            for i, a in enumerate(rows, start=1)
        ),
        note=f"导出时间：{timezone.localtime():%Y年%m月%d日 %H:%M}；共 {len(rows)} 条。",
    )
    audit.record(
        request.user,
        "volunteer_activities_export",
        None,
        {"rows": len(rows), "query": request.GET.urlencode()},
    )
    return xlsx_response(data, f"志愿活动台账{timezone.localdate():%Y%m%d}")


# --- one activity --------------------------------------------------------------------------------


def _render_activity(request, activity: Activity, *, status: int = 200, message: str = "", **overrides):
    user = request.user
    can_manage = access.manages_activity(user, activity)
    person_id = scope_of(user).person_id
    own = Signup.objects.filter(activity=activity, person_id=person_id).first() if person_id else None
    ctx = {
        "activity": activity,
        "badge": STATE_BADGES.get(activity.state, ""),
        "can_manage": can_manage,
        "may_sign_up": access.may_sign_up(user, activity),
        "own": own,
        "withdraw_form": overrides.get("withdraw_form")
        or (forms.WithdrawForm(initial={"version": own.version}) if own else None),
        "message": message,
        "now": timezone.now(),
    }
    if can_manage:
        ctx["participants"] = list(
            Signup.objects.filter(activity=activity)
            .exclude(status=SignupStatus.WITHDRAWN)
            .select_related("person", "person__unit", "person__org")
            .order_by("signed_up_at", "pk")
        )
        ctx["transition_form"] = overrides.get("transition_form") or forms.ActivityTransitionForm(
            initial={"version": activity.version}
        )
        ctx["attach_form"] = overrides.get("attach_form") or forms.AttachForm()
    else:
        ctx["participant_count"] = Signup.objects.filter(activity=activity, status__in=SEAT_STATUSES).count()
    return render(request, "volunteer/activity_detail.html", ctx, status=status)


@login_required
@require_GET
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An activity; sign-up or withdrawal for people it is open to; participants for the organiser."""
    return _render_activity(request, access.get_activity_or_404(request.user, pk))


@login_required
@require_http_methods(["GET", "POST"])
def activity_create(request: HttpRequest) -> HttpResponse:
    """Plan an activity for an org the user manages."""
    orgs = access.managed_orgs(request.user)
    require(orgs.exists(), NO_MANAGED_ORG)
    form = forms.ActivityForm(request.POST or None, orgs=orgs)
    activity, status = formflow.run(
        request, form, lambda d: services.activity_create(actor=request.user, **d)
    )
    if activity is not None:
        messages.success(request, f"已保存志愿活动：{activity.title}。")
        return redirect("volunteer:activity_detail", pk=activity.pk)
    return render(
        request, "volunteer/activity_form.html", {"form": form, "heading": "组织志愿活动"}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a planned or open activity (hidden version: a stale form gets 409)."""
    activity = access.get_activity_or_404(request.user, pk)
    require(
        access.manages_activity(request.user, activity), "只有组织单位的书记、党务干部可以修改该志愿活动。"
    )
    initial = {f: getattr(activity, f) for f in services.ACTIVITY_FIELDS}
    initial["version"] = activity.version
    form = forms.ActivityForm(request.POST or None, initial=initial, editing=True)

    def save(d):
        version = d.pop("version")
        return services.activity_update(actor=request.user, activity=activity, version=version, **d)

    result, status = formflow.run(request, form, save)
    if result is not None:
        messages.success(request, "志愿活动已保存。")
        return redirect("volunteer:activity_detail", pk=activity.pk)
    ctx = {"form": form, "heading": f"修改志愿活动：{activity.title}", "activity": activity}
    return render(request, "volunteer/activity_form.html", ctx, status=status)


@login_required
@require_POST
def activity_transition(request: HttpRequest, pk: int) -> HttpResponse:
    """Open for sign-up, mark as over, or cancel (a reason and a ticked confirmation)."""
    activity = access.get_activity_or_404(request.user, pk)
    require(
        access.manages_activity(request.user, activity), "只有组织单位的书记、党务干部可以办理该志愿活动。"
    )
    form = forms.ActivityTransitionForm(request.POST)
    if not form.is_valid():
        return _render_activity(request, activity, transition_form=form, status=422)
    d = form.cleaned_data
    try:
        services.activity_transition(
            actor=request.user,
            activity=activity,
            action=d["action"],
            version=d["version"],
            reason=d["reason"],
        )
    except Conflict as exc:
        return _render_activity(request, activity, transition_form=form, message=exc.message, status=409)
    except ValidationError as exc:
        formflow.add_service_errors(form, exc)
        return _render_activity(request, activity, transition_form=form, status=422)
    messages.success(request, f"志愿活动的状态已更新为“{activity.get_state_display()}”。")
    return redirect("volunteer:activity_detail", pk=activity.pk)


@login_required
@require_POST
def activity_attach(request: HttpRequest, pk: int) -> HttpResponse:
    """Attach an optional file (活动方案, a notice); a photo is never required."""
    activity = access.get_activity_or_404(request.user, pk)
    require(access.manages_activity(request.user, activity), "只有组织单位的书记、党务干部可以上传活动附件。")
    form = forms.AttachForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_activity(request, activity, attach_form=form, status=422)
    try:
        services.activity_attach(actor=request.user, activity=activity, upload=form.cleaned_data["upload"])
    except Conflict as exc:
        return _render_activity(request, activity, attach_form=form, message=exc.message, status=409)
    except ValidationError as exc:
        formflow.add_service_errors(form, exc)
        return _render_activity(request, activity, attach_form=form, status=422)
    messages.success(request, "附件已上传。")
    return redirect("volunteer:activity_detail", pk=activity.pk)


@login_required
@require_POST
def signup(request: HttpRequest, pk: int) -> HttpResponse:
    """Sign oneself up (open activities not yet started, within capacity, open to the user)."""
    activity = access.get_activity_or_404(request.user, pk)
    require(
        access.may_sign_up(request.user, activity), "该活动只面向组织单位及其下级党组织的人员，您不能报名。"
    )
    try:
        services.signup_create(actor=request.user, activity=activity)
    except Conflict as exc:
        return _render_activity(request, activity, message=exc.message, status=409)
    messages.success(request, f"报名成功：{activity.title}。活动开始前可以取消报名。")
    return redirect("volunteer:activity_detail", pk=activity.pk)


@login_required
@require_POST
def signup_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw one's own sign-up before the activity starts (a ticked confirmation)."""
    own = access.get_own_signup_or_404(request.user, pk)
    activity = access.get_activity_or_404(request.user, own.activity_id)
    form = forms.WithdrawForm(request.POST)
    if not form.is_valid():
        return _render_activity(request, activity, withdraw_form=form, status=422)
    try:
        services.signup_withdraw(actor=request.user, signup=own, version=form.cleaned_data["version"])
    except Conflict as exc:
        return _render_activity(request, activity, withdraw_form=form, message=exc.message, status=409)
    messages.success(request, f"已取消报名：{activity.title}。")
    return redirect("volunteer:activity_detail", pk=activity.pk)


@login_required
@require_http_methods(["GET", "POST"])
def activity_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """The organiser confirms, after the activity, who took part and their hours (corrections allowed)."""
    activity = access.get_activity_or_404(request.user, pk)
    require(access.manages_activity(request.user, activity), "只有组织单位的书记、党务干部可以确认参加情况。")
    signups = list(
        Signup.objects.filter(activity=activity, status__in=SEAT_STATUSES)
        .select_related("person", "person__unit")
        .order_by("signed_up_at", "pk")
    )
    form = forms.ConfirmForm(
        request.POST or None, signups=signups, planned_hours=activity.planned_hours,
        initial={"version": activity.version},
    )  # fmt: skip
    result, status = formflow.run(
        request,
        form,
        lambda d: services.attendance_confirm(
            actor=request.user, activity=activity, version=d["version"], rows=form.confirmations()
        ),
    )
    if result is not None:
        messages.success(request, "参加情况和服务时长已确认。")
        return redirect("volunteer:activity_detail", pk=activity.pk)
    ctx = {"activity": activity, "form": form, "ended": activity.has_ended,
           "not_ended_message": "活动结束后才能确认参加情况和服务时长。"}  # fmt: skip
    return render(request, "volunteer/activity_confirm.html", ctx, status=status)


# --- my volunteering -----------------------------------------------------------------------------


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """My sign-ups and my confirmed hours (this year and in all), and my family's civility applications."""
    scope = scope_of(request.user)
    year = _year(request.GET.get("year"))
    ctx: dict = {"year": year, "has_person": scope.person_id is not None}
    if scope.person_id:
        own = Signup.objects.filter(person_id=scope.person_id)
        qs = own.select_related("activity", "activity__org", "activity__campaign").order_by(
            "-activity__starts_at", "-pk"
        )
        ctx["page"] = paginate(request, qs)
        confirmed = own.filter(status=SignupStatus.ATTENDED)
        totals = confirmed.aggregate(
            total=Sum("hours"), year_total=Sum("hours", filter=Q(activity__starts_at__year=year))
        )
        ctx["hours_total"] = totals["total"] or 0
        ctx["hours_year"] = totals["year_total"] or 0
        ctx["applications"] = list(
            Application.objects.filter(person_id=scope.person_id).for_list().order_by("-year", "-pk")
        )
    return render(request, "volunteer/mine.html", ctx)


# --- aggregates per org --------------------------------------------------------------------------


def overview_rows(user, org: Org | None) -> tuple[list[Org], Org | None]:
    """The orgs the aggregate table shows and the one whose row comes first as the total: the chosen org
    and its children, else the user's top orgs (their one top org and its children when single)."""
    orgs = access.aggregate_orgs(user).exclude(kind=Org.Kind.LEADING_GROUP)
    today = timezone.localdate()
    if org is None:
        visible = list(orgs.active_on(today).distinct().order_by("depth", "path")[:500])
        ids = {o.pk for o in visible}
        tops = [o for o in visible if o.parent_id not in ids]
        if len(tops) != 1:
            return tops, None
        org = tops[0]
    children = list(
        Org.objects.filter(parent=org)
        .exclude(kind=Org.Kind.LEADING_GROUP)
        .active_on(today)
        .order_by("order", "path")
    )
    return [org, *children], (org if children else None)


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """Participation rate, confirmed hours and activities per org (aggregates only, never people)."""
    user = request.user
    if not access.sees_aggregates(user):
        raise PermissionDenied("志愿服务统计只向机关工委、书记、党务干部和单位领导开放。")
    orgs = access.aggregate_orgs(user)
    form = forms.OverviewForm(request.GET or None, orgs=orgs, initial={"year": timezone.localdate().year})
    form.fields["org"].empty_label = "全部（本人可查看的范围）"
    org, year = None, timezone.localdate().year
    if form.is_valid():
        org = form.cleaned_data.get("org")
        year = form.cleaned_data.get("year") or year
    elif "org" in form.errors:
        raise Http404("未找到该党组织，或您无权查看。")
    rows, total = overview_rows(user, org)
    figures = queries.org_figures([o.pk for o in rows], date(year, 1, 1), date(year, 12, 31))
    table = [(o, figures[o.pk]) for o in rows]
    ctx = {"form": form, "year": year, "table": table, "total": total}
    return render(request, "volunteer/overview.html", ctx)


# --- campaigns (committee admin) -----------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def campaigns(request: HttpRequest) -> HttpResponse:
    """The campaigns (十大志愿行动 and others) with their activity counts; the committee admin adds one."""
    user = request.user
    can_edit = access.reviews_civility(user)
    if request.method == "POST":
        require(can_edit, "只有机关工委管理员可以维护志愿行动。")
    form = forms.CampaignForm(request.POST or None)
    if "version" in form.fields:
        del form.fields["version"]

    def save(d):
        return services.campaign_create(
            actor=user, name=d["name"], description=d["description"], order=d.get("order")
        )

    result, status = formflow.run(request, form, save)
    if result is not None:
        messages.success(request, f"已添加志愿行动：{result.name}。")
        return redirect("volunteer:campaigns")
    from django.db.models import Count

    rows = Campaign.objects.annotate(n=Count("activities")).order_by("order", "pk")
    ctx = {"page": paginate(request, rows), "form": form, "can_edit": can_edit}
    return render(request, "volunteer/campaigns.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename, reorder, retire or reinstate a campaign (committee admin)."""
    campaign = Campaign.objects.filter(pk=pk).first()
    if campaign is None:
        raise Http404("未找到该志愿行动。")
    require(access.reviews_civility(request.user), "只有机关工委管理员可以维护志愿行动。")
    initial = {"name": campaign.name, "description": campaign.description, "order": campaign.order,
               "is_active": campaign.is_active, "version": campaign.version}  # fmt: skip
    form = forms.CampaignForm(request.POST or None, initial=initial)
    form.fields["version"].required = True

    def save(d):
        version = d.pop("version")
        d["order"] = campaign.order if d.get("order") is None else d["order"]
        return services.campaign_update(actor=request.user, campaign=campaign, version=version, **d)

    result, status = formflow.run(request, form, save)
    if result is not None:
        messages.success(request, "志愿行动已保存。")
        return redirect("volunteer:campaigns")
    ctx = {"form": form, "heading": f"修改志愿行动：{campaign.name}", "cancel": "volunteer:campaigns"}
    return render(request, "volunteer/simple_form.html", ctx, status=status)
