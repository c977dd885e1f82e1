"""The funds demo: two years of budgets and spending for every unit, some under-spending, one overspending."""

from __future__ import annotations

import random

import pytest
from django.utils import timezone

from sizheng.core import demo as core_demo
from sizheng.duties.models import Duty, SourceKind
from sizheng.funds import queries
from sizheng.funds.demo import demo_funds
from sizheng.funds.models import Budget, Spending
from sizheng.org.demo import demo_city
from sizheng.org.models import Unit


@pytest.fixture
def demo_mode(settings):
    settings.DEMO = True


def _ctx(name: str, seed: int = 5) -> core_demo.DemoContext:
    return core_demo.DemoContext(
        scale=0.1, seed=seed, rng=random.Random(f"{seed}:{name}"), log=lambda _m: None
    )


@pytest.mark.django_db
def test_it_writes_two_years_for_every_unit_with_under_and_over_spending(demo_mode):
    ctx = _ctx("org.city")
    demo_city(ctx)
    ctx.rng = random.Random("5:funds.history")
    demo_funds(ctx)
    today = timezone.localdate()
    units = list(Unit.objects.filter(is_active=True).values_list("pk", flat=True))
    for year in (today.year - 1, today.year):
        assert set(Budget.objects.filter(year=year).values_list("unit_id", flat=True)) == set(units)
    assert not Spending.objects.filter(spent_on__gt=today).exists()
    assert Spending.objects.filter(amount__lt=0).count() == 0
    # Awkward cents, not round numbers.
    assert Spending.objects.exclude(amount__endswith=".00").count() > Spending.objects.count() // 2
    this_year = queries.executions(units, today.year, today)
    assert sum(1 for ex in this_year.values() if ex.overspent_categories) >= 1
    if today.month >= 10:
        assert sum(1 for ex in this_year.values() if ex.underspent) >= 1
        assert Duty.objects.filter(source_kind=SourceKind.FUNDS).exists()
    last_year = queries.executions(units, today.year - 1, today)
    assert sum(1 for ex in last_year.values() if ex.underspent) >= 1
    assert sum(1 for ex in last_year.values() if not ex.warnings) >= len(units) // 2
    before = Spending.objects.count()
    demo_funds(ctx)  # a second run leaves the data alone
    assert Spending.objects.count() == before


@pytest.mark.django_db
def test_it_links_spending_to_the_units_own_meetings_sessions_and_care_cases(demo_mode):
    from sizheng.care.demo import demo_care
    from sizheng.care.models import CareCase
    from sizheng.life.demo import demo_life
    from sizheng.life.models import Meeting
    from sizheng.study.demo import demo_study
    from sizheng.study.models import StudySession

    ctx = _ctx("org.city")
    demo_city(ctx)
    for name, func in (("life.history", demo_life), ("study.history", demo_study), ("care.history", demo_care),
                       ("funds.history", demo_funds)):  # fmt: skip
        ctx.rng = random.Random(f"5:{name}")
        func(ctx)
    linked = Spending.objects.exclude(activity_kind="")
    kinds = set(linked.values_list("activity_kind", flat=True))
    assert kinds == {"meeting", "study_session", "care_case"}
    for s in linked.filter(activity_kind="meeting")[:50]:
        assert Meeting.objects.filter(pk=s.activity_id, org__units=s.unit_id).exists()
    for s in linked.filter(activity_kind="study_session")[:50]:
        assert StudySession.objects.filter(pk=s.activity_id, meeting__org__units=s.unit_id).exists()
    for s in linked.filter(activity_kind="care_case")[:50]:
        assert CareCase.objects.filter(pk=s.activity_id, unit_id=s.unit_id).exists()
        assert s.category == "care"
