"""The query budget of every card: on a warm value cache a card costs at most three queries more
than a trivial signed-in page (session, user, grants, scope, the menu's unread count), and both the
warm and the cold cost stay the same from 2 to 10 extra orgs with their meetings and duties.

The cold cost is each metric's own (the registry's O(1) per metric and period); it is printed for the
record (``pytest -s``) and capped per card so that a regression shows.
"""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from sizheng.dashboard import cards
from sizheng.dashboard import metrics as dash_metrics
from sizheng.dashboard.tests.conftest import TODAY, comply_quarter, record
from sizheng.duties import services as duties
from sizheng.life.models import MeetingKind
from sizheng.org.models import Org
from sizheng.org.testing import make_org, make_person

pytestmark = [pytest.mark.django_db, pytest.mark.urls("sizheng.dashboard.tests.urls")]

WARM_BUDGET = 3
# Cold cost beyond the base per card, as measured (the metrics' own queries; see README, "查询预算"):
# a cap, so that a metric or card growing its queries shows here.
COLD_MAX = {
    "compliance": 14,
    "duties": 3,
    "talks": 6,
    "care": 5,
    "insight": 17,
    "assess": 1,
    "gaps": 23,
    "todo": 3,
    "my_duties": 1,
    "my_meetings": 2,
    "my_study": 2,
    "my_requests": 1,
    "unit_life": 22,
    "unit_work": 13,
}


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


_made = {"n": 0}


def grow(cast, n: int) -> None:
    """n more branches of unit A, each with a member, a meeting and an overdue duty; and more
    duties and meetings of the member of the cast."""
    member = cast.person(cast.member)
    for _ in range(n):
        _made["n"] += 1
        i = _made["n"]
        org = make_org(
            f"市财政局机关第{i + 2}支部委员会",
            Org.Kind.BRANCH,
            cast.committee_a,
            f"AX{i}",
            units=[cast.unit_a],
        )
        make_person(f"党员{i}", cast.unit_a, org=org, office=cast.office_a1)
        record(cast, org, MeetingKind.COMMITTEE_MEETING, date(2026, 4, 8))
        duties.duty_open(org=org, title=f"逾期事项{i}", due_on=date(2026, 7, 1))
        duties.duty_open(org=cast.branch_a1, title=f"我的事项{i}", due_on=date(2026, 8, 1), owner=member)
        record(cast, cast.branch_a1, MeetingKind.THEME_DAY, date(2026, 5, i % 27 + 1))


def _measure(count, names: list[str], scope: str) -> dict[str, tuple[int, int]]:
    """card → (cold − base, warm − base)."""
    count("/__trivial__/")  # the first request of a session saves it (idle timeout): not part of the base
    base, response = count("/__trivial__/")
    assert response.status_code == 200
    out = {}
    for name in names:
        url = f"/dashboard/cards/{name}/?scope={scope}&year=2026"
        count(url)  # first touch: the process-wide caches (calendar, content types)
        dash_metrics.forget()
        cold, response = count(url)
        assert response.status_code == 200 and "暂时无法加载" not in response.content.decode(), name
        warm, _ = count(url)
        out[name] = (cold - base, warm - base)
    return out


def _check(cast, count, client, user, scope: str, kind: str) -> None:
    client.force_login(user)
    names = [c.name for c in cards.cards_for(kind)]
    grow(cast, 2)
    small = _measure(count, names, scope)
    grow(cast, 8)
    large = _measure(count, names, scope)
    print(f"\n范围 {scope}：卡片 冷缓存/热缓存 比基础页面多出的查询数（2 个 → 10 个新增组织）")
    for name in names:
        print(
            f"  {name:12} 冷 {small[name][0]:>2} → {large[name][0]:>2}   热 {small[name][1]} → {large[name][1]}"
        )
    for name in names:
        assert large[name] == small[name], (name, small[name], large[name])
        assert small[name][1] <= WARM_BUDGET, (name, small[name])
        assert small[name][0] <= COLD_MAX[name], (name, small[name])


def test_committee_cards(cast, client, count):
    comply_quarter(cast, cast.branch_a1, 2026, 2)
    _check(cast, count, client, cast.committee_admin, "all", "all")


def test_branch_cards(cast, client, count):
    _check(cast, count, client, cast.committee_admin, f"org:{cast.committee_a.pk}", "org")


def test_leader_cards(cast, client, count):
    _check(cast, count, client, cast.leader, f"unit:{cast.unit_a.pk}", "unit")


def test_person_cards(cast, client, count):
    _check(cast, count, client, cast.member, "me", "me")


def test_the_second_request_computes_nothing(cast, client, count):
    comply_quarter(cast, cast.branch_a1, 2026, 2)
    client.force_login(cast.committee_admin)
    url = "/dashboard/cards/compliance/?scope=all&year=2026"
    count(url)
    dash_metrics.forget()
    dash_metrics.COMPUTED.clear()
    first, r1 = count(url)
    assert [name for name, _ in dash_metrics.COMPUTED] == ["life.compliance_rate"] * 3  # Q1, Q2, Q3
    dash_metrics.COMPUTED.clear()
    second, r2 = count(url)
    assert dash_metrics.COMPUTED == []
    assert second < first
    assert r1.context["data"] == r2.context["data"]


def test_a_role_page_itself_runs_no_metric_query(cast, client, count):
    client.force_login(cast.committee_admin)
    count("/dashboard/")
    dash_metrics.COMPUTED.clear()
    n, response = count("/dashboard/")
    assert response.status_code == 200 and dash_metrics.COMPUTED == []
    count("/__trivial__/")
    base, _ = count("/__trivial__/")
    assert n - base <= 2


def test_the_assess_card_with_published_rounds(cast, client, count):
    from sizheng.dashboard.tests.test_pages import publish_round

    client.force_login(cast.committee_admin)
    sizes, system = [], None
    for n in (2, 10):
        orgs = [make_org(f"测评对象{n}-{i}", Org.Kind.BRANCH, cast.root, f"P{n}-{i}") for i in range(n)]
        rows = [(o, 80.0 + i, "较好") for i, o in enumerate(orgs)]
        system = publish_round(cast, f"第{n}轮", date(2026, 6, 30), rows, system=system).system
        sizes.append(_measure(count, ["assess"], "all")["assess"])
    assert sizes[0] == sizes[1] and sizes[0][0] <= 3 and sizes[0][1] == 0
