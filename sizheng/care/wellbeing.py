"""Services of the confidential wellbeing pathway (心理疏导与危机干预, issue 6 §5; ARCHITECTURE §4–5).

* Self-screening with PHQ-9 / GAD-7 after a separate consent to processing health data. Anonymous by
  default: the answer goes through ``core.anonymous`` (random key, month only, reporting group, shuffled
  batches) with no audit row, no log line and no notification, and can be deleted only with the code
  shown once. A named screening is a ``Screening`` (T3, encrypted) the person may delete.
* Crisis protocol: a named screening with PHQ-9 item 9 positive or a severe band, or a contact request,
  raises a ``CrisisAlert`` to the primary counselor of the person's org (nearest covering org wins);
  unacknowledged past ``ack_due_at`` it escalates to the backup counselors (``jobs_wellbeing``).
  Anonymous positives are counted in the aggregates, never alerted.
* A counselor's caseload: acknowledging an alert or taking a contact request opens a
  ``CounselingCase`` (appointments, T3 session notes, referral, closure, hand-over).
* Aggregates for leaders and counselors: counts by band over fixed reporting groups, suppressed below
  ``ANONYMITY_MIN_GROUP`` and published only in steps of at least that many screenings.

Audit rows carry ids only. The raising of an alert writes no audit row of its own: it is part of the
audited submit or contact request, and a separate row would tell the auditor the screening's result.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from sizheng.care import instruments
from sizheng.care.access import is_counselor, visible_alert_q, visible_counseling_q
from sizheng.care.models import (
    AnonymousScreening,
    Appointment,
    ContactRequest,
    CounselingCase,
    CrisisAlert,
    HealthConsent,
    Screening,
    SessionNote,
)
from sizheng.core import anonymous as anon_store
from sizheng.core import audit, scheduler
from sizheng.core.apitools import Conflict
from sizheng.core.crypto import blind_index, mask_phone
from sizheng.core.models import AnonymousPool, Role, RoleGrant, User
from sizheng.core.notify import notify
from sizheng.org.access import ancestor_ids, scope_of
from sizheng.org.models import Org, Person

KIND = "wellbeing"  # core.anonymous kind of the pool and the tallies
DELETE_PURPOSE = "wellbeing-delete"
# No 0/O, 1/I/L: the code is read off a screen and typed back.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_GROUPS, CODE_GROUP_LEN = 4, 4

HOTLINE_LABEL = "全国心理援助热线"
# Content-free: no name, no score, no reason (ARCHITECTURE §5: notifications never carry T3).
ALERT_TITLE = "您有一条新的心理关爱预警，请尽快登录平台确认。"
ESCALATED_TITLE = "您有一条升级转来的心理关爱预警，请尽快登录平台确认。"
HANDOVER_TITLE = "您有一个转交给您的心理辅导个案，请登录平台查看。"

REASON_CONTACT, REASON_ITEM9, REASON_SEVERE = "contact_request", "item9", "severe"
REASON_LABELS = {
    REASON_CONTACT: "本人请求心理咨询员联系",
    REASON_ITEM9: "PHQ-9 第 9 题阳性（实名自评）",
    REASON_SEVERE: "自评结果为重度（实名自评）",
}

MSG_NO_PERSON = "您的账号没有关联人员信息，无法进行心理自评。请联系本单位党务干部在花名册中关联账号。"
MSG_CONSENT = "请先阅读说明并勾选同意处理健康信息，才能提交自评。"
MSG_ALERT_CONFLICT = "该预警已被确认或状态已变化，请刷新页面后查看。"
MSG_CASE_CONFLICT = "该辅导个案已被修改，请刷新页面后重新操作。"


# --- who, where ------------------------------------------------------------------------------


def own_person(user) -> Person | None:
    """The signed-in user's roster record (None for accounts without one, e.g. system roles)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return Person.objects.select_related("org", "unit").filter(user=user, left_on__isnull=True).first()


def _require_person(user) -> Person:
    person = own_person(user)
    if person is None:
        raise PermissionDenied(MSG_NO_PERSON)
    return person


def reporting_org(person: Person) -> Org | None:
    """The person's org, or for staff outside the party the unit's root org (its 机关党委/党总支/党支部)."""
    if person.org_id:
        return person.org
    return (
        Org.objects.filter(units=person.unit_id, depth=1)
        .exclude(kind=Org.Kind.LEADING_GROUP)
        .order_by("path")
        .first()
    )


def reporting_group(person: Person, org: Org | None) -> str:
    """The fixed reporting group of an anonymous answer (ARCHITECTURE §5)."""
    return f"org:{org.pk}" if org is not None else f"unit:{person.unit_id}"


def current_wave(day: date | None = None) -> str:
    """The wave of a screening: its month, nothing finer (ARCHITECTURE §5)."""
    return (day or timezone.localdate()).strftime("%Y-%m")


def resources() -> dict:
    """Where to get help: the national line first, then the configured local contacts."""
    return {
        "hotline": settings.WELLBEING_HOTLINE,
        "hotline_label": HOTLINE_LABEL,
        "local": list(settings.WELLBEING_LOCAL_CONTACTS),
    }


def _url(name: str, *args, fallback: str) -> str:
    try:
        return reverse(f"care:{name}", args=args)
    except NoReverseMatch:
        return fallback


def alert_url(pk: int) -> str:
    return _url("wellbeing_alert", pk, fallback=f"/care/wellbeing/alerts/{pk}/")


def case_url(pk: int) -> str:
    return _url("wellbeing_case", pk, fallback=f"/care/wellbeing/cases/{pk}/")


# --- counselors ------------------------------------------------------------------------------


def _counselor_grants(org: Org | None, *, backup: bool):
    today = timezone.localdate()
    q = Q(scope_kind=RoleGrant.ScopeKind.ORG, scope_id__in=ancestor_ids(org.path if org else ""))
    if not backup:
        q |= Q(scope_kind=RoleGrant.ScopeKind.ALL)
    return RoleGrant.objects.in_force(today).filter(
        q, role=Role.COUNSELOR, is_backup=backup, user__is_active=True
    )


def primary_counselor(org: Org | None) -> User | None:
    """The primary counselor of an org: the nearest covering org's, else an all-scope one."""
    grants = list(_counselor_grants(org, backup=False).values_list("user_id", "scope_kind", "scope_id"))
    depth = {oid: i for i, oid in enumerate(ancestor_ids(org.path if org else ""))}
    best = sorted(
        grants,
        # Nearest org first (deepest on the path), all-scope grants last; the lowest user id breaks ties.
        key=lambda g: (-(depth.get(g[2], -1)) if g[1] == RoleGrant.ScopeKind.ORG else 1, g[0]),
    )
    return User.objects.filter(pk=best[0][0]).first() if best else None


def backup_counselors(org: Org | None) -> list[User]:
    """The backup counselors covering an org (they see its alerts once escalated)."""
    if org is None:
        return []
    ids = set(_counselor_grants(org, backup=True).values_list("user_id", flat=True))
    return list(User.objects.filter(pk__in=ids).order_by("pk"))


def handover_candidates(user, org: Org | None) -> list[User]:
    """Other counselors covering an org (primary or backup, or all-scope): who a case may go to."""
    if org is None:
        return []
    today = timezone.localdate()
    ids = set(
        RoleGrant.objects.in_force(today)
        .filter(
            Q(scope_kind=RoleGrant.ScopeKind.ALL)
            | Q(scope_kind=RoleGrant.ScopeKind.ORG, scope_id__in=ancestor_ids(org.path)),
            role=Role.COUNSELOR,
            user__is_active=True,
        )
        .exclude(user_id=user.pk)
        .values_list("user_id", flat=True)
    )
    return list(User.objects.filter(pk__in=ids).order_by("pk"))


def contact_request_q(user) -> Q:
    """Contact requests a counselor handles: people in the orgs they hold as primary (or everything)."""
    scope = scope_of(user)
    if scope.has_everything(Role.COUNSELOR):
        return Q()
    q = Q(pk__in=[])
    for p in scope.primary_paths(Role.COUNSELOR):
        q |= Q(org__path__startswith=p)
    return q


def may_see_contact(user, person_id: int) -> bool:
    """Full phone number only for people who asked for contact or have an alert or a case with the user."""
    if not is_counselor(user):
        return False
    return (
        ContactRequest.objects.filter(contact_request_q(user), person_id=person_id).exists()
        or CrisisAlert.objects.filter(visible_alert_q(user), person_id=person_id).exists()
        or CounselingCase.objects.filter(visible_counseling_q(user), person_id=person_id).exists()
    )


def contact_phone(user, person: Person, *, request=None) -> dict:
    """The person's phone: in full (audited read) when the counselor may see it, else masked."""
    if may_see_contact(user, person.pk):
        full = Person.objects.only("phone").get(pk=person.pk).phone
        audit.record_read(user, person, ["phone"], request=request)
        return {"phone": full, "full": True}
    return {"phone": mask_phone(person.phone), "full": False}


# --- deletion codes --------------------------------------------------------------------------


def new_deletion_code() -> str:
    """A random code like ``K7QX-M2PA-9RTD-HB4N`` (31¹⁶ ≈ 2⁷⁹), shown once and stored only as a blind index."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUPS * CODE_GROUP_LEN))
    return "-".join(chars[i : i + CODE_GROUP_LEN] for i in range(0, len(chars), CODE_GROUP_LEN))


def normalize_code(code: str) -> str:
    """What the person typed, without spaces or dashes, in capitals (ValidationError if malformed)."""
    text = re.sub(r"[\s\-－—_]", "", (code or "")).upper()
    if len(text) != CODE_GROUPS * CODE_GROUP_LEN or any(c not in CODE_ALPHABET for c in text):
        raise ValidationError(
            {
                "code": "删除码应为 16 位字母和数字（如 K7QX-M2PA-9RTD-HB4N），请对照提交自评后显示的删除码重新输入。"
            }
        )
    return text


def deletion_key(code: str) -> str:
    return blind_index(normalize_code(code), purpose=DELETE_PURPOSE, normalizer=None)


# --- screening -------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What the result page shows: computed in memory, whether or not the answer is stored yet."""

    result: instruments.Result
    anonymous: bool
    screening: Screening | None = None
    deletion_code: str = ""
    alert_raised: bool = False
    resources: dict = field(default_factory=resources)


def _write_anonymous(items: list[dict]) -> None:
    """The pool's writer: one shuffled batch of anonymous screenings."""
    AnonymousScreening.objects.bulk_create(
        [
            AnonymousScreening(
                key=uuid.UUID(i["key"]),
                instrument=i["instrument"],
                answers=json.dumps(i["answers"]),
                score=str(i["score"]),
                band=i["band"],
                crisis=i["crisis"],
                wave=i["wave"],
                group=i["group"],
                deletion_key=i["deletion_key"],
            )
            for i in items
        ]
    )


def health_consent_give(*, actor, person: Person) -> HealthConsent:
    """Record the person's separate consent to processing health data (reused while not withdrawn)."""
    consent = HealthConsent.objects.filter(person=person, withdrawn_at__isnull=True).first()
    if consent is None:
        consent = HealthConsent.objects.create(person=person)
        audit.record(actor, "health_consent_give", consent, {"person": person.pk})
    return consent


@transaction.atomic
def screening_submit(
    *, actor, instrument: str, answers: list[int], anonymous: bool = True, consent: bool = False
) -> Outcome:
    """Score and store the actor's own screening: anonymously (default) or by name."""
    person = _require_person(actor)
    if not consent:
        raise ValidationError({"consent": MSG_CONSENT})
    try:
        result = instruments.score(instrument, answers)
    except ValueError as exc:
        raise ValidationError({"answers": str(exc)}) from None
    org = reporting_org(person)
    wave = current_wave()
    crisis = "1" if result.crisis else "0"
    if anonymous:
        # No audit row, no log line, no notification: the tally is the wave's only record.
        code = new_deletion_code()
        item = {
            "key": str(uuid.uuid4()),
            "instrument": result.instrument,
            "answers": list(result.answers),
            "score": result.score,
            "band": result.band,
            "crisis": crisis,
            "wave": wave,
            "group": reporting_group(person, org),
            "deletion_key": deletion_key(code),
        }
        anon_store.pool_add(KIND, wave, item, writer=_write_anonymous)
        anon_store.tally(KIND, wave, item["group"])
        return Outcome(result=result, anonymous=True, deletion_code=code)
    health_consent_give(actor=actor, person=person)
    screening = Screening.objects.create(
        person=person,
        org=org,
        instrument=result.instrument,
        answers=json.dumps(list(result.answers)),
        score=str(result.score),
        band=result.band,
        crisis=crisis,
        wave=wave,
    )
    audit.record(actor, "screening_submit", screening, {})
    raised = False
    if result.crisis:
        reason = REASON_ITEM9 if result.item9_positive else REASON_SEVERE
        _raise_alert(person=person, org=org, reason=reason, screening=screening)
        raised = True
    return Outcome(result=result, anonymous=False, screening=screening, alert_raised=raised)


def own_screening_or_404(user, pk) -> Screening:
    """One of the user's own named screenings, else 404 (nobody else ever opens it)."""
    from django.http import Http404

    person = own_person(user)
    screening = Screening.objects.filter(pk=pk, person=person).first() if person else None
    if screening is None:
        raise Http404("未找到该自评记录，或它已被删除。")
    return screening


def outcome_of(screening: Screening) -> Outcome:
    """The result of a stored named screening, rescored from its answers (the stored band if unreadable)."""
    try:
        result = instruments.score(screening.instrument, json.loads(screening.answers))
    except (ValueError, TypeError):
        severe = screening.band == instruments.SEVERE
        result = instruments.Result(
            instrument=screening.instrument,
            answers=(),
            score=screening.score,  # type: ignore[arg-type]
            band=screening.band,
            band_label=instruments.band_label(screening.band),
            item9_positive=screening.crisis == "1" and not severe,
            severe=severe,
        )
    return Outcome(result=result, anonymous=False, screening=screening)


@transaction.atomic
def screening_delete(*, actor, screening: Screening) -> None:
    """The person deletes their own named screening (an alert it raised stays with the counselor)."""
    person = own_person(actor)
    if person is None or screening.person_id != person.pk:
        raise PermissionDenied("只能删除本人的自评记录。")
    pk = screening.pk
    deleted, _ = Screening.objects.filter(pk=pk).delete()
    if not deleted:
        raise Conflict("该自评记录已被删除。")
    audit.record(actor, "screening_delete", ("care.screening", pk), {})


@transaction.atomic
def anonymous_screening_delete(*, actor, code: str) -> bool:
    """Delete an anonymous screening by its deletion code, pending or stored; False when none matches.

    No audit row: it would tie the actor to an anonymous answer.
    """
    key = deletion_key(code)
    for wave in anon_store.waves_pending(KIND):
        if anon_store.pool_remove(KIND, wave, lambda item: item.get("deletion_key") == key):
            return True
    deleted, _ = AnonymousScreening.objects.filter(deletion_key=key).delete()
    return bool(deleted)


# --- contact requests and crisis alerts ------------------------------------------------------


@transaction.atomic
def contact_request_create(*, actor, how: str = "") -> tuple[ContactRequest, bool]:
    """ "请心理咨询员联系我": a named request, never linked to an answer; alerts the primary counselor.

    Returns the request and whether it is new (an open request is reused, so a double tap alerts once).
    """
    person = _require_person(actor)
    how = (how or "").strip()
    if len(how) > 500:
        raise ValidationError({"how": "联系方式与方便时间请控制在 500 字以内。"})
    existing = ContactRequest.objects.filter(person=person, state=ContactRequest.State.OPEN).first()
    if existing is not None:
        if how:
            existing.how = f"{existing.how}\n{how}".strip() if existing.how else how
            existing.save(update_fields=["how"])
            audit.record(actor, "contact_request_update", existing, {"fields": ["how"]})
        return existing, False
    org = reporting_org(person)
    request = ContactRequest.objects.create(person=person, org=org, how=how)
    audit.record(actor, "contact_request_create", request, {})
    _raise_alert(person=person, org=org, reason=REASON_CONTACT, contact_request=request)
    return request, True


def _raise_alert(
    *,
    person: Person,
    org: Org | None,
    reason: str,
    screening: Screening | None = None,
    contact_request: ContactRequest | None = None,
) -> CrisisAlert:
    """A crisis alert to the org's primary counselor, notified at once with a content-free text.

    While an alert for the person is still unacknowledged, a new trigger (another positive screening,
    another tap on "请联系我") joins it instead of filling the counselor's queue with duplicates."""
    now = timezone.now()
    waiting = CrisisAlert.objects.filter(
        person=person,
        state__in=[CrisisAlert.State.OPEN, CrisisAlert.State.ESCALATED],
        counselor__isnull=False,
    ).first()
    if waiting is not None:
        return waiting
    counselor = primary_counselor(org)
    alert = CrisisAlert.objects.create(
        person=person,
        org=org,
        reason=reason,
        screening=screening,
        contact_request=contact_request,
        counselor=counselor,
        raised_at=now,
        ack_due_at=now + timedelta(minutes=settings.CRISIS_ACK_MINUTES),
    )
    if counselor is None:
        # Nobody holds the org as primary: go straight to the backups rather than wait for the job.
        crisis_alert_escalate(alert=alert, now=now)
        return alert
    url = alert_url(alert.pk)
    transaction.on_commit(lambda: notify([counselor], title=ALERT_TITLE, body=ALERT_TITLE, url=url))
    return alert


@transaction.atomic
def crisis_alert_escalate(*, alert: CrisisAlert, now: datetime | None = None) -> bool:
    """Escalate an unacknowledged alert to the backup counselors, exactly once; True when done now."""
    now = now or timezone.now()
    updated = CrisisAlert.objects.filter(
        pk=alert.pk, state=CrisisAlert.State.OPEN, escalated_at__isnull=True
    ).update(state=CrisisAlert.State.ESCALATED, escalated_at=now, version=F("version") + 1)
    if not updated:
        return False
    org = Org.objects.filter(pk=alert.org_id).first() if alert.org_id else None
    backups = [u for u in backup_counselors(org) if u.pk != alert.counselor_id]
    audit.record(
        None, "crisis_alert_escalate", ("care.crisisalert", alert.pk), {"to": [u.pk for u in backups]}
    )
    if backups:
        scheduler.remind(
            f"care:crisis-alert:{alert.pk}:escalated",
            backups,
            title=ESCALATED_TITLE,
            body=ESCALATED_TITLE,
            url=alert_url(alert.pk),
        )
    return True


def crisis_alert_escalate_due(now: datetime | None = None) -> int:
    """Escalate every open alert past its acknowledgement deadline; returns how many."""
    now = now or timezone.now()
    due = CrisisAlert.objects.filter(
        state=CrisisAlert.State.OPEN, escalated_at__isnull=True, ack_due_at__lte=now
    ).order_by("ack_due_at", "pk")
    return sum(crisis_alert_escalate(alert=a, now=now) for a in due)


# The alert and case workflows as data: action → (states it may start from, target state or None).
ALERT_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "acknowledge": (
        frozenset({CrisisAlert.State.OPEN, CrisisAlert.State.ESCALATED}),
        CrisisAlert.State.ACKNOWLEDGED,
    ),
    "close": (frozenset({CrisisAlert.State.ACKNOWLEDGED}), CrisisAlert.State.CLOSED),
}
CASE_TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "refer": (frozenset({CounselingCase.State.OPEN}), CounselingCase.State.REFERRED),
    "close": (
        frozenset({CounselingCase.State.OPEN, CounselingCase.State.REFERRED}),
        CounselingCase.State.CLOSED,
    ),
    "handover": (frozenset({CounselingCase.State.OPEN, CounselingCase.State.REFERRED}), None),
    "note": (frozenset({CounselingCase.State.OPEN, CounselingCase.State.REFERRED}), None),
}


def _alert_transition(alert: CrisisAlert, action: str, version: int | None, **changes) -> None:
    sources, target = ALERT_TRANSITIONS[action]
    q = CrisisAlert.objects.filter(pk=alert.pk, state__in=sources)
    if version is not None:
        q = q.filter(version=version)
    if not q.update(state=target, version=F("version") + 1, **changes):
        raise Conflict(MSG_ALERT_CONFLICT)
    alert.refresh_from_db()


def _case_transition(case: CounselingCase, action: str, version: int | None, **changes) -> None:
    sources, target = CASE_TRANSITIONS[action]
    q = CounselingCase.objects.filter(pk=case.pk, state__in=sources)
    if version is not None:
        q = q.filter(version=version)
    if target is not None:
        changes["state"] = target
    if not q.update(version=F("version") + 1, **changes):
        if case.state not in sources:
            raise Conflict(f"该辅导个案当前为“{case.get_state_display()}”，不能执行此操作。")
        raise Conflict(MSG_CASE_CONFLICT)
    case.refresh_from_db()


def _visible_alert(user, alert: CrisisAlert) -> bool:
    return CrisisAlert.objects.filter(visible_alert_q(user), pk=alert.pk).exists()


@transaction.atomic
def crisis_alert_acknowledge(*, actor, alert: CrisisAlert, version: int | None = None) -> CounselingCase:
    """The assigned counselor (or, once escalated, a backup) acknowledges: a counseling case opens."""
    if not _visible_alert(actor, alert):
        raise PermissionDenied("只有该预警的负责心理咨询员（升级后为备岗心理咨询员）可以确认。")
    now = timezone.now()
    _alert_transition(alert, "acknowledge", version, acknowledged_at=now, acknowledged_by=actor)
    case = CounselingCase.objects.create(
        person_id=alert.person_id,
        org_id=alert.org_id,
        counselor=actor,
        alert=alert,
        contact_request_id=alert.contact_request_id,
    )
    if alert.contact_request_id:
        ContactRequest.objects.filter(pk=alert.contact_request_id, state=ContactRequest.State.OPEN).update(
            state=ContactRequest.State.CONTACTED
        )
    audit.record(actor, "crisis_alert_acknowledge", alert, {"case": case.pk})
    audit.record(actor, "counseling_case_open", case, {"alert": alert.pk})
    return case


@transaction.atomic
def counseling_case_open(*, actor, contact_request: ContactRequest) -> CounselingCase:
    """A counselor takes an open contact request (接案); its pending alert counts as acknowledged."""
    if not ContactRequest.objects.filter(contact_request_q(actor), pk=contact_request.pk).exists():
        raise PermissionDenied("只有负责该党组织的心理咨询员可以接手此联系请求。")
    taken = ContactRequest.objects.filter(pk=contact_request.pk, state=ContactRequest.State.OPEN).update(
        state=ContactRequest.State.CONTACTED
    )
    if not taken:
        raise Conflict("该联系请求已由心理咨询员接手，请刷新页面后查看。")
    now = timezone.now()
    alert = CrisisAlert.objects.filter(contact_request=contact_request).order_by("pk").first()
    CrisisAlert.objects.filter(
        contact_request=contact_request, state__in=ALERT_TRANSITIONS["acknowledge"][0]
    ).update(
        state=CrisisAlert.State.ACKNOWLEDGED,
        acknowledged_at=now,
        acknowledged_by=actor,
        version=F("version") + 1,
    )
    case = CounselingCase.objects.create(
        person_id=contact_request.person_id,
        org_id=contact_request.org_id,
        counselor=actor,
        alert=alert,
        contact_request=contact_request,
    )
    audit.record(actor, "counseling_case_open", case, {"contact_request": contact_request.pk})
    return case


def _own_case(actor, case: CounselingCase) -> None:
    if not CounselingCase.objects.filter(visible_counseling_q(actor), pk=case.pk).exists():
        raise PermissionDenied("只有负责该个案的心理咨询员可以操作。")


@transaction.atomic
def session_note_add(*, actor, case: CounselingCase, note: str) -> SessionNote:
    """A session note (T3) on an open case."""
    _own_case(actor, case)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "请填写辅导记录。"})
    _case_transition(case, "note", None)
    row = SessionNote.objects.create(case=case, note=note, author=actor)
    audit.record(actor, "session_note_add", case, {"note": row.pk})
    return row


@transaction.atomic
def appointment_add(*, actor, case: CounselingCase, starts_at: datetime, place: str = "") -> Appointment:
    """An appointment for an open case (time and place are T3 too)."""
    _own_case(actor, case)
    if case.state == CounselingCase.State.CLOSED:
        raise Conflict("已结案的个案不能再预约，请重新接案。")
    row = Appointment.objects.create(case=case, starts_at=starts_at, place=(place or "").strip())
    audit.record(actor, "appointment_add", case, {"appointment": row.pk})
    return row


@transaction.atomic
def appointment_done(*, actor, appointment: Appointment) -> None:
    """Mark an appointment as held."""
    _own_case(actor, appointment.case)
    Appointment.objects.filter(pk=appointment.pk).update(done=True)
    audit.record(actor, "appointment_done", appointment.case, {"appointment": appointment.pk})


@transaction.atomic
def counseling_case_refer(*, actor, case: CounselingCase, version: int | None, referral: str) -> None:
    """Record a referral (e.g. to a hospital's psychiatry department); the case stays on the caseload."""
    _own_case(actor, case)
    referral = (referral or "").strip()
    if not referral:
        raise ValidationError({"referral": "请填写转介去向和情况。"})
    _case_transition(case, "refer", version, referral=referral)
    audit.record(actor, "counseling_case_refer", case, {"fields": ["referral"]})


@transaction.atomic
def counseling_case_close(*, actor, case: CounselingCase, version: int | None, closing_note: str) -> None:
    """Close a case; its alert and contact request close with it."""
    _own_case(actor, case)
    closing_note = (closing_note or "").strip()
    if not closing_note:
        raise ValidationError({"closing_note": "请填写结案说明。"})
    _case_transition(case, "close", version, closing_note=closing_note, closed_at=timezone.now())
    if case.alert_id:
        CrisisAlert.objects.filter(pk=case.alert_id, state=CrisisAlert.State.ACKNOWLEDGED).update(
            state=CrisisAlert.State.CLOSED, version=F("version") + 1
        )
    if case.contact_request_id:
        ContactRequest.objects.filter(pk=case.contact_request_id).update(state=ContactRequest.State.CLOSED)
    audit.record(actor, "counseling_case_close", case, {"fields": ["closing_note"]})


@transaction.atomic
def counseling_case_handover(*, actor, case: CounselingCase, version: int | None, to: User) -> None:
    """Hand a case to another counselor covering the org; notified with a content-free text."""
    _own_case(actor, case)
    org = Org.objects.filter(pk=case.org_id).first() if case.org_id else None
    if to.pk not in {u.pk for u in handover_candidates(actor, org)}:
        raise ValidationError({"to": "只能转交给负责该党组织的其他心理咨询员。"})
    _case_transition(case, "handover", version, counselor=to)
    audit.record(actor, "counseling_case_handover", case, {"from": actor.pk, "to": to.pk})
    url = case_url(case.pk)
    transaction.on_commit(lambda: notify([to], title=HANDOVER_TITLE, body=HANDOVER_TITLE, url=url))


# --- aggregates (T3: counselors; leaders only over groups ≥ the threshold) -------------------


@dataclass(frozen=True)
class Record:
    """One screening as the aggregates see it: where (org path), when (wave) and the band."""

    path: str
    wave: str
    instrument: str
    band: str
    crisis: bool


def waves_of(start: date, end: date) -> list[str]:
    """The waves (months) from ``start`` to ``end`` inclusive."""
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def records(waves: Iterable[str]) -> list[Record]:
    """Every screening of these waves, named, anonymous stored and anonymous pending. Four queries."""
    waves = list(waves)
    if not waves:
        return []
    out: list[Record] = []
    named = Screening.objects.filter(wave__in=waves).values_list(
        "org__path", "wave", "instrument", "band", "crisis"
    )
    out += [Record(p or "", w, i, b, c == "1") for p, w, i, b, c in named]
    anon: list[tuple[str, str, str, str, str]] = list(
        AnonymousScreening.objects.filter(wave__in=waves).values_list(
            "group", "wave", "instrument", "band", "crisis"
        )
    )
    # Answers still waiting in the pool count too (they are part of the wave), read in one query.
    for payload in AnonymousPool.objects.filter(kind=KIND, wave__in=waves, size__gt=0).values_list(
        "payload", flat=True
    ):
        anon.extend(
            (i["group"], i["wave"], i["instrument"], i["band"], i["crisis"])
            for i in json.loads(payload or "[]")
        )
    org_ids = {int(g[4:]) for g, *_ in anon if g.startswith("org:") and g[4:].isdigit()}
    paths = dict(Org.objects.filter(pk__in=org_ids).values_list("pk", "path")) if org_ids else {}
    for g, w, i, b, c in anon:
        path = paths.get(int(g[4:]), "") if g.startswith("org:") and g[4:].isdigit() else ""
        out.append(Record(path, w, i, b, c == "1"))
    return out


@dataclass
class Counts:
    """Screenings of one group: the total, per wave, and per instrument and band."""

    total: int = 0
    severe: int = 0
    crisis: int = 0
    by_wave: dict[str, int] = field(default_factory=dict)
    by_band: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, r: Record) -> None:
        self.total += 1
        self.severe += r.band == instruments.SEVERE
        self.crisis += r.crisis
        self.by_wave[r.wave] = self.by_wave.get(r.wave, 0) + 1
        bands = self.by_band.setdefault(r.instrument, {})
        bands[r.band] = bands.get(r.band, 0) + 1


def subtree_counts(targets: Iterable[int], recs: Iterable[Record]) -> dict[int, Counts]:
    """Counts per target org, each covering the org's subtree (ancestry read off the path)."""
    wanted = set(targets)
    out = {t: Counts() for t in wanted}
    for r in recs:
        for oid in wanted.intersection(ancestor_ids(r.path)):
            out[oid].add(r)
    return out


def own_group_counts(targets: Iterable[int], recs: Iterable[Record]) -> dict[int, Counts]:
    """Counts per org's own reporting group only (disjoint groups: nothing to difference)."""
    wanted = set(targets)
    out = {t: Counts() for t in wanted}
    for r in recs:
        ids = ancestor_ids(r.path)
        if ids and ids[-1] in wanted:
            out[ids[-1]].add(r)
    return out


def published_through(by_wave: dict[str, int], waves: list[str], k: int) -> str | None:
    """The last wave up to which figures may be shown: each published step adds ≥ k screenings.

    Figures move only in steps of at least k, so comparing two views never isolates fewer than k
    people (a month with one screening is held back until enough follow).
    """
    published, pending = None, 0
    for w in waves:
        pending += by_wave.get(w, 0)
        if pending >= k:
            published, pending = w, 0
    return published


def closed_waves(year: int, today: date | None = None) -> list[str]:
    """The finished months of a year (the current month is still moving, so it is never shown)."""
    today = today or timezone.localdate()
    current = current_wave(today)
    return [w for w in waves_of(date(year, 1, 1), date(year, 12, 31)) if w < current]


@dataclass
class BandTable:
    """What a leader or counselor page shows for one group: counts by band, or why they are withheld."""

    total: int
    through: str | None
    rows: list[dict]
    suppressed: bool


def band_table(recs: list[Record], waves: list[str], k: int | None = None) -> BandTable:
    """Counts by instrument and band over the published waves; suppressed when fewer than k."""
    k = k or settings.ANONYMITY_MIN_GROUP
    by_wave: dict[str, int] = {}
    for r in recs:
        by_wave[r.wave] = by_wave.get(r.wave, 0) + 1
    through = published_through(by_wave, waves, k)
    if through is None:
        return BandTable(total=0, through=None, rows=[], suppressed=True)
    shown = [r for r in recs if r.wave <= through]
    rows = []
    for code, inst in instruments.INSTRUMENTS.items():
        mine = [r for r in shown if r.instrument == code]
        counts = {b.code: 0 for b in inst.bands}
        for r in mine:
            counts[r.band] = counts.get(r.band, 0) + 1
        rows.append(
            {
                "code": code,
                "name": inst.name,
                "total": len(mine),
                # An instrument taken by fewer than k in the group is withheld on its own too.
                "suppressed": 0 < len(mine) < k,
                "bands": [{"label": b.label, "n": counts[b.code]} for b in inst.bands],
            }
        )
    return BandTable(total=len(shown), through=through, rows=rows, suppressed=False)


def group_records(recs: Iterable[Record], org: Org, *, subtree: bool) -> list[Record]:
    """The records of one org's subtree, or of its own reporting group only."""
    if subtree:
        return [r for r in recs if r.path.startswith(org.path)]
    return [r for r in recs if r.path == org.path]
