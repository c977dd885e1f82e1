"""Periodic jobs of the wellbeing pathway: crisis-alert escalation, and closing past screening waves."""

from __future__ import annotations

from datetime import time, timedelta

from django.utils import timezone

from sizheng.care import wellbeing
from sizheng.core import anonymous
from sizheng.core.scheduler import periodic


@periodic("care.crisis_escalation", every=timedelta(minutes=5), label="心理关爱预警超时升级")
def crisis_escalation() -> int:
    """Escalate alerts not acknowledged by their deadline to the backup counselors (once each)."""
    return wellbeing.crisis_alert_escalate_due(timezone.now())


@periodic("care.wellbeing_wave_close", at=time(1, 30), label="心理自评匿名缓冲区按月写入")
def wellbeing_wave_close() -> int:
    """Write the anonymous answers still pending for past months (a wave closes with its month)."""
    current = wellbeing.current_wave()
    written = 0
    for wave in anonymous.waves_pending(wellbeing.KIND):
        if wave < current:
            written += anonymous.pool_flush(wellbeing.KIND, wave, writer=wellbeing._write_anonymous)
    return written
