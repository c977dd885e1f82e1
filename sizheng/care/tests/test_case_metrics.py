"""Care-case metrics on a small example: resolved rate, days to resolve, satisfaction (suppressed below
the anonymity threshold), re-open rate — per org subtree, in a constant number of queries."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sizheng.care import metrics as care_metrics  # noqa: F401  (registers the metrics)
from sizheng.care.models import CareCase, CaseState, Handler, OpenedVia
from sizheng.core import metrics
from sizheng.core.metrics import Consumer, Suppressed, Tier
from sizheng.core.rules import Period
from sizheng.org.testing import make_person

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
YEAR = Period.of("year", 2026)
NAMES = ("care.resolved_rate", "care.days_to_resolve", "care.satisfaction", "care.reopen_rate")


def _at(y, m, d):
    return datetime(y, m, d, 9, tzinfo=SH)


def _case(
    person, org, opened, state=CaseState.ACCEPTED, resolved=None, followed=None, satisfaction=None, reopen=0
):
    return CareCase.objects.create(
        person=person, org=org, unit=person.unit, opened_via=OpenedVia.SELF, handler=Handler.SECRETARY,
        handler_org=org, category="other", description="x", state=state, opened_at=opened,
        resolved_at=resolved, followed_up_at=followed, satisfaction=satisfaction, reopen_count=reopen,
    )  # fmt: skip


@pytest.fixture
def example(cast):
    a = cast.person(cast.member)
    b = cast.person(cast.secretary_b)
    _case(a, cast.branch_a1, _at(2026, 2, 1), CaseState.FOLLOWED_UP, _at(2026, 2, 11), _at(2026, 2, 20), 4)
    _case(a, cast.branch_a1, _at(2026, 3, 1), CaseState.RESOLVED, _at(2026, 3, 6), reopen=1)
    _case(a, cast.branch_a1, _at(2026, 4, 1), CaseState.IN_PROGRESS)
    _case(b, cast.branch_b1, _at(2026, 5, 1))
    _case(b, cast.branch_b1, _at(2025, 12, 1), CaseState.RESOLVED, _at(2026, 1, 1))
    return cast


def _values(name, cast, targets):
    return metrics.compute(name, [t.pk for t in targets], YEAR, consumer=Consumer.DASHBOARD)


def test_it_declares_the_care_metrics_as_t2_metadata_per_org_and_year():
    for name in NAMES:
        m = metrics.get(name)
        assert (m.tier, m.level, m.period_kind) == (Tier.T2_META, "org", "year")
    assert not metrics.get("care.days_to_resolve").higher_is_better
    assert not metrics.get("care.reopen_rate").higher_is_better
    assert metrics.get("care.resolved_rate").higher_is_better


def test_it_computes_the_resolved_rate_per_subtree(example):
    cast = example
    v = _values(
        "care.resolved_rate",
        cast,
        [cast.branch_a1, cast.committee_a, cast.branch_b1, cast.root, cast.branch_c],
    )
    assert v[cast.branch_a1.pk] == 66.7 and v[cast.committee_a.pk] == 66.7
    assert v[cast.branch_b1.pk] == 0.0 and v[cast.root.pk] == 50.0
    assert isinstance(v[cast.branch_c.pk], Suppressed)


def test_it_computes_the_mean_days_to_resolve_for_cases_resolved_in_the_period(example):
    cast = example
    v = _values("care.days_to_resolve", cast, [cast.branch_a1, cast.branch_b1, cast.root, cast.branch_c])
    assert v[cast.branch_a1.pk] == 7.5 and v[cast.branch_b1.pk] == 31.0 and v[cast.root.pk] == 15.3
    assert isinstance(v[cast.branch_c.pk], Suppressed)


def test_it_computes_the_reopen_rate_among_cases_resolved_at_least_once(example):
    cast = example
    v = _values("care.reopen_rate", cast, [cast.branch_a1, cast.branch_b1, cast.root])
    assert v[cast.branch_a1.pk] == 50.0 and v[cast.root.pk] == 50.0
    assert isinstance(v[cast.branch_b1.pk], Suppressed)


def test_it_suppresses_satisfaction_below_the_anonymity_threshold(example, settings):
    cast = example
    settings.ANONYMITY_MIN_GROUP = 5
    v = _values("care.satisfaction", cast, [cast.branch_a1, cast.root])
    assert isinstance(v[cast.branch_a1.pk], Suppressed) and "不足 5 条" in v[cast.branch_a1.pk].reason
    person = make_person("吴强", cast.unit_a, org=cast.branch_a2)
    for score in (5, 5, 3, 4):
        _case(
            person,
            cast.branch_a2,
            _at(2026, 6, 1),
            CaseState.FOLLOWED_UP,
            _at(2026, 6, 5),
            _at(2026, 6, 9),
            score,
        )
    v = _values("care.satisfaction", cast, [cast.branch_a1, cast.branch_a2, cast.committee_a, cast.root])
    assert v[cast.committee_a.pk] == 4.2 and v[cast.root.pk] == 4.2
    assert isinstance(v[cast.branch_a1.pk], Suppressed) and isinstance(v[cast.branch_a2.pk], Suppressed)
    settings.ANONYMITY_MIN_GROUP = 3
    assert _values("care.satisfaction", cast, [cast.branch_a2])[cast.branch_a2.pk] == 4.25


@pytest.mark.parametrize("name", NAMES)
def test_it_uses_the_same_queries_for_one_and_many_targets(example, name):
    cast = example
    with CaptureQueriesContext(connection) as one:
        _values(name, cast, [cast.branch_a1])
    with CaptureQueriesContext(connection) as many:
        _values(name, cast, [cast.branch_a1, cast.branch_a2, cast.committee_a, cast.branch_b1, cast.root])
    assert len(one.captured_queries) == len(many.captured_queries) <= 2
