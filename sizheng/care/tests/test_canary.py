"""The canary test of issue 6: a unique string planted in every T2/T3 field must appear only where
ARCHITECTURE §4–5 allows it, and each allowed read must leave its audit row.

Every GET URL pattern of the site and of the API is fetched for every persona (patterns with an
id are fetched with the ids of the planted records), exports are unzipped, and the notifications,
e-mails and log lines produced while recording the planted data through the services are searched.
"""

from __future__ import annotations

import io
import json
import logging
import re
import zipfile
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from sizheng.care.models import (
    Appointment,
    CareAction,
    CareCase,
    ContactRequest,
    CounselingCase,
    CrisisAlert,
    Handler,
    OpenedVia,
    SessionNote,
)
from sizheng.core.models import AuditEvent, Notification
from sizheng.org.testing import make_person
from sizheng.talks.models import Talk, TalkParticipant, TalkTrigger, TriggerReason

pytestmark = pytest.mark.django_db

CANARY = "QUETZAL"  # never used anywhere else in the code or the cast
_FOUND = re.compile(CANARY + r"-([a-z0-9]+)")

PERSONAS = [
    "committee_admin",
    "secretary_a",
    "secretary_b",
    "org_admin",
    "member",
    "leader",
    "counselor",
    "counselor_backup",
    "union",
    "outsider",
    "sysadmin",
    "secadmin",
    "auditor",
]

# URL prefixes whose id patterns are fetched with the planted ids; other id patterns are other
# apps' records (meetings, duties…) that never carry T2/T3 fields.
ID_PREFIXES = (
    "talks/",
    "care/",
    "api/v1/talks",
    "api/v1/care",
    "api/v1/wellbeing",
    "org/people/",
    "api/v1/people",
)
SKIP = re.compile(r"logout|/static/|_media|set-password|/accounts/.*reset")


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def _routes() -> list[str]:
    routes = []
    for route in _walk(get_resolver().url_patterns):
        if route.startswith("^") or "(?P" in route or SKIP.search(route):
            continue
        routes.append(route)
    return sorted(set(routes))


_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def _urls(route: str, ids: list[int]) -> list[str]:
    params = _PARAM.findall(route)
    if not params:
        return ["/" + route]
    if any(conv not in ("int", "") for conv, _ in params) or len(params) > 1:
        return []
    if not route.startswith(ID_PREFIXES):
        return []
    return ["/" + _PARAM.sub(str(i), route) for i in ids]


def _text(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if body[:2] == b"PK":  # xlsx / docx: the canary would be inside compressed XML
        with zipfile.ZipFile(io.BytesIO(body)) as z:
            return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    return body.decode("utf-8", "replace")


def _plant(cast):
    """The planted records, by canary tag, with who may read each and the object whose read is audited."""
    now = timezone.now()
    today = timezone.localdate()
    p_member = cast.person(cast.member)
    p_sec_a = cast.person(cast.secretary_a)
    p_admin_a = cast.person(cast.org_admin)
    p_sec_b = cast.person(cast.secretary_b)
    p_b = make_person("吴晓", cast.unit_b, org=cast.branch_b1)

    def talk(tag, org, initiator, counterpart, wellbeing=False):
        t = Talk.objects.create(
            org=org,
            initiator=initiator,
            held_on=today - timedelta(days=3),
            is_wellbeing=wellbeing,
            kind=f"{CANARY}-{tag}kind",
            tags=json.dumps([f"{CANARY}-{tag}tag"]),
            summary=f"{CANARY}-{tag}summary",
            content=f"{CANARY}-{tag}content",
        )
        TalkParticipant.objects.create(talk=t, person=initiator, is_initiator=True)
        TalkParticipant.objects.create(talk=t, person=counterpart)
        return t

    t1 = talk("ta", cast.branch_a1, p_sec_a, p_member)
    t2 = talk("tw", cast.branch_a1, p_admin_a, p_member, wellbeing=True)
    t3 = talk("tb", cast.branch_b1, p_sec_b, p_b)
    trig = TalkTrigger.objects.create(
        person=p_member,
        org=cast.branch_a1,
        reason=TriggerReason.FAMILY_CHANGE,
        note=f"{CANARY}-trnote",
        occurred_on=today,
        due_on=today + timedelta(days=14),
    )

    def case(tag, handler, handler_org, opened_by, via):
        c = CareCase.objects.create(
            person=p_member,
            org=cast.branch_a1,
            unit=cast.unit_a,
            opened_via=via,
            handler=handler,
            handler_org=handler_org,
            category=f"{CANARY}-{tag}cat",
            tier=f"{CANARY}-{tag}tier",
            description=f"{CANARY}-{tag}desc",
            opened_by=opened_by,
            consent_on=today if via != OpenedVia.SELF else None,
            consent_method="oral" if via != OpenedVia.SELF else "",
        )
        CareAction.objects.create(case=c, kind=CareAction.Kind.VISIT, note=f"{CANARY}-{tag}note")
        return c

    c1 = case("cs", Handler.SECRETARY, cast.branch_a1, cast.member, OpenedVia.SELF)
    c2 = case("cu", Handler.UNION, cast.committee_a, cast.union, OpenedVia.UNION)
    req = ContactRequest.objects.create(person=p_member, org=cast.branch_a1, how=f"{CANARY}-how")
    alert = CrisisAlert.objects.create(
        person=p_member,
        org=cast.branch_a1,
        reason="contact_request",
        contact_request=req,
        counselor=cast.counselor,
        ack_due_at=now + timedelta(hours=2),
    )
    cc = CounselingCase.objects.create(
        person=p_member,
        org=cast.branch_a1,
        counselor=cast.counselor,
        alert=alert,
        referral=f"{CANARY}-referral",
    )
    SessionNote.objects.create(case=cc, note=f"{CANARY}-session", author=cast.counselor)
    Appointment.objects.create(case=cc, starts_at=now + timedelta(days=1), place=f"{CANARY}-place")

    talk_readers = lambda *users: {u.pk for u in users}  # noqa: E731
    allowed = {
        # tag prefix → (user ids who may read it, (object type, id) whose read is audited)
        "ta": (talk_readers(cast.secretary_a, cast.member), ("talks.talk", t1.pk)),
        "tw": (
            talk_readers(cast.org_admin, cast.member, cast.counselor, cast.counselor_backup),
            ("talks.talk", t2.pk),
        ),
        "tb": (talk_readers(cast.secretary_b), ("talks.talk", t3.pk)),
        "tr": (talk_readers(cast.secretary_a), ("talks.talktrigger", trig.pk)),
        "cs": (talk_readers(cast.member, cast.secretary_a), ("care.carecase", c1.pk)),
        "cu": (talk_readers(cast.member, cast.union), ("care.carecase", c2.pk)),
        "ho": (talk_readers(cast.counselor), None),
        "re": (talk_readers(cast.counselor), None),
        "se": (talk_readers(cast.counselor), None),
        "pl": (talk_readers(cast.counselor), None),
    }
    ids = sorted({t1.pk, t2.pk, t3.pk, trig.pk, c1.pk, c2.pk, req.pk, alert.pk, cc.pk, p_member.pk, p_b.pk})
    return allowed, ids


def _allowed_for(allowed, tag: str):
    for prefix, rule in allowed.items():
        if tag.startswith(prefix):
            return rule
    raise AssertionError(f"unplanted canary tag {tag}")


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_shows_t2_and_t3_fields_only_where_allowed_and_audits_each_read(client, cast, persona, caplog):
    allowed, ids = _plant(cast)
    user = getattr(cast, persona)
    client.force_login(user)
    leaks, unaudited, fetched = [], [], 0
    caplog.set_level(logging.DEBUG)
    for route in _routes():
        for url in _urls(route, ids):
            response = client.get(url)
            fetched += 1
            if response.status_code >= 500:
                leaks.append(f"{url}: HTTP {response.status_code}")
                continue
            for tag in set(_FOUND.findall(_text(response))):
                readers, obj = _allowed_for(allowed, tag)
                if user.pk not in readers:
                    leaks.append(f"{url}: {tag}")
                elif (
                    obj
                    and not AuditEvent.objects.filter(
                        actor=user, action="read_sensitive", object_type=obj[0], object_id=str(obj[1])
                    ).exists()
                ):
                    unaudited.append(f"{url}: {tag}")
    assert fetched > 50
    assert not leaks, leaks
    assert not unaudited, unaudited
    assert CANARY not in caplog.text
    for n in Notification.objects.all():
        assert CANARY not in n.title + n.body + n.url
    for m in mail.outbox:
        assert CANARY not in m.subject + m.body
    for e in AuditEvent.objects.all():
        assert CANARY not in e.object_repr + json.dumps(e.detail, ensure_ascii=False)


def test_it_finds_the_canary_where_it_is_allowed(client, cast):
    """The harness can fail: the participants do see the content, so a leak would be seen too."""
    allowed, ids = _plant(cast)
    client.force_login(cast.secretary_a)
    seen = set()
    for route in _routes():
        for url in _urls(route, ids):
            response = client.get(url)
            if response.status_code == 200:
                seen |= {t[:2] for t in _FOUND.findall(_text(response))}
    assert {"ta", "cs"} <= seen, seen


def test_it_keeps_the_canary_out_of_notifications_mail_logs_and_audit_when_recorded_through_services(
    cast, caplog, settings
):
    """The planted data above is written directly; here the same kind of content goes through the
    services that notify, e-mail, open duties and write audit rows."""
    from sizheng.care import services as care_services
    from sizheng.care import wellbeing
    from sizheng.duties.models import Duty
    from sizheng.talks import services as talk_services
    from sizheng.talks.models import Mode

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.EMAIL_ENABLED = True
    caplog.set_level(logging.DEBUG)
    for u in (cast.member, cast.secretary_a, cast.counselor, cast.org_admin):
        u.email = f"{u.username}@example.gov.cn"
        u.save(update_fields=["email"])
    member, sec_a = cast.person(cast.member), cast.person(cast.secretary_a)
    today = timezone.localdate()
    with _on_commit_immediately():
        talk = talk_services.talk_record(
            actor=cast.secretary_a,
            org=cast.branch_a1,
            initiator=sec_a,
            counterparts=[member],
            held_on=today,
            mode=Mode.IN_PERSON,
            kind="daily",
            tags=["工作"],
            summary=f"{CANARY}-svc-summary",
            content=f"{CANARY}-svc-content",
            is_wellbeing=True,
        )
        talk_services.talk_follow_up_duty(actor=cast.secretary_a, talk=talk, due_on=today + timedelta(days=7))
        case = care_services.care_case_open(
            actor=cast.member, person=member, category="medical", description=f"{CANARY}-svc-desc"
        )
        care_services.care_case_transition(
            actor=cast.secretary_a, case=case, action="start", version=case.version, note=f"{CANARY}-svc-note"
        )
        wellbeing.screening_submit(
            actor=cast.member, instrument="phq9", answers=[3] * 9, anonymous=False, consent=True
        )
        wellbeing.contact_request_create(actor=cast.member, how=f"{CANARY}-svc-how")
    assert Notification.objects.exists() and len(mail.outbox) >= 1
    for n in Notification.objects.all():
        assert CANARY not in n.title + n.body + n.url
    for m in mail.outbox:
        assert CANARY not in m.subject + m.body
    for d in Duty.objects.all():
        assert CANARY not in d.title + d.description + d.evidence
    for e in AuditEvent.objects.all():
        assert CANARY not in e.object_repr + json.dumps(e.detail, ensure_ascii=False)
    assert CANARY not in caplog.text


class _on_commit_immediately:
    """Run on_commit callbacks (notifications, e-mails) inside the test transaction."""

    def __enter__(self):
        from django.db import connection

        self._ctx = self._capture = None
        from django.test import TestCase

        self._ctx = TestCase.captureOnCommitCallbacks(using=connection.alias, execute=True)
        return self._ctx.__enter__()

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)
