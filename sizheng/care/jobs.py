"""Periodic jobs of care cases: the yearly re-check of ongoing hardship (长期困难每年复核)."""

from __future__ import annotations

from datetime import time

from django.utils import timezone

from sizheng.care import services
from sizheng.core.scheduler import periodic


@periodic("care.recheck", at=time(7, 30), label="长期困难诉求年度复核")
def recheck_due(today=None) -> int:
    """For each ongoing case whose re-check date has come: a RECHECK step, a "关爱跟进" duty for a
    书记-handled case, and one reminder to the handler (key ``care:recheck:<id>:<date>``)."""
    today = today or timezone.localdate()
    done = 0
    for case in list(services.due_rechecks(today)):
        done += services.care_case_recheck(case=case, today=today)
    return done
