"""The heatmap at city scale: summary rows per org below the view's root, drill-down with ``?under=``,
the breadcrumb, pages of summary rows, scope, a flat query count; and the evaluator's shortcut
(each distinct verdict judged once) against ``core.rules.evaluate_many``.

The summary threshold is patched low (``SUMMARY_OVER``) so the small persona cast is "many orgs".
Cast orgs the default rules bind: A1, A2 (under 市财政局机关委员会), 市财政局党组, B1 (under 市教育局
机关总支部委员会) and C. On 2026-08-20 with no meetings, every binding quarter up to Q2 is a 提醒.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from sizheng.core import rules as core_rules
from sizheng.core.rule_defaults import DEFAULT_RULES
from sizheng.core.rules import Period, periods_between
from sizheng.life import compliance, services, views_compliance
from sizheng.life.models import ComplianceRule, MeetingKind
from sizheng.org.models import Org
from sizheng.org.testing import make_org

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
URL = "/life/compliance/"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime(2026, 8, 20, 10, tzinfo=SH), tick=False):
        yield


@pytest.fixture
def few(monkeypatch):
    """Summarise from four orgs on (the cast has five the rules bind)."""
    monkeypatch.setattr(views_compliance, "SUMMARY_OVER", 3)


def _group_row(html: str, org: Org) -> str:
    """The summary row of ``org``'s group."""
    m = re.search(rf'<tr data-group="{org.pk}">(.*?)</tr>', html, re.S)
    assert m, f"no summary row for {org.name}"
    return m.group(1)


def _cells(row: str) -> list[tuple[str, str]]:
    """(data-status, visible text + hidden text) of each cell of a row."""
    return [
        (status, re.sub(r"<[^>]+>", "|", inner))
        for status, inner in re.findall(r'<td class="[^"]*" data-status="(\w+)">(.*?)</td>', row, re.S)
    ]


def _get(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.content.decode()


# --- summary and drill-down ----------------------------------------------------------------------


def test_it_summarises_many_orgs_one_row_per_org_below_the_root(client, cast, few):
    client.force_login(cast.committee_admin)
    html = _get(client, year=2026, grain="quarter")
    assert "按直属党组织汇总" in html and "共 5 个党组织" in html
    row = _group_row(html, cast.committee_a)
    assert f"under={cast.committee_a.pk}" in row and "2 个党组织" in row
    cells = _cells(row)
    assert len(cells) == 5  # Q1–Q4 and the year
    assert cells[1] == ("warning", "! 2|未达标（提醒）：2 个党组织|")  # Q2: both branches missed it
    assert cells[3] == ("not_yet_due", "…|尚未到期|")  # Q4: nobody has a gap yet
    # A group of one org is that org's own row: name to its year, cells to their drill-down.
    assert f'<tr data-group="{cast.general_b.pk}">' not in html
    assert reverse("life:compliance_org", args=[cast.branch_b1.pk]) + "?year=2026" in html
    assert reverse("life:compliance_cell", args=[cast.branch_c.pk, "2026-Q2"]) in html
    assert reverse("life:compliance_cell", args=[cast.branch_a1.pk, "2026-Q2"]) not in html
    # A recorded meeting shows at once (nothing is cached).
    for branch in (cast.branch_a1, cast.branch_a2):
        services.meeting_record(
            actor=cast.committee_admin, org=branch, kind=MeetingKind.MEMBERS_MEETING, topic="学习",
            starts_at=datetime(2026, 8, 12, 9, tzinfo=SH), ends_at=datetime(2026, 8, 12, 11, tzinfo=SH),
            place="会议室",
        )  # fmt: skip
    again = _cells(
        _group_row(_get(client, year=2026, grain="quarter", kind="members_meeting"), cast.committee_a)
    )
    assert again[2] == ("met", "✓|已达标|") and again[1][0] == "warning"


def test_it_shows_few_orgs_as_rows_without_a_summary(client, cast):
    client.force_login(cast.committee_admin)
    html = _get(client, year=2026, grain="quarter")
    assert "data-group" not in html and "按直属党组织汇总" not in html
    assert reverse("life:compliance_cell", args=[cast.branch_a1.pk, "2026-Q2"]) in html


def test_it_drills_down_to_a_group_with_a_breadcrumb(client, cast, few):
    client.force_login(cast.committee_admin)
    html = _get(client, year=2026, grain="quarter", kind="members_meeting", under=cast.committee_a.pk)
    assert "2026年组织生活合规情况：市财政局机关委员会（含下级）" in html
    crumbs = re.search(r'<ol class="breadcrumb">(.*?)</ol>', html, re.S).group(1)
    assert (
        '<a href="/life/compliance/?year=2026&amp;grain=quarter&amp;kind=members_meeting">全部</a>' in crumbs
    )
    assert '<li class="breadcrumb-item active" aria-current="page">市财政局机关委员会</li>' in crumbs
    # Two orgs: their own rows, the cells linking to the drill-down with the activity kept.
    assert "data-group" not in html
    cell = reverse("life:compliance_cell", args=[cast.branch_a2.pk, "2026-Q2"]) + "?kind=members_meeting"
    assert cell in html and cast.branch_c.name not in html
    deeper = _get(client, year=2026, grain="quarter", under=cast.branch_a1.pk)
    crumbs = re.search(r'<ol class="breadcrumb">(.*?)</ol>', deeper, re.S).group(1)
    names = re.findall(r"<li[^>]*>(?:<a [^>]*>)?([^<]+)", crumbs)
    assert names == ["全部", "市财政局机关委员会", "市财政局机关第一支部委员会"]
    assert f"under={cast.committee_a.pk}" in crumbs


def test_it_summarises_a_big_subtree_again_by_its_children(client, cast, few):
    for i in range(3):
        make_org(f"市财政局机关第{i + 3}支部委员会", Org.Kind.BRANCH, cast.committee_a, f"A{i + 3}")
    general = make_org("市财政局离退休干部党总支", Org.Kind.GENERAL_BRANCH, cast.committee_a, "A-R")
    for i in range(2):
        make_org(f"离退休第{i + 1}支部委员会", Org.Kind.BRANCH, general, f"A-R{i + 1}")
    client.force_login(cast.committee_admin)
    html = _get(client, year=2026, grain="quarter", under=cast.committee_a.pk)
    assert "按下级党组织汇总" in html and "共 7 个党组织" in html
    row = _group_row(html, general)
    assert "2 个党组织" in row and f"under={general.pk}" in row
    assert reverse("life:compliance_org", args=[cast.branch_a1.pk]) + "?year=2026" in html
    assert cast.leading_a.name not in html


def test_it_pages_the_summary_rows_and_orders_them(client, cast, few, monkeypatch):
    monkeypatch.setattr(views_compliance, "PER_PAGE", 2)
    for i in range(3):
        make_org(f"市教育局机关第{i + 2}支部委员会", Org.Kind.BRANCH, cast.general_b, f"B{i + 2}")
    client.force_login(cast.committee_admin)
    # Gaps first: 市教育局 (4 branches with gaps), then 市财政局机关委员会 (2), then the lone orgs by path.
    first = _get(client, year=2026, grain="quarter")
    assert re.findall(r'<tr data-group="(\d+)">', first) == [str(cast.general_b.pk), str(cast.committee_a.pk)]
    assert "共 4 条，第 1 / 2 页" in first
    assert 'href="?year=2026&amp;grain=quarter&page=2"' in first
    second = _get(client, year=2026, grain="quarter", page=2)
    assert cast.leading_a.name in second and cast.branch_c.name in second
    assert cast.general_b.name not in second
    # By the tree: the paths' order (市财政局机关委员会 was created first).
    tree = _get(client, year=2026, grain="quarter", sort="tree")
    assert re.findall(r'<tr data-group="(\d+)">', tree) == [str(cast.committee_a.pk)]
    assert cast.leading_a.name in tree and cast.general_b.name not in tree
    assert f"sort=tree&amp;under={cast.committee_a.pk}" in tree


# --- scope ---------------------------------------------------------------------------------------


def test_it_gives_an_outsider_404_for_a_subtree_outside_their_scope(client, cast, few):
    client.force_login(cast.outsider)
    assert client.get(URL, {"under": cast.committee_a.pk}).status_code == 404
    assert client.get(URL, {"under": 999_999}).status_code == 404
    html = _get(client, year=2026, grain="quarter")
    assert cast.branch_c.name in html and cast.committee_a.name not in html


def test_it_shows_a_secretary_only_their_subtree(client, cast, monkeypatch):
    monkeypatch.setattr(views_compliance, "SUMMARY_OVER", 0)  # even one org is "many"
    group = make_org("第一党小组", Org.Kind.GROUP, cast.branch_a1, "A1-G1")
    client.force_login(cast.secretary_a)
    html = _get(client, year=2026, grain="quarter")
    assert re.findall(r'<tr data-group="(\d+)">', html) == [str(cast.branch_a1.pk)]
    for org in (cast.committee_a, cast.branch_a2, cast.leading_a, cast.branch_b1, cast.branch_c):
        assert org.name not in html
    # Their branch's breadcrumb starts at what they see: no link to the committee above it.
    below = _get(client, year=2026, grain="quarter", under=cast.branch_a1.pk)
    assert cast.committee_a.name not in below and group.name in below
    assert client.get(URL, {"under": cast.committee_a.pk}).status_code == 404


# --- queries -------------------------------------------------------------------------------------


def _planted(parent: Org, n: int, prefix: str) -> None:
    for i in range(n):
        make_org(f"{prefix}第{i}支部委员会", Org.Kind.BRANCH, parent, f"{prefix}{i}")


def test_it_keeps_ten_queries_for_the_committee_flat_in_orgs(client, cast, django_assert_max_num_queries):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(cast.committee_admin)
    views = [
        {"year": 2026, "grain": "quarter"},
        {"year": 2026, "grain": "month", "kind": "members_meeting"},
        {"year": 2026, "grain": "quarter", "under": cast.general_b.pk},
        {"year": 2026, "grain": "quarter", "under": cast.general_b.pk, "page": 2, "sort": "tree"},
    ]

    def counts() -> list[int]:
        out = []
        for params in views:
            cache.delete(compliance.VERSION_KEY)  # evaluated every time (test_compliance_cache: the cache)
            with CaptureQueriesContext(connection) as ctx, django_assert_max_num_queries(10):
                assert client.get(URL, params).status_code == 200
            out.append(len(ctx.captured_queries))
        return out

    for params in views:
        client.get(URL, params)  # warm-up: the session, the calendar
    few = counts()  # five orgs: rows
    _planted(cast.general_b, 100, "X")  # summary, under 市教育局 too, with pages
    many = counts()
    assert few == many
    html = client.get(URL, views[2]).content.decode()
    assert "按下级党组织汇总" in html and "第 1 / 3 页" in html


# --- the evaluator's shortcut ----------------------------------------------------------------------

within = st.sampled_from([None, "Q4", "H1", "M03"])
rule_st = st.builds(
    lambda i, kinds, period, w, count, sev, since, until: core_rules.Rule(
        id=f"R{i}",
        activity=f"act{i % 2}",
        activity_label="活动",
        label="规则",
        source="测试",
        org_kinds=frozenset(kinds),
        count=count,
        period="year" if w else period,
        within=w,
        severity=sev,
        effective_from=since,
        effective_to=(since + timedelta(days=until)) if since and until else None,
    ),  # fmt: skip
    st.integers(0, 5),
    st.sets(st.sampled_from(["branch", "group"]), min_size=1),
    st.sampled_from(["month", "quarter", "half", "year"]),
    within,
    st.integers(1, 3),
    st.sampled_from(["warning", "violation"]),
    st.none() | st.dates(date(2025, 6, 1), date(2026, 12, 31)),
    st.none() | st.integers(0, 400),
)
life = st.tuples(
    st.sampled_from(["branch", "group"]),
    st.none() | st.dates(date(2025, 1, 1), date(2026, 12, 31)),
    st.none() | st.dates(date(2025, 6, 1), date(2027, 6, 30)),
).filter(lambda t: not (t[1] and t[2] and t[1] > t[2]))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(rule_st, min_size=1, max_size=4, unique_by=lambda r: r.id),
    st.lists(life, min_size=1, max_size=6),
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 1), st.dates(date(2026, 1, 1), date(2026, 12, 31)))),
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 5), st.sampled_from(["2026", "2026-Q2", "2026-07"]))
    ),
    st.dates(date(2026, 1, 1), date(2027, 2, 1)),
)
def test_it_judges_like_evaluate_many(rules, lives, held, exempt, today):
    targets = [core_rules.Target(i, kind, f, d) for i, (kind, f, d) in enumerate(lives)]
    periods = [p for kind in ("month", "quarter", "half", "year") for p in periods_between(kind, date(2026, 1, 1), date(2026, 12, 31))]  # fmt: skip
    acts: dict[tuple[int, str], list[date]] = defaultdict(list)
    for t, a, d in held:
        acts[(t, f"act{a}")].append(d)
    exs = [
        core_rules.Exemption(rule_id=f"R{r}", target_id=t, period_key=key, reason="合并重组")
        for r, t, key in exempt
    ]
    fast = compliance._judge_all(rules, targets, periods, acts, today, exs)
    assert fast == core_rules.evaluate_many(rules, targets, periods, acts, today, exs)
    assert all(o.target_id == k[0] for k, o in fast.items())


def test_it_judges_the_default_rules_like_evaluate_many():
    targets = [core_rules.Target(i, kind, date(2010, 1, 1)) for i, kind in enumerate(["branch", "group", "leading_group"] * 3)]  # fmt: skip
    targets.append(core_rules.Target(99, "branch", date(2026, 5, 10), date(2026, 11, 2)))
    periods = [p for kind in ("month", "quarter", "half", "year") for p in periods_between(kind, date(2026, 1, 1), date(2026, 12, 31))]  # fmt: skip
    acts = {(0, "members_meeting"): [date(2026, 2, 1)], (3, "committee_meeting"): [date(2026, 3, 3)] * 2}
    exs = [core_rules.Exemption(rule_id="BR-MTG-2", target_id=3, period_key="2026", reason="未设支委会")]
    fast = compliance._judge_all(DEFAULT_RULES, targets, periods, acts, date(2026, 8, 20), exs)
    assert fast == core_rules.evaluate_many(DEFAULT_RULES, targets, periods, acts, date(2026, 8, 20), exs)
    assert fast[(99, "BR-MTG-1", "2026-Q2")].status == "exempt"  # founded mid-quarter
    assert fast[(6, "BR-MTG-1", "2026-Q2")].target_id == 6


def test_it_reads_the_rules_once_when_given(cast, django_assert_num_queries):
    rules = list(ComplianceRule.objects.filter(is_active=True).select_related("scope_org"))
    year = [Period.of("year", 2026)]
    with django_assert_num_queries(2):  # the meetings and the exemptions
        matrix = compliance.evaluate([cast.branch_a1, cast.leading_a], year, rules=rules)
    assert {k[1] for k in matrix.outcomes} == {
        "BR-EVAL-1",
        "BR-OLM-1",
        "BR-OLM-1-Q4",
        "CGS-1",
        "DLM-2",
        "DLM-2-Q4",
    }
