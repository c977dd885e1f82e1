"""Screens of 民主评议党员: the list, opening, the appraisal page, one member's entry, propose, approve,
and "my appraisal". Who sees what is decided in ``sizheng.life.appraisal`` (module docstring)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods

from sizheng.core import audit, formflow
from sizheng.core.apitools import Conflict
from sizheng.core.paging import paginate
from sizheng.life import appraisal as svc
from sizheng.life import forms_appraisal as forms
from sizheng.life.models import Appraisal, AppraisalEntry, Grade
from sizheng.org import access
from sizheng.org.models import Org

# The fields a read of another member's entry touches (names only go into the audit row).
ENTRY_READ_FIELDS = list(svc.ENTRY_FIELDS)


def _appraisal_or_404(user, pk: int) -> Appraisal:
    """An appraisal of an org in the user's scope, else 404."""
    appraisal = (
        svc.visible_appraisals(user).select_related("org", "org__parent", "meeting").filter(pk=pk).first()
    )
    if appraisal is None:
        raise Http404("未找到该民主评议，或您无权查看。")
    return appraisal


def _counts(counts: dict) -> list[dict]:
    """Counts by grade in ballot order, for a template."""
    return [{"grade": g, "label": g.label, "n": counts["grades"].get(g.value, 0)} for g in Grade]


@login_required
@require_GET
def appraisals(request: HttpRequest) -> HttpResponse:
    """Appraisals in the user's scope: state for everyone, counts by grade for those who may see them."""
    user = request.user
    qs = svc.visible_appraisals(user).select_related("org", "org__parent").order_by("-year", "org__path")
    year = request.GET.get("year", "")
    if year.isdigit():
        qs = qs.filter(year=int(year))
    page = paginate(request, qs)
    counts = svc.grade_counts(page.object_list)
    rows = []
    for a in page.object_list:
        c = counts[a.pk]
        rows.append(
            {
                "appraisal": a,
                "members": c["members"],
                "counts": _counts(c) if svc.sees_aggregate(user, a, c["members"]) else None,
                "runs": svc.runs_appraisal(user, a.org),
                # The flag (优秀 above 1/3) is for the branch and the higher org, not for other members.
                "shows_flag": svc.runs_appraisal(user, a.org) or svc.approves_appraisal(user, a.org),
            }
        )
    may_open = Org.objects.filter(svc.openable_orgs_q(user)).exists()
    return render(
        request, "life/appraisals.html", {"page": page, "rows": rows, "year": year, "may_open": may_open}
    )


@login_required
@require_http_methods(["GET", "POST"])
def appraisal_create(request: HttpRequest) -> HttpResponse:
    """Open the year's appraisal for a branch (entries for its current party members)."""
    if not Org.objects.filter(svc.openable_orgs_q(request.user)).exists():
        raise PermissionDenied("只有党支部书记、党务干部或上级党组织可以开启民主评议。")
    form = forms.AppraisalOpenForm(request.POST or None, user=request.user)

    def save(data):
        return svc.appraisal_open(
            actor=request.user, org=data["org"], year=data["year"], meeting=data["meeting"]
        )

    created, status = formflow.run(request, form, save)
    if created is not None:
        messages.success(
            request, f"已开启{created.org.name}{created.year}年民主评议，请通知党员填写个人自评。"
        )
        return redirect("life:appraisal_detail", pk=created.pk)
    return render(request, "life/appraisal_form.html", {"form": form}, status=status)


@login_required
@require_GET
def appraisal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One appraisal: everyone in scope sees its state; entries only for those who may see them."""
    user = request.user
    appraisal = _appraisal_or_404(user, pk)
    scope = access.scope_of(user)
    sees_entries = svc.sees_entries(user, appraisal)
    entries = []
    if sees_entries:
        entries = list(appraisal.entries.select_related("person").order_by("person__name", "pk"))
        # The table shows each member's grades: a read of personal data by someone else.
        audit.record_read(user, appraisal, ["proposed_grade", "final_grade"], request=request)
    own = appraisal.entries.filter(person_id=scope.person_id).first() if scope.person_id else None
    counts = svc.grade_counts([appraisal])[appraisal.pk]
    members = counts["members"]
    ctx = {
        "appraisal": appraisal,
        "entries": entries,
        "sees_entries": sees_entries,
        "own": own,
        "members": members,
        "counts": _counts(counts) if svc.sees_aggregate(user, appraisal, members) else None,
        "runs": svc.runs_appraisal(user, appraisal.org),
        "approves": svc.approves_appraisal(user, appraisal.org),
        "is_open": appraisal.state == Appraisal.State.OPEN,
        "is_proposed": appraisal.state == Appraisal.State.PROPOSED,
        "missing": sum(1 for e in entries if not e.proposed_grade),
    }
    return render(request, "life/appraisal_detail.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def appraisal_entry(request: HttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    """One member's entry: the member writes their self-assessment, the branch its review."""
    user = request.user
    appraisal = _appraisal_or_404(user, pk)
    entry = appraisal.entries.select_related("person").filter(pk=entry_pk).first()
    if entry is None:
        raise Http404("未找到该评议记录，或您无权查看。")
    entry.appraisal = appraisal
    own = entry.person.user_id is not None and entry.person.user_id == user.pk
    runs = svc.runs_appraisal(user, appraisal.org)
    if not (own or svc.sees_entries(user, appraisal)):
        # Existence of another member's entry never leaks to other members.
        raise Http404("未找到该评议记录，或您无权查看。")
    is_open = appraisal.state == Appraisal.State.OPEN
    self_form = forms.SelfAssessmentForm(initial={"self_assessment": entry.self_assessment})
    review_form = forms.EntryReviewForm(initial=forms.EntryReviewForm.initial_for(entry))
    status = 200
    if request.method == "POST":
        part = request.POST.get("part", "")
        if part == "self":
            access.require(own, "个人自评只能由党员本人填写。")
            self_form = forms.SelfAssessmentForm(request.POST)
            done, status = formflow.run(
                request,
                self_form,
                lambda d: svc.entry_self_assess(actor=user, entry=entry, text=d["self_assessment"]),
            )
        elif part == "review":
            access.require(runs, "只有本支部的书记或党务干部可以填写互评、测评和建议等次。")
            review_form = forms.EntryReviewForm(request.POST)
            done, status = formflow.run(
                request,
                review_form,
                lambda d: svc.entry_review(
                    actor=user,
                    entry=entry,
                    peer_summary=d["peer_summary"],
                    rating=review_form.rating(),
                    proposed_grade=d["proposed_grade"],
                ),
            )
        else:
            raise PermissionDenied("无法识别要保存的内容，请从评议页面重新进入。")
        if done is not None:
            messages.success(request, f"已保存{entry.person.name}的评议内容。")
            return redirect("life:appraisal_entry", pk=appraisal.pk, entry_pk=entry.pk)
    elif not own:
        audit.record_read(user, entry, ENTRY_READ_FIELDS, request=request)
    ctx = {
        "appraisal": appraisal,
        "entry": entry,
        "own": own,
        "runs": runs,
        "is_open": is_open,
        "self_form": self_form,
        "review_form": review_form,
        "rating": [{"label": g.label, "n": (entry.rating or {}).get(g.value, 0)} for g in Grade],
    }
    return render(request, "life/appraisal_entry.html", ctx, status=status)


def _versioned(request, form, appraisal: Appraisal, save) -> tuple[object, int]:
    """Run a form carrying ``version``: a stale one answers 409 before the service's own CAS."""

    def checked(data):
        if data["version"] != appraisal.version:
            raise Conflict(svc.CONFLICT)
        return save(data)

    return formflow.run(request, form, checked)


@login_required
@require_http_methods(["GET", "POST"])
def appraisal_propose(request: HttpRequest, pk: int) -> HttpResponse:
    """The branch proposes its grades to the higher org (a reason when 优秀 exceeds 1/3)."""
    user = request.user
    appraisal = _appraisal_or_404(user, pk)
    access.require(svc.runs_appraisal(user, appraisal.org), "只有本支部的书记或党务干部可以提出建议等次。")
    form = forms.ProposeForm(request.POST or None, initial={"version": appraisal.version})
    done, status = _versioned(
        request,
        form,
        appraisal,
        lambda d: svc.appraisal_propose(
            actor=user, appraisal=appraisal, version=d["version"], excellent_reason=d["excellent_reason"]
        ),
    )
    if done is not None:
        note = "，并已提示上级党组织优秀等次超过三分之一" if appraisal.is_flagged else ""
        messages.success(request, f"已向上级党组织提出评议等次{note}。")
        return redirect("life:appraisal_detail", pk=appraisal.pk)
    counts = svc.grade_counts([appraisal])[appraisal.pk]
    excellent = counts["grades"].get(Grade.EXCELLENT, 0)
    ctx = {
        "appraisal": appraisal,
        "form": form,
        "counts": _counts(counts),
        "members": counts["members"],
        "missing": counts["members"] - sum(counts["grades"].values()),
        "exceeds": svc.excellent_exceeds(excellent, counts["members"]),
        "is_open": appraisal.state == Appraisal.State.OPEN,
    }
    return render(request, "life/appraisal_propose.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def appraisal_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """The higher org approves the proposed grades, or returns them with an opinion."""
    user = request.user
    appraisal = _appraisal_or_404(user, pk)
    access.require(
        svc.approves_appraisal(user, appraisal.org), "只有上级党组织或机关工委可以审批民主评议结果。"
    )
    form = forms.ApproveForm(
        request.POST or None, initial={"version": appraisal.version, "decision": "approve"}
    )
    done, status = _versioned(
        request,
        form,
        appraisal,
        lambda d: svc.appraisal_review(
            actor=user,
            appraisal=appraisal,
            version=d["version"],
            approve=d["decision"] == "approve",
            opinion=d["opinion"],
        ),
    )
    if done is not None:
        if appraisal.state == Appraisal.State.APPROVED:
            messages.success(request, "已审批通过，评定等次已记入党员本人的评议结果。")
        else:
            messages.success(request, "已退回支部重新评议，退回意见已通知支部书记和党务干部。")
        return redirect("life:appraisal_detail", pk=appraisal.pk)
    entries = []
    if svc.sees_entries(user, appraisal):
        entries = list(appraisal.entries.select_related("person").order_by("person__name", "pk"))
        audit.record_read(user, appraisal, ["proposed_grade", "final_grade"], request=request)
    counts = svc.grade_counts([appraisal])[appraisal.pk]
    ctx = {"appraisal": appraisal, "form": form, "entries": entries, "counts": _counts(counts),
           "members": counts["members"], "awaiting": appraisal.state == Appraisal.State.PROPOSED}  # fmt: skip
    return render(request, "life/appraisal_approve.html", ctx, status=status)


@login_required
@require_GET
def my_appraisal(request: HttpRequest) -> HttpResponse:
    """The member's own appraisals across years (final grades once approved)."""
    person_id = access.scope_of(request.user).person_id
    entries = []
    if person_id:
        entries = list(
            AppraisalEntry.objects.filter(person_id=person_id)
            .select_related("appraisal", "appraisal__org")
            .order_by("-appraisal__year", "-pk")
        )
    return render(request, "life/appraisal_mine.html", {"entries": entries, "has_person": bool(person_id)})


appraisal_urlpatterns = [
    path("appraisals/", appraisals, name="appraisals"),
    path("appraisals/new/", appraisal_create, name="appraisal_create"),
    path("appraisals/mine/", my_appraisal, name="my_appraisal"),
    path("appraisals/<int:pk>/", appraisal_detail, name="appraisal_detail"),
    path("appraisals/<int:pk>/entries/<int:entry_pk>/", appraisal_entry, name="appraisal_entry"),
    path("appraisals/<int:pk>/propose/", appraisal_propose, name="appraisal_propose"),
    path("appraisals/<int:pk>/approve/", appraisal_approve, name="appraisal_approve"),
]
