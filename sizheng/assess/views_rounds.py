"""Screens of assessment rounds: the list, a round's settings, targets and assessors, its state
changes (each with a confirmation page), the user's tasks, a target's hub and the two entry forms
(the unit's self-assessment, an assessor's scores).

Access comes from ``assess.access`` only: a round or target outside the user's business is a 404,
a visible page whose action the user may not take a 403. Writes go through ``assess.rounds``; a
refused form re-renders with 422, a stale version with 409.
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from sizheng.assess import access, results, rounds
from sizheng.assess.forms_rounds import (
    AssignForm,
    ConfirmForm,
    EntriesForm,
    RoundFilterForm,
    RoundForm,
    TargetsForm,
    UnassignForm,
)
from sizheng.assess.models import (
    Assessment,
    AssessorAssignment,
    Entry,
    RoundState,
    Target,
)
from sizheng.core import formflow
from sizheng.core.apitools import Conflict
from sizheng.core.models import Role, User
from sizheng.core.paging import paginate
from sizheng.org.access import managed_org_q, managed_orgs, require, scope_of

STATE_BADGES = {
    RoundState.DRAFT: "bg-secondary-lt",
    RoundState.OPEN: "bg-blue-lt",
    RoundState.LOCKED: "bg-yellow-lt",
    RoundState.COMPUTED: "bg-purple-lt",
    RoundState.PUBLISHED: "bg-green-lt",
}


def _url(name: str, *args) -> str:
    """A URL of another area that may not be wired yet ("" then)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _badge(assessment: Assessment) -> str:
    return STATE_BADGES.get(assessment.state, "bg-secondary-lt")


# --- list ---------------------------------------------------------------------------------------


@login_required
@require_GET
def round_list(request: HttpRequest) -> HttpResponse:
    """Rounds the user has business with: search, year, state and system filters, 50 a page."""
    user = request.user
    form = RoundFilterForm(request.GET or None, user=user)
    qs = form.filter(access.visible_rounds(user))
    qs = (
        qs.select_related("system", "owner_org")
        .annotate(n_targets=Count("targets", distinct=True))
        .order_by("-period_end", "-pk")
    )
    page = paginate(request, qs)
    for a in page.object_list:
        a.badge = _badge(a)
    ctx = {
        "form": form,
        "page": page,
        "may_create": managed_orgs(user).exists(),
        "filtered": form.is_filtered,
    }
    return render(request, "assess/rounds/list.html", ctx)


# --- create / edit ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def round_new(request: HttpRequest) -> HttpResponse:
    """Set up a round in draft; its targets default to the owner org's direct sub-orgs."""
    user = request.user
    require(
        managed_orgs(user).exists(),
        "只有机关工委和各级党组织的书记、党务干部才能组织考核。",
    )
    form = RoundForm(request.POST or None, user=user, initial={"rectify_below": 60})

    def save(data):
        fields = form.service_fields()
        return rounds.create_round(actor=user, **fields)

    assessment, status = formflow.run(request, form, save)
    if assessment is not None:
        n = assessment.targets.count()
        messages.success(
            request,
            f"已创建考核轮次“{assessment.title}”，默认选择了 {n} 个直属党组织作为被考核单位，请核对后分配考核组。",
        )
        return redirect("assess:round_targets", pk=assessment.pk)
    return render(request, "assess/rounds/form.html", {"form": form, "assessment": None}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def round_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a round's settings (all of them in draft; title, due dates and the line later)."""
    user = request.user
    assessment = access.get_round_or_404(user, pk)
    require(access.manages_round(user, assessment), rounds.NOT_MANAGER)
    if request.method == "POST":
        require(assessment.state != RoundState.PUBLISHED, "已发布的考核轮次不能再修改。")
    form = RoundForm(
        request.POST or None, user=user, assessment=assessment, initial=RoundForm.initial_for(assessment)
    )

    def save(data):
        fields = form.service_fields()
        if assessment.state != RoundState.DRAFT:
            fields = {k: v for k, v in fields.items() if k in rounds.EDITABLE_WHEN_OPEN}
        return rounds.update_round(assessment, actor=user, version=data.get("version"), **fields)

    result, status = formflow.run(request, form, save)
    if result is not None:
        messages.success(request, "已保存轮次设置。")
        return redirect("assess:round", pk=assessment.pk)
    ctx = {"form": form, "assessment": assessment}
    return render(request, "assess/rounds/form.html", ctx, status=status)


# --- detail -------------------------------------------------------------------------------------


def _actions(assessment: Assessment) -> list[dict]:
    pk, state = assessment.pk, assessment.state
    acts = []
    if state in (RoundState.DRAFT, RoundState.OPEN, RoundState.LOCKED, RoundState.COMPUTED):
        acts.append(
            {
                "label": "修改设置",
                "url": reverse("assess:round_edit", args=[pk]),
                "style": "btn-outline-secondary",
            }
        )
    if state == RoundState.DRAFT:
        acts.append(
            {
                "label": "被考核单位",
                "url": reverse("assess:round_targets", args=[pk]),
                "style": "btn-outline-secondary",
            }
        )
    if state in (RoundState.DRAFT, RoundState.OPEN):
        acts.append(
            {
                "label": "考核组分工",
                "url": reverse("assess:round_assessors", args=[pk]),
                "style": "btn-outline-secondary",
            }
        )
    if state == RoundState.DRAFT:
        acts.append(
            {"label": "开启轮次", "url": reverse("assess:round_open", args=[pk]), "style": "btn-primary"}
        )
    if state == RoundState.OPEN:
        acts.append(
            {"label": "锁定轮次", "url": reverse("assess:round_lock", args=[pk]), "style": "btn-warning"}
        )
    if state in (RoundState.LOCKED, RoundState.COMPUTED):
        acts.append(
            {
                "label": "重新开放",
                "url": reverse("assess:round_reopen", args=[pk]),
                "style": "btn-outline-warning",
            }
        )
        label = "重新计算" if state == RoundState.COMPUTED else "计算结果"
        acts.append(
            {"label": label, "url": reverse("assess:round_compute", args=[pk]), "style": "btn-primary"}
        )
    if state == RoundState.COMPUTED:
        acts.append(
            {"label": "发布结果", "url": reverse("assess:round_publish", args=[pk]), "style": "btn-success"}
        )
    return acts  # fmt: skip


def _target_rows(user, assessment: Assessment, qs) -> list[dict]:
    """Rows of the progress table: a fixed number of queries for the page."""
    targets = list(qs)
    for t in targets:
        t.assessment = assessment
    selfp = rounds.progress(targets, side=Entry.Side.SELF)
    names: dict[int, list[str]] = defaultdict(list)
    if access.manages_round(user, assessment):
        for a in (
            AssessorAssignment.objects.filter(target__in=targets)
            .select_related("user")
            .order_by("user__username")
        ):
            names[a.target_id].append(str(a.user) + ("（已提交）" if a.submitted_at else ""))
    return [{"target": t, "self": selfp.get(t.pk), "assessors": names.get(t.pk, [])} for t in targets]


@login_required
@require_GET
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A round: state, schedule, settings, progress per target, and the managers' actions."""
    user = request.user
    assessment = access.get_round_or_404(user, pk)
    manager = access.manages_round(user, assessment)
    visible = access.visible_targets(user, assessment)
    q = (request.GET.get("q") or "").strip()
    qs = (
        Target.objects.filter(pk__in=visible.values("pk"))
        .select_related("org", "unit")
        .annotate(
            n_assessors=Count("assessors", distinct=True),
            n_submitted=Count("assessors", filter=Q(assessors__submitted_at__isnull=False), distinct=True),
        )
        .order_by("org__path")
    )
    if q:
        qs = qs.filter(org__name__icontains=q)
    page = paginate(request, qs)
    page.object_list = _target_rows(user, assessment, page.object_list)
    summary = None
    if manager:
        all_targets = Target.objects.filter(assessment=assessment)
        summary = {
            "targets": all_targets.count(),
            "self_submitted": all_targets.filter(self_submitted_at__isnull=False).count(),
            "assignments": AssessorAssignment.objects.filter(target__assessment=assessment).count(),
            "scored": AssessorAssignment.objects.filter(
                target__assessment=assessment, submitted_at__isnull=False
            ).count(),
        }
    sides = rounds.items_by_side(assessment.system)
    ctx = {
        "assessment": assessment,
        "badge": _badge(assessment),
        "manager": manager,
        "actions": _actions(assessment) if manager else [],
        "page": page,
        "q": q,
        "summary": summary,
        "n_self_items": len(sides[Entry.Side.SELF]),
        "n_assessor_items": len(sides[Entry.Side.ASSESSOR]),
        "results_url": _url("assess:results", assessment.pk) if access.sees_results(user, assessment) else "",
        "topsis_frozen": "topsis_reference" in (assessment.record or {}),
    }
    return render(request, "assess/rounds/detail.html", ctx)


# --- targets and assessors ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def round_targets(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose the assessed orgs by checkboxes (draft only), with a filter box."""
    user = request.user
    assessment = access.get_round_or_404(user, pk)
    require(access.manages_round(user, assessment), rounds.NOT_MANAGER)
    editable = assessment.state == RoundState.DRAFT
    if request.method == "POST":
        require(editable, "轮次已开启，不能再调整被考核单位。")
    current = set(assessment.targets.values_list("org_id", flat=True))
    form = TargetsForm(
        request.POST or None,
        assessment=assessment,
        initial={"orgs": sorted(current), "version": assessment.version},
    )

    def save(data):
        return rounds.set_targets(assessment, data["orgs"], actor=user, version=data.get("version"))

    result, status = formflow.run(request, form, save)
    if result is not None:
        messages.success(request, f"已保存被考核单位，共 {result.targets.count()} 个。")
        return redirect("assess:round_targets", pk=assessment.pk)
    if form.is_bound:
        selected = {int(v) for v in request.POST.getlist("orgs") if str(v).isdigit()}
    else:
        selected = current
    q = (request.GET.get("q") or "").strip()
    defaults = set(rounds.default_orgs(assessment.owner_org).values_list("pk", flat=True))
    rows = []
    for org in rounds.candidate_orgs(assessment.owner_org):
        shown = not q or q in org.name or q.lower() in org.code.lower()
        rows.append({"org": org, "checked": org.pk in selected, "shown": shown, "default": org.pk in defaults,
                     "indent": range(max(org.depth - assessment.owner_org.depth - 1, 0))})  # fmt: skip
    ctx = {
        "assessment": assessment,
        "form": form,
        "rows": rows,
        "q": q,
        "editable": editable,
        "n_selected": len(selected),
    }
    return render(request, "assess/rounds/targets.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def round_assessors(request: HttpRequest, pk: int) -> HttpResponse:
    """Assign assessors (users holding the assessor role) to several targets at once; take them off."""
    user = request.user
    assessment = access.get_round_or_404(user, pk)
    require(access.manages_round(user, assessment), rounds.NOT_MANAGER)
    editable = assessment.state in (RoundState.DRAFT, RoundState.OPEN)
    action = request.POST.get("action", "assign")
    if request.method == "POST":
        require(editable, "轮次已锁定，不能再调整考核组分工。")
    form = AssignForm(request.POST if action == "assign" and request.method == "POST" else None,
                      assessment=assessment)  # fmt: skip
    status = 200
    if request.method == "POST" and action == "unassign":
        un = UnassignForm(request.POST)
        if un.is_valid():
            target = assessment.targets.filter(pk=un.cleaned_data["target"]).select_related("org").first()
            person = User.objects.filter(pk=un.cleaned_data["user"]).first()
            if target is None or person is None:
                messages.error(request, "未找到该分工，可能已被他人取消，请刷新页面。")
                return redirect("assess:round_assessors", pk=assessment.pk)
            try:
                rounds.unassign(assessment, target=target, user=person, actor=user)
            except ValidationError as exc:
                form.add_error(None, exc.messages)
                status = 422
            else:
                messages.success(request, f"已取消{person}对“{target.org.name}”的评分分工。")
                return redirect("assess:round_assessors", pk=assessment.pk)
        else:
            status = 422
            form.add_error(None, "取消分工的请求不完整，请刷新页面后重试。")
    elif request.method == "POST":

        def save(data):
            return rounds.assign_many(assessment, targets=data["targets"], user=data["user"], actor=user)

        added, status = formflow.run(request, form, save)
        if added is not None:
            messages.success(
                request,
                f"已为{form.cleaned_data['user']}分配 {len(form.cleaned_data['targets'])} 个被考核单位（新增 {added} 个）。",
            )
            return redirect("assess:round_assessors", pk=assessment.pk)
    targets = (
        assessment.targets.select_related("org").prefetch_related("assessors__user").order_by("org__path")
    )
    page = paginate(request, targets)
    ctx = {
        "assessment": assessment,
        "form": form,
        "page": page,
        "editable": editable,
        "has_assessors": form.fields["user"].queryset.exists(),
    }
    return render(request, "assess/rounds/assessors.html", ctx, status=status)


# --- state changes ------------------------------------------------------------------------------

TRANSITIONS = {
    "open": {
        "title": "开启轮次",
        "button": "确认开启",
        "style": "btn-primary",
        "warning": "开启后，被考核单位即可填写自评、考核组即可评分，系统会通知各单位的书记、党务干部和考核组成员。"
        "开启后不能再调整被考核单位、指标体系和权重方案。",
        "done": "已开启轮次，并通知了被考核单位和考核组成员。",
    },
    "lock": {
        "title": "锁定轮次",
        "button": "确认锁定",
        "style": "btn-warning",
        "warning": "锁定后，被考核单位和考核组都不能再填写或修改；未提交的填写内容按当前保存的取值参与计算。"
        "如需补充，可在发布前重新开放。",
        "done": "已锁定轮次，现在可以计算结果。",
    },
    "reopen": {
        "title": "重新开放轮次",
        "button": "确认重新开放",
        "style": "btn-warning",
        "warning": "重新开放后，所有已提交的自评和评分都会退回为未提交，各单位和考核组可修改后重新提交；"
        "已计算的结果在下次计算前不再显示。系统会通知相关人员。",
        "done": "已重新开放轮次，已提交的自评和评分已退回。",
    },
    "compute": {
        "title": "计算结果",
        "button": "开始计算",
        "style": "btn-primary",
        "warning": "按体系的计分规则、权重和缺数处理办法计算每个被考核单位的得分、等次和排序；重新计算会替换上次的结果。",
        "done": "已计算结果，请核对后发布。",
    },
    "publish": {
        "title": "发布结果",
        "button": "确认发布",
        "style": "btn-success",
        "warning": "发布后结果在范围内公开，不能再重新开放或重新计算；得分率低于整改线的指标将向被考核单位下发整改事项，"
        "使用 TOPSIS 时其参照点随之冻结。请确认结果已核对无误。",
        "done": "已发布结果，并下发了整改事项。",
    },
}


def _transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    user = request.user
    assessment = access.get_round_or_404(user, pk)
    require(access.manages_round(user, assessment), rounds.NOT_MANAGER)
    spec = TRANSITIONS[name]
    form = ConfirmForm(request.POST or None, initial={"version": assessment.version})

    def save(data):
        if name == "compute":
            return rounds.compute(assessment, actor=user)
        func = {"open": rounds.open_round, "lock": rounds.lock, "reopen": rounds.reopen,
                "publish": rounds.publish}[name]  # fmt: skip
        return func(assessment, actor=user, version=data.get("version"))

    result, status = formflow.run(request, form, save)
    if result is not None:
        messages.success(request, spec["done"])
        return redirect("assess:round", pk=assessment.pk)
    pending = None
    if name == "lock":
        targets = Target.objects.filter(assessment=assessment)
        pending = {
            "self": targets.filter(self_submitted_at__isnull=True).count(),
            "scores": AssessorAssignment.objects.filter(
                target__assessment=assessment, submitted_at__isnull=True
            ).count(),
        }
    ctx = {"assessment": assessment, "form": form, "spec": spec, "name": name, "pending": pending}
    return render(request, "assess/rounds/confirm.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def round_open(request, pk):
    return _transition(request, pk, "open")


@login_required
@require_http_methods(["GET", "POST"])
def round_lock(request, pk):
    return _transition(request, pk, "lock")


@login_required
@require_http_methods(["GET", "POST"])
def round_reopen(request, pk):
    return _transition(request, pk, "reopen")


@login_required
@require_http_methods(["GET", "POST"])
def round_compute(request, pk):
    return _transition(request, pk, "compute")


@login_required
@require_http_methods(["GET", "POST"])
def round_publish(request, pk):
    return _transition(request, pk, "publish")


# --- my tasks -----------------------------------------------------------------------------------


@login_required
@require_GET
def my_tasks(request: HttpRequest) -> HttpResponse:
    """An assessor's assigned targets and a unit manager's self-assessments, with progress."""
    user = request.user
    show_all = request.GET.get("show") == "all"
    states = [RoundState.OPEN] if not show_all else [s for s in RoundState.values if s != RoundState.DRAFT]
    assignments = (
        AssessorAssignment.objects.filter(user=user, target__assessment__state__in=states)
        .select_related("target__org", "target__assessment")
        .order_by("-target__assessment__period_end", "target__assessment_id", "target__org__path")
    )
    own = Target.objects.none()
    if not access.is_committee(user):
        own = (
            Target.objects.filter(managed_org_q(user, "org__"), assessment__state__in=states)
            .select_related("org", "assessment")
            .order_by("-assessment__period_end", "assessment_id", "org__path")
        )
    n_score, n_self = assignments.count(), own.count()
    # The scoring tab is for assessors (and whoever holds assignments); a unit's secretary sees
    # only its self-assessments.
    is_assessor = bool(n_score) or scope_of(user).has_everything(Role.ASSESSOR)
    default = "score" if is_assessor and (n_score or not n_self) else "self"
    tab = request.GET.get("tab") or default
    if tab == "score" and not is_assessor:
        tab = "self"
    if tab == "self":
        page = paginate(request, own)
        prog = rounds.progress(list(page.object_list), side=Entry.Side.SELF)
        rows = [{"target": t, "progress": prog[t.pk], "submitted": t.self_submitted_at,
                 "due": t.assessment.self_due_on, "url": reverse("assess:target_self", args=[t.pk])}
                for t in page.object_list]  # fmt: skip
    else:
        tab = "score"
        page = paginate(request, assignments)
        targets = [a.target for a in page.object_list]
        prog = rounds.progress(targets, side=Entry.Side.ASSESSOR, user=user)
        rows = [{"target": a.target, "progress": prog[a.target_id], "submitted": a.submitted_at,
                 "due": a.target.assessment.scoring_due_on, "url": reverse("assess:target_score", args=[a.target_id])}
                for a in page.object_list]  # fmt: skip
    for r in rows:
        r["badge"] = _badge(r["target"].assessment)
    ctx = {
        "tab": tab,
        "page": page,
        "rows": rows,
        "n_score": n_score,
        "n_self": n_self,
        "show_all": show_all,
        "is_committee": access.is_committee(user),
        "is_assessor": is_assessor,
    }
    return render(request, "assess/rounds/my_tasks.html", ctx)


# --- a target -----------------------------------------------------------------------------------


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


@login_required
@require_GET
def target_hub(request: HttpRequest, pk: int) -> HttpResponse:
    """A target: its forms, its entries (as far as the user may see them) and, once visible, results."""
    user = request.user
    target = access.get_target_or_404(user, pk)
    assessment = target.assessment
    manager = access.manages_round(user, assessment)
    assigned = access.is_assigned(user, target)
    sees_self = access.sees_evidence(user, target)
    sides = rounds.items_by_side(assessment.system)
    items = sides["all"]
    entries = Entry.objects.filter(target=target)
    self_entries = {e.indicator_id: e for e in entries if e.side == Entry.Side.SELF} if sees_self else {}
    evidence = rounds.evidence_of(e.pk for e in self_entries.values())
    # Assessor values: the managers see every assessor's (mean), an assessor their own, the unit only
    # the mean once the results are published.
    assessor_mode = "none"
    if manager:
        assessor_mode = "mean"
    elif assigned:
        assessor_mode = "own"
    elif sees_self and assessment.state == RoundState.PUBLISHED:
        assessor_mode = "mean"
    by_item: dict[int, list[float]] = defaultdict(list)
    for e in entries:
        if e.side != Entry.Side.ASSESSOR or e.value is None:
            continue
        if assessor_mode == "mean" or (assessor_mode == "own" and e.entered_by_id == user.pk):
            by_item[e.indicator_id].append(e.value)
    self_ids = {i.pk for i in sides[Entry.Side.SELF]}
    assessor_ids = {i.pk for i in sides[Entry.Side.ASSESSOR]}
    rows = []
    for ind in items:
        own = self_entries.get(ind.pk)
        vals = by_item.get(ind.pk, [])
        rows.append({
            "item": ind,
            "rule": rounds.rule_text(ind),
            "is_self": ind.pk in self_ids,
            "is_assessor": ind.pk in assessor_ids,
            "self": rounds.display_value(ind, own.value) if own else "未填写",
            "self_note": own.note if own else "",
            "evidence": evidence.get(own.pk, []) if own else [],
            "assessor": rounds.display_value(ind, _mean(vals)) if vals else "未评分",
            "assessor_n": len(vals),
        })  # fmt: skip
    assignment = AssessorAssignment.objects.filter(target=target, user=user).first() if assigned else None
    ctx = {
        "target": target,
        "assessment": assessment,
        "badge": _badge(assessment),
        "manager": manager,
        "assigned": assigned,
        "assignment": assignment,
        "sees_self": sees_self,
        "may_self": access.may_self_assess(user, target) and not target.self_submitted_at,
        "assessor_mode": assessor_mode,
        "rows": rows,
        "result_url": _url("assess:result", target.pk) if access.sees_results(user, assessment) else "",
        "n_assessors": target.assessors.count(),
        # The same org's rectification duties of the previous round (what "问题整改" is scored on).
        "previous": results.previous_rectification(target) if sees_self or manager or assigned else [],
    }
    return render(request, "assess/rounds/target.html", ctx)


def _entries_page(request: HttpRequest, target: Target, side: str) -> HttpResponse:
    user = request.user
    assessment = target.assessment
    items = rounds.form_items(assessment.system, side)
    self_entries = self_evidence = None
    if side == Entry.Side.SELF:
        require(access.sees_evidence(user, target), "自评材料只向被考核单位、考核组和轮次组织单位开放。")
        entries = {e.indicator_id: e for e in Entry.objects.filter(target=target, side=side)}
        editable = access.may_self_assess(user, target) and not target.self_submitted_at
        submitted_at = target.self_submitted_at
        submit = rounds.submit_self
    else:
        assignment = AssessorAssignment.objects.filter(target=target, user=user).first()
        require(assignment is not None, "只有分配给该单位的考核组成员才能评分。")
        entries = {e.indicator_id: e for e in Entry.objects.filter(target=target, side=side, entered_by=user)}
        editable = assessment.state == RoundState.OPEN and not assignment.submitted_at
        submitted_at = assignment.submitted_at
        submit = rounds.submit_scores
        self_entries = {
            e.indicator_id: e
            for e in Entry.objects.filter(
                target=target, side=Entry.Side.SELF, indicator__in=[i.pk for i in items]
            )
        }
        self_evidence = rounds.evidence_of(e.pk for e in self_entries.values())
    evidence = rounds.evidence_of(e.pk for e in entries.values())
    status = 200
    submit_errors: list[str] = []
    if request.method == "POST":
        require(editable, _read_only_reason(assessment, submitted_at, side))
    form = EntriesForm(request.POST or None, request.FILES or None, items=items, entries=entries,
                       evidence=evidence, side=side)  # fmt: skip
    if request.method == "POST":
        submitting = request.POST.get("action") == "submit"
        if not form.is_valid():
            status = 422
        else:
            changes = form.changes()
            try:
                with transaction.atomic():
                    errors: dict[str, list[str]] = {}
                    for ch in changes:
                        try:
                            rounds.save_entry(actor=user, target=target, indicator=ch["indicator"], side=side,
                                              value=ch["value"], note=ch["note"], files=ch["files"],
                                              remove=ch["remove"], version=ch["version"])  # fmt: skip
                        except ValidationError as exc:
                            errors[f"v_{ch['indicator'].pk}"] = exc.messages
                    if errors:
                        raise ValidationError(errors)
            except Conflict as exc:
                form.add_error(None, exc.message)
                status = 409
            except ValidationError as exc:
                formflow.add_service_errors(form, exc)
                form.add_error(None, "有填写内容未通过检查，本次修改均未保存；请按提示修改后重新保存。")
                status = 422
            else:
                if not submitting:
                    messages.success(request, f"已保存草稿（修改了 {len(changes)} 项）。提交前仍可继续修改。")
                    return redirect(request.path)
                try:
                    submit(target, actor=user)
                except ValidationError as exc:
                    # The draft is saved; show the fresh values with what still blocks the submission.
                    target.refresh_from_db()
                    entries = {
                        e.indicator_id: e
                        for e in Entry.objects.filter(target=target, side=side).filter(
                            Q(entered_by=user) if side == Entry.Side.ASSESSOR else Q()
                        )
                    }
                    evidence = rounds.evidence_of(e.pk for e in entries.values())
                    form = EntriesForm(items=items, entries=entries, evidence=evidence, side=side)
                    submit_errors = exc.messages
                    status = 422
                else:
                    what = "自评" if side == Entry.Side.SELF else "评分"
                    messages.success(
                        request, f"已提交{what}。提交后不能再修改；如确需修改，请联系轮次组织单位重新开放。"
                    )
                    return redirect("assess:target", pk=target.pk)
    groups = form.groups(self_entries=self_entries, self_evidence=self_evidence)
    for group in groups:
        for row in group["rows"]:
            ind, entry = row["item"], row["entry"]
            row["display"] = rounds.display_value(ind, entry.value if entry else None)
            own = row.get("self_entry")
            row["self_display"] = rounds.display_value(ind, own.value) if own else "未填写"
    # The rows with errors, listed at the top with links: on a long form the field may be far below.
    problems = [
        {"item": row["item"], "message": message}
        for group in groups
        for row in group["rows"]
        for key in ("value", "note", "files")
        if row.get(key) is not None
        for message in row[key].errors
    ]
    ctx = {
        "target": target,
        "assessment": assessment,
        "side": side,
        "form": form,
        "groups": groups,
        "problems": problems,
        "submit_errors": submit_errors,
        "editable": editable,
        "submitted_at": submitted_at,
        "reason": "" if editable else _read_only_reason(assessment, submitted_at, side),
    }
    return render(request, "assess/rounds/entries.html", ctx, status=status)


def _read_only_reason(assessment: Assessment, submitted_at, side: str) -> str:
    if submitted_at:
        return "已提交，不能再修改；如确需修改，请联系轮次组织单位重新开放轮次。"
    if assessment.state == RoundState.DRAFT:
        return "轮次尚未开启，开启后才能填写。"
    if assessment.state != RoundState.OPEN:
        return "轮次已锁定，不能再填写或修改。"
    if side == Entry.Side.SELF:
        return "只有被考核单位的书记、党务干部才能填写自评；您可以查看。"
    return "您不能修改这份评分。"


@login_required
@require_http_methods(["GET", "POST"])
def target_self(request: HttpRequest, pk: int) -> HttpResponse:
    """The unit's self-assessment form (read-only after submission or for the other readers)."""
    target = access.get_target_or_404(request.user, pk)
    return _entries_page(request, target, Entry.Side.SELF)


@login_required
@require_http_methods(["GET", "POST"])
def target_score(request: HttpRequest, pk: int) -> HttpResponse:
    """An assigned assessor's scores, next to the unit's self-assessment and evidence."""
    target = access.get_target_or_404(request.user, pk)
    if not access.is_assigned(request.user, target):
        raise PermissionDenied("只有分配给该单位的考核组成员才能评分。")
    return _entries_page(request, target, Entry.Side.ASSESSOR)


urlpatterns = [
    path("rounds/", round_list, name="rounds"),
    path("rounds/new/", round_new, name="round_new"),
    path("rounds/<int:pk>/", round_detail, name="round"),
    path("rounds/<int:pk>/edit/", round_edit, name="round_edit"),
    path("rounds/<int:pk>/targets/", round_targets, name="round_targets"),
    path("rounds/<int:pk>/assessors/", round_assessors, name="round_assessors"),
    path("rounds/<int:pk>/open/", round_open, name="round_open"),
    path("rounds/<int:pk>/lock/", round_lock, name="round_lock"),
    path("rounds/<int:pk>/reopen/", round_reopen, name="round_reopen"),
    path("rounds/<int:pk>/compute/", round_compute, name="round_compute"),
    path("rounds/<int:pk>/publish/", round_publish, name="round_publish"),
    path("tasks/", my_tasks, name="my_tasks"),
    path("targets/<int:pk>/", target_hub, name="target"),
    path("targets/<int:pk>/self/", target_self, name="target_self"),
    path("targets/<int:pk>/score/", target_score, name="target_score"),
]
