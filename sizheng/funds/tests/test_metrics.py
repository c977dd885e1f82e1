"""The funds metrics: in the registry, per unit and year, suppressed (never zero) where they cannot be computed."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from sizheng.core import metrics
from sizheng.core.metrics import Consumer, Suppressed, Tier
from sizheng.funds.tests.conftest import budget, spend
from sizheng.org.models import Person

pytestmark = pytest.mark.django_db
NAMES = ("funds.execution_rate", "funds.spending_per_member", "funds.has_budget")


def test_it_registers_the_funds_metrics_per_unit_and_year():
    for name in NAMES:
        m = metrics.get(name)
        assert (m.level, m.period_kind, m.tier) == ("unit", "year", Tier.T0)
        assert m in metrics.for_consumer(Consumer.ASSESSMENT)


@time_machine.travel(date(2026, 8, 1), tick=False)
def test_it_computes_execution_spending_per_member_and_has_budget(fc):
    budget(fc, study="300", care="0.01")  # 300.01
    spend(fc, "100.00")
    spend(fc, "0.01", category="care", on=date(2026, 7, 31))
    spend(fc, "999", on=date(2025, 12, 31))  # last year: not in 2026
    budget(fc, unit=fc.unit_b, study="0")
    spend(fc, "10", unit=fc.unit_c)
    period = metrics.period_of("year", date(2026, 8, 1))
    units = [fc.unit_a.pk, fc.unit_b.pk, fc.unit_c.pk]
    rate = metrics.compute("funds.execution_rate", units, period, consumer=Consumer.ASSESSMENT)
    assert rate[fc.unit_a.pk] == 33.3
    assert isinstance(rate[fc.unit_b.pk], Suppressed) and isinstance(rate[fc.unit_c.pk], Suppressed)
    has = metrics.compute("funds.has_budget", units, period, consumer=Consumer.ASSESSMENT)
    assert has == {fc.unit_a.pk: 1, fc.unit_b.pk: 0, fc.unit_c.pk: 0}
    members = Person.objects.current().party_members().filter(unit=fc.unit_a).count()
    per = metrics.compute("funds.spending_per_member", units, period, consumer=Consumer.DASHBOARD)
    assert per[fc.unit_a.pk] == round(100.01 / members, 2) and per[fc.unit_b.pk] == 0.0
    assert per[fc.unit_c.pk] == round(
        10 / Person.objects.current().party_members().filter(unit=fc.unit_c).count(), 2
    )
    Person.objects.filter(unit=fc.unit_b).update(left_on=date(2026, 1, 1))
    per = metrics.compute("funds.spending_per_member", [fc.unit_b.pk], period, consumer=Consumer.DASHBOARD)
    assert isinstance(per[fc.unit_b.pk], Suppressed)
