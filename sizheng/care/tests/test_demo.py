"""The care demo: care cases in every state following the workflow, screenings with a realistic band
distribution and answers that add up, and a few crisis alerts in the counselors' queue."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from sizheng.care import demo as care_demo
from sizheng.care import instruments, workflow
from sizheng.care.demo import answers_for, case_life, cut, demo_care, draw, replay
from sizheng.care.models import (
    AnonymousScreening,
    CareAction,
    CareCase,
    ContactRequest,
    CounselingCase,
    CrisisAlert,
    HealthConsent,
    Screening,
    SessionNote,
)
from sizheng.core import demo as core_demo
from sizheng.core.models import AnonymousPool, AnonymousTally, AuditEvent, Role, RoleGrant
from sizheng.duties.models import Duty, SourceKind
from sizheng.life.demo import demo_life
from sizheng.org.demo import demo_city
from sizheng.talks.demo import demo_talks
from sizheng.talks.models import Talk

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)


@given(
    code=st.sampled_from([instruments.PHQ9, instruments.GAD7]),
    total=st.integers(0, 27),
    item9=st.integers(0, 3),
    seed=st.integers(0, 10_000),
)
def test_it_builds_answers_that_add_up_to_the_score(code, total, item9, seed):
    n = len(instruments.get(code).items)
    item9 = item9 if code == instruments.PHQ9 else 0
    if total > 3 * n or total < item9 or total - item9 > 3 * (n - 1 if code == instruments.PHQ9 else n):
        with pytest.raises(ValueError):
            answers_for(random.Random(seed), code, total, item9)
        return
    answers = answers_for(random.Random(seed), code, total, item9)
    result = instruments.score(code, answers)
    assert result.score == total and len(answers) == n and all(0 <= a <= 3 for a in answers)
    assert code != instruments.PHQ9 or answers[instruments.ITEM9] == item9


def test_it_draws_bands_like_a_working_population():
    rng = random.Random(1)
    phq = Counter(draw(rng, instruments.PHQ9).band for _ in range(6000))
    gad = Counter(draw(rng, instruments.GAD7).band for _ in range(6000))
    for counts, shares in (
        (phq, care_demo.BAND_SHARES[instruments.PHQ9]),
        (gad, care_demo.BAND_SHARES[instruments.GAD7]),
    ):
        for band, share in shares:
            assert abs(counts[band] / 6000 - share) < 0.02, (band, counts[band])
    assert all(not draw(rng, instruments.PHQ9, crisis=False).crisis for _ in range(300))
    forced = [draw(rng, instruments.PHQ9, crisis=True) for _ in range(300)]
    assert all(r.crisis for r in forced) and any(r.item9_positive for r in forced)
    assert any(r.band == instruments.SEVERE for r in forced)


@given(
    seed=st.integers(0, 10_000),
    days=st.integers(0, 900),
    category=st.sampled_from(list(care_demo.CATEGORIES)),
    ongoing=st.booleans(),
    reopen=st.booleans(),
)
def test_it_draws_case_lives_the_workflow_allows(seed, days, category, ongoing, reopen):
    rng = random.Random(seed)
    opened = NOW - timedelta(days=900)
    steps = cut(
        case_life(rng, opened, category=category, ongoing=ongoing, reopen=reopen),
        opened + timedelta(days=days),
    )
    state = "accepted"
    actions = {"transition": None, "follow_up": "follow_up", "reopen": "reopen"}
    for s in steps[1:]:
        assert s.at >= opened
        if s.kind in ("visit", "help", "recheck"):
            assert s.to_state == state
            continue
        action = actions[s.kind] or {"in_progress": "start", "resolved": "resolve"}[s.to_state]
        assert workflow.target_of(action, state) == s.to_state
        state = s.to_state
    f = replay(steps, ongoing=ongoing)
    assert f["state"] == state
    assert (f["satisfaction"] is not None) == (state == "followed_up")
    assert (f["resolved_at"] is not None) == (state in ("resolved", "followed_up"))
    assert f["recheck_on"] is None or (
        f["is_ongoing"] and f["recheck_on"] > (opened + timedelta(days=days)).date()
    )


def _generate(seed: int = 5) -> tuple[core_demo.DemoContext, int]:
    """City, life, talks and care, each with its own stream like ``run_all``; the audit count before care."""
    ctx = core_demo.DemoContext(
        scale=0.1, seed=seed, rng=random.Random(f"{seed}:org.city"), log=lambda _m: None
    )
    demo_city(ctx)
    ctx.rng = random.Random(f"{seed}:life.history")
    demo_life(ctx)
    ctx.rng = random.Random(f"{seed}:talks.history")
    demo_talks(ctx)
    audit = AuditEvent.objects.count()
    ctx.rng = random.Random(f"{seed}:care.history")
    demo_care(ctx)
    return ctx, audit


@pytest.fixture
def demo_mode(settings):
    """Demo accounts are only created in demo mode."""
    settings.DEMO = True


@pytest.mark.django_db
def test_it_writes_care_cases_in_every_state_with_consent_and_duties(demo_mode):
    with time_machine.travel(NOW, tick=False):
        ctx, audit_before = _generate()
    cases = list(CareCase.objects.all())
    states = Counter(c.state for c in cases)
    assert set(states) == {"accepted", "in_progress", "resolved", "followed_up"}
    assert states["followed_up"] > states["in_progress"]
    assert {c.opened_via for c in cases} == {"self", "secretary", "union"}
    assert {c.handler for c in cases} == {"secretary", "union"}
    assert len({c.category for c in cases}) >= 5 and len({c.tier for c in cases}) >= 3
    for c in cases:
        if c.opened_via != "self":
            assert c.consent_on and c.consent_method
        if c.opened_via == "secretary":
            talk = Talk.objects.get(pk=c.source_talk_id)
            assert talk.kind == "care" and talk.participants.filter(person_id=c.person_id).exists()
        if c.state == "followed_up":
            assert c.satisfaction and c.followed_up_at and c.resolved_at
        else:
            assert c.satisfaction is None
        if c.state in ("accepted", "in_progress") and c.handler == "secretary":
            duty = Duty.objects.get(pk=c.duty_id)
            assert (duty.source_kind, duty.source_id, duty.title) == (SourceKind.CARE, c.pk, "关爱跟进")
        assert list(CareAction.objects.filter(case=c).values_list("kind", flat=True)[:1]) == ["accept"]
    satisfied = [c.satisfaction for c in cases if c.satisfaction]
    assert sum(s >= 4 for s in satisfied) / len(satisfied) > 0.75
    assert any(a.note for a in CareAction.objects.all())
    dangyuan = ctx.shared["demo_person_ids"]["dangyuan"]
    assert CareCase.objects.filter(person_id=dangyuan, opened_via="self").exists()
    # No case or talk text in the audit log; the only rows are the open cases' duties (ids only).
    texts = {c.description[:10] for c in cases} | {a.note[:10] for a in CareAction.objects.all() if a.note}
    texts |= {s.note[:10] for s in SessionNote.objects.all()}
    texts |= {t.summary[:10] for t in Talk.objects.filter(care_cases__isnull=False)}
    events = AuditEvent.objects.order_by("pk")
    log = json.dumps([[e.action, e.object_repr, e.detail] for e in events], ensure_ascii=False)
    assert texts and not [t for t in texts if t in log]
    assert {e.action for e in events[audit_before:]} <= {"duty_open"}


@pytest.mark.django_db
def test_it_writes_screenings_and_a_few_crisis_alerts_for_the_counselors(demo_mode):
    with time_machine.travel(NOW, tick=False):
        ctx, _audit = _generate()
    named = list(Screening.objects.all())
    anon = list(AnonymousScreening.objects.all())
    for s in named + anon:
        answers = json.loads(s.answers)
        result = instruments.score(s.instrument, answers)
        assert (str(result.score), result.band, "1" if result.crisis else "0") == (s.score, s.band, s.crisis)
    assert len({s.band for s in anon if s.instrument == "phq9"}) >= 3
    assert len({s.band for s in named}) >= 3
    assert {s.wave[:4] for s in anon} == {"2025", "2026"}
    # Every named screening has its consent; every crisis one has its alert.
    consented = set(HealthConsent.objects.values_list("person_id", flat=True))
    assert {s.person_id for s in named} <= consented
    crisis = {s.pk for s in named if s.crisis == "1"}
    assert crisis and crisis == set(
        CrisisAlert.objects.filter(screening__isnull=False).values_list("screening_id", flat=True)
    )
    # Tallies count the anonymous rows per wave and group; nothing waits in a pool.
    counts = Counter((s.wave, s.group) for s in anon)
    assert dict(counts) == {
        (t.wave, t.group): t.count for t in AnonymousTally.objects.filter(kind="wellbeing")
    }
    assert not AnonymousPool.objects.filter(size__gt=0).exists()
    # The counselors' queue: open alerts for the primary counselor, one escalated, acknowledged ones with a case.
    primary = set(
        RoleGrant.objects.filter(role=Role.COUNSELOR, is_backup=False).values_list("user_id", flat=True)
    )
    open_alerts = CrisisAlert.objects.filter(state="open")
    assert open_alerts.exists() and all(a.counselor_id in primary for a in open_alerts)
    assert all(a.ack_due_at > NOW for a in open_alerts)
    assert CrisisAlert.objects.filter(
        state="escalated", escalated_at__isnull=False, acknowledged_at=None
    ).exists()
    acked = CrisisAlert.objects.filter(state="acknowledged")
    assert acked.exists()
    for a in acked:
        case = CounselingCase.objects.get(alert=a)
        assert case.counselor_id == a.counselor_id and case.notes.exists()
    assert any(c.closing_note for c in CounselingCase.objects.filter(state="closed"))
    assert set(ContactRequest.objects.values_list("state", flat=True)) == {"open", "contacted", "closed"}
    assert ctx.shared["accounts"].get("xinli") in primary


@pytest.mark.django_db
def test_it_uses_the_wellbeing_services_constants_and_adds_nothing_when_run_twice(demo_mode):
    from sizheng.care import wellbeing

    assert (care_demo.ANON_KIND, care_demo.DELETE_PURPOSE, care_demo.CODE_ALPHABET) == (
        wellbeing.KIND,
        wellbeing.DELETE_PURPOSE,
        wellbeing.CODE_ALPHABET,
    )
    with time_machine.travel(NOW, tick=False):
        ctx, _ = _generate()
        counts = (CareCase.objects.count(), Screening.objects.count(), AnonymousScreening.objects.count(),
                  CrisisAlert.objects.count())  # fmt: skip
        ctx.rng = random.Random("again")
        demo_care(ctx)
    assert counts == (CareCase.objects.count(), Screening.objects.count(), AnonymousScreening.objects.count(),
                      CrisisAlert.objects.count())  # fmt: skip
