"""Compare-and-swap on ``version``: one winner among concurrent transitions, 409 for the rest."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection

from sizheng.core.apitools import Conflict
from sizheng.core.models import AuditEvent, User
from sizheng.core.testing import skip_unless_required
from sizheng.duties import services
from sizheng.duties.models import Duty, DutyEvent, State

THREADS = 20


def _open(cast) -> Duty:
    return services.duty_open(
        org=cast.branch_a1,
        title="开展主题党日活动",
        due_on=date(2026, 12, 30),
        actor=cast.committee_admin,
        assigning_org=cast.root,
        owner=cast.person(cast.member),
    )


@pytest.mark.django_db(transaction=True)
def test_it_lets_exactly_one_of_20_concurrent_transitions_win_on_postgresql(cast):
    if connection.vendor != "postgresql":
        # .ci/run's PostgreSQL phase sets SIZHENG_REQUIRE_POSTGRES=1: there this test must run.
        skip_unless_required(
            "SIZHENG_REQUIRE_POSTGRES",
            "需要 PostgreSQL：SQLite 的测试库不能在多个线程的连接之间共享（设置 DATABASE_URL 后运行）。",
        )
    duty_pk = _open(cast).pk
    # The owner, the branch secretary and its org_admin all stand on the owner side.
    actor_pks = [cast.member.pk, cast.secretary_a.pk, cast.org_admin.pk]
    barrier = threading.Barrier(THREADS, timeout=60)
    results: list[str] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        outcome = "error"
        try:
            actor = User.objects.get(pk=actor_pks[i % len(actor_pks)])
            duty = Duty.objects.select_related("assignee_org", "assigning_org").get(pk=duty_pk)
            services.sides_of(actor, duty)  # warm this thread's caches so the race is on the write
            barrier.wait()
            services.duty_transition(duty=duty, action="accept", actor=actor, version=1, comment=f"线程{i}")
            outcome = "ok"
        except Conflict as exc:
            # Every copy was loaded at version 1 before anyone wrote: the losers meet the compare-and-swap.
            outcome = "conflict" if "已被他人处理" in str(exc) else f"unexpected conflict: {exc}"
        except Exception as exc:  # noqa: BLE001  (reported in the assertion below)
            outcome = f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(results) == ["conflict"] * (THREADS - 1) + ["ok"], results
    duty = Duty.objects.get(pk=duty_pk)
    assert (duty.state, duty.version) == (State.ACCEPTED, 2)
    assert DutyEvent.objects.filter(duty_id=duty_pk, action="accept").count() == 1
    assert AuditEvent.objects.filter(action="duty_accept", object_id=str(duty_pk)).count() == 1


@pytest.mark.django_db
def test_it_refuses_a_stale_in_memory_copy_with_409(cast):
    first = _open(cast)
    second = Duty.objects.get(pk=first.pk)  # another browser tab, loaded at version 1
    services.duty_transition(duty=first, action="accept", actor=cast.member, version=1)
    # The stale copy still says "assigned, version 1": only the compare-and-swap can catch it.
    assert (second.state, second.version) == (State.ASSIGNED, 1)
    with pytest.raises(Conflict, match="已被他人处理"):
        services.duty_transition(duty=second, action="accept", actor=cast.secretary_a, version=1)
    with pytest.raises(Conflict, match="已被他人处理"):
        services.duty_transition(
            duty=second, action="cancel", actor=cast.committee_admin, version=1, reason="重复。"
        )
    duty = Duty.objects.get(pk=first.pk)
    assert (duty.state, duty.version) == (State.ACCEPTED, 2)
    assert list(DutyEvent.objects.filter(duty=duty).values_list("action", flat=True)) == ["open", "accept"]
    assert not AuditEvent.objects.filter(action="duty_cancel").exists()


@pytest.mark.django_db
def test_it_refuses_a_stale_version_even_when_the_state_still_allows_the_action(cast):
    duty = _open(cast)
    duty = services.duty_transition(duty=duty, action="urge", actor=cast.committee_admin, version=1)
    stale = Duty.objects.get(pk=duty.pk)
    services.duty_transition(duty=duty, action="urge", actor=cast.committee_admin, version=2)
    with pytest.raises(Conflict):
        services.duty_transition(duty=stale, action="urge", actor=cast.committee_admin, version=2)
    assert Duty.objects.get(pk=duty.pk).version == 3
    assert DutyEvent.objects.filter(duty=duty, action="urge").count() == 2
