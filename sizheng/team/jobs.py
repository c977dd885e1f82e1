"""The daily staffing check: each gap of the running year becomes a duty, once per gap and year.

Every workday morning the active rules are evaluated over all orgs (``team.coverage``, four queries);
each gap (warning or violation) not yet turned into a duty opens one titled like "配备专职党务干部"
(T0, naming nobody), assigned to the org and by the org above it. Exactly once: the reminder key
``team:gap:<rule>:<org>:<year>`` and the unique gap row (rule, org, year) — whichever a click on the
coverage page or an earlier run wrote first — keep a gap to one duty a year.
"""

from __future__ import annotations

from datetime import date, time

from django.conf import settings
from django.utils import timezone

from sizheng.core import calendar
from sizheng.core.models import SentReminder
from sizheng.core.scheduler import periodic, send_once
from sizheng.org.models import Org
from sizheng.team import coverage, services
from sizheng.team.models import Gap


@periodic("team.gap_duties", at=time(7, 40), label="队伍配备缺口转督办")
def gap_duties(today: date | None = None) -> int:
    """Open a duty for each new staffing gap of this year; returns how many were opened."""
    today = today or timezone.localdate()
    if not getattr(settings, "TEAM_GAP_DUTIES", True) or not calendar.is_workday(today):
        return 0
    result = coverage.compute(today.year, today=today)
    gaps = result.gaps()
    if not gaps:
        return 0
    done = set(Gap.objects.filter(year=today.year).values_list("rule_id", "org_id"))
    todo = [(row, cell) for row, cell in gaps if (cell.rule.pk, row.org_id) not in done]
    keys = {services.gap_key(cell.rule, row.org_id, today.year) for row, cell in todo}
    sent = set(SentReminder.objects.filter(key__in=keys).values_list("key", flat=True))
    todo = [
        (row, cell) for row, cell in todo if services.gap_key(cell.rule, row.org_id, today.year) not in sent
    ]
    orgs = Org.objects.in_bulk([row.org_id for row, _ in todo])
    opened = 0
    for row, cell in todo:
        org = orgs[row.org_id]

        def open_one(org=org, row=row, cell=cell):
            services.open_gap(
                actor=None,
                rule=cell.rule,
                org=org,
                year=today.year,
                members=row.members,
                message=cell.message,
            )

        if send_once(services.gap_key(cell.rule, row.org_id, today.year), open_one):
            opened += 1
    return opened
