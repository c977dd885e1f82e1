"""The committee board (``duties:board`` as gongwei sees it) at 100,000 duties.

Builds the demo city at scale 1 (about 150 orgs, 3,000 people) in a throw-away SQLite database,
bulk-inserts 100,000 duties spread over the orgs, the states and two years of due dates, then
measures, in the same run:

- the page: ``GET /duties/`` through the Django test client, logged in as the committee admin —
  server time (median of ``RUNS`` after one warm-up) and the number of SQL queries;
- the baseline: the aggregates the page shows (counts by state, by warning and overdue; the roll-up
  per first-level org with its names) written by hand as raw SQL with ``connection.cursor()``.

The ratio page / raw SQL is the price of the ORM, the template and the middleware for the same
numbers. The raw results are checked against the page's own query functions first, so the
baseline cannot drift from what the board shows.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from bench import Result, log, setup_django, timed

DUTIES = 100_000
RUNS = 5
SEED = 2026
STATE_WEIGHTS = {
    # (due date relative to today) → state weights
    "old": {"closed": 92, "cancelled": 3, "in_progress": 3, "accepted": 2},
    "recent": {
        "closed": 60,
        "reported": 8,
        "under_review": 7,
        "in_progress": 12,
        "accepted": 8,
        "returned": 5,
    },
    "future": {
        "closed": 15,
        "reported": 10,
        "assigned": 20,
        "accepted": 25,
        "in_progress": 25,
        "returned": 5,
    },
}
SOURCES = {"template": 60, "campaign": 20, "manual": 12, "inspection": 4, "indicator": 4}


def build_city() -> None:
    """The org demo at scale 1: units, offices, ~150 orgs, ~3,000 people and the demo accounts."""
    from sizheng.org.demo import build_city as build
    from sizheng.org.demo import plan_city

    build(plan_city(random.Random(SEED), 1.0), log=lambda m: log(m.strip()))


def insert_duties(n: int, today: date) -> None:
    """``n`` duties spread over every non-root org, the states and two years of due dates.

    Written with one ``executemany`` (the ORM's bulk_create takes a minute for 100,000 rows on SQLite,
    whose 999-parameter limit cuts it into thousands of statements).
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from sizheng.duties.models import Duty
    from sizheng.duties.template_data import TEMPLATE_ITEMS
    from sizheng.org.models import Org, Person

    rng = random.Random(SEED)
    orgs = list(Org.objects.exclude(parent__isnull=True).values_list("pk", "parent_id", "depth"))
    root = Org.objects.get(parent__isnull=True).pk
    people: dict[int, list[int]] = {}
    for org_id, pk in Person.objects.filter(org__isnull=False).values_list("org_id", "pk"):
        people.setdefault(org_id, []).append(pk)
    titles = [item.title for item in TEMPLATE_ITEMS]
    sources, source_weights = list(SOURCES), list(SOURCES.values())
    tz = timezone.get_current_timezone()
    ops = connection.ops
    rows = []
    for _ in range(n):
        org_id, parent_id, depth = rng.choice(orgs)
        due = today + timedelta(days=rng.randint(-730, 90))
        band = "old" if due < today - timedelta(days=30) else "recent" if due < today else "future"
        weights = STATE_WEIGHTS[band]
        state = rng.choices(list(weights), list(weights.values()))[0]
        reported = closed = None
        if state in ("reported", "under_review", "closed"):
            reported = due - timedelta(days=rng.randint(-10, 20))
            if state == "closed":
                closed = reported + timedelta(days=rng.randint(1, 10))
        members = people.get(org_id)
        created = datetime.combine(due - timedelta(days=rng.randint(20, 90)), time(9), tzinfo=tz)
        rows.append((
            rng.choice(titles), org_id, root if depth == 1 else parent_id,
            rng.choice(members) if members and rng.random() < 0.8 else None,
            ops.adapt_datefield_value(due), state, rng.choices(sources, source_weights)[0],
            ops.adapt_datefield_value(reported), bool(reported and reported > due), ops.adapt_datefield_value(closed),
            ops.adapt_datetimefield_value(created),
        ))  # fmt: skip
    columns = ("title", "assignee_org_id", "assigning_org_id", "owner_id", "due_on", "state", "source_kind",
               "reported_on", "is_late", "closed_on", "created_at")  # fmt: skip
    # The columns the ORM would fill with their defaults.
    defaults = {"description": "", "category": "", "evidence_required": "", "priority": "normal", "tags": "",
                "is_sensitive": False, "version": 1, "evidence": "", "late_reason": "", "returns": 0,
                "extension_reason": ""}  # fmt: skip
    names = ", ".join([*columns, *defaults])
    marks = ", ".join(["%s"] * (len(columns) + len(defaults)))
    tail = tuple(defaults.values())
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {Duty._meta.db_table} ({names}) VALUES ({marks})",  # noqa: S608 (no user input)
            [row + tail for row in rows],
        )


def raw_aggregates(today: date) -> tuple[dict, dict]:
    """The board's aggregates by hand, as a DBA would write them: two queries.

    Counts by state and warning in one pass over the duties; the roll-up grouped by assignee org id
    (the (assignee_org, state, due_on) index covers it), then folded to first-level orgs, names
    joined in, in the same statement.
    """
    from django.db import connection

    from sizheng.duties import warnings
    from sizheng.duties.models import AWAITING_OWNER, OPEN_STATES, Duty, State
    from sizheng.org.models import Org

    b = warnings.bounds(today)
    duty, org = Duty._meta.db_table, Org._meta.db_table
    awaiting = "state IN ({})".format(", ".join(f"'{s}'" for s in sorted(AWAITING_OWNER)))
    is_open = "state IN ({})".format(", ".join(f"'{s}'" for s in sorted(OPEN_STATES)))
    levels = {
        "blue": (f"{awaiting} AND due_on > %s AND due_on <= %s", [today, b.blue_until]),
        "yellow": (f"{awaiting} AND due_on >= %s AND due_on <= %s", [b.yellow_from, today]),
        "red": (f"{awaiting} AND due_on < %s", [b.yellow_from]),
        "none": (f"NOT ({awaiting} AND due_on <= %s)", [b.blue_until]),
        "overdue": (f"{awaiting} AND due_on < %s", [today]),
    }
    states = list(State.values)
    columns = ["COUNT(*)"] + [f"COUNT(*) FILTER (WHERE state = '{s}')" for s in states]
    params: list = []
    for sql, args in levels.values():
        columns.append(f"COUNT(*) FILTER (WHERE {sql})")
        params += args
    # First-level groups: a materialised path is 7 characters per level ("000001.000042.").
    rollup_sql = f"""
        SELECT r.grp, g.name, r.total, r.open, r.red, r.overdue, r.closed FROM (
            SELECT substr(o.path, 1, 14) AS grp, SUM(t.total) AS total, SUM(t.open) AS open,
                   SUM(t.red) AS red, SUM(t.overdue) AS overdue, SUM(t.closed) AS closed
            FROM (
                SELECT assignee_org_id, COUNT(*) AS total,
                       COUNT(*) FILTER (WHERE {is_open}) AS open,
                       COUNT(*) FILTER (WHERE {levels["red"][0]}) AS red,
                       COUNT(*) FILTER (WHERE {levels["overdue"][0]}) AS overdue,
                       COUNT(*) FILTER (WHERE state = 'closed') AS closed
                FROM {duty} GROUP BY assignee_org_id
            ) t JOIN {org} o ON o.id = t.assignee_org_id
            GROUP BY grp
        ) r LEFT JOIN {org} g ON g.path = r.grp
    """  # noqa: S608 (no user input)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {duty}", params)  # noqa: S608 (no user input)
        row = cursor.fetchone()
        cursor.execute(rollup_sql, levels["red"][1] + levels["overdue"][1])
        rollup = {
            grp: {
                "total": total,
                "open": n_open,
                "red": red,
                "overdue": overdue,
                "closed": closed,
                "name": name,
            }
            for grp, name, total, n_open, red, overdue, closed in cursor.fetchall()
        }
    counts = {"total": row[0], **dict(zip(states, row[1 : 1 + len(states)], strict=True))}
    counts.update(zip(levels, row[1 + len(states) :], strict=True))
    return counts, rollup


def check_baseline(today: date, counts: dict, rollup: dict) -> None:
    """The raw SQL must give the very numbers the page's query functions give."""
    from sizheng.duties import queries
    from sizheng.duties.models import Duty

    page = queries.board_counts(Duty.objects.all(), today)
    expected = {"total": page["total"], "overdue": page["overdue"]}
    expected.update({s["value"]: s["count"] for s in page["states"]})
    expected.update({w["value"]: w["count"] for w in page["warnings"]})
    if expected != counts:
        raise RuntimeError(f"raw SQL counts differ from the board's: {counts} != {expected}")
    page_rollup = {
        r["org"].path: {k: r[k] for k in ("total", "open", "red", "overdue", "closed")}
        | {"name": r["org"].name}
        for r in queries.org_rollup(Duty.objects.all(), today)
    }
    if page_rollup != rollup:
        raise RuntimeError("raw SQL roll-up differs from the board's")


def run() -> list[Result]:
    """Build the data, check the baseline, time the page and the raw SQL."""
    setup_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from sizheng.core.models import User

    today = timezone.localdate()
    log("演示城市（规模 1）…")
    build_city()
    log(f"批量写入 {DUTIES:,} 项责任事项 …")
    insert_duties(DUTIES, today)
    log("核对原始 SQL 与看板的统计 …")

    counts, rollup = raw_aggregates(today)
    check_baseline(today, counts, rollup)
    log(f"原始 SQL 与看板的统计一致：合计 {counts['total']:,} 项，一级组织 {len(rollup)} 个。")

    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(username="gongwei"))
    url = reverse("duties:board")

    def page():
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        return response

    page()  # warm-up: the workday calendar, the static manifest, the templates
    with CaptureQueriesContext(connection) as captured:
        page()
    n_queries = len(captured.captured_queries)
    log("计时：看板页面 …")
    page_time, _ = timed(page, RUNS)
    log("计时：原始 SQL …")
    raw_time, _ = timed(lambda: raw_aggregates(today), RUNS)
    ratio = page_time / raw_time if raw_time else float("inf")
    figures = (
        f"duties board @{DUTIES // 1000}k: {page_time:.2f} s median (n={RUNS}), {n_queries} queries; "
        f"raw SQL aggregates {raw_time:.2f} s; ratio {ratio:.1f}×"
    )
    print(figures, flush=True)
    return [Result("duties_board", f"{DUTIES:,} duties, city scale 1", figures)]
