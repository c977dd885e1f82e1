"""The metrics registry: declarations, the tier × consumer rule, and O(1) queries per metric."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from sizheng.core import metrics
from sizheng.core.metrics import Consumer, Metric, MetricAccessError, Suppressed, Tier
from sizheng.core.models import Notification, User
from sizheng.core.testing import make_user


def _unread(targets, period):
    """Sample metric over users: unread notifications in the period (one query)."""
    rows = (
        Notification.objects.filter(user_id__in=targets, read_at__isnull=True)
        .values("user_id")
        .annotate(n=Count("id"))
    )
    return {r["user_id"]: r["n"] for r in rows}


SAMPLE = Metric("test.unread", "未读通知", "条", False, "month", Tier.T0, "org", _unread)


@pytest.fixture
def sample_metric():
    metrics.register(SAMPLE)
    yield SAMPLE
    metrics.REGISTRY.pop(SAMPLE.name, None)


def _targets(level: str, n: int) -> list[int]:
    """Targets for a level: the org app registers real factories; users stand in otherwise."""
    factory = metrics.TARGET_FACTORIES.get(level)
    if factory is not None:
        return factory(n)
    start = User.objects.count()
    users = [make_user(f"t{level}{start + i}") for i in range(n)]
    for u in users[::2]:
        Notification.objects.create(user=u, title="x")
    return [u.pk for u in users]


def test_it_refuses_t2_content_as_a_metric():
    with pytest.raises(ValueError, match="T2"):
        Metric("x.kind", "谈话类型", "次", True, "year", Tier.T2, "org", _unread)


def test_it_refuses_two_definitions_of_one_number(sample_metric):
    with pytest.raises(ValueError, match="只能有一个定义"):
        metrics.register(
            Metric("test.unread", "又一个", "条", False, "month", Tier.T0, "org", lambda t, p: {})
        )


def test_it_applies_the_tier_rule(settings):
    t3 = Metric("x.screen", "筛查人数", "人", False, "quarter", Tier.T3, "org", lambda t, p: {})
    meta = Metric("x.cov", "谈话覆盖率", "%", True, "year", Tier.T2_META, "org", lambda t, p: {})
    assert metrics.allowed(meta, Consumer.ASSESSMENT) and metrics.allowed(meta, Consumer.DASHBOARD)
    assert not metrics.allowed(t3, Consumer.ASSESSMENT)
    assert not metrics.allowed(t3, Consumer.DASHBOARD)
    assert metrics.allowed(t3, Consumer.COUNSELOR)
    settings.ANONYMITY_MIN_GROUP = 5
    assert not metrics.allowed(t3, Consumer.LEADER, group_size=4)
    assert metrics.allowed(t3, Consumer.LEADER, group_size=5)
    metrics.register(t3)
    try:
        with pytest.raises(MetricAccessError):
            metrics.compute("x.screen", [1], None, consumer=Consumer.ASSESSMENT)
        assert "x.screen" not in {m.name for m in metrics.for_consumer(Consumer.ASSESSMENT)}
    finally:
        metrics.REGISTRY.pop("x.screen")


@pytest.mark.django_db
def test_it_reports_a_missing_value_as_suppressed_never_zero(sample_metric):
    user = make_user("lonely")
    values = metrics.compute("test.unread", [user.pk], None, consumer=Consumer.DASHBOARD)
    assert isinstance(values[user.pk], Suppressed)


def _registered_names():
    return sorted(metrics.REGISTRY) or []


@pytest.mark.django_db
@pytest.mark.parametrize("name", [*_registered_names(), SAMPLE.name])
def test_it_computes_every_metric_in_the_same_queries_for_1_and_50_targets(name):
    added = name == SAMPLE.name and name not in metrics.REGISTRY
    if added:
        metrics.register(SAMPLE)
    try:
        m = metrics.get(name)
        period = metrics.period_of(m.period_kind, date(2026, 6, 15))
        consumer = Consumer.COUNSELOR if m.tier == Tier.T3 else Consumer.DASHBOARD
        one, fifty = _targets(m.level, 1), _targets(m.level, 50)
        with CaptureQueriesContext(connection) as q1:
            metrics.compute(name, one, period, consumer=consumer)
        with CaptureQueriesContext(connection) as q50:
            values = metrics.compute(name, fifty, period, consumer=consumer)
        assert len(q1.captured_queries) == len(q50.captured_queries) <= 5
        assert set(values) == set(fifty)
    finally:
        if added:
            metrics.REGISTRY.pop(name, None)
