"""Screens of care cases (困难诉求): the ledger and its Excel download, my cases, the self-report
and on-behalf forms, and the case page with its workflow actions.

Lists and the ledger show metadata only (who, org, handler, state, dates); the details are read on
the case page through ``access.read_details`` (audited) by the person, the handler and the opener.
Each view checks access (404 outside scope, 403 for a visible case the user may not change),
validates a form, calls one service and renders; a failed form re-renders with 422, a stale
version or a state that does not allow the action with 409.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizheng.care import export, forms, services
from sizheng.care.access import get_case_or_404, read_details
from sizheng.care.models import CareCase, CaseState, Handler
from sizheng.care.workflow import TRANSITIONS
from sizheng.core import audit, formflow
from sizheng.core.models import Role
from sizheng.core.paging import paginate
from sizheng.core.xlsx import xlsx_response
from sizheng.org.access import scope_of
from sizheng.org.models import Person

LEDGER_LIMIT = 5000
STATE_BADGES = {
    CaseState.ACCEPTED: "bg-blue-lt",
    CaseState.IN_PROGRESS: "bg-orange-lt",
    CaseState.RESOLVED: "bg-green-lt",
    CaseState.FOLLOWED_UP: "bg-teal-lt",
}
PICK_LIMIT = 200
NO_BEHALF = "只有党组织书记、党务干部和工会承办人可以代为登记困难诉求。"


# --- reads ---------------------------------------------------------------------------------------


def _decorate(cases, now: datetime) -> None:
    for c in cases:
        c.badge = STATE_BADGES.get(c.state, "")
        c.days_open = services.days_open(c, now)


# --- the ledger ----------------------------------------------------------------------------------


def _filtered(request: HttpRequest):
    form = forms.CaseFilterForm(request.GET or None, user=request.user)
    data = form.cleaned_data if form.is_valid() else {}
    return form, services.filter_cases(request.user, data)


@login_required
@require_GET
def cases(request: HttpRequest) -> HttpResponse:
    """困难诉求台账: the cases in the user's scope, metadata only, with filters and pages."""
    form, qs = _filtered(request)
    page = paginate(request, qs)
    _decorate(page.object_list, timezone.now())
    ctx = {
        "form": form,
        "page": page,
        "export_query": request.GET.urlencode(),
        "can_behalf": services.may_open_on_behalf(request.user),
        "has_person": bool(scope_of(request.user).person_id),
    }
    return render(request, "care/cases.html", ctx)


@login_required
@require_GET
def ledger(request: HttpRequest) -> HttpResponse:
    """困难诉求台账 (Excel) of the filtered list, without details; the download is audited."""
    form, qs = _filtered(request)
    rows = list(qs[:LEDGER_LIMIT])
    note = f"导出时间：{timezone.localtime():%Y年%m月%d日 %H:%M}；共 {len(rows)} 条。本台账不含困难类别和具体情况。"
    data = export.ledger_xlsx(rows, note=note)
    audit.record(
        request.user, "care_ledger_export", None, {"rows": len(rows), "query": request.GET.urlencode()}
    )
    return xlsx_response(data, f"困难诉求台账{timezone.localdate():%Y%m%d}")


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """My own cases, and the "我要反映困难" button."""
    scope = scope_of(request.user)
    qs = (
        CareCase.objects.filter(person_id=scope.person_id or 0)
        .metadata_only()
        .select_related("handler_org")
        .order_by("-opened_at", "-id")
    )
    page = paginate(request, qs)
    _decorate(page.object_list, timezone.now())
    ctx = {"page": page, "has_person": bool(scope.person_id),
           "can_behalf": services.may_open_on_behalf(request.user)}  # fmt: skip
    return render(request, "care/mine.html", ctx)


# --- opening a case ------------------------------------------------------------------------------


def _own_person(user) -> Person | None:
    scope = scope_of(user)
    if not scope.person_id:
        return None
    return Person.objects.select_related("org", "unit").filter(pk=scope.person_id).first()


def _talk_or_404(user, raw):
    """The talk a case is registered after (404 when the user does not see it)."""
    if raw in (None, ""):
        return None
    from sizheng.talks.access import get_talk_or_404

    try:
        pk = int(raw)
    except (TypeError, ValueError):
        raise Http404("未找到该谈话记录，或您无权查看。") from None
    return get_talk_or_404(user, pk)


@login_required
@require_http_methods(["GET", "POST"])
def case_create(request: HttpRequest) -> HttpResponse:
    """ "我要反映困难" (the person's own report), or — with ``?person=`` / ``?behalf=1``, or for an
    account without a roster record — registering a case on someone's behalf with their consent."""
    user = request.user
    source = request.POST if request.method == "POST" else request.GET
    own = _own_person(user)
    if "person" in source or source.get("behalf") == "1" or own is None:
        return _create_on_behalf(request, source)
    form = forms.CaseForm(request.POST or None)

    def save(d):
        return services.care_case_open(
            actor=user,
            person=own,
            category=d["category"],
            description=d["description"],
            tier=d.get("tier") or "",
            handler=d["handler"],
        )

    case, status = formflow.run(request, form, save)
    if case is not None:
        messages.success(
            request, "您反映的困难已登记，承办人会尽快与您联系。具体情况只有您本人和承办人可以查看。"
        )
        return redirect("care:case_detail", pk=case.pk)
    ctx = {"form": form, "behalf": False, "can_behalf": services.may_open_on_behalf(user)}
    return render(request, "care/case_form.html", ctx, status=status)


def _create_on_behalf(request: HttpRequest, source) -> HttpResponse:
    user = request.user
    if not services.may_open_on_behalf(user):
        raise PermissionDenied(NO_BEHALF)
    people = services.openable_people(user).order_by("name", "pk")
    initial = {"consent_on": timezone.localdate()}
    if request.method == "GET" and source.get("person"):
        raw = source.get("person")
        person = people.filter(pk=int(raw)).first() if str(raw).isdigit() else None
        if person is None:
            raise Http404("未找到该人员，或您无权为其登记困难诉求。")
        initial["person"] = person.pk
    talk = _talk_or_404(user, source.get("talk"))
    if talk is not None:
        initial["talk"] = talk.pk
    scope = scope_of(user)
    if (scope.paths(Role.UNION) or scope.has_everything(Role.UNION)) and not services.manages_any(user):
        initial["handler"] = Handler.UNION
    # A union handler may reach thousands of people: the form lists them only after a name search.
    search = (source.get("q") or "").strip()[:50] if request.method == "GET" else ""
    choices = people
    if search:
        choices = people.filter(name__contains=search)
    elif request.method == "GET" and "person" not in initial and people.count() > PICK_LIMIT:
        choices = people.none()
    form = forms.BehalfForm(request.POST or None, people=choices, initial=initial)

    def save(d):
        return services.care_case_open(
            actor=user,
            person=d["person"],
            category=d["category"],
            description=d["description"],
            tier=d.get("tier") or "",
            handler=d["handler"],
            consent_on=d["consent_on"],
            consent_method=d["consent_method"],
            source_talk=talk,
        )

    case, status = formflow.run(request, form, save)
    if case is not None:
        messages.success(request, "困难诉求已登记，承办人会收到提醒（提醒中不含具体内容）。")
        return redirect("care:case_detail", pk=case.pk)
    ctx = {"form": form, "behalf": True, "talk": talk, "consent_sentence": forms.CONSENT_SENTENCE,
           "search": search, "must_search": choices is not people and not search,
           "picked": "person" in initial}  # fmt: skip
    return render(request, "care/case_form.html", ctx, status=status)


# --- the case page -------------------------------------------------------------------------------


def _render_detail(
    request: HttpRequest,
    case: CareCase,
    *,
    bound: forms.ActionForm | None = None,
    message: str = "",
    status: int = 200,
) -> HttpResponse:
    user = request.user
    details = read_details(user, case, request=request)
    actions = services.available_actions(user, case)
    action_forms = [
        bound if bound is not None and bound.action_name == a else forms.ActionForm(action=a, case=case)
        for a in actions
    ]
    if details is not None:
        timeline = details["actions"]
    else:
        # Who did what and when is metadata; the notes are not loaded at all.
        timeline = list(case.actions.defer("note").select_related("actor"))
    labels = dict(CaseState.choices)
    for a in timeline:
        a.to_state_label = labels.get(a.to_state, "")
    case.badge = STATE_BADGES.get(case.state, "")
    case.days_open = services.days_open(case)
    ctx = {
        "case": case,
        "details": details,
        "timeline": timeline,
        "action_forms": action_forms,
        "message": message,
        "is_person": scope_of(user).person_id == case.person_id,
        "source_talk_url": _source_talk_url(user, case) if details is not None else "",
    }
    return render(request, "care/case_detail.html", ctx, status=status)


def _source_talk_url(user, case: CareCase) -> str:
    """A link to the talk the case was registered after, for a reader who may open that talk."""
    if not case.source_talk_id:
        return ""
    from sizheng.talks.models import Talk

    if not Talk.objects.visible_to(user).filter(pk=case.source_talk_id).exists():
        return ""
    return reverse("talks:detail", args=[case.source_talk_id])


@login_required
@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One case: metadata for anyone who may see it; details and notes for the person, handler and opener."""
    return _render_detail(request, get_case_or_404(request.user, pk))


@login_required
@require_POST
def case_transition(request: HttpRequest, pk: int) -> HttpResponse:
    """Take one workflow action from the case page (403 off-side, 409 stale or wrong state, 422 bad input)."""
    user = request.user
    case = get_case_or_404(user, pk)
    action = request.POST.get("action", "")
    t = TRANSITIONS.get(action)
    if t is None:
        return _render_detail(request, case, message="未知的操作，请刷新页面后重试。", status=422)
    if not (t.sides & services.sides_of(user, case)):
        raise PermissionDenied(f"您不能对该困难诉求执行“{t.label}”。")
    if case.state not in t.sources:
        message = f"该困难诉求当前状态为“{case.get_state_display()}”，不能执行“{t.label}”，请查看最新情况。"
        return _render_detail(request, case, message=message, status=409)
    form = forms.ActionForm(request.POST, action=action, case=case)
    result, status = formflow.run(
        request, form, lambda d: services.care_case_transition(actor=user, case=case, **form.service_kwargs())
    )
    if result is None:
        if status == 409:
            message = "; ".join(form.non_field_errors()) or "该困难诉求已被他人处理，请刷新页面后重试。"
            return _render_detail(request, get_case_or_404(user, pk), message=message, status=409)
        return _render_detail(request, case, bound=form, status=status)
    messages.success(request, f"已{t.label}。")
    return redirect("care:case_detail", pk=case.pk)
