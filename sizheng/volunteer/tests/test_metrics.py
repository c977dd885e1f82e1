"""The volunteer metrics: only confirmed participation counts, per org subtree; civility status per unit."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine

from sizheng.core import metrics
from sizheng.core.metrics import Consumer, Suppressed
from sizheng.core.rules import Period
from sizheng.volunteer import services
from sizheng.volunteer.models import Signup
from sizheng.volunteer.services import Confirmation
from sizheng.volunteer.tests.helpers import NOW, SH, activity, after, application, fill

pytestmark = pytest.mark.django_db
YEAR = Period.of("year", 2026)


def _compute(name: str, targets: list[int], period=YEAR) -> dict:
    return metrics.compute(name, targets, period, consumer=Consumer.DASHBOARD)


def _held(cast, *, confirm: dict | None = None, start=None, org=None):
    """An A1 activity the member and the 党务干部 signed up for; confirmed as ``confirm`` says."""
    kwargs = {"start": start} if start else {}
    with time_machine.travel(NOW if start is None else start - timedelta(days=7), tick=False):
        act = activity(cast, org=org, **kwargs)
        services.signup_create(actor=cast.member, activity=act)
        services.signup_create(actor=cast.org_admin, activity=act)
    if confirm is not None:
        rows = [
            Confirmation(Signup.objects.get(activity=act, person=cast.person(u)).pk, hours is not None, hours)
            for u, hours in confirm.items()
        ]
        with time_machine.travel(after(act), tick=False):
            services.attendance_confirm(actor=cast.secretary_a, activity=act, version=act.version, rows=rows)
    return act


def test_it_counts_no_unconfirmed_hours_or_participation(cast):
    _held(cast)  # over, signed up, never confirmed
    a1, committee, root = cast.branch_a1.pk, cast.committee_a.pk, cast.root.pk
    assert _compute("volunteer.confirmed_hours", [a1, committee, root]) == {
        a1: 0.0,
        committee: 0.0,
        root: 0.0,
    }
    assert _compute("volunteer.participation_rate", [a1])[a1] == 0.0


def test_it_counts_confirmed_hours_and_members_with_a_participation_by_subtree(cast):
    _held(cast, confirm={cast.member: "2.5", cast.org_admin: None})  # the 党务干部 was absent
    a1, a2, committee, root = cast.branch_a1.pk, cast.branch_a2.pk, cast.committee_a.pk, cast.root.pk
    hours = _compute("volunteer.confirmed_hours", [a1, a2, committee, root])
    assert hours == {a1: 2.5, a2: 0.0, committee: 2.5, root: 2.5}
    rate = _compute("volunteer.participation_rate", [a1, a2, committee, root])
    # A1 has 3 members (secretary, 党务干部, member), A2 one (the leader); the tree 6 with B1 and C.
    assert rate == {a1: 33.3, a2: 0.0, committee: 25.0, root: 16.7}


def test_it_counts_a_person_once_and_only_in_the_period(cast):
    _held(cast, confirm={cast.member: "3", cast.org_admin: "3"})
    second = _held(cast, confirm={cast.member: "1", cast.org_admin: None},
                   start=datetime(2026, 4, 14, 9, 0, tzinfo=SH))  # fmt: skip
    assert second.starts_at.year == 2026
    a1 = cast.branch_a1.pk
    assert _compute("volunteer.participation_rate", [a1])[a1] == 66.7
    assert _compute("volunteer.confirmed_hours", [a1])[a1] == 7.0
    last_year = Period.of("year", 2025)
    assert _compute("volunteer.confirmed_hours", [a1], last_year)[a1] == 0.0


def test_it_suppresses_orgs_without_members(cast):
    lg = cast.leading_a.pk
    assert isinstance(_compute("volunteer.participation_rate", [lg])[lg], Suppressed)
    assert isinstance(_compute("volunteer.confirmed_hours", [lg])[lg], Suppressed)


def test_it_reports_the_civility_title_held_on_the_periods_end(cast):
    with time_machine.travel(NOW, tick=False):
        app = fill(application(cast), cast.org_admin)
        services.application_transition(
            actor=cast.org_admin, application=app, action="submit", version=app.version
        )
        services.application_transition(actor=cast.committee_admin, application=app, action="approve",
                                        version=app.version, valid_years=3)  # fmt: skip
    a, b = cast.unit_a.pk, cast.unit_b.pk
    name = "civility.status"
    assert _compute(name, [a, b]) == {a: 1, b: 0}
    assert _compute(name, [a], Period.of("year", 2025)) == {a: 0}
    assert _compute(name, [a], Period.of("year", 2028)) == {a: 1}
    assert _compute(name, [a], Period.of("year", 2029)) == {a: 0}  # valid until 2029-03-09


def test_it_registers_the_three_metrics():
    for name in ("volunteer.participation_rate", "volunteer.confirmed_hours", "civility.status"):
        m = metrics.get(name)
        assert m.period_kind == "year" and m.tier == "T0"
    assert metrics.get("civility.status").level == "unit"
