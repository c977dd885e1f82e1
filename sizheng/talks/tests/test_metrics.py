"""Talks' metrics on a small example: coverage rate, triggered talks on time, held talks."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sizheng.core import metrics
from sizheng.core.metrics import Consumer, Suppressed, Tier
from sizheng.core.rules import Period
from sizheng.talks import coverage
from sizheng.talks.models import Status, Talk, TalkParticipant, TalkTrigger, TriggerReason

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
YEAR = Period.of("year", 2026)


@pytest.fixture(autouse=True)
def _today(db):
    coverage.coverage_rules_install_defaults()
    with time_machine.travel(datetime(2026, 11, 20, 10, tzinfo=SH), tick=False):
        yield


def talk(org, initiator, *others, on=date(2026, 3, 2), status=Status.HELD) -> Talk:
    t = Talk.objects.create(org=org, initiator=initiator, held_on=on, status=status)
    TalkParticipant.objects.create(talk=t, person=initiator, is_initiator=True)
    for p in others:
        TalkParticipant.objects.create(talk=t, person=p)
    return t


def values(name, *orgs):
    return metrics.compute(name, [o.pk for o in orgs], YEAR, consumer=Consumer.DASHBOARD)


def test_it_declares_the_talk_metrics_as_yearly_org_metrics_of_metadata():
    for name in ("talks.coverage_rate", "talks.triggered_on_time", "talks.held_count"):
        m = metrics.get(name)
        assert (m.tier, m.level, m.period_kind) == (Tier.T2_META, "org", "year")
        assert metrics.allowed(m, Consumer.ASSESSMENT)


def test_it_gives_the_share_of_bound_members_whose_branch_talk_is_done(cast):
    sec_a, member = cast.person(cast.secretary_a), cast.person(cast.member)
    talk(cast.branch_a1, sec_a, member)
    v = values("talks.coverage_rate", cast.branch_a1, cast.committee_a, cast.root, cast.branch_c)
    # A1: 王建国 (the only 支委, talked with a member) and 刘洋 met, 赵敏 not yet: 2 of 3.
    assert v[cast.branch_a1.pk] == v[cast.committee_a.pk] == 66.7
    # The root adds B1's secretary (bound, no talk); branch C and A2 have no 支委, so bind nobody.
    assert v[cast.root.pk] == 50.0
    assert v[cast.branch_c.pk] == Suppressed("无数据")


def test_it_gives_the_share_of_due_triggers_done_with_a_talk_by_their_due_date(cast):
    member, sec = cast.person(cast.member), cast.person(cast.secretary_a)
    on_time = talk(cast.branch_a1, sec, member, on=date(2026, 5, 10))
    late = talk(cast.branch_a1, sec, member, on=date(2026, 6, 20))

    def trigger(due_on, state=TalkTrigger.State.OPEN, with_talk=None, org=cast.branch_a1):
        TalkTrigger.objects.create(person=member, org=org, reason=TriggerReason.WARNING, occurred_on=date(2026, 1, 5),
                                   due_on=due_on, state=state, talk=with_talk)  # fmt: skip

    trigger(date(2026, 5, 12), TalkTrigger.State.DONE, on_time)
    trigger(date(2026, 6, 1), TalkTrigger.State.DONE, late)
    trigger(date(2026, 7, 1))  # open and past due
    trigger(date(2026, 12, 1))  # open, not yet due: not counted
    trigger(date(2026, 3, 1), TalkTrigger.State.CANCELLED)  # cancelled: not counted
    trigger(date(2025, 12, 1), TalkTrigger.State.DONE, on_time)  # another year
    v = values("talks.triggered_on_time", cast.branch_a1, cast.committee_a, cast.branch_b1)
    assert v[cast.branch_a1.pk] == v[cast.committee_a.pk] == round(100 / 3, 1)
    assert isinstance(v[cast.branch_b1.pk], Suppressed)


def test_it_counts_held_talks_recorded_in_the_subtree(cast):
    sec_a, member, leader = cast.person(cast.secretary_a), cast.person(cast.member), cast.person(cast.leader)
    talk(cast.branch_a1, sec_a, member)
    talk(cast.branch_a1, sec_a, member, on=date(2026, 9, 9))
    talk(cast.branch_a1, sec_a, member, status=Status.PLANNED)
    talk(cast.branch_a1, sec_a, member, on=date(2025, 9, 9))
    talk(cast.branch_a2, leader, member)
    v = values("talks.held_count", cast.branch_a1, cast.committee_a, cast.root, cast.branch_c)
    assert (v[cast.branch_a1.pk], v[cast.committee_a.pk], v[cast.root.pk], v[cast.branch_c.pk]) == (
        2,
        3,
        3,
        0,
    )


@pytest.mark.parametrize("name", ["talks.coverage_rate", "talks.triggered_on_time", "talks.held_count"])
def test_it_runs_the_same_queries_for_one_target_as_for_every_org_with_data(cast, name):
    sec_a, member = cast.person(cast.secretary_a), cast.person(cast.member)
    talk(cast.branch_a1, sec_a, member)
    TalkTrigger.objects.create(person=member, org=cast.branch_a1, reason=TriggerReason.WARNING,
                               occurred_on=date(2026, 1, 5), due_on=date(2026, 1, 19))  # fmt: skip
    with CaptureQueriesContext(connection) as one:
        values(name, cast.branch_a1)
    with CaptureQueriesContext(connection) as many:
        values(
            name, cast.branch_a1, cast.branch_a2, cast.committee_a, cast.root, cast.branch_b1, cast.branch_c
        )
    assert len(one.captured_queries) == len(many.captured_queries) <= 5
