"""Screens of the team app (队伍建设): the register, a member's record with the computed training
record, new / edit / end, trainings outside the platform, staffing coverage and its rules.

Each view checks access (``team.access``: 404 outside scope, 403 for a visible entry the user may
not change), validates a form, calls one service and renders; a failed form re-renders with 422, a
stale version with 409; a wrong method gets 405.
"""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizheng.core import audit, formflow
from sizheng.core.paging import paginate
from sizheng.core.xlsx import write_ledger, xlsx_response
from sizheng.org.access import get_org_or_404, require, scope_of
from sizheng.org.models import Org
from sizheng.team import access, coverage, forms, records, services
from sizheng.team.models import CoverageRule, ExternalTraining, Gap, TeamMember, TeamRole

COVERAGE_KINDS = [k for k in Org.Kind.values if k != Org.Kind.LEADING_GROUP]


def _year(request: HttpRequest) -> int:
    """The year asked for (?year=), else this year (never a year to come)."""
    today = timezone.localdate()
    raw = request.GET.get("year", "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= today.year else today.year


def _meeting_url(pk: int) -> str:
    try:
        return reverse("life:meeting_detail", args=[pk])
    except NoReverseMatch:
        return ""


def _duty_url(pk: int | None) -> str:
    if not pk:
        return ""
    try:
        return reverse("duties:detail", args=[pk])
    except NoReverseMatch:
        return ""


# --- the register ----------------------------------------------------------------------------------


def _filtered(request: HttpRequest):
    """The register rows the user may see, filtered by the GET form; (form, queryset)."""
    user = request.user
    orgs = access.managed_orgs(user) if access.may_list(user) else Org.objects.none()
    form = forms.MemberFilterForm(request.GET or None, orgs=orgs)
    if form.is_bound and not form.is_valid() and "org" in form.errors:
        raise Http404("未找到该党组织，或您无权查看其队伍名册。")
    data = getattr(form, "cleaned_data", None) or {}
    qs = TeamMember.objects.filter(access.visible_member_q(user))
    if data.get("org"):
        qs = qs.filter(org__path__startswith=data["org"].path)
    if data.get("role"):
        qs = qs.filter(role=data["role"])
    if data.get("time"):
        qs = qs.filter(is_full_time=data["time"] == "full")
    state = data.get("state") or "current"
    if state == "current":
        qs = qs.filter(until__isnull=True)
    elif state == "ended":
        qs = qs.filter(until__isnull=False)
    needle = (data.get("q") or "").strip()
    if needle:
        qs = qs.filter(Q(person__name__contains=needle) | Q(position__contains=needle))
    qs = qs.for_list().prefetch_related(
        Prefetch("covers", queryset=Org.objects.only("pk", "name").order_by("path"))
    )
    return form, qs.order_by("org__path", "role", "person__name", "pk")


@login_required
@require_GET
def members(request: HttpRequest) -> HttpResponse:
    """思政工作队伍名册: managers see their subtrees' register, everyone else their own entries."""
    user = request.user
    can_list = access.may_list(user)
    if not can_list and not scope_of(user).person_id:
        raise PermissionDenied(access.NO_LIST)
    form, qs = _filtered(request)
    page = paginate(request, qs)
    ctx = {
        "form": form,
        "page": page,
        "can_list": can_list,
        "can_create": can_list and access.managed_orgs(user).exists(),
        "querystring": request.GET.urlencode(),
    }
    return render(request, "team/members.html", ctx)


EXPORT_HEADERS = [
    "姓名", "单位", "所属党组织", "队伍类别", "骨干类型", "专兼职", "岗位/职务", "负责的党组织", "资格资历",
    "起始日期", "终止日期",
]  # fmt: skip


@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    """The filtered register in Excel (managers only; audited)."""
    require(access.may_list(request.user), access.NO_LIST)
    _form, qs = _filtered(request)
    rows = [
        [
            m.person.name,
            m.person.unit.name,
            m.org.name,
            m.get_role_display(),
            m.get_subtype_display() if m.subtype else "",
            m.time_label,
            m.position,
            "、".join(o.name for o in m.covers.all()),
            "；".join(m.qualification_list),
            m.since,
            m.until,
        ]
        for m in qs
    ]
    today = timezone.localdate()
    data = write_ledger(
        title="思政工作队伍名册",
        headers=EXPORT_HEADERS,
        rows=rows,
        note=f"导出日期：{today:%Y-%m-%d}。培训学时以系统中参加理论学习的记录为准，见各成员档案。",
    )
    audit.record(
        request.user,
        "team_register_export",
        None,
        {"rows": len(rows), "filters": sorted(k for k in request.GET)},
    )
    return xlsx_response(data, f"思政工作队伍名册{today:%Y%m%d}.xlsx")


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """我的队伍档案: one's own entry (or the list of them)."""
    person_id = scope_of(request.user).person_id
    own = (
        list(TeamMember.objects.filter(person_id=person_id).select_related("org").order_by("until", "-since"))
        if person_id
        else []
    )
    if len(own) == 1:
        return redirect("team:detail", own[0].pk)
    return render(request, "team/mine.html", {"entries": own})


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A member's record: the entry, the computed training record of a year, trainings outside."""
    member = access.get_member_or_404(request.user, pk)
    year = _year(request)
    record = records.training_record(member.person_id, year, viewer=request.user)
    for row in record.rows:
        row.url = _meeting_url(row.meeting_id) if row.visible else ""
    can_manage = access.manages(request.user, member.org)
    ctx = {
        "member": member,
        "covers": list(member.covers.order_by("path")),
        "record": record,
        "year": year,
        "years": [y for y, _ in forms.year_choices()],
        "trainings": list(member.external_trainings.all()),
        "can_manage": can_manage,
        "can_list": access.may_list(request.user),
        "training_form": forms.TrainingForm(auto_id="id_t_%s")
        if can_manage and member.until is None
        else None,
    }
    return render(request, "team/detail.html", ctx)


def _pick_org(request: HttpRequest, orgs) -> Org | None:
    """The org of a new entry: ?org= / POST org (404 outside scope, 403 not kept), else the user's own."""
    raw = request.POST.get("org") if request.method == "POST" else request.GET.get("org")
    if raw:
        if not str(raw).isdigit():
            raise Http404("未找到该党组织，或您无权查看。")
        org = get_org_or_404(request.user, int(raw))
        require(access.manages(request.user, org), access.NO_MANAGE)
        return org
    scope = scope_of(request.user)
    for role in access.MANAGER_ROLES:
        for org_id in scope.org_ids.get(role, []):
            org = orgs.filter(pk=org_id).first()
            if org is not None:
                return org
    return orgs.first()


@login_required
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    """登记队伍成员: choose the register's org (GET), then the person and their place in the team."""
    user = request.user
    orgs = access.managed_orgs(user)
    org = _pick_org(request, orgs)
    require(org is not None, access.NO_MANAGE)
    needle = (request.GET.get("q") or "").strip()[:50]
    pick = forms.OrgPickForm(initial={"org": org.pk, "q": needle}, orgs=orgs)
    form = forms.MemberForm(
        request.POST if request.method == "POST" else None,
        user=user,
        org=org,
        needle=needle,
        initial={"since": timezone.localdate(), "covers": [org.pk], "is_full_time": "0"},
    )

    def save(d):
        return services.member_create(
            actor=user, person=d["person"], org=org, role=d["role"], since=d["since"],
            is_full_time=d["is_full_time"], subtype=d.get("subtype") or "", position=d.get("position") or "",
            covers=list(d["covers"]), qualifications=d.get("qualifications") or "",
        )  # fmt: skip

    member, status = formflow.run(request, form, save)
    if member is not None:
        messages.success(request, f"已将{member.person.name}登记为{org.name}的{member.get_role_display()}。")
        return redirect("team:detail", member.pk)
    ctx = {"form": form, "pick": pick, "org": org, "member": None, "needle": needle}
    return render(request, "team/member_form.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    """修改: role, type, full/part-time, position, covered orgs, qualifications, start (CAS on version)."""
    member = access.get_member_or_404(request.user, pk)
    require(access.manages(request.user, member.org), access.NO_MANAGE)
    if member.until is not None:
        return render(request, "team/ended.html", {"member": member}, status=409)
    initial = {
        "role": member.role,
        "subtype": member.subtype,
        "is_full_time": "1" if member.is_full_time else "0",
        "position": member.position,
        "covers": [o.pk for o in member.covers.all()],
        "qualifications": member.qualifications,
        "since": member.since,
        "version": member.version,
    }
    form = forms.MemberForm(
        request.POST if request.method == "POST" else None,
        user=request.user,
        org=member.org,
        member=member,
        initial=initial,
    )

    def save(d):
        if d.get("version") is None:
            raise ValidationError("页面缺少版本信息，请刷新页面后重新填写。")
        return services.member_update(
            actor=request.user, member=member, version=d["version"], covers=list(d["covers"]), role=d["role"],
            subtype=d.get("subtype") or "", is_full_time=d["is_full_time"], position=d.get("position") or "",
            qualifications=d.get("qualifications") or "", since=d["since"],
        )  # fmt: skip

    result, status = formflow.run(request, form, save)
    if result is not None:
        messages.success(request, f"已保存{member.person.name}的队伍信息。")
        return redirect("team:detail", member.pk)
    ctx = {"form": form, "org": member.org, "member": member}
    return render(request, "team/member_form.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def end(request: HttpRequest, pk: int) -> HttpResponse:
    """终止队伍身份: a confirmation page (GET), then the POST (the record and its history stay)."""
    member = access.get_member_or_404(request.user, pk)
    require(access.manages(request.user, member.org), access.NO_MANAGE)
    if member.until is not None:
        return render(request, "team/ended.html", {"member": member}, status=409)
    form = forms.EndForm(
        request.POST if request.method == "POST" else None,
        initial={"until": timezone.localdate(), "version": member.version},
    )
    result, status = formflow.run(
        request,
        form,
        lambda d: services.member_end(
            actor=request.user,
            member=member,
            version=d["version"],
            until=d["until"],
            reason=d.get("reason") or "",
        ),
    )
    if result is not None:
        messages.success(
            request, f"已终止{member.person.name}的队伍身份（{member.get_role_display()}），记录仍保留。"
        )
        return redirect("team:detail", member.pk)
    return render(request, "team/end_confirm.html", {"form": form, "member": member}, status=status)


@login_required
@require_POST
def training_add(request: HttpRequest, pk: int) -> HttpResponse:
    """登记调训: a training outside the platform, on the member's page (422 re-renders the page)."""
    member = access.get_member_or_404(request.user, pk)
    require(access.manages(request.user, member.org), access.NO_MANAGE)
    if member.until is not None:
        return render(request, "team/ended.html", {"member": member}, status=409)
    form = forms.TrainingForm(request.POST, auto_id="id_t_%s")
    result, status = formflow.run(
        request,
        form,
        lambda d: services.training_add(
            actor=request.user, member=member, kind=d["kind"], title=d["title"], organiser=d.get("organiser") or "",
            starts_on=d["starts_on"], ends_on=d["ends_on"], days=d.get("days"),
        ),
    )  # fmt: skip
    if result is not None:
        messages.success(request, f"已登记“{result.title}”。")
        return redirect("team:detail", member.pk)
    year = _year(request)
    record = records.training_record(member.person_id, year, viewer=request.user)
    ctx = {
        "member": member,
        "covers": list(member.covers.order_by("path")),
        "record": record,
        "year": year,
        "years": [y for y, _ in forms.year_choices()],
        "trainings": list(member.external_trainings.all()),
        "can_manage": True,
        "training_form": form,
    }
    return render(request, "team/detail.html", ctx, status=status)


@login_required
@require_POST
def training_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a training entered by mistake."""
    training = (
        ExternalTraining.objects.filter(
            pk=pk, member__in=TeamMember.objects.filter(access.visible_member_q(request.user)).values("pk")
        )
        .select_related("member", "member__org")
        .first()
    )
    if training is None:
        raise Http404("未找到该培训记录，或您无权查看。")
    require(access.manages(request.user, training.member.org), access.NO_MANAGE)
    member_id = training.member_id
    services.training_remove(actor=request.user, training=training)
    messages.success(request, "已删除该培训记录。")
    return redirect("team:detail", member_id)


# --- coverage --------------------------------------------------------------------------------------


def _coverage_orgs(user) -> list[Org]:
    q = access.coverage_org_q(user)
    if q is None:
        raise PermissionDenied(access.NO_COVERAGE)
    return list(
        Org.objects.filter(q, kind__in=COVERAGE_KINDS)
        .only("pk", "name", "kind", "path", "depth")
        .order_by("path")
    )


def _coverage_context(request: HttpRequest) -> dict:
    """The chosen subtree's staffing: counts by role, each bound org's verdict per rule, the gaps."""
    user, today = request.user, timezone.localdate()
    orgs = _coverage_orgs(user)
    form = forms.CoverageFilterForm(
        request.GET or None, orgs=Org.objects.filter(pk__in=[o.pk for o in orgs]).order_by("path")
    )
    if form.is_bound and not form.is_valid() and "org" in form.errors:
        raise Http404("未找到该党组织，或您无权查看其队伍配备情况。")
    data = getattr(form, "cleaned_data", None) or {}
    org = data.get("org")
    year = data.get("year") or today.year
    tops = [o for o in orgs if not any(o.path != p.path and o.path.startswith(p.path) for p in orgs)]
    paths = [org.path] if org else [o.path for o in tops]
    result = coverage.compute(year, today=today)
    rows = [r for r in result.in_subtree(None) if any(r.path.startswith(p) for p in paths)]
    summaries = []
    for rule in result.rules:
        met = judged = 0
        for r in rows:
            c = r.cells.get(rule.code)
            if c is not None and c.status in ("met", *coverage.FAILURES):
                judged += 1
                met += c.status == "met"
        summaries.append({"rule": rule, "met": met, "judged": judged})
    gaps = Gap.objects.filter(year=year, org_id__in=[r.org_id for r in rows])
    opened = {(g.rule_id, g.org_id): g for g in gaps}
    manageable = access.keeps_everything(user) or bool(access.manage_paths(user))
    may_open = year == today.year
    for r in rows:
        r.can_open = manageable and may_open and access.manages(user, Org(pk=r.org_id, path=r.path))
        for c in r.cells.values():
            gap = opened.get((c.rule.pk, r.org_id))
            c.duty_url = _duty_url(gap.duty_id) if gap else ""
    # Aggregates only (counts by role and full/part-time): what a leader sees of the register.
    path_q = Q(pk__in=[])
    for p in paths:
        path_q |= Q(org__path__startswith=p)
    counts = Counter(
        TeamMember.objects.current(result.as_of).filter(path_q).values_list("role", "is_full_time")
    )
    tally = [
        {"role": label, "full": counts[(value, True)], "part": counts[(value, False)]}
        for value, label in TeamRole.choices
    ]
    form.initial.update(org=org.pk if org else None, year=year)
    return {
        "form": form,
        "org": org,
        "year": year,
        "result": result,
        "rows": rows,
        "rules": result.rules,
        "summaries": summaries,
        "tally": tally,
        "total": sum(counts.values()),
        "can_list": access.may_list(user),
        "may_open": may_open and manageable,
        "legend": [(s, *coverage.STATUS_STYLE[s], coverage.STATUS_LABELS[s]) for s in ("met", "warning", "violation", "exempt")],
    }  # fmt: skip


@login_required
@require_GET
def coverage_page(request: HttpRequest) -> HttpResponse:
    """队伍配备情况: who covers which org, checked against the staffing rules, and the gaps."""
    ctx = _coverage_context(request)
    gaps_only = request.GET.get("gaps") == "1"
    rows = [r for r in ctx["rows"] if r.worst in coverage.FAILURES] if gaps_only else ctx["rows"]
    page = paginate(request, rows)
    for row in page.object_list:
        row.cols = [row.cells.get(r.code) for r in ctx["rules"]]
    ctx.update(page=page, gaps_only=gaps_only)
    return render(request, "team/coverage.html", ctx)


@login_required
@require_POST
def gap_duty(request: HttpRequest) -> HttpResponse:
    """转为督办事项: open this year's duty for a staffing gap (once; a second click shows the first)."""
    raw_org, code = request.POST.get("org", ""), request.POST.get("rule", "")
    if not raw_org.isdigit():
        raise Http404("未找到该党组织，或您无权查看。")
    org = get_org_or_404(request.user, int(raw_org))
    require(access.manages(request.user, org), access.NO_MANAGE)
    rule = CoverageRule.objects.filter(code=code).first()
    if rule is None:
        return render(
            request, "team/gap_error.html", {"error": "请选择要转为督办事项的规则。", "org": org}, status=422
        )
    try:
        gap, opened = services.gap_duty_open(actor=request.user, rule=rule, org=org)
    except ValidationError as exc:
        return render(
            request, "team/gap_error.html", {"error": " ".join(exc.messages), "org": org}, status=422
        )
    if opened:
        messages.success(request, f"已将{org.name}“{rule.duty_title}”的缺口转为督办事项。")
    else:
        messages.info(request, f"{org.name}“{rule.duty_title}”的缺口今年已转为督办事项，不再重复部署。")
    url = _duty_url(gap.duty_id)
    return redirect(url) if url else redirect(f"{reverse('team:coverage')}?org={org.pk}")


# --- rules as data ---------------------------------------------------------------------------------


@login_required
@require_GET
def rules(request: HttpRequest) -> HttpResponse:
    """The staffing rules (seen by whoever sees coverage; changed by the committee admin)."""
    _coverage_orgs(request.user)
    return render(
        request,
        "team/rules.html",
        {
            "rows": list(CoverageRule.objects.order_by("is_local", "code")),
            "can_edit": access.keeps_everything(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a rule's member threshold, minimum, severity or whether it is in force (committee admin)."""
    require(access.keeps_everything(request.user), access.NO_RULE_ADMIN)
    rule = CoverageRule.objects.filter(pk=pk).first()
    if rule is None:
        raise Http404("未找到该规则。")
    initial = {
        "min_members": rule.min_members,
        "count": rule.count,
        "severity": rule.severity,
        "is_active": rule.is_active,
        "version": rule.version,
    }
    form = forms.RuleForm(request.POST if request.method == "POST" else None, initial=initial)
    result, status = formflow.run(
        request,
        form,
        lambda d: services.rule_update(
            actor=request.user, rule=rule, version=d["version"], min_members=d["min_members"], count=d["count"],
            severity=d["severity"], is_active=d["is_active"],
        ),
    )  # fmt: skip
    if result is not None:
        messages.success(request, f"已保存规则 {rule.code}。")
        return redirect("team:rules")
    return render(request, "team/rule_form.html", {"form": form, "rule": rule}, status=status)
