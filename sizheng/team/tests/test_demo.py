"""The team demo: a register for the demo city with full-time cadres, 骨干, history and a couple of gaps."""

from __future__ import annotations

import random

import pytest
from django.utils import timezone

from sizheng.core import demo as core_demo
from sizheng.core.models import AuditEvent, User
from sizheng.life.demo import demo_life
from sizheng.org.demo import demo_city
from sizheng.org.models import Org, OrgRole
from sizheng.team import coverage, records
from sizheng.team.demo import demo_team
from sizheng.team.models import ExternalTraining, TeamMember


@pytest.fixture
def demo_mode(settings):
    """Demo accounts are only created in demo mode."""
    settings.DEMO = True


def _generate(scale: float = 0.1, seed: int = 5) -> int:
    """City, life and team, each with its own stream like ``run_all``; returns the audit count before team."""
    ctx = core_demo.DemoContext(
        scale=scale, seed=seed, rng=random.Random(f"{seed}:org.city"), log=lambda _m: None
    )
    demo_city(ctx)
    ctx.rng = random.Random(f"{seed}:life.history")
    demo_life(ctx)
    audit = AuditEvent.objects.count()
    ctx.rng = random.Random(f"{seed}:team.register")
    demo_team(ctx)
    return audit


@pytest.mark.django_db
def test_it_writes_a_register_with_a_couple_of_gaps_and_no_audit_rows(demo_mode):
    audit = _generate()
    assert AuditEvent.objects.count() == audit
    today = timezone.localdate()
    current = TeamMember.objects.current()
    # Every live branch's current secretary is a part-time 党务干部 of it.
    secretaries = OrgRole.objects.filter(
        title=OrgRole.Title.SECRETARY, org__kind=Org.Kind.BRANCH, org__dissolved_on__isnull=True,
        starts_on__lte=today, person__left_on__isnull=True,
    ).exclude(ends_on__lt=today)  # fmt: skip
    for r in secretaries:
        assert current.filter(
            person_id=r.person_id, org_id=r.org_id, role="party_cadre", is_full_time=False
        ).exists()
    assert current.filter(role="party_cadre", is_full_time=True).exists()
    assert current.filter(role="backbone", subtype="young_cadre").exists()
    assert TeamMember.objects.filter(until__isnull=False).exists()  # history: ended terms
    assert ExternalTraining.objects.exists()
    result = coverage.compute(today.year)
    gaps = result.gaps()
    assert 1 <= len(gaps) <= 6
    assert {c.rule.code for _row, c in gaps} == {coverage.TEAM_1, "TEAM-2"}
    met, judged = result.summary(coverage.TEAM_1)
    assert judged > met > 0
    # The demo personas have records, with training hours from the meetings they attended.
    shuji = User.objects.get(username="shuji_a").person
    entry = TeamMember.objects.filter(person=shuji).first()
    assert entry is not None
    assert records.training_record(shuji.pk, today.year - 1).hours > 0


@pytest.mark.django_db
def test_it_is_deterministic_and_runs_once(demo_mode):
    _generate()
    first = list(
        TeamMember.objects.order_by("pk").values_list("person_id", "org_id", "role", "is_full_time", "since")
    )
    ctx = core_demo.DemoContext(scale=0.1, seed=5, rng=random.Random("5:team.register"), log=lambda _m: None)
    demo_team(ctx)  # a register exists: skipped
    assert TeamMember.objects.count() == len(first)
    TeamMember.covers.through.objects.all().delete()
    ExternalTraining.objects.all().delete()
    TeamMember.objects.all().delete()
    demo_team(
        core_demo.DemoContext(scale=0.1, seed=5, rng=random.Random("5:team.register"), log=lambda _m: None)
    )
    again = list(
        TeamMember.objects.order_by("pk").values_list("person_id", "org_id", "role", "is_full_time", "since")
    )
    assert again == first
