"""Observer loop on time and training-hour coverage, as metrics."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from sizheng.core import metrics
from sizheng.core.metrics import Consumer, Suppressed
from sizheng.core.rules import Period
from sizheng.study import services
from sizheng.study.tests.helpers import lecture

pytestmark = pytest.mark.django_db
YEAR = Period.parse("2026")


def test_it_reports_the_observer_loop_on_time(cast):
    with time_machine.travel(date(2026, 3, 1), tick=False):
        on_time = services.observation_assign(actor=None, observed_org=cast.leading_a,
                                              observer=cast.person(cast.member), planned_on=date(2026, 3, 20))  # fmt: skip
        late = services.observation_assign(actor=None, observed_org=cast.leading_a,
                                           observer=cast.person(cast.secretary_b), planned_on=date(2026, 3, 20))  # fmt: skip
        for obs in (on_time, late):
            services.observation_materials_sent(actor=None, observation=obs, version=obs.version)
    with time_machine.travel(date(2026, 3, 25), tick=False):
        services.observation_summary_submit(
            actor=None, observation=on_time, version=on_time.version, summary="好。"
        )
    values = metrics.compute("study.observer_on_time", [cast.leading_a.pk, cast.branch_c.pk], YEAR,
                             consumer=Consumer.DASHBOARD)  # fmt: skip
    assert values[cast.leading_a.pk] == 50.0
    assert isinstance(values[cast.branch_c.pk], Suppressed)


@time_machine.travel(date(2026, 11, 20), tick=False)
def test_it_reports_training_hour_coverage_per_org(cast):
    for month in range(1, 9):
        lecture(cast, date(2026, month, 10))  # 32 hours for the three members of A1; the secretary needs 56
    values = metrics.compute("study.hours_coverage", [cast.branch_a1.pk, cast.branch_a2.pk, cast.leading_a.pk],
                             YEAR, consumer=Consumer.DASHBOARD)  # fmt: skip
    assert values[cast.branch_a1.pk] == round(200 / 3, 1)
    assert values[cast.branch_a2.pk] == 0.0  # the leader's branch: 0 of 1
    assert isinstance(values[cast.leading_a.pk], Suppressed)
