"""The disclosure audit (issue 7 acceptance): for every seeded survey and every viewer, collect
everything served — the results page for every group, the API for every group, the Excel export —
check the three channels serve the same figures, and run the linear-programming audit on them: no
hidden cell may be pinned, and no published figure may describe fewer than k people.

Seeded world (k = 5), on the cast's tree::

    机关工委 root
    ├─ committee A   5 direct members + 周杰 (a non-member of unit A, counted in committee A)
    │  ├─ branch A1  11
    │  └─ branch A2   1   ← below k; its parent and its sibling stay published
    ├─ general branch B
    │  └─ branch B1   3   ← below k, an only child: B is below k too
    └─ branch C       8   ← hidden as a complement, or root − A − C would give B

    by units → offices: unit A (8 without an office) → 办公室 8, 预算处 2 (below k);
                        unit B → 基础教育处 3 (both below k); unit C 8 (no offices)
"""

from __future__ import annotations

import json
import random
import re

import pytest
from django.urls import reverse

from sizheng.insight import results as R
from sizheng.insight.groups import audience
from sizheng.insight.models import Hierarchy, SurveyMode, WaveState
from sizheng.insight.suppression import audit
from sizheng.insight.tests.test_results import add_people, answer, make_survey, open_wave, sheet
from sizheng.insight.tests.test_results_export import export_figures
from sizheng.org.models import Person

pytestmark = pytest.mark.django_db
K = 5
ISLAND = re.compile(r'<script id="sz-results-data" type="application/json">(.*?)</script>', re.S)
FIG = re.compile(r'data-fig="([^"|]+)\|([^"|]+)\|([^"|]+)">(\d+)<')


def _world(cast):
    add_people(cast.unit_a, 5, org=cast.committee_a, prefix="机关委员")
    add_people(cast.unit_a, 5, org=cast.branch_a1, office=cast.office_a1, prefix="办公室")
    add_people(cast.unit_a, 3, org=cast.branch_a1, prefix="一支部")
    add_people(cast.unit_b, 2, org=cast.branch_b1, office=cast.office_b, prefix="教育")
    add_people(cast.unit_c, 7, org=cast.branch_c, prefix="司法")
    Person.objects.filter(user=cast.leader).update(office=cast.office_a1)
    Person.objects.filter(user=cast.outsider).update(office=None)
    return {
        "tree": make_survey(cast.root, orgs=[cast.root], title="全机关思想动态调查"),
        "units": make_survey(
            cast.root,
            hierarchy=Hierarchy.UNIT,
            units=[cast.unit_a, cast.unit_b, cast.unit_c],
            title="满意度测评",
        ),
        "named": make_survey(
            cast.committee_a, mode=SurveyMode.NAMED, orgs=[cast.committee_a], title="实名调查"
        ),
        "forest": make_survey(
            cast.root, orgs=[cast.committee_a, cast.general_b, cast.branch_c], title="三单位调查"
        ),
    }


def _answer_waves(survey, seed):
    """Wave 1: everyone answers; wave 2: about four in five (some small groups may fall to 0); wave 3 open."""
    rng = random.Random(seed)
    people = list(audience(survey).order_by("pk"))
    first = open_wave(survey, 1, label="2026年上半年")
    answer(first, people, [sheet(survey, rng, skip=0.2, text=f"意见{rng.randint(1, 9)}") for _ in people])
    second = open_wave(survey, 2, label="2026年下半年")
    some = [p for p in people if rng.random() < 0.8]
    answer(second, some, [sheet(survey, rng, skip=0.3) for _ in some])
    live = open_wave(survey, 3, state=WaveState.OPEN, label="2027年上半年")
    answer(live, people[:K], [sheet(survey, rng) for _ in people[:K]])
    return first, second


# --- the three channels --------------------------------------------------------------------------


def _nonempty(figures: dict) -> dict:
    return {table: rows for table, rows in figures.items() if rows}


def _merge(into: dict, figures: dict) -> None:
    for table, rows in figures.items():
        for gid, row in rows.items():
            existing = into.setdefault(table, {}).setdefault(gid, row)
            assert existing == row, (table, gid)


def page_channel(client, survey, wave) -> dict:
    """Every figure of the results page, over every group the viewer can pick."""
    url = reverse("insight:survey_results", args=[survey.pk])
    first = client.get(url, {"wave": wave.number})
    assert first.status_code == 200
    served: dict = {}
    all_waves = {w.number: R.wave_results(w) for w in survey.waves.filter(state=WaveState.CLOSED)}
    for item in first.context["tree"]:
        response = client.get(url, {"wave": wave.number, "group": item["id"]})
        html = response.content.decode()
        island = json.loads(ISLAND.search(html).group(1))
        figures = island["figures"]
        for table, gid, column, value in FIG.findall(html):  # the tables show the island's figures only
            assert figures[table][gid][column] == int(value)
        # Trends: a wave's point is that wave's published index, or a gap where the group was hidden.
        for series, dim_index in zip(
            island["trend"]["series"], range(len(island["trend"]["series"])), strict=True
        ):
            expected = []
            for number in sorted(all_waves):
                wr = all_waves[number]
                expected.append(
                    wr.dimensions[dim_index].index.get(item["id"]) if wr.published(item["id"]) else None
                )
            assert series["data"] == expected
        _merge(served, figures)
    return _nonempty(served)


def api_channel(client, survey, wave) -> dict:
    """Every figure of the API, over every group it lists for the viewer."""
    groups = client.get(f"/api/v1/surveys/{survey.pk}/groups").json()
    wr = R.wave_results(wave)
    served: dict = {}
    for group in groups:
        data = client.get(
            f"/api/v1/surveys/{survey.pk}/results", {"group": group["id"], "wave": wave.number}
        ).json()
        gid = group["id"]
        if "suppressed" in data["participation"]:
            assert data["participation"] == {"suppressed": True}
            assert all(
                q.get("suppressed") is True and "n" not in q and "options" not in q for q in data["questions"]
            )
            assert all(set(d) == {"id", "name", "suppressed"} for d in data["dimensions"])
            continue
        _merge(served, {R.TOTAL: {gid: {R.TOTAL: data["participation"]["n"]}}})
        rows = {}
        for q in data["questions"]:
            row = {R.TOTAL: q["n"], R.SKIP: q["skipped"], **{o["key"]: o["count"] for o in q["options"]}}
            rows[q["id"]] = row
            _merge(served, {R.table_key(q["id"]): {gid: row}})
        _check_derived(wr, gid, data, rows)
    return _nonempty(served)


def _check_derived(wr, gid, data, rows):
    """Means and dimension indices are functions of the served counts (they add nothing)."""
    for q in wr.questions:
        if q.scored:
            served_mean = next(item for item in data["questions"] if item["id"] == q.id)["mean"]
            assert served_mean == R._mean(rows[q.id], q.columns, "score")
    for d, item in zip(wr.dimensions, data["dimensions"], strict=True):
        members = [(rows[q.id], q.columns) for q in wr.questions if q.dimension_id == d.id and q.scored]
        assert item["index"] == R.dimension_index(members)


def export_channel(client, survey, wave) -> dict:
    response = client.get(reverse("insight:survey_results_xlsx", args=[survey.pk]), {"wave": wave.number})
    assert response.status_code == 200
    return _nonempty(export_figures(response.content, R.wave_results(wave)))


def audit_served(wave, served: dict) -> list:
    """The LP audit of every served table against the wave's true counts."""
    tables = R.wave_tables(wave)
    findings = []
    for table, rows in served.items():
        if table == R.TOTAL:
            findings += audit(tables.hierarchy, tables.totals, rows, k=K)
        else:
            findings += audit(
                tables.hierarchy, tables.questions[table], rows, k=K, additive=tables.additive[table]
            )
    return findings


# --- the audit -----------------------------------------------------------------------------------


@pytest.fixture
def world(cast, settings):
    settings.ANONYMITY_MIN_GROUP = K
    surveys = _world(cast)
    waves = {name: _answer_waves(survey, seed) for seed, (name, survey) in enumerate(surveys.items())}
    return surveys, waves


VIEWERS = {"tree": ["committee_admin"], "units": ["committee_admin", "leader"], "named": ["committee_admin"],
           "forest": ["committee_admin", "leader"]}  # fmt: skip


@pytest.mark.parametrize("name", sorted(VIEWERS))
def test_it_serves_nothing_the_audit_can_use_in_any_channel(client, cast, world, name):
    surveys, waves = world
    survey = surveys[name]
    for who in VIEWERS[name]:
        client.force_login(getattr(cast, who))
        for wave in waves[name]:
            page = page_channel(client, survey, wave)
            api = api_channel(client, survey, wave)
            export = export_channel(client, survey, wave)

            assert page == api == export, (name, who, wave.number)
            assert page[R.TOTAL], "something must be published"
            findings = audit_served(wave, page)
            assert findings == [], [f.message for f in findings]


def test_it_keeps_the_planned_structure_so_the_audit_is_not_vacuous(cast, world):
    surveys, waves = world
    org = lambda o: f"org:{o.pk}"  # noqa: E731
    tree = R.wave_results(waves["tree"][0])
    # A child below k whose parent and sibling are published (direct members protect it).
    assert tree.published(org(cast.committee_a)) and tree.published(org(cast.branch_a1))
    assert not tree.published(org(cast.branch_a2))
    # An only child below k; a complement so the root minus the rest does not give it away.
    assert {org(cast.general_b), org(cast.branch_b1), org(cast.branch_c)} <= tree.suppressed
    units = R.wave_results(waves["units"][0])
    assert units.published(f"unit:{cast.unit_a.pk}") and units.published(f"office:{cast.office_a1.pk}")
    assert not units.published(f"office:{cast.office_a2.pk}") and not units.published(
        f"unit:{cast.unit_b.pk}"
    )

    # The audit does find what naive publication would give away: every group of k or more
    # (root − A − C = B), or the small office as well.
    tables = R.wave_tables(waves["tree"][0])
    naive = {g: row for g, row in tables.totals.items() if row[R.TOTAL] >= K}
    assert sorted(f.kind for f in audit(tables.hierarchy, tables.totals, naive, k=K)) == [
        "pinned",
        "pinned",
        "remainder",
    ]
    tables = R.wave_tables(waves["units"][0])
    small = f"office:{cast.office_a2.pk}"
    served = {g: tables.totals[g] for g in (*(r.id for r in units.groups if r.n is not None), small)}
    assert "small" in {f.kind for f in audit(tables.hierarchy, tables.totals, served, k=K)}
