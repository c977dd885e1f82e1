"""The four role pages and their cards: who sees which page (404 outside), what the cards show, the
no-JS fallback (each card's own page), the meeting-room display mode, print CSS, a failing card."""

from __future__ import annotations

import dataclasses

import pytest
import time_machine
from django.contrib.staticfiles import finders
from django.urls import reverse

from sizheng.dashboard import cards
from sizheng.dashboard.tests.conftest import TODAY, comply_quarter
from sizheng.duties import services as duties

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def card_url(name: str, scope: str, **extra) -> str:
    query = "&".join([f"scope={scope}", *(f"{k}={v}" for k, v in extra.items())])
    return f"{reverse('dashboard:card', args=[name])}?{query}"


# --- access ------------------------------------------------------------------------------------


def test_the_committee_admin_gets_the_committee_page_with_one_shell_per_card(client, cast):
    client.force_login(cast.committee_admin)
    response = client.get(reverse("dashboard:index"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "机关工委驾驶舱" in body
    for name in ("compliance", "duties", "talks", "care", "insight", "assess"):
        assert f'id="sz-card-{name}"' in body
        assert f"{reverse('dashboard:card', args=[name])}?scope=all&amp;year=2026" in body
        assert 'hx-trigger="load"' in body
    # Without JavaScript each card is one link away.
    assert "scope=all&amp;year=2026&amp;full=1" in body
    assert "<script>" not in body and " style=" not in body


def test_each_role_is_sent_to_its_own_page(client, cast):
    for user, url in (
        (cast.secretary_a, reverse("dashboard:org", args=[cast.branch_a1.pk])),
        (cast.org_admin, reverse("dashboard:org", args=[cast.branch_a1.pk])),
        (cast.leader, reverse("dashboard:unit", args=[cast.unit_a.pk])),
        (cast.member, reverse("dashboard:me")),
        (cast.outsider, reverse("dashboard:me")),
    ):
        client.force_login(user)
        response = client.get(reverse("dashboard:index"))
        assert response.status_code == 302 and response["Location"] == url, user
        assert client.get(url).status_code == 200


def test_a_secretary_sees_their_branch_and_gets_404_elsewhere(client, cast):
    client.force_login(cast.secretary_a)
    assert client.get(reverse("dashboard:org", args=[cast.branch_a1.pk])).status_code == 200
    assert client.get(reverse("dashboard:org", args=[cast.branch_b1.pk])).status_code == 404
    assert client.get(reverse("dashboard:org", args=[cast.branch_a2.pk])).status_code == 404
    assert client.get(reverse("dashboard:unit", args=[cast.unit_a.pk])).status_code == 404
    assert client.get(card_url("compliance", "all")).status_code == 404
    assert client.get(card_url("gaps", f"org:{cast.branch_b1.pk}")).status_code == 404
    assert client.get(card_url("gaps", f"org:{cast.branch_a1.pk}")).status_code == 200


def test_the_committee_admin_opens_any_branch_and_unit_page(client, cast):
    client.force_login(cast.committee_admin)
    for url in (
        reverse("dashboard:org", args=[cast.branch_b1.pk]),
        reverse("dashboard:unit", args=[cast.unit_b.pk]),
        reverse("dashboard:me"),
    ):
        assert client.get(url).status_code == 200


def test_a_leader_sees_their_unit_in_aggregate_only(client, cast):
    duties.duty_open(
        org=cast.branch_a1, title="落实学习计划", due_on=TODAY.date(), owner=cast.person(cast.member)
    )
    client.force_login(cast.leader)
    assert client.get(reverse("dashboard:unit", args=[cast.unit_a.pk])).status_code == 200
    assert client.get(reverse("dashboard:unit", args=[cast.unit_b.pk])).status_code == 404
    assert client.get(reverse("dashboard:org", args=[cast.branch_a1.pk])).status_code == 404
    for name in ("unit_life", "unit_work"):
        response = client.get(card_url(name, f"unit:{cast.unit_a.pk}"))
        assert response.status_code == 200
        body = response.content.decode()
        # Aggregates: no person, no duty title, no org list.
        for text in ("刘洋", "王建国", "落实学习计划", cast.branch_a1.name):
            assert text not in body
    assert "2026年第三季度逾期未完成事项" in body


def test_a_member_sees_only_their_own_page_and_outsiders_get_404(client, cast):
    mine = duties.duty_open(
        org=cast.branch_a1, title="撰写学习心得", due_on=TODAY.date(), owner=cast.person(cast.member)
    )
    duties.duty_open(
        org=cast.branch_a1, title="别人的事项", due_on=TODAY.date(), owner=cast.person(cast.org_admin)
    )
    client.force_login(cast.member)
    body = client.get(card_url("my_duties", "me")).content.decode()
    assert mine.title in body and "别人的事项" not in body
    for url in (
        reverse("dashboard:org", args=[cast.branch_a1.pk]),
        reverse("dashboard:unit", args=[cast.unit_a.pk]),
        card_url("compliance", "all"),
        card_url("todo", f"org:{cast.branch_a1.pk}"),
    ):
        assert client.get(url).status_code == 404, url
    client.force_login(cast.outsider)
    for url in (
        reverse("dashboard:org", args=[cast.branch_a1.pk]),
        reverse("dashboard:org", args=[cast.branch_c.pk]),  # a plain member of C: not a branch manager
        reverse("dashboard:unit", args=[cast.unit_a.pk]),
        card_url("gaps", f"org:{cast.branch_a1.pk}"),
        card_url("unit_work", f"unit:{cast.unit_c.pk}"),
        card_url("my_duties", "me") + "&x=1",
    ):
        expected = 200 if "scope=me" in url else 404
        assert client.get(url).status_code == expected, url
    assert "撰写学习心得" not in client.get(card_url("my_duties", "me")).content.decode()


def test_a_card_of_another_page_or_an_unknown_card_is_404(client, cast):
    client.force_login(cast.committee_admin)
    assert client.get(card_url("gaps", "all")).status_code == 404
    assert client.get(card_url("nope", "all")).status_code == 404
    assert client.get(card_url("compliance", "org:abc")).status_code == 404
    assert client.get(card_url("compliance", "")).status_code == 404


# --- what the cards show ---------------------------------------------------------------------------


def test_the_compliance_card_lists_the_lagging_branch_and_links_to_its_page(client, cast):
    comply_quarter(cast, cast.branch_a1, 2026, 2)
    client.force_login(cast.committee_admin)
    response = client.get(card_url("compliance", "all", year=2026))
    assert response.status_code == 200
    data = response.context["data"]
    by_name = {r["name"]: r for r in data["rows"]}
    assert by_name[cast.branch_a1.name]["latest"] == 100.0
    assert by_name[cast.branch_a1.name]["latest_period"] == "2026-Q2"
    assert not by_name[cast.branch_a1.name]["lagging"]
    assert by_name[cast.branch_a2.name]["latest"] == 0.0 and by_name[cast.branch_a2.name]["lagging"]
    lagging = [r["name"] for r in data["lagging"]]
    assert cast.branch_a2.name in lagging and cast.branch_a1.name not in lagging
    body = response.content.decode()
    assert f'href="{reverse("dashboard:org", args=[cast.branch_a2.pk])}?year=2026"' in body
    assert "打开合规热力图" in body and f"{reverse('life:compliance')}?year=2026&amp;grain=quarter" in body


def test_the_gaps_card_offers_a_duty_for_each_gap_to_those_above_only(client, cast):
    comply_quarter(cast, cast.branch_a1, 2026, 2)
    client.force_login(cast.committee_admin)
    response = client.get(card_url("gaps", f"org:{cast.branch_a2.pk}"))
    items = {i["metric"]: i for i in response.context["data"]["items"]}
    assert items["life.compliance_rate"]["lagging"] and items["life.compliance_rate"]["can_dispatch"]
    assert items["life.compliance_rate"]["period"] == "2026-Q2"
    assert "派发整改事项" in response.content.decode()
    a1 = client.get(card_url("gaps", f"org:{cast.branch_a1.pk}")).context["data"]["items"]
    assert not {i["metric"]: i for i in a1}["life.compliance_rate"]["lagging"]
    # The branch's own secretary sees the gap but does not assign duties to their own branch.
    client.force_login(cast.secretary_a)
    response = client.get(card_url("gaps", f"org:{cast.branch_a1.pk}"))
    assert response.status_code == 200
    assert not any(i["can_dispatch"] for i in response.context["data"]["items"])
    assert response.context["data"]["lagging_count"]
    assert "整改事项由上级党组织或机关工委派发" in response.content.decode()


def test_the_duties_card_counts_overdue_duties_per_org(client, cast):
    for title in ("一", "二"):
        duties.duty_open(org=cast.branch_b1, title=f"逾期事项{title}", due_on=TODAY.date().replace(day=1))
    duties.duty_open(org=cast.branch_a1, title="未到期", due_on=TODAY.date().replace(month=9))
    client.force_login(cast.committee_admin)
    data = client.get(card_url("duties", "all")).context["data"]
    assert data["overdue_total"] == 2
    assert [(r["name"], r["overdue"]) for r in data["rows"]] == [(cast.branch_b1.name, 2)]
    assert data["chart"] == {"names": [cast.branch_b1.name], "values": [2]}


def test_the_todo_card_lists_the_subtree_open_duties(client, cast):
    duties.duty_open(org=cast.branch_a1, title="第一支部待办", due_on=TODAY.date())
    duties.duty_open(org=cast.branch_b1, title="教育局待办", due_on=TODAY.date())
    client.force_login(cast.committee_admin)
    data = client.get(card_url("todo", f"org:{cast.committee_a.pk}")).context["data"]
    assert [r["title"] for r in data["rows"]] == ["第一支部待办"] and data["total"] == 1


def test_the_person_cards_show_my_meetings_hours_and_requests(client, cast):
    comply_quarter(cast, cast.branch_a1, 2026, 2)
    client.force_login(cast.member)
    meetings = client.get(card_url("my_meetings", "me")).context["data"]
    assert {a["label"]: a["count"] for a in meetings["attendance"]}["实到"] >= 4
    study = client.get(card_url("my_study", "me")).context["data"]
    assert study["hours"] > 0 and study["required"] == 32 and not study["reached"]
    requests = client.get(card_url("my_requests", "me"))
    assert requests.status_code == 200 and "您没有反映过困难诉求" in requests.content.decode()


def test_every_card_renders_on_empty_data(client, cast):
    pages = {"all": cast.committee_admin, f"org:{cast.branch_a1.pk}": cast.committee_admin,
             f"unit:{cast.unit_a.pk}": cast.leader, "me": cast.member}  # fmt: skip
    for scope, user in pages.items():
        client.force_login(user)
        for c in cards.cards_for(scope.partition(":")[0]):
            response = client.get(card_url(c.name, scope))
            assert response.status_code == 200, (scope, c.name)
            assert "暂时无法加载" not in response.content.decode(), (scope, c.name)
            full = client.get(card_url(c.name, scope, full=1))
            assert full.status_code == 200 and "返回驾驶舱" in full.content.decode()


def test_a_withheld_value_shows_a_dash_with_its_reason(client, cast):
    client.force_login(cast.committee_admin)
    body = client.get(card_url("insight", "all")).content.decode()
    assert 'class="sz-dash-withheld" title="本期没有已结束的调查，或参与人数不足匿名阈值，不予显示。"' in body


def test_a_failing_card_shows_its_own_message(client, cast, monkeypatch):
    def boom(ctx):
        raise RuntimeError("数据库暂时不可用")

    monkeypatch.setitem(cards.CARDS, "talks", dataclasses.replace(cards.CARDS["talks"], build=boom))
    client.force_login(cast.committee_admin)
    response = client.get(card_url("talks", "all"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "“谈心谈话覆盖”暂时无法加载。请稍后刷新页面" in body and "数据库暂时不可用" not in body
    assert client.get(card_url("care", "all")).status_code == 200
    assert client.get(reverse("dashboard:index")).status_code == 200


# --- display mode, print ---------------------------------------------------------------------------


def test_the_display_mode_drops_the_menu_and_refreshes_itself(client, cast):
    client.force_login(cast.committee_admin)
    normal = client.get(reverse("dashboard:index")).content.decode()
    assert "sz-navbar" in normal and 'http-equiv="refresh"' not in normal
    assert "?year=2026&amp;display=1" in normal and "会议室展示" in normal
    shown = client.get(reverse("dashboard:index") + "?display=1").content.decode()
    assert "sz-navbar" not in shown
    assert '<meta http-equiv="refresh" content="300">' in shown
    assert "sz-display" in shown and "退出展示模式" in shown
    assert 'name="display" value="1"' in shown  # switching the year keeps the mode


def test_the_print_layout_hides_the_menu_and_keeps_cards_in_a_grid():
    with open(finders.find("dashboard/dashboard.css"), encoding="utf-8") as f:
        css = f.read()
    printing = css[css.index("@media print") :]
    assert ".sz-navbar" in printing and "display: none" in printing
    assert "grid-template-columns: 1fr 1fr" in printing and "break-inside: avoid" in printing
    assert finders.find("dashboard/dashboard.js")


def test_the_menu_has_the_dashboard_first(client, cast):
    from sizheng.core import nav

    client.force_login(cast.member)
    items = nav.items_for(cast.member)
    names = [i["name"] for i in items]
    assert "dashboard:index" in names[:2]  # right after the home page (工作台)
    assert items[names.index("dashboard:index")]["label"] == "驾驶舱"
    assert not any(i["name"] == "dashboard:index" for i in nav.items_for(cast.sysadmin))


def test_a_person_without_a_record_gets_a_hint(client, cast):
    client.force_login(cast.committee_admin)
    body = client.get(reverse("dashboard:me")).content.decode()
    assert "您的账号没有关联人员档案" in body


def test_the_year_can_be_chosen_within_the_last_years(client, cast):
    client.force_login(cast.committee_admin)
    assert client.get(card_url("compliance", "all", year=2025)).context["ctx"].year == 2025
    assert client.get(card_url("compliance", "all", year=1999)).context["ctx"].year == 2026
    assert client.get(card_url("compliance", "all", year="x")).context["ctx"].year == 2026


def publish_round(cast, title: str, end, grades: list[tuple[object, float, str]], system=None):
    """A published assessment round with its targets' totals and grades (ORM: only what the card reads)."""
    from django.utils import timezone

    from sizheng.assess.models import Assessment, IndicatorSystem, RoundState, Target

    system = system or IndicatorSystem.objects.create(
        name="思想政治工作测评体系", year=end.year, state="published"
    )
    a = Assessment.objects.create(
        title=title, system=system, owner_org=cast.root, period_start=end.replace(month=1, day=1),
        period_end=end, state=RoundState.PUBLISHED, published_at=timezone.now(),
    )  # fmt: skip
    for org, total, grade in grades:
        Target.objects.create(assessment=a, org=org, unit=None, total=total, grade=grade)
    return a


def test_the_assess_card_shows_the_latest_round_and_the_trend(client, cast):
    from datetime import date

    first = publish_round(
        cast,
        "2025年度测评",
        date(2025, 12, 31),
        [(cast.committee_a, 70, "一般"), (cast.general_b, 80, "较好")],
    )
    from sizheng.assess.models import IndicatorSystem

    next_year = IndicatorSystem.objects.create(name=first.system.name, year=2026, number=1, state="published")
    other = IndicatorSystem.objects.create(name="基层党组织分类定级", year=2025, state="published")
    publish_round(cast, "2025年度分类定级", date(2025, 12, 31), [(cast.branch_c, 95, "好")], system=other)
    latest = publish_round(
        cast, "2026年上半年测评", date(2026, 6, 30),
        [(cast.committee_a, 91, "好"), (cast.general_b, 85, "较好"), (cast.branch_c, 55, "较差")],
        system=next_year,  # the next year's version of the same system: one trend
    )  # fmt: skip
    client.force_login(cast.committee_admin)
    response = client.get(card_url("assess", "all"))
    data = response.context["data"]
    assert data["round"]["id"] == latest.pk
    assert [(d["grade"], d["count"]) for d in data["distribution"]] == [
        ("好", 1),
        ("较好", 1),
        ("一般", 0),
        ("较差", 1),
    ]
    assert [(r["title"], r["mean"]) for r in data["trend"]] == [
        ("2025年度测评", 75.0),
        ("2026年上半年测评", 77.0),
    ]
    assert f"/assess/rounds/{latest.pk}/results/" in response.content.decode()
    assert data["chart"]["means"] == [75.0, 77.0]
