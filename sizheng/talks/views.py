"""Screens of the talks ledger (谈心谈话台账): the ledger, my talks, recording, a talk's page, editing,
cancelling, a follow-up duty and the Excel ledger.

Lists show who, when, mode and status only (``metadata_only()``: no T2 column is even loaded); a
talk's kind, tags, summary and content are shown only through ``access.read_content``, which
writes the audit row. 404 outside scope, 403 for a visible talk the user may not change, 409 for a
stale version or a state that does not allow the change, 422 for bad input.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizheng.core import audit, formflow
from sizheng.core.apitools import Conflict
from sizheng.core.models import Role
from sizheng.core.paging import paginate
from sizheng.core.xlsx import xlsx_response
from sizheng.org import access as org_access
from sizheng.org.models import Org
from sizheng.talks import access, export, forms, services
from sizheng.talks.models import Status, Talk

LEDGER_LIMIT = 5000
STATUS_BADGES = {
    Status.PLANNED: "bg-blue-lt",
    Status.HELD: "bg-green-lt",
    Status.CANCELLED: "bg-secondary-lt",
}
MANAGING = (Role.SECRETARY, Role.ORG_ADMIN)
READ_ONLY = "您可以查看该谈话记录，但没有修改它的权限。"


# --- lists ---------------------------------------------------------------------------------------


def decorate(talks) -> list[Talk]:
    """Split each talk's participants into the initiator and the counterparts (no query)."""
    rows = list(talks)
    for t in rows:
        t.counterpart_list = [p.person for p in t.people if not p.is_initiator]
        t.badge = STATUS_BADGES.get(t.status, "")
        t._participant_ids = {p.person_id for p in t.people}
    return rows


def _filtered(request: HttpRequest):
    form = forms.TalkFilterForm(request.GET or None, user=request.user)
    data = form.cleaned_data if form.is_valid() else {}
    return form, services.filter_talks(Talk.objects.visible_to(request.user), data)


@login_required
@require_GET
def ledger(request: HttpRequest) -> HttpResponse:
    """谈心谈话台账: the talks of the user's orgs (or, for members, their own), metadata only."""
    form, qs = _filtered(request)
    page = paginate(request, services.with_people(qs))
    page.object_list = decorate(page.object_list)
    ctx = {"form": form, "page": page, "may_list": access.may_list(request.user),
           "can_record": services.recording_orgs(request.user).exists(),
           "export_query": request.GET.urlencode()}  # fmt: skip
    return render(request, "talks/ledger.html", ctx)


@login_required
@require_GET
def ledger_xlsx(request: HttpRequest) -> HttpResponse:
    """谈心谈话台账 (Excel) of the filtered ledger: who, when, mode, status and org only; audited."""
    form, qs = _filtered(request)
    rows = decorate(services.with_people(qs)[:LEDGER_LIMIT])
    data = export.ledger_xlsx(
        rows, note=f"导出时间：{timezone.localtime():%Y年%m月%d日 %H:%M}；共 {len(rows)} 条。"
    )
    audit.record(
        request.user, "talks_ledger_export", None, {"rows": len(rows), "query": request.GET.urlencode()}
    )
    return xlsx_response(data, f"谈心谈话台账{timezone.localdate():%Y%m%d}")


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """My talks: those I held and those recorded with me (the counterpart always sees that one was)."""
    person_id = org_access.scope_of(request.user).person_id
    form = forms.TalkFilterForm(request.GET or None, user=request.user, with_org=False)
    data = form.cleaned_data if form.is_valid() else {}
    role = request.GET.get("role", "")
    qs = Talk.objects.filter(participants__person_id=person_id) if person_id else Talk.objects.none()
    if role == "initiator":
        qs = qs.filter(initiator_id=person_id)
    elif role == "counterpart":
        qs = qs.exclude(initiator_id=person_id)
    page = paginate(request, services.with_people(services.filter_talks(qs.distinct(), data)))
    page.object_list = decorate(page.object_list)
    for t in page.object_list:
        t.my_role = "谈话人" if t.initiator_id == person_id else "谈话对象"
    ctx = {"form": form, "page": page, "role": role, "has_person": bool(person_id),
           "can_record": services.recording_orgs(request.user).exists()}  # fmt: skip
    return render(request, "talks/mine.html", ctx)


# --- recording and editing -----------------------------------------------------------------------


def _record_org(request: HttpRequest, orgs):
    """The org a new talk is recorded in: ``?org=`` (visible, and one the user may record in), else
    the user's own org, else the first org they manage."""
    source = request.POST if request.method == "POST" else request.GET
    org_id = source.get("org")
    if org_id and str(org_id).isdigit():
        org = org_access.get_org_or_404(request.user, org_id)
        org_access.require(
            orgs.filter(pk=org.pk).exists(), "您可以查看该党组织，但不能在它名下登记谈心谈话。"
        )
        return org
    own = org_access.scope_of(request.user).own_org_id
    org = orgs.filter(pk=own).first() if own else None
    org = org or orgs.first()
    org_access.require(org is not None, "只有谈话参与人或党组织书记、党务干部可以登记谈心谈话。")
    return org


@login_required
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    """Record a talk: org preselected, roster to tick, today's date, 面谈, 日常谈心 — then a summary."""
    user = request.user
    orgs = services.recording_orgs(user)
    org = _record_org(request, orgs)
    scope = org_access.scope_of(user)
    keep = request.GET.getlist("person")
    initial = {"held_on": timezone.localdate(), "status": Status.HELD, "initiator": scope.person_id,
               "counterparts": [k for k in keep if k.isdigit()]}  # fmt: skip
    form = forms.TalkForm(request.POST or None, initial=initial, org=org, actor=user,
                          search=request.GET.get("q", ""), keep=keep)  # fmt: skip

    def save(_data):
        return services.talk_record(actor=user, org=org, **form.service_kwargs())

    talk, status = formflow.run(request, form, save)
    if talk is not None:
        messages.success(request, "谈心谈话已登记。" if talk.status == Status.HELD else "约谈已登记。")
        return redirect("talks:detail", pk=talk.pk)
    ctx = {"form": form, "org": org, "orgs": orgs, "many_orgs": orgs.count() > 1, "creating": True,
           "search": request.GET.get("q", "")}  # fmt: skip
    return render(request, "talks/talk_form.html", ctx, status=status)


def _editable(request: HttpRequest, pk: int) -> Talk:
    talk = access.get_talk_or_404(request.user, pk)
    org_access.require(access.may_edit(request.user, talk), READ_ONLY)
    return talk


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a talk (its recorder or initiator); hidden ``version``, a stale form answers 409."""
    talk = _editable(request, pk)
    if talk.status == Status.CANCELLED:
        return _render_detail(request, talk, 409, "已取消的谈话记录不能再修改。")
    initial = {}
    if request.method == "GET":
        content = access.read_content(request.user, talk, request=request) or {}
        people = list(talk.participants.all())
        initial = {
            "initiator": talk.initiator_id, "counterparts": [p.person_id for p in people if not p.is_initiator],
            "status": talk.status, "held_on": talk.held_on, "mode": talk.mode, "kind": content.get("kind"),
            "tags": content.get("tags", []), "summary": content.get("summary", ""),
            "content": content.get("content", ""), "is_wellbeing": talk.is_wellbeing,
            "next_talk_on": talk.next_talk_on, "meeting": talk.meeting_id, "version": talk.version,
        }  # fmt: skip
    form = forms.TalkForm(request.POST or None, initial=initial, org=talk.org, actor=request.user, talk=talk)
    if talk.status == Status.HELD:
        form.fields["status"].choices = [(Status.HELD, "已谈话")]

    def save(data):
        version = data.get("version")
        if version != talk.version:
            raise Conflict("该谈话记录已被他人修改，请刷新页面后重新填写。")
        return services.talk_update(actor=request.user, talk=talk, version=version, **form.service_kwargs())

    saved, status = formflow.run(request, form, save)
    if saved is not None:
        messages.success(request, "谈话记录已保存。")
        return redirect("talks:detail", pk=talk.pk)
    ctx = {"form": form, "org": talk.org, "talk": talk, "creating": False}
    return render(request, "talks/talk_form.html", ctx, status=status)


# --- a talk's page and its actions ---------------------------------------------------------------


def _care_link(talk: Talk, person_id: int) -> str:
    """The care app's "open on behalf" page for a counterpart (built by another helper; may be absent)."""
    try:
        return f"{reverse('care:case_create')}?person={person_id}&talk={talk.pk}"
    except NoReverseMatch:
        return ""


def _care_cases(talk: Talk) -> list[dict]:
    """Cases opened from this talk: id and state only, with a link when the care app has one."""
    rows = []
    for case in talk.care_cases.only("pk", "state").order_by("pk"):
        try:
            url = reverse("care:case_detail", args=[case.pk])
        except NoReverseMatch:
            url = ""
        rows.append({"pk": case.pk, "state": case.get_state_display(), "url": url})
    return rows


def _coverage_url(user, talk: Talk) -> str:
    """The coverage page of the talk's org and year, for users whose coverage pages include that org."""
    from sizheng.talks.views_coverage import COVERAGE_KINDS, listing_q

    if not access.may_list(user):
        return ""
    if not Org.objects.filter(listing_q(user), pk=talk.org_id, kind__in=COVERAGE_KINDS).exists():
        return ""
    return f"{reverse('talks:coverage')}?org={talk.org_id}&year={talk.held_on.year}"


def _record_again_url(user, talk: Talk, counterparts) -> str:
    """The record form with the same org and counterparts ticked (the user's own record left out)."""
    own = org_access.scope_of(user).person_id
    others = [p.pk for p in counterparts if p.pk != own and p.left_on is None]
    if not others or not services.recording_orgs(user).filter(pk=talk.org_id).exists():
        return ""
    people = "".join(f"&person={pk}" for pk in others)
    return f"{reverse('talks:create')}?org={talk.org_id}{people}"


def _detail_context(request: HttpRequest, talk: Talk, **extra) -> dict:
    user = request.user
    people = list(talk.participants.select_related("person").order_by("-is_initiator", "person__name"))
    talk._participant_ids = {p.person_id for p in people}
    content = access.read_content(user, talk, request=request)
    editable = access.may_edit(user, talk)
    counterparts = [p.person for p in people if not p.is_initiator]
    ctx = {
        "talk": talk,
        "badge": STATUS_BADGES.get(talk.status, ""),
        "initiator": next((p.person for p in people if p.is_initiator), talk.initiator),
        "counterparts": counterparts,
        "content": content,
        "can_edit": editable and talk.status != Status.CANCELLED,
        "can_cancel": editable and talk.status == Status.PLANNED,
        "cancel_form": forms.CancelForm(initial={"version": talk.version}),
        "follow_form": forms.FollowUpForm(initial={"due_on": timezone.localdate() + timedelta(days=7)}),
        "care_links": [(p, _care_link(talk, p.pk)) for p in counterparts] if editable else [],
        "care_cases": _care_cases(talk) if content is not None else [],
        "coverage_url": _coverage_url(user, talk),
        "record_url": _record_again_url(user, talk, counterparts),
    }
    ctx.update(extra)
    return ctx


def _render_detail(request: HttpRequest, talk: Talk, status: int = 200, message: str = "", **extra):
    ctx = _detail_context(request, talk, message=message, **extra)
    return render(request, "talks/talk_detail.html", ctx, status=status)


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A talk: who, when, mode and status for anyone who sees it; its content only for its readers."""
    return _render_detail(request, access.get_talk_or_404(request.user, pk))


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a planned talk, with a reason."""
    talk = _editable(request, pk)
    form = forms.CancelForm(request.POST)

    def save(data):
        return services.talk_cancel(
            actor=request.user, talk=talk, version=data["version"], reason=data["reason"]
        )

    done, status = formflow.run(request, form, save)
    if done is not None:
        messages.success(request, "约谈已取消。")
        return redirect("talks:detail", pk=talk.pk)
    return _render_detail(request, talk, status, "；".join(_errors(form)), cancel_form=form)


@login_required
@require_POST
def follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a follow-up duty ("谈心谈话提醒") for the talk's org, owned by its initiator."""
    talk = _editable(request, pk)
    form = forms.FollowUpForm(request.POST)
    owner = talk.initiator if talk.initiator.left_on is None else None

    def save(data):
        return services.talk_follow_up_duty(actor=request.user, talk=talk, due_on=data["due_on"], owner=owner)

    duty, status = formflow.run(request, form, save)
    if duty is not None:
        messages.success(request, "已安排跟进事项“谈心谈话提醒”，可在责任清单中跟踪办理。")
        return redirect("talks:detail", pk=talk.pk)
    return _render_detail(request, talk, status, "；".join(_errors(form)), follow_form=form)


def _errors(form) -> list[str]:
    return [str(e) for errors in form.errors.values() for e in errors]


def home_card(request: HttpRequest) -> dict | None:
    """工作台 card: my planned talks and next-talk dates due within two weeks (two small queries)."""
    scope = org_access.scope_of(request.user)
    person_id = scope.person_id
    if not person_id:
        return None
    today = timezone.localdate()
    mine_qs = Talk.objects.filter(initiator_id=person_id)
    planned = mine_qs.filter(status=Status.PLANNED).count()
    due = mine_qs.filter(status=Status.HELD, next_talk_on__gte=today,
                         next_talk_on__lte=today + timedelta(days=14)).count()  # fmt: skip
    return {
        "planned": planned,
        "due": due,
        "can_record": bool(scope.own_org_id or scope.paths(*MANAGING))
        or scope.has_everything(Role.COMMITTEE_ADMIN),
    }
