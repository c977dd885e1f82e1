"""The value cache: keyed by metric, period and targets; refuses what the tier forbids before any
cache read; ``forget`` starts afresh; values, never HTML."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from sizheng.core import metrics as registry
from sizheng.core.metrics import Consumer, Metric, MetricAccessError, Suppressed, Tier
from sizheng.core.rules import Period
from sizheng.dashboard import metrics as dash

Q2 = Period.parse("2026-Q2")
calls: list[list[int]] = []


def _fake(targets, period):
    calls.append(list(targets))
    return {t: t * 10.0 for t in targets if t != 3}


@pytest.fixture
def fake(monkeypatch):
    calls.clear()
    for name, tier in (("test.t0", Tier.T0), ("test.t3", Tier.T3)):
        monkeypatch.setitem(
            registry.REGISTRY, name, Metric(name, "测试", "%", True, "quarter", tier, "org", _fake)
        )
    yield


def test_values_are_cached_per_metric_period_and_target_set(fake):
    first = dash.values("test.t0", [2, 1, 3], Q2)
    assert first == {2: 20.0, 1: 10.0, 3: Suppressed("无数据")}
    assert dash.values("test.t0", [1, 2, 3, 3], Q2) == first  # same set: from the cache
    assert calls == [[2, 1, 3]]
    dash.values("test.t0", [1, 2], Q2)  # another set: computed
    dash.values("test.t0", [1, 2, 3], Period.parse("2026-Q3"))  # another period: computed
    assert len(calls) == 3
    dash.forget()
    dash.values("test.t0", [1, 2, 3], Q2)
    assert len(calls) == 4


def test_the_tier_rule_comes_before_the_cache(fake):
    key = dash.cache_key("test.t3", Q2.key, [1])
    cache.set(key, {1: 99.0})
    with pytest.raises(MetricAccessError):
        dash.values("test.t3", [1], Q2)
    with pytest.raises(MetricAccessError):
        dash.values_many([("test.t0", Q2), ("test.t3", Q2)], [1])
    assert calls == []


def test_no_targets_no_work(fake):
    assert dash.values("test.t0", [], Q2) == {}
    assert calls == []


def test_a_digest_ignores_order_and_repeats():
    assert dash.digest([3, 1, 2, 2]) == dash.digest([1, 2, 3]) != dash.digest([1, 2])


def test_the_leader_consumer_is_kept(fake):
    assert dash.values("test.t0", [1], Q2, consumer=Consumer.LEADER) == {1: 10.0}
