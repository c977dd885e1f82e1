"""The anonymous pool: batches are shuffled and written only once they reach the threshold."""

import pytest
from django.test import override_settings

from sizheng.core import anonymous
from sizheng.core.models import AnonymousPool, AuditEvent

pytestmark = pytest.mark.django_db


class Sink:
    def __init__(self):
        self.batches: list[list[dict]] = []

    def __call__(self, items):
        self.batches.append(list(items))


@override_settings(ANONYMITY_MIN_GROUP=5)
def test_it_holds_answers_until_the_threshold_then_writes_one_batch():
    sink = Sink()
    for i in range(4):
        assert anonymous.pool_add("t", "2026-11", {"n": i}, writer=sink) is False
    assert sink.batches == []
    assert len(anonymous.pending("t", "2026-11")) == 4
    assert anonymous.pool_add("t", "2026-11", {"n": 4}, writer=sink) is True
    assert sorted(i["n"] for i in sink.batches[0]) == [0, 1, 2, 3, 4]
    assert anonymous.pending("t", "2026-11") == []
    assert AuditEvent.objects.count() == 0  # no per-answer audit row


def test_it_stores_the_pending_pool_encrypted():
    anonymous.pool_add("t", "2026-11", {"secret": "PLAINTEXT-XYZ"}, writer=Sink(), flush_at=10)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT payload FROM core_anonymouspool")
        (raw,) = cur.fetchone()
    assert "PLAINTEXT-XYZ" not in raw


def test_it_shuffles_batches():
    orders = set()
    for w in range(12):
        sink = Sink()
        for i in range(6):
            anonymous.pool_add("t", f"w{w}", {"n": i}, writer=sink, flush_at=6)
        orders.add(tuple(i["n"] for i in sink.batches[0]))
    assert len(orders) > 1


def test_it_flushes_the_rest_at_wave_close_and_removes_by_predicate():
    sink = Sink()
    for i in range(3):
        anonymous.pool_add("t", "2026-10", {"n": i, "code": f"c{i}"}, writer=sink, flush_at=10)
    assert anonymous.pool_remove("t", "2026-10", lambda item: item["code"] == "c1") == 1
    assert anonymous.waves_pending("t") == ["2026-10"]
    assert anonymous.pool_flush("t", "2026-10", writer=sink) == 2
    assert sorted(i["n"] for i in sink.batches[0]) == [0, 2]
    assert AnonymousPool.objects.get(kind="t", wave="2026-10").size == 0
    assert anonymous.pool_flush("t", "nothing", writer=sink) == 0


def test_it_counts_per_group():
    anonymous.tally("t", "2026-11", "org:1")
    anonymous.tally("t", "2026-11", "org:1", 2)
    anonymous.tally("t", "2026-11", "org:2")
    assert anonymous.tallies("t") == {("2026-11", "org:1"): 3, ("2026-11", "org:2"): 1}
