"""The compliance matrix (the committee heatmap's computation) for all orgs × 24 months at city scale 10.

Builds the demo city at scale 10 (about 1,500 orgs, 30,000 people) in a throw-away SQLite database,
bulk-inserts two calendar years of meetings (most branches hold their monthly 支委会 and 主题党日, their
quarterly 党员大会 and 党课, and their yearly 组织生活会 and 民主评议; some gaps, some drafts; leading groups
hold 中心组学习 and 民主生活会), then measures, in the same run:

- the matrix: ``compliance.evaluate`` over every org and 24 monthly + 8 quarterly + 2 yearly periods —
  wall time (median of ``RUNS`` after one warm-up) and the number of SQL queries;
- the baseline: the counts it needs — counted meetings per (org, kind, month) — written by hand as
  one raw SQL ``GROUP BY`` on ``connection.cursor()``.

The raw counts are checked against the matrix's ``held`` figures first (per quarter for the
党员大会 rule, per month for the 支委会 rule), so the baseline cannot drift from what the heatmap shows.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, time, timedelta

from bench import Result, log, setup_django, timed

SCALE = 10
RUNS = 3
SEED = 2026
# Probability that a branch holds the activity in a given period (the rest are gaps).
MONTHLY = {"committee_meeting": 0.85, "theme_day": 0.8}
QUARTERLY = {"members_meeting": 0.88, "party_lecture": 0.75}
YEARLY = {"life_meeting": 0.92, "member_appraisal": 0.9}
GROUP_MONTHLY = {"group_meeting": 0.7}
LEADING_QUARTERLY = {"central_group_study": 0.8}  # sometimes twice a quarter (CGS-1 wants 6 a year)
LEADING_YEARLY = {"democratic_life_meeting": 0.9}
TOPICS = [
    "学习贯彻党的二十届三中全会精神",
    "传达上级会议精神",
    "研究发展党员工作",
    "开展主题党日活动",
    "讲授专题党课",
]


def build_city() -> None:
    """The org demo at scale 10: units, offices, ~1,500 orgs, ~30,000 people and the demo accounts."""
    from sizheng.org.demo import build_city as build
    from sizheng.org.demo import plan_city

    build(plan_city(random.Random(SEED), float(SCALE)), log=lambda m: log(m.strip()))


def insert_meetings(first_year: int) -> int:
    """Two years of meetings for every branch, group and leading group, with realistic gaps.

    Written with one ``executemany`` (bulk_create on SQLite splits tens of thousands of rows into
    thousands of statements because of its parameter limit).
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from sizheng.core.rules import Period
    from sizheng.life.models import Meeting
    from sizheng.org.models import Org

    rng = random.Random(SEED)
    tz = timezone.get_current_timezone()
    ops = connection.ops
    orgs = list(Org.objects.filter(kind__in=["branch", "group", "leading_group"]).values_list("pk", "kind"))
    months = [Period.of("month", first_year + y, m) for y in range(2) for m in range(1, 13)]
    quarters = [Period.of("quarter", first_year + y, q) for y in range(2) for q in range(1, 5)]
    years = [Period.of("year", first_year + y) for y in range(2)]
    now = timezone.now()
    rows = []

    def add(org_id: int, kind: str, period) -> None:
        day = period.start + timedelta(days=rng.randrange(period.days))
        starts = datetime.combine(day, time(rng.choice([9, 14, 15])), tzinfo=tz)
        # A few records stay drafts (not counted); a few are entered late.
        state = "draft" if rng.random() < 0.03 else "submitted"
        rows.append((
            org_id, kind, rng.choice(TOPICS), ops.adapt_datetimefield_value(starts),
            ops.adapt_datetimefield_value(starts + timedelta(hours=2)), "党员活动室", state,
            ops.adapt_datetimefield_value(now), ops.adapt_datetimefield_value(now if state == "submitted" else None),
        ))  # fmt: skip

    for org_id, kind in orgs:
        if kind == "branch":
            plan = [(MONTHLY, months), (QUARTERLY, quarters), (YEARLY, years)]
        elif kind == "group":
            plan = [(GROUP_MONTHLY, months)]
        else:
            plan = [(LEADING_QUARTERLY, quarters), (LEADING_QUARTERLY, quarters), (LEADING_YEARLY, years)]
        for odds, periods in plan:
            for activity, p in odds.items():
                for period in periods:
                    if rng.random() < p:
                        add(org_id, activity, period)
    columns = (
        "org_id",
        "kind",
        "topic",
        "starts_at",
        "ends_at",
        "place",
        "state",
        "created_at",
        "submitted_at",
    )
    defaults = {"session_no": "", "agenda": "", "minutes": "", "resolutions": "", "votes": "[]", "steps": "{}",
                "return_opinion": "", "version": 1}  # fmt: skip
    names = ", ".join([*columns, *defaults])
    marks = ", ".join(["%s"] * (len(columns) + len(defaults)))
    tail = tuple(defaults.values())
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {Meeting._meta.db_table} ({names}) VALUES ({marks})",  # noqa: S608 (no user input)
            [row + tail for row in rows],
        )
    return len(rows)


def periods(first_year: int) -> list:
    """24 months, 8 quarters and 2 years: the heatmap's columns for two years at every grain."""
    from sizheng.core.rules import Period

    out = []
    for y in (first_year, first_year + 1):
        out += [Period.of("month", y, m) for m in range(1, 13)]
        out += [Period.of("quarter", y, q) for q in range(1, 5)]
        out.append(Period.of("year", y))
    return out


def matrix(first_year: int):
    """The heatmap's computation: one org query and ``compliance.evaluate`` over everything."""
    from sizheng.life import compliance
    from sizheng.org.models import Org

    orgs = list(Org.objects.only("pk", "kind", "path", "founded_on", "dissolved_on"))
    return compliance.evaluate(orgs, periods(first_year), today=date(first_year + 2, 1, 15))


def raw_counts(first_year: int) -> Counter:
    """Counted meetings per (org, kind, local month), by hand: one GROUP BY on the meeting table."""
    from django.conf import settings
    from django.db import connection

    from sizheng.life.models import Meeting

    required = list(settings.LIFE_APPROVAL_REQUIRED)
    counted = "(state = 'approved' OR (state = 'submitted'"
    params: list = []
    if required:
        counted += " AND kind NOT IN ({})".format(", ".join(["%s"] * len(required)))
        params += required
    counted += "))"
    # Datetimes are stored in UTC; the periods are Beijing-time calendar periods.
    sql = f"""
        SELECT org_id, kind, strftime('%%Y-%%m', starts_at, '+8 hours') AS month, COUNT(*)
        FROM {Meeting._meta.db_table}
        WHERE {counted} AND starts_at >= %s AND starts_at < %s
        GROUP BY org_id, kind, month
    """  # noqa: S608 (no user input)
    lo = datetime(first_year, 1, 1) - timedelta(hours=8)
    hi = datetime(first_year + 2, 1, 1) - timedelta(hours=8)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, lo.isoformat(sep=" "), hi.isoformat(sep=" ")])
        return Counter({(org_id, kind, month): n for org_id, kind, month, n in cursor.fetchall()})


def check_baseline(result, counts: Counter, first_year: int) -> int:
    """The raw counts must give the matrix's ``held`` for the 党员大会 (quarters) and 支委会 (months)."""
    from sizheng.core.rules import Period

    checked = 0
    for (org_id, code, key), outcome in result.outcomes.items():
        if code not in ("BR-MTG-1", "BR-MTG-2"):
            continue
        p = Period.parse(key)
        kind = "members_meeting" if code == "BR-MTG-1" else "committee_meeting"
        months = [f"{p.start.year}-{m:02d}" for m in range(p.start.month, p.end.month + 1)]
        raw = sum(counts[(org_id, kind, m)] for m in months)
        if raw != outcome.held:
            raise RuntimeError(
                f"raw SQL count {raw} differs from the matrix's {outcome.held} for {org_id} {key}"
            )
        checked += 1
    if not checked:
        raise RuntimeError("the matrix has no outcome to check the baseline against")
    return checked


def run() -> list[Result]:
    """Build the data, check the baseline, time the matrix and the raw SQL."""
    setup_django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from sizheng.org.models import Org

    first_year = timezone.localdate().year - 1
    log(f"演示城市（规模 {SCALE}）…")
    build_city()
    n_orgs = Org.objects.count()
    log(f"批量写入 {first_year}–{first_year + 1} 年的会议记录 …")
    n_meetings = insert_meetings(first_year)
    log(f"会议记录 {n_meetings:,} 条；核对原始 SQL 与合规矩阵 …")
    result = matrix(first_year)
    checked = check_baseline(result, raw_counts(first_year), first_year)
    log(f"原始 SQL 与合规矩阵一致：核对 {checked:,} 个单元格，共 {len(result.outcomes):,} 个结果。")

    with CaptureQueriesContext(connection) as captured:
        matrix(first_year)
    n_queries = len(captured.captured_queries)
    log("计时：合规矩阵 …")
    matrix_time, result = timed(lambda: matrix(first_year), RUNS)
    log("计时：原始 SQL …")
    raw_time, _ = timed(lambda: raw_counts(first_year), RUNS)
    ratio = matrix_time / raw_time if raw_time else float("inf")
    figures = (
        f"compliance matrix {n_orgs:,} orgs × 24 months (+8 quarters, 2 years), {n_meetings // 1000}k meetings: "
        f"{matrix_time:.2f} s median (n={RUNS}), {n_queries} queries, {len(result.outcomes):,} outcomes; "
        f"raw SQL GROUP BY counts {raw_time:.2f} s; ratio {ratio:.1f}×"
    )
    print(figures, flush=True)
    return [Result("life_compliance", f"{n_orgs:,} orgs, city scale {SCALE}", figures)]
