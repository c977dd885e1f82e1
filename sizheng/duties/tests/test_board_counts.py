"""The board's counts and roll-up come from one GROUP BY (state, due-date band): they must equal what
each duty's own warning level (``warnings.warning_of``) and the overdue rule give, at every bound."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sizheng.duties import queries, warnings
from sizheng.duties.models import AWAITING_OWNER, OPEN_STATES, Duty, State

pytestmark = pytest.mark.django_db


def _expected(duties: list[Duty], today: date) -> Counter:
    b = warnings.bounds(today)
    c: Counter = Counter()
    for d in duties:
        c["total"] += 1
        c[f"state_{d.state}"] += 1
        c[f"warning_{warnings.warning_of(d.state, d.due_on, today, b)}"] += 1
        c["overdue"] += d.state in AWAITING_OWNER and d.due_on < today
    return c


def _flat(counts: dict) -> Counter:
    c = Counter({"total": counts["total"], "overdue": counts["overdue"]})
    c.update({f"state_{s['value']}": s["count"] for s in counts["states"]})
    c.update({f"warning_{w['value']}": w["count"] for w in counts["warnings"]})
    return +c  # drop zeros


@pytest.mark.parametrize("today", [date(2026, 3, 10), date(2026, 3, 14)])  # a Tuesday, a Saturday
def test_counts_and_roll_up_equal_each_duty_s_warning_at_every_bound(cast, today):
    b = warnings.bounds(today)
    one = timedelta(days=1)
    dues = [b.yellow_from - one, b.yellow_from, today - one, today, today + one, b.blue_until,
            b.blue_until + one, date(2027, 1, 1)]  # fmt: skip
    orgs = [cast.branch_a1, cast.branch_a2, cast.branch_b1, cast.root]
    Duty.objects.bulk_create(
        [
            Duty(
                title=f"{s}-{due}",
                assignee_org=orgs[i % len(orgs)],
                assigning_org=cast.root,
                due_on=due,
                state=s,
            )
            for i, (s, due) in enumerate((s, due) for s in State.values for due in dues)
        ]
    )
    duties = list(Duty.objects.all())
    expected = _expected(duties, today)
    assert expected["warning_red"] and expected["warning_yellow"] and expected["warning_blue"]
    qs = Duty.objects.visible_to(cast.committee_admin)

    with CaptureQueriesContext(connection) as ctx:
        counts = queries.board_counts(qs, today)
    assert len(ctx.captured_queries) == 1
    assert _flat(counts) == +expected
    assert counts["open"] == sum(d.state in OPEN_STATES for d in duties)

    with CaptureQueriesContext(connection) as ctx:
        r = queries.rollup(qs, today)
    assert len(ctx.captured_queries) == 1
    assert _flat(r.counts) == +expected
    for g in r.groups:
        members = [d for d in duties if d.assignee_org.path.startswith(g["path"])]
        if g["path"] == cast.root.path:  # the root's own group: its own duties only
            members = [d for d in duties if d.assignee_org_id == cast.root.pk]
        e = _expected(members, today)
        assert (g["total"], g["red"], g["overdue"]) == (e["total"], e["warning_red"], e["overdue"])
        assert g["open"] == sum(d.state in OPEN_STATES for d in members)
        assert g["closed"] == e[f"state_{State.CLOSED}"]
    assert sum(g["total"] for g in r.groups) == len(duties)
