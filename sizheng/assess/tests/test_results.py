"""Results in use: summary, one unit's detail, rectification duties and their closure in the next
round, the results and result pages, the Excel ledger.

Rounds are built with the ORM (``make_round``) as the computation would leave them, so these tests
do not depend on the engine. The helpers are imported by ``test_documents`` and ``test_api_rounds``.
"""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from sizheng.assess import results
from sizheng.assess.models import (
    Assessment,
    Entry,
    LineStatus,
    ResultLine,
    RoundState,
    Target,
)
from sizheng.assess.tests.conftest import build_small_system
from sizheng.core.models import AuditEvent
from sizheng.duties.models import Duty, SourceKind, State
from sizheng.duties.services import duty_transition
from sizheng.org.models import Org
from sizheng.org.testing import make_org

pytestmark = pytest.mark.django_db

# Global weights of small_system's leaves (0.6×0.5, 0.6×0.5, 0.4×0.7, 0.4×0.3).
LEAVES = {"1.1": 0.3, "1.2": 0.3, "2.1": 0.28, "2.2": 0.12}
SECRET_NOTE = "自评备注：某同志家庭困难情况（不应出现）"


def _grade(total: float, bands: list[dict]) -> str:
    for band in bands:
        if band["min"] is None or total >= band["min"]:
            return band["grade"]
    return bands[-1]["grade"]


def make_round(
    system,
    owner: Org,
    rows: list[tuple[Org, dict]],
    *,
    state: str = RoundState.COMPUTED,
    start: date = date(2026, 1, 1),
    end: date = date(2026, 12, 31),
    title: str = "2026年度测试考核",
    use_topsis: bool = False,
) -> Assessment:
    """A round as the computation leaves it: targets with totals, grades, ranks and result lines.

    ``rows``: (org, {leaf code: score or None for 无数据, "B1": bonus points}).
    """
    now = timezone.now()
    a = Assessment.objects.create(
        title=title, system=system, owner_org=owner, period_start=start, period_end=end, state=state,
        use_topsis=use_topsis, rectify_below=60, computed_at=now,
        published_at=now if state == RoundState.PUBLISHED else None,
        record={"methods": {"weighting": "direct", "ranking": "competition"}, "weights": LEAVES,
                "weight_set": None, "missing_policy": "redistribute",
                "sensitivity": {"samples": 1000, "seed": 0, "concentration": 100.0, "method": "weighted_sum"},
                "grade_bands": system.grade_bands, "caps": system.caps, "bonus_cap": system.bonus_cap},
    )  # fmt: skip
    inds = {i.code: i for i in system.indicators.all()}
    lines, targets = [], []
    for org, scores in rows:
        t = Target.objects.create(assessment=a, org=org, unit=org.units.first())
        base, missing = 0.0, []
        for code, gw in LEAVES.items():
            s = scores.get(code)
            if s is None:
                missing.append(code)
                lines.append(
                    ResultLine(target=t, indicator=inds[code], status=LineStatus.NO_DATA, global_weight=0)
                )
            else:
                lines.append(ResultLine(target=t, indicator=inds[code], raw=s, score=s, global_weight=gw,
                                        points=s * gw, note="考核组评分"))  # fmt: skip
                base += s * gw
        bonus = float(scores.get("B1", 0))
        lines.append(ResultLine(target=t, indicator=inds["B1"], raw=bonus / 2, score=bonus))
        lines.append(ResultLine(target=t, indicator=inds["V1"], raw=0, score=None))
        t.base_total, t.bonus, t.total, t.missing = base, bonus, base + bonus, missing
        t.grade = _grade(t.total, system.grade_bands)
        targets.append(t)
        Entry.objects.create(target=t, indicator=inds["1.2"], side=Entry.Side.SELF, value=5, note=SECRET_NOTE)
    ResultLine.objects.bulk_create(lines)
    ordered = sorted(targets, key=lambda t: -t.total)
    n = len(ordered)
    for i, t in enumerate(ordered):
        t.rank = 1 + sum(1 for o in ordered if o.total > t.total)
        t.rank_min, t.rank_max = max(1, t.rank - 1), min(n, t.rank + 1)
        t.grade_change_probability = 0.1 * (i % 3)
        if use_topsis:
            t.closeness, t.topsis_rank = 0.9 - 0.1 * i, i + 1
    Target.objects.bulk_update(
        targets,
        ["base_total", "bonus", "total", "missing", "grade", "rank", "rank_min", "rank_max",
         "grade_change_probability", "closeness", "topsis_rank"],
    )  # fmt: skip
    return a


SCORES = [
    ("committee_a", {"1.1": 90, "1.2": 50, "2.1": 100, "2.2": 80}),  # 79.6 一般
    ("general_b", {"1.1": 70, "1.2": 90, "2.1": 80, "2.2": 100, "B1": 2}),  # 82.4 + 2 较好
    ("leading_a", {"1.1": 40, "1.2": 95, "2.1": None, "2.2": 60}),  # 47.7 较差, 2.1 无数据
]


def three(ac, system, **kw) -> Assessment:
    return make_round(system, ac.root, [(getattr(ac, name), s) for name, s in SCORES], **kw)


def extra_orgs(ac, n: int) -> list[Org]:
    return [make_org(f"市测试局机关支部委员会{i}", Org.Kind.BRANCH, ac.root, f"X{i}") for i in range(n)]


def target_of(a: Assessment, org: Org) -> Target:
    return Target.objects.get(assessment=a, org=org)


# --- services -----------------------------------------------------------------------------------


def test_summary_counts_grades_and_orders_by_rank(ac, small_system):
    a = three(ac, small_system)
    s = results.summary(a)
    assert [t.org for t in s["targets"]] == [ac.general_b, ac.committee_a, ac.leading_a]
    assert [(d["grade"], d["count"]) for d in s["distribution"]] == [
        ("好", 0),
        ("较好", 1),
        ("一般", 1),
        ("较差", 1),
    ]
    assert s["distribution"][1]["percent"] == pytest.approx(100 / 3)
    assert s["distribution"][0]["range"] == "90 分及以上" and s["distribution"][3]["range"] == "60 分以下"
    assert s["mean"] == pytest.approx((79.6 + 84.4 + 47.7) / 3)
    assert s["median"] == pytest.approx(79.6)
    assert s["count"] == 3 and s["has_sensitivity"] and not s["uses_topsis"]


def test_target_detail_groups_averages_strongest_weakest_and_missing(ac, small_system):
    a = three(ac, small_system)
    d = results.target_detail(target_of(a, ac.committee_a))
    g1, g2 = d["groups"]
    assert g1["indicator"].code == "1" and g1["subtotal"] == pytest.approx(42.0)
    assert g1["average"] == pytest.approx((60 + 70.5) / 3) and g1["weight"] == pytest.approx(0.6)
    assert g2["subtotal"] == pytest.approx(37.6)
    by_code = {r["indicator"].code: r for r in d["rows"]}
    assert by_code["1.1"]["average"] == pytest.approx(200 / 3)
    assert by_code["2.1"]["average"] == pytest.approx(90)  # leading_a has no data there
    assert [r["indicator"].code for r in d["strongest"]] == ["1.1", "2.1"]
    assert [r["indicator"].code for r in d["weakest"]] == ["1.2", "2.2"]
    assert d["rank_of"] == 3 and d["grade_reason"] == results.NO_REASON and d["previous"] == []

    weak = results.target_detail(target_of(a, ac.leading_a))
    assert [m["indicator"].code for m in weak["missing"]] == ["2.1"]
    assert weak["missing"][0]["missing_text"] == "无数据，权重已按比例分配给同级指标"
    assert [b["points"] for b in results.target_detail(target_of(a, ac.general_b))["bonus"]] == [2]


def test_open_rectification_opens_duties_below_the_threshold_once(ac, small_system):
    a = three(ac, small_system, state=RoundState.PUBLISHED)
    opened = results.open_rectification(a, actor=ac.committee_admin)
    assert sorted((d.assignee_org_id, d.title) for d in opened) == sorted(
        [(ac.committee_a.pk, "整改：组织生活"), (ac.leading_a.pk, "整改：责任清单完成")]
    )
    duty = next(d for d in opened if d.assignee_org == ac.committee_a)
    line = ResultLine.objects.get(duty=duty)
    assert (line.indicator.code, duty.source_kind, duty.source_id) == ("1.2", SourceKind.INDICATOR, line.pk)
    assert duty.assigning_org == ac.root and duty.due_on > timezone.localdate()
    assert "50.0" in duty.description and "2026年度测试考核" in duty.description and "60" in duty.description
    assert SECRET_NOTE not in duty.description
    assert AuditEvent.objects.filter(action="duty_open").count() == 2
    event = AuditEvent.objects.get(action="assess_rectification_open")
    assert event.object_id == str(a.pk) and sorted(event.detail["opened"]) == sorted(d.pk for d in opened)

    assert results.open_rectification(a, actor=ac.committee_admin) == []  # idempotent
    assert (
        Duty.objects.count() == 2
        and AuditEvent.objects.filter(action="assess_rectification_open").count() == 1
    )
    assert ResultLine.objects.filter(duty__isnull=False).count() == 2


def test_open_rectification_refuses_a_round_without_results(ac, small_system):
    a = three(ac, small_system, state=RoundState.OPEN)
    with pytest.raises(Exception, match="还没有计算结果"):
        results.open_rectification(a, actor=ac.committee_admin)
    assert not Duty.objects.exists()


def _close(duty: Duty, ac) -> None:
    for action, actor, extra in [
        ("accept", ac.unit_boss, {}), ("start", ac.unit_boss, {}),
        ("report", ac.unit_boss, {"evidence": "已整改，组织生活按月开展。"}),
        ("review", ac.committee_admin, {}), ("pass", ac.committee_admin, {}),
    ]:  # fmt: skip
        duty = duty_transition(duty=duty, action=action, actor=actor, version=duty.version, **extra)
    assert duty.state == State.CLOSED


def test_a_closed_duty_shows_as_closed_in_the_next_round(client, ac, small_system):
    first = three(ac, small_system, state=RoundState.PUBLISHED, start=date(2025, 1, 1), end=date(2025, 12, 31),
                  title="2025年度测试考核")  # fmt: skip
    opened = results.open_rectification(first, actor=ac.committee_admin)
    _close(next(d for d in opened if d.assignee_org == ac.committee_a), ac)
    # The next year's round uses a new version of the system with the same name.
    second = three(ac, build_small_system(year=2027))
    prev = results.previous_rectification(target_of(second, ac.committee_a))
    assert [(p["indicator"].code, p["closed"], p["state"]) for p in prev] == [("1.2", True, State.CLOSED)]
    assert prev[0]["assessment"] == first and prev[0]["closed_on"] == timezone.localdate()
    still_open = results.previous_rectification(target_of(second, ac.leading_a))
    assert [(p["indicator"].code, p["closed"]) for p in still_open] == [("1.1", False)]
    assert results.previous_rectification(target_of(second, ac.general_b)) == []
    # A round that is not published does not count as "previous".
    assert results.previous_rectification(target_of(first, ac.committee_a)) == []

    client.force_login(ac.committee_admin)
    page = client.get(reverse("assess:result", args=[target_of(second, ac.committee_a).pk])).content.decode()
    assert "上一轮整改情况" in page and "2025年度测试考核" in page
    assert 'data-closed="1"' in page and "✓" in page and "已销号" in page
    page = client.get(reverse("assess:result", args=[target_of(second, ac.leading_a).pk])).content.decode()
    assert 'data-closed="0"' in page and "已部署" in page


# --- pages --------------------------------------------------------------------------------------


def test_results_page_for_the_committee(client, ac, small_system):
    a = three(ac, small_system, state=RoundState.PUBLISHED, use_topsis=True)
    client.force_login(ac.committee_admin)
    response = client.get(reverse("assess:results", args=[a.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="sz-assess-results"' in page and "assess/results.js" in page
    assert page.index(ac.general_b.name) < page.index(ac.committee_a.name) < page.index(ac.leading_a.name)
    assert "TOPSIS 贴近度" in page and "名次区间" in page and "敏感性分析" in page
    assert reverse("assess:result", args=[target_of(a, ac.leading_a).pk]) in page
    assert reverse("assess:bulletin_docx", args=[a.pk]) in page
    assert reverse("assess:results_xlsx", args=[a.pk]) in page
    assert "计算方法与参数" in page and "模拟次数：1000" in page and "<script>" not in page
    assert 'style="' not in page
    chart = response.context["chart_data"]
    assert chart["counts"] == [0, 1, 1, 1]
    assert chart["units"][0] == {"name": ac.general_b.name, "rank": 1, "min": 1, "max": 2, "p": 0.0}
    # Search and grade filter.
    page = client.get(reverse("assess:results", args=[a.pk]), {"grade": "较差"}).content.decode()
    assert ac.leading_a.name in page and f">{ac.general_b.name}<" not in page
    page = client.get(reverse("assess:results", args=[a.pk]), {"q": "不存在"}).content.decode()
    assert "没有符合条件的单位" in page


def test_computed_results_are_for_the_managers_only(client, ac, small_system):
    a = three(ac, small_system)  # computed, not published
    target = target_of(a, ac.committee_a)
    client.force_login(ac.committee_admin)
    page = client.get(reverse("assess:results", args=[a.pk])).content.decode()
    assert "尚未发布" in page
    page = client.get(reverse("assess:result", args=[target.pk])).content.decode()
    assert "1.2 组织生活（50.0）" in page and "本轮结果发布时将为每项指标下发一项整改事项" in page
    for user in (ac.unit_boss, ac.leader, ac.outsider, ac.secretary_b):
        client.force_login(user)
        assert client.get(reverse("assess:results", args=[a.pk])).status_code == 404
        assert client.get(reverse("assess:result", args=[target.pk])).status_code == 404
        assert client.get(reverse("assess:feedback_docx", args=[target.pk])).status_code == 404


def test_a_round_without_results(client, ac, small_system):
    a = three(ac, small_system, state=RoundState.OPEN)
    client.force_login(ac.committee_admin)
    response = client.get(reverse("assess:results", args=[a.pk]))
    assert response.status_code == 200 and "还没有计算结果" in response.content.decode()
    assert client.get(reverse("assess:results_xlsx", args=[a.pk])).status_code == 404
    client.force_login(ac.unit_boss)  # sees the open round (own unit) but not results
    assert client.get(reverse("assess:results", args=[a.pk])).status_code == 404


def test_published_results_for_the_unit_a_leader_and_outsiders(client, ac, small_system):
    a = three(ac, small_system, state=RoundState.PUBLISHED)
    results.open_rectification(a, actor=ac.committee_admin)
    own = target_of(a, ac.committee_a)
    client.force_login(ac.unit_boss)
    response = client.get(reverse("assess:result", args=[own.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "79.60" in page and "一般" in page and "2 / 3" in page
    duty = ResultLine.objects.get(target=own, duty__isnull=False).duty
    assert reverse("duties:detail", args=[duty.pk]) in page and "整改：组织生活" in page
    assert SECRET_NOTE not in page
    page = client.get(reverse("assess:results", args=[a.pk])).content.decode()
    assert ac.committee_a.name in page and ac.general_b.name not in page.split('id="sz-ranked"')[1]
    assert reverse("assess:bulletin_docx", args=[a.pk]) not in page
    assert client.get(reverse("assess:bulletin_docx", args=[a.pk])).status_code == 403
    # Another unit's page stays hidden.
    assert client.get(reverse("assess:result", args=[target_of(a, ac.general_b).pk])).status_code == 404

    client.force_login(ac.leader)  # read-only persona of unit A
    assert client.get(reverse("assess:result", args=[own.pk])).status_code == 200
    assert client.get(reverse("assess:results", args=[a.pk])).status_code == 200
    assert client.get(reverse("assess:bulletin_docx", args=[a.pk])).status_code == 403

    client.force_login(ac.outsider)
    for url in (reverse("assess:results", args=[a.pk]), reverse("assess:result", args=[own.pk]),
                reverse("assess:results_xlsx", args=[a.pk]), reverse("assess:bulletin_docx", args=[a.pk]),
                reverse("assess:feedback_docx", args=[own.pk])):  # fmt: skip
        assert client.get(url).status_code == 404
    assert client.post(reverse("assess:results", args=[a.pk])).status_code == 405


def test_results_ledger(client, ac, small_system):
    a = three(ac, small_system, state=RoundState.PUBLISHED, use_topsis=True)
    client.force_login(ac.committee_admin)
    response = client.get(reverse("assess:results_xlsx", args=[a.pk]))
    assert response.status_code == 200 and "spreadsheetml" in response["Content-Type"]
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    header = rows[2]
    assert header[:5] == ["名次", "党组织", "单位", "1 党建责任", "2 群众满意"]
    assert {"加分", "总分", "等次", "TOPSIS 贴近度", "TOPSIS 名次", "名次区间", "等次变化概率（%）"} <= set(
        header
    )
    first = dict(zip(header, rows[3], strict=True))
    assert first["党组织"] == ac.general_b.name and first["名次"] == 1 and first["加分"] == 2
    assert first["1 党建责任"] == pytest.approx(48.0) and first["总分"] == pytest.approx(84.4)
    assert first["名次区间"] == "1—2"
    last = dict(zip(header, rows[5], strict=True))
    assert last["无数据指标"] == "2.1" and last["等次"] == "较差"
    assert AuditEvent.objects.filter(action="assess_results_export", object_id=str(a.pk)).exists()
    # The unit's own ledger holds its own row only.
    client.force_login(ac.unit_boss)
    ws = load_workbook(io.BytesIO(client.get(reverse("assess:results_xlsx", args=[a.pk])).content)).active
    assert [r[1].value for r in ws.iter_rows(min_row=4)] == [ac.committee_a.name]


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_query_counts_stay_flat(client, ac, small_system):
    client.force_login(ac.committee_admin)
    small = three(ac, small_system, state=RoundState.PUBLISHED)
    results.open_rectification(small, actor=ac.committee_admin)
    n_small = _count(client, reverse("assess:results", args=[small.pk]))
    r_small = _count(client, reverse("assess:result", args=[target_of(small, ac.committee_a).pk]))

    orgs = [*extra_orgs(ac, 9), ac.committee_a, ac.general_b, ac.leading_a]
    rows = [
        (org, {"1.1": 30 + 5 * i, "1.2": 50 + 3 * i, "2.1": 90, "2.2": 40 + 4 * i})
        for i, org in enumerate(orgs)
    ]
    big = make_round(build_small_system(year=2027), ac.root, rows, state=RoundState.PUBLISHED, start=date(2027, 1, 1),
                     end=date(2027, 12, 31), title="2027年度测试考核")  # fmt: skip
    results.open_rectification(big, actor=ac.committee_admin)
    assert Target.objects.filter(assessment=big).count() == 12
    assert _count(client, reverse("assess:results", args=[big.pk])) <= n_small
    # (an org new to this system, like the small round's: no previous round to look up)
    assert _count(client, reverse("assess:result", args=[target_of(big, orgs[0]).pk])) <= r_small
