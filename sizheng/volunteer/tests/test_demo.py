"""The volunteer demo: two years of activities with confirmed hours, civility applications in every state."""

from __future__ import annotations

import random

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from sizheng.core import demo as core_demo
from sizheng.core.models import AuditEvent
from sizheng.org.demo import demo_city
from sizheng.volunteer.demo import demo_volunteer
from sizheng.volunteer.models import (
    SEAT_STATUSES,
    Activity,
    ActivityState,
    Application,
    ApplicationState,
    CivilityKind,
    Signup,
    SignupStatus,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_mode(settings):
    """Demo accounts are only created in demo mode."""
    settings.DEMO = True


def _generate(seed: int = 5) -> tuple[core_demo.DemoContext, int]:
    ctx = core_demo.DemoContext(
        scale=0.1, seed=seed, rng=random.Random(f"{seed}:org.city"), log=lambda _m: None
    )
    demo_city(ctx)
    audit = AuditEvent.objects.count()
    ctx.rng = random.Random(f"{seed}:volunteer.history")
    demo_volunteer(ctx)
    return ctx, audit


def test_it_writes_two_years_of_activities_with_confirmed_hours_and_no_audit_rows(demo_mode):
    ctx, audit = _generate()
    assert AuditEvent.objects.count() == audit
    year = timezone.localdate().year
    years = set(Activity.objects.values_list("starts_at__year", flat=True))
    assert {year - 1, year} <= years
    states = set(Activity.objects.values_list("state", flat=True))
    assert {ActivityState.DONE, ActivityState.OPEN, ActivityState.CANCELLED} <= states
    assert Activity.objects.values("campaign").distinct().count() >= 10
    attended = Signup.objects.filter(status=SignupStatus.ATTENDED)
    assert attended.exists() and not attended.filter(hours__isnull=True).exists()
    assert not Signup.objects.exclude(status=SignupStatus.ATTENDED).filter(hours__isnull=False).exists()
    seats = Count("signups", filter=Q(signups__status__in=SEAT_STATUSES))
    for a in Activity.objects.annotate(n=seats)[:200]:
        assert a.seats_taken == a.n
        assert a.capacity is None or a.seats_taken <= a.capacity
    for s in attended.select_related("activity")[:500]:
        assert s.hours <= s.activity.duration_hours
    member = ctx.shared["demo_person_ids"]["dangyuan"]
    assert Signup.objects.filter(person_id=member, status=SignupStatus.ATTENDED).exists()


def test_it_writes_civility_applications_in_every_state_and_kind(demo_mode):
    _generate()
    assert set(Application.objects.values_list("state", flat=True)) == set(ApplicationState.values)
    assert set(Application.objects.values_list("kind", flat=True)) == set(CivilityKind.values)
    today = timezone.localdate()
    assert Application.objects.filter(state=ApplicationState.APPROVED, valid_until__lt=today).count() == 0
    assert not Application.objects.filter(state=ApplicationState.EXPIRED, valid_until__gte=today).exists()
    submitted = Application.objects.exclude(state=ApplicationState.DRAFT).prefetch_related("items")
    for a in submitted:
        assert all(i.note for i in a.items.all())


def test_it_is_deterministic_and_skips_a_second_run(demo_mode):
    ctx, _ = _generate(seed=7)
    first = list(Activity.objects.order_by("pk").values_list("title", "org_id", "starts_at", "state"))
    n = Signup.objects.count()
    ctx.rng = random.Random("7:volunteer.history")
    demo_volunteer(ctx)
    assert Signup.objects.count() == n
    assert first and len(first) == Activity.objects.count()


def test_it_renders_the_screens_on_the_demo(client, demo_mode):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    _generate(seed=3)
    users = get_user_model().objects.in_bulk(
        ["gongwei", "dangyuan", "lingdao", "shuji_a"], field_name="username"
    )
    pages = ["activities", "overview", "civility_overview", "applications", "mine", "campaigns", "criteria"]
    for username, user in users.items():
        client.force_login(user)
        for name in pages:
            status = client.get(reverse(f"volunteer:{name}")).status_code
            assert status in (200, 403), (username, name, status)
    client.force_login(users["gongwei"])
    for act in Activity.objects.order_by("pk")[:5]:
        assert client.get(reverse("volunteer:activity_detail", args=[act.pk])).status_code == 200
    for app in Application.objects.order_by("pk")[:8]:
        assert client.get(reverse("volunteer:application_detail", args=[app.pk])).status_code == 200
