"""Screens of the weighting area: a system's weight sets (list, detail, direct weights, entropy from
a round, combination) and expert weighting sessions (list, new, detail, the comparison forms with
their live consistency check, aggregation).

Access (assess.access): weight sets are read by whoever may read the system; creating one needs
``may_edit_system`` (403 otherwise). Sessions are seen by the committee admin and the invited
experts only (others 404); only invited experts fill the forms, only the committee admin creates
and aggregates sessions and sees the experts' names.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizheng.assess import access, weighting
from sizheng.assess import forms_weighting as forms
from sizheng.assess.models import (
    Indicator,
    IndicatorKind,
    IndicatorSystem,
    Judgment,
    RoundState,
    SessionState,
    SystemState,
    WeightingSession,
    WeightMethod,
    WeightSet,
)
from sizheng.core import formflow
from sizheng.core.models import User
from sizheng.core.paging import paginate
from sizheng.org.access import require

MAY_NOT_EDIT = "只有机关工委管理员或体系制定单位的管理人员可以新建权重方案。"
ONLY_COMMITTEE = "只有机关工委管理员可以发起和汇总专家赋权。"


def _system_url(system: IndicatorSystem) -> str:
    """The system's page (the systems area), or the weight sets page if it is not there."""
    try:
        return reverse("assess:system", args=[system.pk])
    except NoReverseMatch:
        return reverse("assess:weightsets", args=[system.pk])


def _system_ctx(request: HttpRequest, system: IndicatorSystem) -> dict:
    return {
        "system": system,
        "system_url": _system_url(system),
        "can_edit": access.may_edit_system(request.user, system) and system.state != SystemState.ARCHIVED,
        "is_committee": access.is_committee(request.user),
    }


# --- weight sets -------------------------------------------------------------------------------


@login_required
@require_GET
def weightsets(request: HttpRequest, pk: int) -> HttpResponse:
    """A system's weight sets, newest first, with a search box and a method filter."""
    system = access.get_system_or_404(request.user, pk)
    form = forms.WeightSetFilterForm(request.GET)
    qs = (
        WeightSet.objects.filter(system=system)
        .select_related("created_by")
        .annotate(n_rounds=Count("rounds"))
    )
    if form.is_valid():
        if form.cleaned_data["q"]:
            qs = qs.filter(name__icontains=form.cleaned_data["q"])
        if form.cleaned_data["method"]:
            qs = qs.filter(method=form.cleaned_data["method"])
    ctx = _system_ctx(request, system) | {
        "form": form,
        "page": paginate(request, qs.order_by("-number")),
        "sessions_open": WeightingSession.objects.filter(system=system, state=SessionState.OPEN).count()
        if access.is_committee(request.user)
        else 0,
    }
    return render(request, "assess/weighting/weightsets.html", ctx)


def _param_rows(ws: WeightSet) -> list[tuple[str, str]]:
    """The set's parameters in words."""
    p = ws.params or {}
    rows: list[tuple[str, str]] = []
    if ws.method == WeightMethod.AHP:
        rows += [
            ("RI 表", weighting.RI_TABLE_LABELS.get(p.get("ri_table", ""), p.get("ri_table", ""))),
            ("排序向量算法", weighting.PRIORITY_LABELS.get(p.get("priority", ""), p.get("priority", ""))),
            ("一致性比率阈值", f"{p.get('threshold', 0.1):g}"),
            ("参与汇总的专家", f"{p.get('experts', 0)} 位"),
            ("汇总方式", p.get("aggregation", "AIJ（几何平均）")),
        ]
    elif ws.method == WeightMethod.ENTROPY:
        rows += [
            ("数据来源轮次", p.get("round_title", "")),
            ("被考核单位数", str(p.get("targets", ""))),
            ("数据处理", weighting.VARIANT_LABELS.get(p.get("variant", ""), p.get("variant", ""))),
        ]
    elif ws.method == WeightMethod.COMBINED:
        rows.append(("组合方法", weighting.COMBINE_LABELS.get(p.get("method", ""), p.get("method", ""))))
        if "alpha" in p:
            rows.append(("主观权重所占比例 α", f"{p['alpha']:g}"))
    return rows


def _detail_groups(ws: WeightSet, *, show_experts: bool) -> list[dict]:
    """The per-parent records (CRs of each expert and of the aggregate, entropies, fallbacks)."""
    groups = list((ws.details or {}).get("parents", []))
    names: dict[int, str] = {}
    if show_experts and ws.method == WeightMethod.AHP:
        ids = {e["expert"] for g in groups for e in g.get("experts", [])}
        names = {u.pk: str(u) for u in User.objects.filter(pk__in=ids)}
    ind_names = dict(Indicator.objects.filter(system=ws.system).values_list("pk", "name"))
    out = []
    for g in groups:
        experts = [
            {
                "label": names.get(e["expert"], "（账号已删除）") if show_experts else f"专家 {k}",
                "cr": e.get("cr"),
                "consistent": e.get("consistent"),
            }
            for k, e in enumerate(g.get("experts", []), start=1)
        ]
        entropies = [
            {"name": ind_names.get(int(i), i), "entropy": v} for i, v in (g.get("entropies") or {}).items()
        ]
        out.append({**g, "expert_rows": experts, "entropy_rows": entropies})
    return out


@login_required
@require_GET
def weightset(request: HttpRequest, pk: int) -> HttpResponse:
    """One weight set: each indicator's local and global weight, the method, its parameters and record."""
    user = request.user
    ws = get_object_or_404(
        WeightSet.objects.filter(system__in=access.visible_systems(user)).select_related(
            "system", "created_by"
        ),
        pk=pk,
    )
    committee = access.is_committee(user)
    ctx = _system_ctx(request, ws.system) | {
        "ws": ws,
        "rows": weighting.weight_table(ws),
        "params": _param_rows(ws),
        "groups": _detail_groups(ws, show_experts=committee),
        "sources": list(ws.sources.all()),
        "rounds": list(ws.rounds.filter(pk__in=access.visible_rounds(user).values("pk"))),
        "session": WeightingSession.objects.filter(result=ws).first() if committee else None,
    }
    return render(request, "assess/weighting/weightset.html", ctx)


def _editable_system(request: HttpRequest, pk: int) -> IndicatorSystem:
    system = access.get_system_or_404(request.user, pk)
    require(access.may_edit_system(request.user, system), MAY_NOT_EDIT)
    return system


@login_required
@require_http_methods(["GET", "POST"])
def weights_direct(request: HttpRequest, pk: int) -> HttpResponse:
    """Type in a local weight for every indicator; each group must sum to 1."""
    system = _editable_system(request, pk)
    indicators = weighting.scored(system)
    start = None
    if request.GET.get("from", "").isdigit():
        start = WeightSet.objects.filter(system=system, pk=int(request.GET["from"])).first()
    local = weighting.local_of(start) if start else {i.pk: i.weight for i in indicators}
    initial = {f"w_{i.pk}": round(local.get(i.pk, 0.0), 6) for i in indicators}
    initial["name"] = f"{system.name}直接赋权"
    form = forms.DirectWeightsForm(request.POST or None, initial=initial, indicators=indicators)

    def save(data):
        return weighting.save_direct(system, form.weights(), actor=request.user, name=data["name"])

    ws, status = formflow.run(request, form, save)
    if ws is not None:
        messages.success(request, f"已保存权重方案“{ws.name}”（第 {ws.number} 版）。")
        return redirect("assess:weightset", pk=ws.pk)
    ctx = _system_ctx(request, system) | {"form": form, "start": start}
    return render(request, "assess/weighting/direct.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def weights_entropy(request: HttpRequest, pk: int) -> HttpResponse:
    """Entropy weights from a computed or published round of this system."""
    system = _editable_system(request, pk)
    rounds = (
        access.visible_rounds(request.user)
        .filter(system=system, state__in=[RoundState.COMPUTED, RoundState.PUBLISHED])
        .order_by("-period_end", "-pk")
    )
    form = forms.EntropyForm(request.POST or None, rounds=rounds)

    def save(data):
        return weighting.entropy_from_round(
            data["assessment"], actor=request.user, variant=data["variant"], name=data["name"] or None
        )

    ws, status = formflow.run(request, form, save)
    if ws is not None:
        messages.success(
            request, f"已根据“{ws.params.get('round_title')}”的得分生成熵权方案（第 {ws.number} 版）。"
        )
        return redirect("assess:weightset", pk=ws.pk)
    ctx = _system_ctx(request, system) | {"form": form, "has_rounds": rounds.exists()}
    return render(request, "assess/weighting/entropy.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def weights_combine(request: HttpRequest, pk: int) -> HttpResponse:
    """Combine a subjective and an objective weight set of this system."""
    system = _editable_system(request, pk)
    sets = WeightSet.objects.filter(system=system).order_by("-number")
    initial = {
        "subjective": sets.filter(method__in=[WeightMethod.AHP, WeightMethod.DIRECT]).first(),
        "objective": sets.filter(method=WeightMethod.ENTROPY).first(),
    }
    form = forms.CombineForm(request.POST or None, initial=initial, sets=sets)

    def save(data):
        return weighting.combine(
            data["subjective"],
            data["objective"],
            actor=request.user,
            method=data["method"],
            alpha=data["alpha"] if data["alpha"] is not None else 0.5,
            name=data["name"] or None,
        )

    ws, status = formflow.run(request, form, save)
    if ws is not None:
        messages.success(request, f"已生成组合赋权方案“{ws.name}”（第 {ws.number} 版）。")
        return redirect("assess:weightset", pk=ws.pk)
    ctx = _system_ctx(request, system) | {"form": form, "enough": sets.count() >= 2}
    return render(request, "assess/weighting/combine.html", ctx, status=status)


# --- sessions ----------------------------------------------------------------------------------


def _form_counts(system_ids) -> dict[int, int]:
    """Number of comparison forms of each system (one query for all of them)."""
    rows = Indicator.objects.filter(system_id__in=set(system_ids), kind=IndicatorKind.SCORED).values_list(
        "system_id", "parent_id"
    )
    groups: dict[tuple[int, int | None], int] = {}
    for system_id, parent_id in rows:
        groups[(system_id, parent_id)] = groups.get((system_id, parent_id), 0) + 1
    out: dict[int, int] = {}
    for (system_id, _), n in groups.items():
        out[system_id] = out.get(system_id, 0) + (1 if n >= 2 else 0)
    return out


@login_required
@require_GET
def sessions(request: HttpRequest) -> HttpResponse:
    """Weighting sessions: all of them for the committee admin, the invited ones for an expert."""
    user = request.user
    committee = access.is_committee(user)
    form = forms.SessionFilterForm(request.GET)
    qs = access.visible_sessions(user).select_related("system")
    if form.is_valid():
        if form.cleaned_data["q"]:
            qs = qs.filter(title__icontains=form.cleaned_data["q"])
        if form.cleaned_data["state"]:
            qs = qs.filter(state=form.cleaned_data["state"])
    system = None
    if request.GET.get("system", "").isdigit():
        system = IndicatorSystem.objects.filter(pk=int(request.GET["system"])).first()
        qs = qs.filter(system_id=int(request.GET["system"]))
    submitted = Q(judgments__submitted_at__isnull=False)
    if committee:
        qs = qs.annotate(
            n_experts=Count("experts", distinct=True),
            n_submitted=Count("judgments", filter=submitted, distinct=True),
        )
    else:
        qs = qs.annotate(
            n_submitted=Count("judgments", filter=submitted & Q(judgments__expert=user), distinct=True)
        )
    page = paginate(request, qs.order_by("-created_at", "-pk"))
    counts = _form_counts(s.system_id for s in page.object_list)
    for s in page.object_list:
        s.n_forms = counts.get(s.system_id, 0)
        s.n_expected = s.n_forms * (s.n_experts if committee else 1)
    ctx = {
        "form": form,
        "page": page,
        "is_committee": committee,
        "filter_system": system,
        "systems": list(access.visible_systems(user).exclude(state=SystemState.ARCHIVED)[:50])
        if committee
        else [],
    }
    return render(request, "assess/weighting/sessions.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def session_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a weighting session on a system and invite experts (committee admin)."""
    system = access.get_system_or_404(request.user, pk)
    require(access.is_committee(request.user), ONLY_COMMITTEE)
    initial = {
        "title": f"{system.year}年{system.name}专家赋权",
        "ri_table": "saaty_cn",
        "priority": "eigenvector",
    }
    form = forms.SessionForm(request.POST or None, initial=initial)

    def save(data):
        return weighting.create_session(
            system,
            actor=request.user,
            title=data["title"],
            experts=list(data["experts"]),
            due_on=data["due_on"],
            ri_table=data["ri_table"],
            priority=data["priority"],
            threshold=data["threshold"],
            instructions=data["instructions"],
        )

    session, status = formflow.run(request, form, save)
    if session is not None:
        messages.success(
            request, f"已发起专家赋权“{session.title}”，并通知了 {session.experts.count()} 位专家。"
        )
        return redirect("assess:session", pk=session.pk)
    ctx = _system_ctx(request, system) | {
        "form": form,
        "forms_count": len(weighting.parents(system)),
        "has_experts": weighting.experts_qs().exists(),
    }
    return render(request, "assess/weighting/session_form.html", ctx, status=status)


def _form_rows(session: WeightingSession, judgments: list[Judgment]) -> list[dict]:
    """The session's forms with the given judgments (one expert's) by parent."""
    by_parent = {j.parent_id: j for j in judgments}
    kids = weighting.children_map(weighting.scored(session.system))
    rows = []
    for parent in weighting.parents(session.system):
        key = parent.pk if parent else None
        n = len(kids.get(key, []))
        rows.append({
            "parent": parent,
            "parent_id": key or 0,
            "name": weighting.parent_name(parent),
            "size": n,
            "pairs": n * (n - 1) // 2,
            "judgment": by_parent.get(key),
        })  # fmt: skip
    return rows


@login_required
@require_GET
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A session: for an expert their forms and progress; for the committee admin every expert's."""
    user = request.user
    session = access.get_session_or_404(user, pk)
    session = WeightingSession.objects.select_related("system", "result", "created_by").get(pk=session.pk)
    committee = access.is_committee(user)
    invited = access.is_invited(user, session)
    ctx = {
        "session": session,
        "system": session.system,
        "system_url": _system_url(session.system),
        "is_committee": committee,
        "invited": invited,
        "ri_label": weighting.RI_TABLE_LABELS.get(session.ri_table, session.ri_table),
        "priority_label": weighting.PRIORITY_LABELS.get(session.priority, session.priority),
    }
    if invited:
        ctx["my_rows"] = _form_rows(session, list(Judgment.objects.filter(session=session, expert=user)))
    if committee:
        forms_list = weighting.parents(session.system)
        judgments = Judgment.objects.filter(session=session)
        by_cell = {(j.expert_id, j.parent_id): j for j in judgments}
        experts = list(session.experts.order_by("display_name", "username"))
        ctx["forms_list"] = [weighting.parent_name(p) for p in forms_list]
        ctx["expert_rows"] = [
            {
                "expert": e,
                "cells": [by_cell.get((e.pk, p.pk if p else None)) for p in forms_list],
                "done": sum(
                    1
                    for p in forms_list
                    if (j := by_cell.get((e.pk, p.pk if p else None))) and j.submitted_at
                ),
            }
            for e in experts
        ]
    return render(request, "assess/weighting/session.html", ctx)


def _judge_target(request: HttpRequest, pk: int, parent_id: int):
    """(session, parent, elements) of a form the user may fill (404 outside, 403 if not invited)."""
    user = request.user
    session = access.get_session_or_404(user, pk)
    session = WeightingSession.objects.select_related("system").get(pk=session.pk)
    require(access.is_invited(user, session), "只有受邀的专家可以填写判断矩阵。")
    parent = None
    if parent_id:
        parent = get_object_or_404(Indicator, pk=parent_id, system=session.system)
    if parent_id not in [p.pk if p else 0 for p in weighting.parents(session.system)]:
        raise Http404("该指标不需要两两比较。")
    return session, parent, weighting.elements_of(session, parent)


def _check_ctx(session, parent, form) -> dict:
    return {"result": weighting.check_form(session, parent, form.answered()), "session": session}


@login_required
@require_http_methods(["GET", "POST"])
def judge(request: HttpRequest, pk: int, parent_id: int) -> HttpResponse:
    """An expert's comparison form for one parent: save and resume, check, hand in."""
    user = request.user
    session, parent, elements = _judge_target(request, pk, parent_id)
    judgment = Judgment.objects.filter(session=session, expert=user, parent=parent).first()
    status = 200
    if request.method == "POST":
        data = request.POST.copy()
        action = data.get("action", "check")
        apply = data.get("apply", "")
        if apply:
            key, _, code = apply.partition("=")
            if key.startswith("p_") and code in weighting.SCALE_CODES:
                data[key] = code
            action = "check"
        form = forms.JudgmentForm(data, elements=elements)
        if action in ("save", "submit"):
            submit = action == "submit"

            def save(cleaned):
                return weighting.save_judgment(
                    session,
                    expert=user,
                    parent=parent,
                    pairs=form.answered(),
                    submit=submit,
                    accept_inconsistent=cleaned["accept_inconsistent"],
                )

            saved, status = formflow.run(request, form, save)
            if saved is not None:
                if not submit:
                    messages.success(request, "已保存。未填完的比较可以稍后回来继续填写。")
                    return redirect("assess:judge", pk=session.pk, parent_id=parent_id)
                note = "" if saved.consistent else "（一致性检验未通过，已按您的确认提交）"
                messages.success(request, f"已提交「{weighting.parent_name(parent)}」的判断{note}。")
                return _after_submit(request, session)
        elif apply:
            messages.info(request, "已采用建议值，请检查后保存或提交。")
    else:
        initial = forms.JudgmentForm.initial_from(judgment.pairs) if judgment else {}
        form = forms.JudgmentForm(initial=initial, elements=elements)
    closed = session.state != SessionState.OPEN
    if closed:
        for f in form.fields.values():
            f.disabled = True
    rows = _form_rows(session, list(Judgment.objects.filter(session=session, expert=user)))
    ctx = _check_ctx(session, parent, form) | {
        "form": form,
        "parent": parent,
        "parent_id": parent_id,
        "title": weighting.parent_name(parent),
        "elements": elements,
        "judgment": judgment,
        "closed": closed,
        "tabs": rows,
        "system": session.system,
    }
    return render(request, "assess/weighting/judge.html", ctx, status=status)


def _after_submit(request: HttpRequest, session: WeightingSession) -> HttpResponse:
    """The next form the expert has not handed in, else the session page."""
    done = set(
        Judgment.objects.filter(session=session, expert=request.user, submitted_at__isnull=False).values_list(
            "parent_id", flat=True
        )
    )
    for p in weighting.parents(session.system):
        if (p.pk if p else None) not in done:
            return redirect("assess:judge", pk=session.pk, parent_id=p.pk if p else 0)
    messages.info(request, "您已提交本次专家赋权的全部判断，感谢您的参与！")
    return redirect("assess:session", pk=session.pk)


@login_required
@require_POST
def judge_check(request: HttpRequest, pk: int, parent_id: int) -> HttpResponse:
    """The live consistency check of a form (htmx): the partial only; nothing is stored."""
    session, parent, elements = _judge_target(request, pk, parent_id)
    form = forms.JudgmentForm(request.POST, elements=elements)
    return render(request, "assess/weighting/_check.html", _check_ctx(session, parent, form))


@login_required
@require_http_methods(["GET", "POST"])
def session_aggregate(request: HttpRequest, pk: int) -> HttpResponse:
    """Preview the aggregation (each expert's CR and the aggregate's, per form); confirm to save it."""
    user = request.user
    session = access.get_session_or_404(user, pk)
    session = WeightingSession.objects.select_related("system", "result").get(pk=session.pk)
    require(access.is_committee(user), ONLY_COMMITTEE)
    rows, missing = weighting.preview(session)
    form = forms.AggregateForm(
        request.POST or None, initial={"name": f"{session.title}（专家汇总）", "version": session.version}
    )

    def save(data):
        return weighting.aggregate(session, actor=user, name=data["name"], version=data["version"])

    ws, status = formflow.run(request, form, save)
    if ws is not None:
        messages.success(
            request, f"已汇总专家判断，生成权重方案“{ws.name}”（第 {ws.number} 版），本次专家赋权已结束。"
        )
        return redirect("assess:weightset", pk=ws.pk)
    ctx = {
        "session": session,
        "system": session.system,
        "form": form,
        "rows": rows,
        "missing": missing,
        "closed": session.state != SessionState.OPEN,
    }
    return render(request, "assess/weighting/aggregate.html", ctx, status=status)


urlpatterns = [
    path("systems/<int:pk>/weights/", weightsets, name="weightsets"),
    path("systems/<int:pk>/weights/direct/", weights_direct, name="weights_direct"),
    path("systems/<int:pk>/weights/entropy/", weights_entropy, name="weights_entropy"),
    path("systems/<int:pk>/weights/combine/", weights_combine, name="weights_combine"),
    path("systems/<int:pk>/sessions/new/", session_new, name="session_new"),
    path("weights/<int:pk>/", weightset, name="weightset"),
    path("sessions/", sessions, name="sessions"),
    path("sessions/<int:pk>/", session_detail, name="session"),
    path("sessions/<int:pk>/aggregate/", session_aggregate, name="session_aggregate"),
    path("sessions/<int:pk>/forms/<int:parent_id>/", judge, name="judge"),
    path("sessions/<int:pk>/forms/<int:parent_id>/check/", judge_check, name="judge_check"),
]
