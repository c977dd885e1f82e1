"""The results page and its Excel export: scope, suppression, comments, participation, trends."""

from __future__ import annotations

import json
import random
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sizheng.core.models import AuditEvent
from sizheng.insight import results as R
from sizheng.insight.groups import audience
from sizheng.insight.models import Hierarchy, SurveyMode, WaveState
from sizheng.insight.tests.test_results import (
    add_people,
    answer,
    answer_randomly,
    make_survey,
    open_wave,
    sheet,
)
from sizheng.org.models import Person

pytestmark = pytest.mark.django_db

FIG = re.compile(r'data-fig="([^"|]+)\|([^"|]+)\|([^"|]+)">(\d+)<')


def page_url(survey, **params):
    url = reverse("insight:survey_results", args=[survey.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def island(html: str) -> dict:
    """The JSON data island the charts are drawn from."""
    found = re.search(r'<script id="sz-results-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def html_figures(html: str) -> dict:
    """Every count the page renders in a table cell, as {table: {group: {column: value}}}."""
    out: dict = {}
    for table, gid, column, value in FIG.findall(html):
        row = out.setdefault(table, {}).setdefault(gid, {})
        assert row.get(column, int(value)) == int(value), (table, gid, column)
        row[column] = int(value)
    return out


@pytest.fixture
def tree_survey(cast):
    """Anonymous, over committee A, general branch B and branch C (a forest), two closed waves and an open one.
    Branch A2 (1 person) and B (3) are below k; committee A has direct members."""
    add_people(cast.unit_a, 5, org=cast.committee_a, prefix="机关委员")
    add_people(cast.unit_a, 8, org=cast.branch_a1, prefix="一支部")
    add_people(cast.unit_b, 2, org=cast.branch_b1, prefix="教育")
    add_people(cast.unit_c, 7, org=cast.branch_c, prefix="司法")
    survey = make_survey(cast.root, orgs=[cast.committee_a, cast.general_b, cast.branch_c])
    people = list(audience(survey).order_by("pk"))
    planted = Person.objects.filter(org=cast.branch_a1, user__isnull=True).first()
    Person.objects.filter(pk=planted.pk).update(name="欧阳明辉")
    rng = random.Random(3)
    for number in (1, 2):
        wave = open_wave(survey, number, label=f"2026年第{number}季度")
        texts = [
            "欧阳明辉同志加班太多，电话 13912345678" if p.pk == planted.pk else f"意见{p.pk}" for p in people
        ]
        answer(wave, people, [sheet(survey, rng, text=t) for t in texts])
    live = open_wave(survey, 3, state=WaveState.OPEN, label="2026年第3季度")
    answer_randomly(live, people[:10])
    return survey


def test_it_shows_a_manager_every_group_with_small_ones_marked_and_no_value(client, cast, tree_survey):
    client.force_login(cast.committee_admin)
    response = client.get(page_url(tree_survey))

    assert response.status_code == 200
    html = response.content.decode()
    wr = R.wave_results(tree_survey.waves.get(number=2))
    assert response.context["wr"].wave.number == 2  # the latest closed wave, never the open one
    assert R.SUPPRESSED_TEXT in html
    small = f"org:{cast.branch_a2.pk}"
    assert small in wr.suppressed
    data = island(html)
    first = wr.groups[0].id
    assert data["figures"] == R.served_figures(wr, [g.id for g in wr.groups], detail=[first])
    assert all(small not in rows for rows in data["figures"].values())
    # The tables show exactly the island's figures.
    shown = html_figures(html)
    for table, rows in shown.items():
        for gid, row in rows.items():
            for column, value in row.items():
                assert data["figures"][table][gid][column] == value
    assert set(shown["n"]) == set(data["figures"]["n"])
    assert "各轮趋势" in html and "各题作答分布" in html and "各统计组维度得分与参与情况" in html


def test_it_keeps_the_page_free_of_inline_scripts_and_styles(client, cast, tree_survey):
    client.force_login(cast.committee_admin)
    html = client.get(page_url(tree_survey)).content.decode()

    assert " style=" not in html and "onclick" not in html
    for tag in re.findall(r"<script[^>]*>", html):
        assert 'nonce="' in tag or 'type="application/json"' in tag
    assert "insight/results.js" in html and "vendor/echarts/echarts.min.js" in html


def test_it_hides_every_figure_of_a_selected_suppressed_group(client, cast, tree_survey):
    client.force_login(cast.committee_admin)
    small = f"org:{cast.branch_a2.pk}"
    response = client.get(page_url(tree_survey, group=small))

    assert response.status_code == 200
    html = response.content.decode()
    data = island(html)
    assert all(small not in rows for rows in data["figures"].values())
    assert all(value is None for series in data["trend"]["series"] for value in series["data"])
    assert not any(gid == small for _, gid, _, _ in FIG.findall(html))
    assert "请选择人数达到 5 人且未被隐藏的统计组" in html
    assert "sz-comments" not in html and "欧阳明辉" not in html


def test_it_shows_scrubbed_comments_of_published_groups_only(client, cast, tree_survey):
    client.force_login(cast.committee_admin)
    a1 = f"org:{cast.branch_a1.pk}"
    html = client.get(page_url(tree_survey, group=a1)).content.decode()

    assert "某某同志加班太多" in html and "[电话]" in html
    assert "欧阳明辉" not in html and "13912345678" not in html
    small = client.get(page_url(tree_survey, group=f"org:{cast.branch_b1.pk}")).content.decode()
    assert "文字意见只对作答人数达到 5 人且未被隐藏的统计组显示" in small
    assert "sz-comments" not in small


def test_it_shows_a_leader_only_the_groups_of_their_unit(client, cast, tree_survey):
    client.force_login(cast.leader)
    response = client.get(page_url(tree_survey))

    assert response.status_code == 200
    ids = [g["id"] for g in response.context["tree"]]
    assert ids == [f"org:{o.pk}" for o in (cast.committee_a, cast.branch_a1, cast.branch_a2)]
    data = island(response.content.decode())
    assert set(data["figures"]["n"]) <= set(ids)
    assert client.get(page_url(tree_survey, group=f"org:{cast.branch_c.pk}")).status_code == 404
    assert "未作答人员（实名问卷" not in response.content.decode()


@pytest.mark.parametrize("who", ["outsider", "member", "secretary_b", "counselor", "auditor"])
def test_it_answers_404_to_anyone_who_may_not_see_results(client, cast, tree_survey, who):
    client.force_login(getattr(cast, who))

    assert client.get(page_url(tree_survey)).status_code == 404
    assert client.get(reverse("insight:survey_results_xlsx", args=[tree_survey.pk])).status_code == 404
    wave = tree_survey.waves.get(number=1)
    assert client.get(reverse("insight:wave_results", args=[wave.pk])).status_code == 404


def test_it_answers_404_for_an_unknown_wave_or_group_and_405_for_post(client, cast, tree_survey):
    client.force_login(cast.committee_admin)

    assert client.get(page_url(tree_survey, wave=9)).status_code == 404
    assert client.get(page_url(tree_survey, wave="x")).status_code == 404
    assert client.get(page_url(tree_survey, group="org:999999")).status_code == 404
    assert client.get(page_url(tree_survey, group=f"org:{cast.leading_a.pk}")).status_code == 404
    assert client.post(page_url(tree_survey)).status_code == 405
    assert client.post(reverse("insight:survey_results_xlsx", args=[tree_survey.pk])).status_code == 405


def test_it_says_when_the_wave_asked_for_is_still_open(client, cast, tree_survey):
    client.force_login(cast.committee_admin)
    response = client.get(page_url(tree_survey, wave=3))

    assert response.status_code == 200
    assert response.context["wr"].wave.number == 2
    assert "2026年第3季度尚未结束" in response.content.decode()
    live = tree_survey.waves.get(number=3)
    redirect = client.get(reverse("insight:wave_results", args=[live.pk]))
    assert redirect.status_code == 302 and redirect["Location"].endswith("?wave=3")


def test_it_says_what_to_do_when_no_wave_has_closed(client, cast):
    survey = make_survey(cast.root, orgs=[cast.branch_a1])
    open_wave(survey, state=WaveState.OPEN)
    client.force_login(cast.committee_admin)
    response = client.get(page_url(survey))

    assert response.status_code == 200
    assert "本问卷还没有已结束的调查轮次" in response.content.decode()
    assert client.get(reverse("insight:survey_results_xlsx", args=[survey.pk])).status_code == 404


def test_it_never_lists_non_respondents_of_an_anonymous_survey(client, cast, tree_survey):
    client.force_login(cast.committee_admin)
    html = client.get(page_url(tree_survey)).content.decode()

    assert "不提供未作答人员名单" in html and "未作答人员（实名问卷" not in html


def test_it_lists_non_respondents_of_a_named_survey_to_its_managers(client, cast):
    survey = make_survey(cast.branch_a1, mode=SurveyMode.NAMED, orgs=[cast.branch_a1])
    add_people(cast.unit_a, 5, org=cast.branch_a1, prefix="一支部")
    people = list(Person.objects.filter(org=cast.branch_a1).order_by("pk"))
    wave = open_wave(survey)
    answer_randomly(wave, people[:-1])
    client.force_login(cast.secretary_a)

    response = client.get(page_url(survey))

    assert "未作答人员（实名问卷，您管理范围内）" in response.content.decode()
    assert people[-1].name in response.content.decode()
    assert [p.pk for p in response.context["missing"]] == [people[-1].pk]


def test_it_renders_the_page_in_the_same_number_of_queries_however_many_answered(client, cast):
    def build(extra):
        survey = make_survey(cast.root, orgs=[cast.committee_a], title=f"问卷{extra}")
        add_people(cast.unit_a, extra, org=cast.branch_a1, prefix=f"人{extra}-")
        for number in (1, 2):
            answer_randomly(open_wave(survey, number), audience(survey), seed=number, text="希望减少会议")
        return survey

    small, large = build(5), build(40)
    client.force_login(cast.committee_admin)

    def count(survey):
        client.get(page_url(survey))  # warm the session
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(page_url(survey, group=f"org:{cast.branch_a1.pk}")).status_code == 200
        return len(ctx.captured_queries)

    assert count(small) == count(large)


def test_it_exports_the_same_figures_to_excel_and_audits_the_download(client, cast, tree_survey):
    client.force_login(cast.committee_admin)
    response = client.get(reverse("insight:survey_results_xlsx", args=[tree_survey.pk]) + "?wave=1")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    event = AuditEvent.objects.get(action="survey_results_export")
    assert event.actor == cast.committee_admin and event.object_id == str(tree_survey.pk)
    assert event.detail == {"wave": 1, "groups": len(R.wave_results(tree_survey.waves.get(number=1)).groups)}


def test_it_lays_out_a_unit_survey_by_units_and_offices(client, cast):
    survey = make_survey(cast.root, hierarchy=Hierarchy.UNIT, units=[cast.unit_a, cast.unit_b])
    add_people(cast.unit_a, 6, office=cast.office_a1)
    wave = open_wave(survey)
    answer_randomly(wave, audience(survey))
    client.force_login(cast.committee_admin)

    response = client.get(page_url(survey))

    ids = [g["id"] for g in response.context["tree"]]
    assert ids[:3] == [f"unit:{cast.unit_a.pk}", f"office:{cast.office_a1.pk}", f"office:{cast.office_a2.pk}"]
