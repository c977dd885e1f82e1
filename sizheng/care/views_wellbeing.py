"""Screens of the wellbeing pathway (心理疏导与危机干预), under /care/wellbeing/ (namespace ``care``).

* Everyone with a roster record: self-screening (PHQ-9 / GAD-7), the result with where to get help,
  "请心理咨询员联系我", deleting a named screening or an anonymous one by its code.
* Counselors only (404 for everybody else, including secretaries, leaders and system roles): the
  caseload (alerts, contact requests, counseling cases), alert / request / case pages (every T3 read
  audited), and per-org counts by band.
* Leaders only (404 otherwise): counts by band for their unit, suppressed below the threshold.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizheng.care import access, instruments, wellbeing
from sizheng.care import forms_wellbeing as forms
from sizheng.care.models import (
    Appointment,
    ContactRequest,
    CounselingCase,
    CrisisAlert,
    Screening,
)
from sizheng.core import audit, formflow, metrics
from sizheng.core.apitools import Conflict
from sizheng.core.metrics import Consumer
from sizheng.core.models import Role
from sizheng.core.paging import paginate
from sizheng.org.access import scope_of
from sizheng.org.models import Org, Unit

ALERT_READ_FIELDS = [
    "reason",
    "screening.instrument",
    "screening.score",
    "screening.band",
    "contact_request.how",
]
REQUEST_READ_FIELDS = ["how"]
SCREENING_READ_FIELDS = ["answers", "score", "band", "crisis"]
CASE_READ_FIELDS = ["notes.note", "appointments.starts_at", "appointments.place", "referral", "closing_note"]
NOT_FOUND = "未找到该页面，或您无权查看。"


# --- self-service --------------------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The person's wellbeing page: start a screening, own named screenings, contact, delete by code."""
    person = wellbeing.own_person(request.user)
    screenings = []
    open_request = None
    if person is not None:
        rows = Screening.objects.filter(person=person).order_by("-taken_at", "-pk")
        screenings = [
            {
                "screening": s,
                "name": instruments.get(s.instrument).name,
                "band": instruments.band_label(s.band),
            }
            for s in rows
        ]
        open_request = ContactRequest.objects.filter(person=person, state=ContactRequest.State.OPEN).first()
    ctx = {
        "has_person": person is not None,
        "screenings": screenings,
        "open_request": open_request,
        "instruments": [
            {"code": c, "name": i.name, "items": len(i.items)} for c, i in instruments.INSTRUMENTS.items()
        ],
        "resources": wellbeing.resources(),
    }
    return render(request, "care/wellbeing/home.html", ctx)


def _require_person(user):
    person = wellbeing.own_person(user)
    if person is None:
        raise PermissionDenied(wellbeing.MSG_NO_PERSON)
    return person


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def screen(request: HttpRequest, instrument: str) -> HttpResponse:
    """Fill in PHQ-9 or GAD-7. An anonymous result is shown right here, once, and never stored per person."""
    if instrument not in instruments.INSTRUMENTS:
        raise Http404("没有这个自评量表。")
    _require_person(request.user)
    form = forms.ScreeningForm(request.POST if request.method == "POST" else None, instrument=instrument)

    def save(data):
        return wellbeing.screening_submit(
            actor=request.user,
            instrument=instrument,
            answers=form.answers(),
            anonymous=form.anonymous,
            consent=bool(data.get("consent")),
        )

    outcome, status = formflow.run(request, form, save)
    if outcome is not None:
        if outcome.anonymous:
            # Rendered from memory: the answer may still be in the pool, and nothing about it goes
            # into the session, so the deletion code appears here and nowhere else.
            return render(request, "care/wellbeing/result.html", _result_ctx(outcome))
        return redirect("care:wellbeing_result", pk=outcome.screening.pk)
    ctx = {
        "form": form,
        "instrument": form.instrument,
        "options": instruments.OPTIONS,
        "stem": instruments.STEM,
    }
    return render(request, "care/wellbeing/screen.html", ctx, status=status)


def _result_ctx(outcome: wellbeing.Outcome) -> dict:
    r = outcome.result
    inst = instruments.get(r.instrument)
    return {
        "outcome": outcome,
        "result": r,
        "instrument": inst,
        "bands": [
            {"label": b.label, "range": f"{b.low}–{b.high}", "current": b.code == r.band} for b in inst.bands
        ],
        "resources": outcome.resources,
        "contact_form": forms.ContactForm(),
    }


@never_cache
@login_required
@require_GET
def result(request: HttpRequest, pk: int) -> HttpResponse:
    """The result of one of the person's own named screenings (nobody else can open it)."""
    screening = wellbeing.own_screening_or_404(request.user, pk)
    # The person's own T3 data, still a T3 read: audited like every other (field names only).
    audit.record_read(request.user, screening, SCREENING_READ_FIELDS, request=request)
    return render(request, "care/wellbeing/result.html", _result_ctx(wellbeing.outcome_of(screening)))


@login_required
@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete one's own named screening, after a confirmation page."""
    screening = wellbeing.own_screening_or_404(request.user, pk)
    if request.method == "POST":
        wellbeing.screening_delete(actor=request.user, screening=screening)
        messages.success(request, "该自评记录已删除，无法恢复。")
        return redirect("care:wellbeing")
    ctx = {"screening": screening, "name": instruments.get(screening.instrument).name}
    return render(request, "care/wellbeing/delete_confirm.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def delete_by_code(request: HttpRequest) -> HttpResponse:
    """Delete an anonymous screening with the code shown once after submitting it."""
    form = forms.DeletionCodeForm(request.POST if request.method == "POST" else None)

    def save(data):
        if not wellbeing.anonymous_screening_delete(actor=request.user, code=data["code"]):
            raise ValidationError(
                {
                    "code": "没有找到与该删除码对应的匿名自评记录：请核对删除码后重新输入；"
                    "如果之前已经删除过，该记录已不存在。"
                }
            )
        return True

    done, status = formflow.run(request, form, save)
    if done:
        messages.success(request, "与该删除码对应的匿名自评记录已删除，无法恢复。")
        return redirect("care:wellbeing")
    return render(request, "care/wellbeing/delete_code.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    """ "请心理咨询员联系我": one tap creates the request (not linked to any screening answer)."""
    _require_person(request.user)
    # Every field is optional: an empty POST (the one-tap button) must still bind the form.
    form = forms.ContactForm(request.POST if request.method == "POST" else None)
    done, status = formflow.run(
        request, form, lambda d: wellbeing.contact_request_create(actor=request.user, how=d.get("how", ""))
    )
    if done is not None:
        hotline = settings.WELLBEING_HOTLINE
        messages.success(
            request,
            f"已通知心理咨询员，他们会尽快与您联系。如果情况紧急，请立即拨打{wellbeing.HOTLINE_LABEL} {hotline}。",
        )
        return redirect("care:wellbeing")
    return render(
        request,
        "care/wellbeing/contact.html",
        {"form": form, "resources": wellbeing.resources()},
        status=status,
    )


# --- counselors ----------------------------------------------------------------------------------


def _counselor_or_404(user) -> None:
    """Outsider rule: the counselor screens do not exist for anybody else."""
    if not access.is_counselor(user):
        raise Http404(NOT_FOUND)


_ALERT_ORDER = Case(
    When(state=CrisisAlert.State.ESCALATED, then=Value(0)),
    When(state=CrisisAlert.State.OPEN, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


@login_required
@require_GET
def caseload(request: HttpRequest) -> HttpResponse:
    """A counselor's work: alerts to acknowledge, open contact requests, counseling cases."""
    user = request.user
    _counselor_or_404(user)
    alerts = list(
        CrisisAlert.objects.filter(access.visible_alert_q(user))
        .exclude(state=CrisisAlert.State.CLOSED)
        .defer("reason")  # T3: read only on the alert's own (audited) page
        .select_related("person", "org", "counselor")
        .order_by(_ALERT_ORDER, "ack_due_at", "pk")
    )
    requests = list(
        ContactRequest.objects.filter(wellbeing.contact_request_q(user), state=ContactRequest.State.OPEN)
        .defer("how")
        .select_related("person", "org")
        .order_by("created_at", "pk")
    )
    state = request.GET.get("state", "active")
    cases = (
        CounselingCase.objects.filter(access.visible_counseling_q(user))
        .defer("referral", "closing_note")
        .select_related("person", "org")
    )
    if state == "active":
        cases = cases.exclude(state=CounselingCase.State.CLOSED)
    elif state in CounselingCase.State.values:
        cases = cases.filter(state=state)
    q = request.GET.get("q", "").strip()
    if q:
        cases = cases.filter(person__name__contains=q)
    page = paginate(request, cases.order_by("-opened_at", "-pk"))
    now = timezone.now()
    ctx = {
        "alerts": [
            {"alert": a, "overdue": a.state == CrisisAlert.State.OPEN and a.ack_due_at <= now} for a in alerts
        ],
        "requests": requests,
        "page": page,
        "state": state,
        "q": q,
        "states": [("active", "未结案"), *CounselingCase.State.choices, ("all", "全部")],
    }
    return render(request, "care/wellbeing/caseload.html", ctx)


def _alert_page(request, alert: CrisisAlert, form=None, status: int = 200) -> HttpResponse:
    """The alert with its T3 details and the person's phone, each read audited."""
    user = request.user
    full = CrisisAlert.objects.select_related("screening", "contact_request").get(pk=alert.pk)
    audit.record_read(user, alert, ALERT_READ_FIELDS, request=request)
    screening = None
    if full.screening is not None:
        s = full.screening
        screening = {
            "name": instruments.get(s.instrument).name,
            "score": s.score,
            "band": instruments.band_label(s.band),
            "taken_at": s.taken_at,
        }
    ctx = {
        "alert": full,
        "person": alert.person,
        "reason": wellbeing.REASON_LABELS.get(full.reason, full.reason),
        "screening": screening,
        "how": full.contact_request.how if full.contact_request else "",
        "contact": wellbeing.contact_phone(user, alert.person, request=request),
        "form": form or forms.VersionForm(initial={"version": full.version}),
        "may_acknowledge": full.state in (CrisisAlert.State.OPEN, CrisisAlert.State.ESCALATED),
        "case": CounselingCase.objects.filter(alert=full, counselor=user).first(),
    }
    return render(request, "care/wellbeing/alert.html", ctx, status=status)


@login_required
@require_GET
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One crisis alert (the assigned counselor; a backup only once escalated)."""
    _counselor_or_404(request.user)
    return _alert_page(request, access.get_alert_or_404(request.user, pk))


@login_required
@require_POST
def alert_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    """Acknowledge an alert: a counseling case opens for the acknowledging counselor."""
    user = request.user
    _counselor_or_404(user)
    alert = access.get_alert_or_404(user, pk)
    form = forms.VersionForm(request.POST)
    case, status = formflow.run(
        request,
        form,
        lambda d: wellbeing.crisis_alert_acknowledge(actor=user, alert=alert, version=d.get("version")),
    )
    if case is not None:
        messages.success(request, "已确认该预警，并已为您建立心理辅导个案，请尽快与当事人联系。")
        return redirect("care:wellbeing_case", pk=case.pk)
    return _alert_page(request, alert, form, status)


def _request_or_404(user, pk) -> ContactRequest:
    req = (
        ContactRequest.objects.filter(wellbeing.contact_request_q(user), pk=pk)
        .select_related("person", "org")
        .first()
    )
    if req is None:
        raise Http404("未找到该联系请求，或您无权查看。")
    return req


@login_required
@require_GET
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A contact request with the person's phone and how to reach them (audited)."""
    user = request.user
    _counselor_or_404(user)
    req = _request_or_404(user, pk)
    audit.record_read(user, req, REQUEST_READ_FIELDS, request=request)
    ctx = {
        "req": req,
        "contact": wellbeing.contact_phone(user, req.person, request=request),
        "case": CounselingCase.objects.filter(contact_request=req).select_related("counselor").first(),
    }
    return render(request, "care/wellbeing/request.html", ctx)


@login_required
@require_POST
def request_take(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a contact request (接案): a counseling case opens."""
    user = request.user
    _counselor_or_404(user)
    req = _request_or_404(user, pk)
    try:
        case = wellbeing.counseling_case_open(actor=user, contact_request=req)
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("care:wellbeing_request", pk=req.pk)
    messages.success(request, "已接手该联系请求，并建立了心理辅导个案。")
    return redirect("care:wellbeing_case", pk=case.pk)


def _case_page(request, case: CounselingCase, *, status: int = 200, **bound) -> HttpResponse:
    """The case with notes, appointments, referral and closure (T3 read audited), and its forms."""
    user = request.user
    full = CounselingCase.objects.get(pk=case.pk)
    audit.record_read(user, case, CASE_READ_FIELDS, request=request)
    org = Org.objects.filter(pk=case.org_id).first() if case.org_id else None
    candidates = wellbeing.handover_candidates(user, org)
    version = {"version": full.version}
    ctx = {
        "case": full,
        "person": case.person,
        "org": org,
        "notes": list(full.notes.select_related("author").order_by("at", "pk")),
        "appointments": list(full.appointments.order_by("starts_at", "pk")),
        "contact": wellbeing.contact_phone(user, case.person, request=request),
        "is_open": full.state != CounselingCase.State.CLOSED,
        "may_refer": full.state == CounselingCase.State.OPEN,
        "note_form": bound.get("note_form") or forms.NoteForm(),
        "appointment_form": bound.get("appointment_form") or forms.AppointmentForm(),
        "refer_form": bound.get("refer_form") or forms.ReferForm(initial=version),
        "close_form": bound.get("close_form") or forms.CloseForm(initial=version),
        "handover_form": bound.get("handover_form")
        or forms.HandoverForm(initial=version, candidates=candidates),
        "has_candidates": bool(candidates),
    }
    return render(request, "care/wellbeing/case.html", ctx, status=status)


def _case_or_404(request, pk) -> CounselingCase:
    _counselor_or_404(request.user)
    return access.get_counseling_or_404(request.user, pk)


@login_required
@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One counseling case of the counselor's own caseload."""
    return _case_page(request, _case_or_404(request, pk))


def _case_post(request, pk: int, form_name: str, form, save, done_message: str) -> HttpResponse:
    case = _case_or_404(request, pk)
    # Some services return nothing: success is "no exception", so the save always answers True.
    done, status = formflow.run(request, form, lambda d: save(case, d) or True)
    if done is not None:
        messages.success(request, done_message)
        if form_name == "handover_form":
            return redirect("care:wellbeing_caseload")
        return redirect("care:wellbeing_case", pk=case.pk)
    return _case_page(request, case, status=status, **{form_name: form})


@login_required
@require_POST
def case_note(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a session note."""
    return _case_post(
        request,
        pk,
        "note_form",
        forms.NoteForm(request.POST),
        lambda case, d: wellbeing.session_note_add(actor=request.user, case=case, note=d["note"]),
        "辅导记录已保存。",
    )


@login_required
@require_POST
def case_appointment(request: HttpRequest, pk: int) -> HttpResponse:
    """Add an appointment."""
    return _case_post(
        request,
        pk,
        "appointment_form",
        forms.AppointmentForm(request.POST),
        lambda case, d: wellbeing.appointment_add(
            actor=request.user, case=case, starts_at=d["starts_at"], place=d.get("place", "")
        ),
        "预约已保存，请另行告知当事人时间和地点。",
    )


@login_required
@require_POST
def appointment_done(request: HttpRequest, pk: int, appointment_pk: int) -> HttpResponse:
    """Mark an appointment as held."""
    case = _case_or_404(request, pk)
    appointment = Appointment.objects.filter(case=case, pk=appointment_pk).first()
    if appointment is None:
        raise Http404("未找到该预约。")
    appointment.case = case
    wellbeing.appointment_done(actor=request.user, appointment=appointment)
    messages.success(request, "已标记为已完成。")
    return redirect("care:wellbeing_case", pk=case.pk)


@login_required
@require_POST
def case_refer(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a referral."""
    return _case_post(
        request,
        pk,
        "refer_form",
        forms.ReferForm(request.POST),
        lambda case, d: wellbeing.counseling_case_refer(
            actor=request.user, case=case, version=d.get("version"), referral=d["referral"]
        ),
        "转介情况已记录。",
    )


@login_required
@require_POST
def case_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Close the case."""
    return _case_post(
        request,
        pk,
        "close_form",
        forms.CloseForm(request.POST),
        lambda case, d: wellbeing.counseling_case_close(
            actor=request.user, case=case, version=d.get("version"), closing_note=d["closing_note"]
        ),
        "个案已结案。",
    )


@login_required
@require_POST
def case_handover(request: HttpRequest, pk: int) -> HttpResponse:
    """Hand the case to another counselor covering the org."""
    case = _case_or_404(request, pk)
    org = Org.objects.filter(pk=case.org_id).first() if case.org_id else None
    form = forms.HandoverForm(request.POST, candidates=wellbeing.handover_candidates(request.user, org))
    return _case_post(
        request,
        pk,
        "handover_form",
        form,
        lambda c, d: wellbeing.counseling_case_handover(
            actor=request.user, case=c, version=d.get("version"), to=d["to"]
        ),
        "个案已转交，对方会收到通知。",
    )


# --- aggregates ----------------------------------------------------------------------------------


def _year(request) -> tuple[int, list[int]]:
    this = timezone.localdate().year
    years = [this, this - 1, this - 2]
    raw = request.GET.get("year", "")
    year = int(raw) if raw.isdigit() and int(raw) in years else this
    return year, years


def _through_label(through: str | None) -> str:
    if not through:
        return ""
    y, m = through.split("-")
    return f"{int(y)}年{int(m)}月底"


@login_required
@require_GET
def stats(request: HttpRequest) -> HttpResponse:
    """Counselors: counts by band for each org's own reporting group (disjoint, so nothing to difference)."""
    user = request.user
    _counselor_or_404(user)
    scope = scope_of(user)
    year, years = _year(request)
    orgs = Org.objects.active_on().exclude(kind=Org.Kind.LEADING_GROUP)
    if not scope.has_everything(Role.COUNSELOR):
        orgs = orgs.subtree_of(*Org.objects.filter(pk__in=scope.org_ids.get(Role.COUNSELOR, [])))
    orgs = list(orgs.order_by("path"))
    waves = wellbeing.closed_waves(year)
    recs = wellbeing.records(waves)
    rows = []
    for org in orgs:
        table = wellbeing.band_table(wellbeing.group_records(recs, org, subtree=False), waves)
        rows.append({"org": org, "table": table, "through": _through_label(table.through)})
    ctx = {"rows": rows, "year": year, "years": years, "k": settings.ANONYMITY_MIN_GROUP}
    return render(request, "care/wellbeing/stats.html", ctx)


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """Leaders: counts by band for their unit only, when its screenings reach the anonymity threshold."""
    user = request.user
    scope = scope_of(user)
    if scope.has_everything(Role.LEADER):
        units = list(Unit.objects.filter(is_active=True).order_by("order", "pk"))
    else:
        units = list(Unit.objects.filter(pk__in=scope.unit_ids.get(Role.LEADER, [])).order_by("order", "pk"))
    if not units:
        raise Http404(NOT_FOUND)
    raw = request.GET.get("unit", "")
    unit = next((u for u in units if raw.isdigit() and u.pk == int(raw)), units[0])
    year, years = _year(request)
    roots = list(
        Org.objects.filter(units=unit, depth=1).exclude(kind=Org.Kind.LEADING_GROUP).order_by("path")
    )
    table = None
    if roots:
        waves = wellbeing.closed_waves(year)
        recs = wellbeing.records(waves)
        mine = [r for r in recs if any(r.path.startswith(o.path) for o in roots)]
        table = wellbeing.band_table(mine, waves)
        # The registry's tier rule decides too: a T3 aggregate reaches a leader only over ≥ k people.
        gate = metrics.get("wellbeing.participation")
        if not table.suppressed and not metrics.allowed(gate, Consumer.LEADER, group_size=table.total):
            table = wellbeing.BandTable(total=0, through=None, rows=[], suppressed=True)
    ctx = {
        "units": units,
        "unit": unit,
        "year": year,
        "years": years,
        "has_root": bool(roots),
        "table": table,
        "through": _through_label(table.through if table else None),
        "k": settings.ANONYMITY_MIN_GROUP,
    }
    return render(request, "care/wellbeing/overview.html", ctx)


wellbeing_urlpatterns = [
    path("wellbeing/", home, name="wellbeing"),
    path("wellbeing/screen/<str:instrument>/", screen, name="wellbeing_screen"),
    path("wellbeing/screenings/<int:pk>/", result, name="wellbeing_result"),
    path("wellbeing/screenings/<int:pk>/delete/", delete, name="wellbeing_delete"),
    path("wellbeing/delete-by-code/", delete_by_code, name="wellbeing_delete_code"),
    path("wellbeing/contact/", contact, name="wellbeing_contact"),
    path("wellbeing/caseload/", caseload, name="wellbeing_caseload"),
    path("wellbeing/alerts/<int:pk>/", alert_detail, name="wellbeing_alert"),
    path("wellbeing/alerts/<int:pk>/acknowledge/", alert_acknowledge, name="wellbeing_alert_ack"),
    path("wellbeing/requests/<int:pk>/", request_detail, name="wellbeing_request"),
    path("wellbeing/requests/<int:pk>/take/", request_take, name="wellbeing_request_take"),
    path("wellbeing/cases/<int:pk>/", case_detail, name="wellbeing_case"),
    path("wellbeing/cases/<int:pk>/notes/", case_note, name="wellbeing_case_note"),
    path("wellbeing/cases/<int:pk>/appointments/", case_appointment, name="wellbeing_case_appointment"),
    path(
        "wellbeing/cases/<int:pk>/appointments/<int:appointment_pk>/done/",
        appointment_done,
        name="wellbeing_appointment_done",
    ),
    path("wellbeing/cases/<int:pk>/refer/", case_refer, name="wellbeing_case_refer"),
    path("wellbeing/cases/<int:pk>/close/", case_close, name="wellbeing_case_close"),
    path("wellbeing/cases/<int:pk>/handover/", case_handover, name="wellbeing_case_handover"),
    path("wellbeing/stats/", stats, name="wellbeing_stats"),
    path("wellbeing/overview/", overview, name="wellbeing_overview"),
]
