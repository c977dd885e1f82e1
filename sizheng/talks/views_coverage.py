"""Screens of talk coverage (谈心谈话覆盖) and triggered talks (必谈提醒).

* ``/talks/coverage/?org=&year=&q=`` — the coverage matrix of one org's members (and its 党小组),
  per rule, from who and when only; below a 机关党委 / 党总支 the coverage of each 党支部 in it.
* ``/talks/coverage/export.xlsx`` — the same matrix in Excel (audited).
* ``/talks/coverage/rules/`` and ``/talks/coverage/rules/<id>/`` — the rules as data; the committee
  admin changes count, severity and whether a rule is in force (compare-and-swap on ``version``).
* ``/talks/triggers/``, ``/talks/triggers/<id>/``, ``/talks/triggers/new/?person=`` — the triggers;
  the reason shows only to the 书记 of the trigger's org, the note only on the detail page
  through an audited read.

Who: users who may list talks (``talks.access.may_list``). An org or a trigger outside their
scope is a 404; a rule edit by anyone but the committee admin a 403. Every page runs a fixed
number of queries whatever the number of people, talks and triggers.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from sizheng.core import audit, formflow
from sizheng.core.models import Role
from sizheng.core.paging import paginate
from sizheng.core.xlsx import write_ledger, xlsx_response
from sizheng.org.access import get_person_or_404, manages_org, manages_person, require, scope_of
from sizheng.org.models import Org
from sizheng.talks import coverage, services, triggers
from sizheng.talks.access import LISTING_ROLES, may_list
from sizheng.talks.forms_coverage import CoverageFilterForm, CoverageRuleForm, TriggerFilterForm, TriggerForm
from sizheng.talks.models import CoverageRule, TalkTrigger

NO_LIST = "只有书记、党务干部、心理咨询员和机关工委可以查看谈心谈话覆盖情况和必谈提醒。"
NO_RULE_ADMIN = "只有机关工委管理员可以修改谈话覆盖规则。"
NO_TRIGGER = "只有该同志所在党组织（或上级党组织）的书记、党务干部可以登记必谈提醒。"
HIDDEN_REASON = "必谈提醒"
COVERAGE_KINDS = [k for k in Org.Kind.values if k != Org.Kind.LEADING_GROUP]


# --- scope ---------------------------------------------------------------------------------------


def listing_q(user, prefix: str = "") -> Q:
    """Orgs (``prefix=""``) or objects with an org (``prefix="org__"``) in the user's talk-listing scope."""
    scope = scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN, *LISTING_ROLES):
        return Q()
    q = Q(pk__in=[])
    for p in scope.paths(*LISTING_ROLES):
        q |= Q(**{f"{prefix}path__startswith": p})
    return q


def _scope_orgs(user) -> list[Org]:
    """Orgs the user's coverage and trigger pages offer (one query)."""
    return list(
        Org.objects.filter(listing_q(user), kind__in=COVERAGE_KINDS)
        .only("pk", "name", "kind", "path", "depth", "parent_id")
        .order_by("path")
    )


def _default_org(user, orgs: list[Org]) -> Org | None:
    """The org the page opens on: the one the user holds a post in, else the top of their scope."""
    scope = scope_of(user)
    by_id = {o.pk: o for o in orgs}
    for role in (Role.SECRETARY, Role.ORG_ADMIN, Role.COUNSELOR):
        for pk in scope.org_ids.get(role, []):
            if pk in by_id:
                return by_id[pk]
    return orgs[0] if orgs else None


def is_secretary_of(user, org_id: int) -> bool:
    """The 书记 of exactly this org (not an ancestor's): the only one who sees a trigger's reason."""
    return org_id in scope_of(user).org_ids.get(Role.SECRETARY, [])


# --- coverage ------------------------------------------------------------------------------------


def _badge(outcome) -> dict:
    status = outcome.status if outcome else "not_applicable"
    css, mark = coverage.STATUS_STYLE[status]
    return {
        "status": status,
        "css": css,
        "mark": mark,
        "text": coverage.STATUS_LABELS[status],
        "held": outcome.held if outcome else None,
        "required": outcome.required if outcome else None,
        "message": outcome.message if outcome else "该规则不约束此人。",
    }


def _coverage_context(request: HttpRequest) -> dict:
    """The matrix of the chosen org and year (404 for an org outside the user's scope)."""
    user, today = request.user, timezone.localdate()
    orgs = _scope_orgs(user)
    form = CoverageFilterForm(request.GET or None, orgs=[(o.pk, o.name) for o in orgs])
    if form.is_bound and not form.is_valid() and "org" in form.errors:
        raise Http404("未找到该党组织，或您无权查看其谈话情况。")
    data = getattr(form, "cleaned_data", {})
    if not may_list(user) and not orgs:
        raise PermissionDenied(NO_LIST)
    by_id = {o.pk: o for o in orgs}
    org = by_id.get(data["org"]) if data.get("org") else _default_org(user, orgs)
    if org is None:
        raise PermissionDenied(NO_LIST)
    year = data.get("year") or today.year
    # Show the org and year the page is about, also when the query string left them out.
    form.initial.update(org=org.pk, year=year)
    result = coverage.compute(coverage.members_q(org), year, today=today)
    rows = result.rows
    needle = (data.get("q") or "").strip()
    if needle:
        rows = [r for r in rows if needle in r.name]
    summaries = []
    for rule in result.rules:
        met, bound = result.summary(rule.code)
        if bound:
            summaries.append({"rule": rule, "met": met, "bound": bound})
    branches = []
    if org.kind not in (Org.Kind.BRANCH, Org.Kind.GROUP):
        sub = coverage.compute(coverage.subtree_q([org]), year, today=today, kinds=[coverage.BRANCH_MEMBER])
        codes = [r.code for r in sub.rules]
        tally: dict[int, list[int]] = {}
        for r in sub.rows:
            if r.branch_id and any(c in r.outcomes for c in codes):
                t = tally.setdefault(r.branch_id, [0, 0])
                t[1] += 1
                t[0] += all(r.outcomes[c].status == "met" for c in codes if c in r.outcomes)
        for pk, (met, bound) in tally.items():
            branch = by_id.get(pk)
            if branch is not None:
                branches.append({"org": branch, "met": met, "bound": bound,
                                 "rate": round(100 * met / bound) if bound else 0})  # fmt: skip
        branches.sort(key=lambda b: b["org"].path)
    return {
        "form": form,
        "org": org,
        "year": year,
        "result": result,
        "rows": rows,
        "summaries": summaries,
        "branches": branches,
        "can_trigger": manages_org(user, org),
        "needle": needle,
    }


@login_required
@require_GET
def coverage_page(request: HttpRequest) -> HttpResponse:
    """谈心谈话覆盖: who in the org had the talks the rules ask for this year."""
    ctx = _coverage_context(request)
    page = paginate(request, ctx["rows"])
    # A rule that binds nobody here (no 党小组, no leadership team) would only add a column of dashes.
    bound = {code for row in ctx["result"].rows for code in row.outcomes}
    rules = [r for r in ctx["result"].rules if r.code in bound]
    recordable = set(services.recording_orgs(request.user).values_list("pk", flat=True))
    for row in page.object_list:
        row.badges = [_badge(row.outcomes.get(r.code)) for r in rules]
        row.record_url = (
            f"{reverse('talks:create')}?org={row.org_id}&person={row.person_id}"
            if row.org_id in recordable
            else ""
        )
    ctx.update(
        page=page,
        rules=rules,
        legend=[(s, *coverage.STATUS_STYLE[s], coverage.STATUS_LABELS[s]) for s in
                ("met", "not_yet_due", "warning", "violation")],
    )  # fmt: skip
    return render(request, "talks/coverage.html", ctx)


@login_required
@require_GET
def coverage_export(request: HttpRequest) -> HttpResponse:
    """The coverage matrix in Excel: names, counts, dates and statuses only (audited)."""
    ctx = _coverage_context(request)
    rules = ctx["result"].rules
    headers = [
        "姓名",
        "所在党组织",
        "与支委谈话（次）",
        "与书记谈话（次）",
        "最近谈话日期",
        *[r.label for r in rules],
    ]
    rows = []
    for r in ctx["rows"]:
        cells = []
        for rule in rules:
            b = _badge(r.outcomes.get(rule.code))
            cells.append(f"{b['text']}（{b['held']}/{b['required']}）" if b["held"] is not None else "不适用")
        rows.append([r.name, r.org_name, r.with_committee, r.with_secretary, r.last_talk_on, *cells])
    data = write_ledger(
        title=f"{ctx['org'].name}{ctx['year']}年谈心谈话覆盖情况",
        headers=headers,
        rows=rows,
        note="只含谈话人员、日期和次数，不含谈话类型、话题和内容。",
    )
    audit.record(request.user, "talk_coverage_export", ctx["org"], {"year": ctx["year"], "rows": len(rows)})
    return xlsx_response(data, f"谈心谈话覆盖情况-{ctx['org'].name}-{ctx['year']}")


# --- rules ---------------------------------------------------------------------------------------


@login_required
@require_GET
def coverage_rules(request: HttpRequest) -> HttpResponse:
    """The coverage rules as data (view: anyone who may list talks; change: the committee admin)."""
    require(may_list(request.user), NO_LIST)
    rows = list(CoverageRule.objects.order_by("is_local", "code"))
    kinds = dict(coverage.TARGET_KIND_CHOICES)
    for r in rows:
        r.target_label = kinds.get(r.target_kind, r.target_kind)
    return render(
        request,
        "talks/coverage_rules.html",
        {"rows": rows, "can_edit": request.user.has_role(Role.COMMITTEE_ADMIN)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def coverage_rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change one rule's count, severity and whether it is in force (committee admin)."""
    require(request.user.has_role(Role.COMMITTEE_ADMIN), NO_RULE_ADMIN)
    rule = CoverageRule.objects.filter(pk=pk).first()
    if rule is None:
        raise Http404("未找到该规则。")
    initial = {
        "count": rule.count,
        "severity": rule.severity,
        "is_active": rule.is_active,
        "version": rule.version,
    }
    form = CoverageRuleForm(request.POST if request.method == "POST" else None, initial=initial)
    result, status = formflow.run(
        request,
        form,
        lambda d: coverage.coverage_rule_update(
            actor=request.user, rule=rule, version=d["version"], count=d["count"], severity=d["severity"],
            is_active=d["is_active"],
        ),
    )  # fmt: skip
    if result is not None:
        messages.success(request, f"已保存规则 {rule.code}。")
        return redirect("talks:coverage_rules")
    return render(request, "talks/coverage_rule_form.html", {"form": form, "rule": rule}, status=status)


# --- triggers ------------------------------------------------------------------------------------


def _trigger_qs(user):
    """Triggers in scope without their T2 note (never loaded on a list)."""
    return TalkTrigger.objects.filter(listing_q(user, "org__")).defer("note").select_related("person", "org")


def _talk_url(pk: int | None) -> str:
    if not pk:
        return ""
    try:
        return reverse("talks:detail", args=[pk])
    except NoReverseMatch:
        return ""


def _record_url(trigger: TalkTrigger, recordable: set[int]) -> str:
    """The record form with the person ticked, for an open trigger in an org the user may record in."""
    if trigger.state != TalkTrigger.State.OPEN or trigger.org_id not in recordable:
        return ""
    return f"{reverse('talks:create')}?org={trigger.org_id}&person={trigger.person_id}"


@login_required
@require_GET
def trigger_list(request: HttpRequest) -> HttpResponse:
    """必谈提醒: open (default), overdue, done or all triggers in scope; reasons only for the org's 书记."""
    user, today = request.user, timezone.localdate()
    require(may_list(user), NO_LIST)
    orgs = _scope_orgs(user)
    form = TriggerFilterForm(request.GET or None, orgs=[(o.pk, o.name) for o in orgs])
    data = form.cleaned_data if form.is_valid() else {}
    qs = _trigger_qs(user)
    state = data.get("state") or "open"
    if state == "open":
        qs = qs.filter(state=TalkTrigger.State.OPEN)
    elif state == "overdue":
        qs = qs.filter(state=TalkTrigger.State.OPEN, due_on__lt=today)
    elif state == "done":
        qs = qs.filter(state=TalkTrigger.State.DONE)
    if data.get("org"):
        chosen = next((o for o in orgs if o.pk == data["org"]), None)
        qs = qs.filter(org__path__startswith=chosen.path) if chosen else qs.none()
    if data.get("q"):
        qs = qs.filter(person__name__contains=data["q"].strip())
    page = paginate(request, qs.order_by("due_on", "pk"))
    recordable = set(services.recording_orgs(user).values_list("pk", flat=True))
    for t in page.object_list:
        t.reason_text = t.get_reason_display() if is_secretary_of(user, t.org_id) else HIDDEN_REASON
        t.overdue = t.state == TalkTrigger.State.OPEN and t.due_on < today
        t.talk_url = _talk_url(t.talk_id)
        t.record_url = _record_url(t, recordable)
    return render(request, "talks/trigger_list.html", {"form": form, "page": page, "state": state})


@login_required
@require_GET
def trigger_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One trigger; its 书记 also sees the reason and the note (an audited read)."""
    user = request.user
    trigger = _trigger_qs(user).filter(pk=pk).first()
    if trigger is None:
        raise Http404("未找到该必谈提醒，或您无权查看。")
    details = None
    if is_secretary_of(user, trigger.org_id):
        note = TalkTrigger.objects.only("note").get(pk=trigger.pk).note
        audit.record_read(user, trigger, ["reason", "note"], request=request)
        details = {"reason": trigger.get_reason_display(), "note": note}
    return render(
        request,
        "talks/trigger_detail.html",
        {
            "t": trigger,
            "details": details,
            "reason_text": HIDDEN_REASON,
            "overdue": trigger.state == TalkTrigger.State.OPEN and trigger.due_on < timezone.localdate(),
            "talk_url": _talk_url(trigger.talk_id),
            "record_url": _record_url(
                trigger,
                set(services.recording_orgs(user).filter(pk=trigger.org_id).values_list("pk", flat=True)),
            ),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def trigger_create(request: HttpRequest) -> HttpResponse:
    """Record an event that makes a talk with the person due (家庭重大变化, 组织处理, 思想波动)."""
    raw = request.GET.get("person") or ""
    if not raw.isdigit():
        raise Http404("请从人员名册或谈话覆盖页面选择要登记必谈提醒的同志。")
    person = get_person_or_404(request.user, int(raw))
    require(manages_person(request.user, person), NO_TRIGGER)
    form = TriggerForm(
        request.POST if request.method == "POST" else None, initial={"occurred_on": timezone.localdate()}
    )
    result, status = formflow.run(
        request,
        form,
        lambda d: triggers.trigger_open(
            actor=request.user,
            person=person,
            reason=d["reason"],
            occurred_on=d["occurred_on"],
            note=d["note"],
        ),
    )
    if result is not None:
        messages.success(
            request, f"已登记必谈提醒，请于 {result.due_on:%Y年%m月%d日} 前与{person.name}谈心谈话并登记。"
        )
        if _trigger_qs(request.user).filter(pk=result.pk).exists():
            return redirect("talks:trigger_detail", result.pk)
        return redirect("talks:coverage")
    return render(
        request,
        "talks/trigger_form.html",
        {"form": form, "person": person, "workdays": settings.TALK_TRIGGER_WORKDAYS},
        status=status,
    )


coverage_urlpatterns = [
    path("coverage/", coverage_page, name="coverage"),
    path("coverage/export.xlsx", coverage_export, name="coverage_export"),
    path("coverage/rules/", coverage_rules, name="coverage_rules"),
    path("coverage/rules/<int:pk>/", coverage_rule_edit, name="coverage_rule_edit"),
    path("triggers/", trigger_list, name="triggers"),
    path("triggers/new/", trigger_create, name="trigger_create"),
    path("triggers/<int:pk>/", trigger_detail, name="trigger_detail"),
]
