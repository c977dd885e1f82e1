"""The daily funds job: overspend duties, exactly once; a warning that ends clears its alert and duty."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from sizheng.core import scheduler
from sizheng.core.models import AuditEvent, SentReminder
from sizheng.duties.models import Duty, SourceKind, State
from sizheng.funds import jobs, services
from sizheng.funds.models import Alert, Budget
from sizheng.funds.tests.conftest import budget, spend
from sizheng.org.models import Unit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_today")]


@pytest.fixture
def _today():
    with time_machine.travel(date(2026, 5, 12), tick=False):
        yield


def test_it_is_registered_as_a_daily_job():
    assert "funds.execution_warnings" in scheduler.JOBS


def test_it_opens_one_duty_per_overspent_category_and_clears_it_when_the_budget_is_raised(fc):
    b = budget(fc, care="100", training="50", study="1000")
    spend(fc, "100.01", category="care")
    spend(fc, "60", category="training")
    assert jobs.execution_warnings() == {"raised": 2, "cleared": 0}
    assert jobs.execution_warnings() == {"raised": 0, "cleared": 0}
    duties = Duty.objects.filter(source_kind=SourceKind.FUNDS)
    assert duties.count() == 2 and {d.title for d in duties} == {"经费执行预警：财政局"}
    assert {a.category for a in Alert.objects.all()} == {"care", "training"}
    assert AuditEvent.objects.filter(action="funds_alert_raise").count() == 2
    services.budget_save(actor=fc.manager, unit=fc.unit_a, year=2026, amounts={"care": "200", "training": "50",
                                                                                "study": "1000"}, version=b.version)  # fmt: skip
    assert jobs.execution_warnings() == {"raised": 0, "cleared": 1}
    care = Alert.objects.get(category="care")
    assert care.cleared_on == date(2026, 5, 12)
    assert Duty.objects.get(pk=care.duty_id).state == State.CLOSED
    assert Duty.objects.get(pk=Alert.objects.get(category="training").duty_id).state != State.CLOSED
    # Overspent again later in the year: the warning was handled once, no second duty.
    spend(fc, "150", category="care")
    assert jobs.execution_warnings() == {"raised": 0, "cleared": 0}
    assert Duty.objects.filter(source_kind=SourceKind.FUNDS).count() == 2


def test_it_waits_for_a_unit_without_a_root_org_and_skips_units_without_a_budget(fc):
    lone = Unit.objects.create(name="市档案馆", short_name="档案馆", code="U-D")
    budget(fc, unit=lone, care="1")
    spend(fc, "2", unit=lone, category="care")
    spend(fc, "2", unit=fc.unit_b, category="care")  # no budget: no warnings
    assert jobs.execution_warnings() == {"raised": 0, "cleared": 0}
    assert not Duty.objects.exists() and not SentReminder.objects.exists()
    assert Budget.objects.count() == 1
