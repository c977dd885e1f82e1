"""The daily funds check: each warning of the running year (execution.py) opens one "经费执行预警" duty
for the unit's root org, exactly once (key ``funds:<unit>:<year>:<kind>:<category|all>``); a warning
that no longer holds (the unit caught up, the budget was adjusted) clears its alert and closes its duty.

Daily rather than quarterly: an overspend can happen any day, and the underspend check starts on the
first day of Q4 whatever day the scheduler runs. The keys make the daily runs cost nothing twice.
"""

from __future__ import annotations

from datetime import date, time

from django.utils import timezone

from sizheng.core.models import SentReminder
from sizheng.core.scheduler import periodic
from sizheng.funds import queries, services
from sizheng.funds.models import Budget
from sizheng.org.models import Unit


@periodic("funds.execution_warnings", at=time(7, 45), label="经费执行预警")
def execution_warnings(today: date | None = None) -> dict[str, int]:
    """Open the duties of new warnings and clear the alerts whose warning ended; returns the counts.

    A fixed number of queries (units with a budget, budget lines, spending, alerts, sent keys) plus
    the writes of the warnings that are new or ended.
    """
    today = today or timezone.localdate()
    year = today.year
    unit_ids = list(Budget.objects.filter(year=year, unit__is_active=True).values_list("unit_id", flat=True))
    executions = queries.executions(unit_ids, year, today)
    current = {w.key: w for ex in executions.values() for w in ex.warnings}
    sent = set(SentReminder.objects.filter(key__in=list(current)).values_list("key", flat=True))
    new = [w for key, w in current.items() if key not in sent]
    units = Unit.objects.in_bulk({w.unit_id for w in new}) if new else {}
    raised = sum(
        1 for w in new if services.alert_raise(warning=w, unit=units[w.unit_id], today=today) is not None
    )
    cleared = 0
    for key, alert in queries.alerts_by_key(unit_ids, year).items():
        if alert.cleared_on is None and key not in current:
            ex = executions.get(alert.unit_id)
            reason = (
                f"经费执行已恢复正常（执行率 {ex.rate}%）。"
                if ex and ex.rate is not None
                else "经费执行已恢复正常。"
            )
            cleared += services.alert_clear(alert=alert, today=today, reason=reason)
    return {"raised": raised, "cleared": cleared}
