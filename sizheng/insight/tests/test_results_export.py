"""The results workbook: the page's suppression, the viewer's groups, no free text; read back with openpyxl."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from sizheng.insight import results as R
from sizheng.insight.export import results_xlsx
from sizheng.insight.groups import audience
from sizheng.insight.tests.test_results import add_people, answer_randomly, make_survey, open_wave

pytestmark = pytest.mark.django_db


def sheets(data: bytes) -> dict[str, list[list]]:
    """Every sheet's data rows (below the title, note and header rows)."""
    book = load_workbook(io.BytesIO(data), read_only=True)
    out = {}
    for ws in book.worksheets:
        width = len(next(ws.iter_rows(min_row=3, max_row=3, values_only=True)))
        out[ws.title] = [
            [*r, *([None] * (width - len(r)))] for r in ws.iter_rows(min_row=4, values_only=True)
        ]
    return out


def export_figures(data: bytes, wr: R.WaveResults) -> dict:
    """The counts a workbook serves, as {table: {group: {column: count}}} (labels mapped back to keys)."""
    found = sheets(data)
    figures: dict = {R.TOTAL: {}}
    for gid, _name, _parent, audience_n, n, _rate in found["参与情况"]:
        if isinstance(n, int):
            figures[R.TOTAL][gid] = {R.TOTAL: n}
        else:
            assert n == R.SUPPRESSED_TEXT and audience_n is None
    by_number = {f"第{q.number}题": q for q in wr.questions}
    for q in wr.questions:
        figures[q.key] = {}
    for number, _text, _kind, gid, _name, n, label, count, _share, _mean in found["题目分布"]:
        q = by_number[number]
        if n == R.SUPPRESSED_TEXT:
            assert (label, count) == (None, None)
            continue
        key = next(c.key for c in q.columns if c.label == label)
        figures[q.key].setdefault(gid, {R.TOTAL: n})[key] = count
    return figures


@pytest.fixture
def forest(cast):
    add_people(cast.unit_a, 5, org=cast.committee_a)
    add_people(cast.unit_a, 8, org=cast.branch_a1)
    add_people(cast.unit_b, 2, org=cast.branch_b1)
    add_people(cast.unit_c, 7, org=cast.branch_c)
    survey = make_survey(cast.root, orgs=[cast.committee_a, cast.general_b, cast.branch_c])
    wave = open_wave(survey)
    answer_randomly(wave, audience(survey), text="会议太多，联系我 13912345678")
    return wave


def test_it_writes_every_published_figure_and_nothing_of_a_hidden_group(cast, forest):
    wr = R.wave_results(forest)
    ids = [g.id for g in wr.groups]
    data = results_xlsx(wr, ids, exported_by="gongwei")

    assert export_figures(data, wr) == R.served_figures(wr, ids)
    found = sheets(data)
    assert set(found) == {"参与情况", "维度得分", "题目分布"}
    small = f"org:{cast.branch_a2.pk}"
    dims = {row[0]: row for row in found["维度得分"]}
    assert dims[small][2:] == [R.SUPPRESSED_TEXT, None, None]
    published = f"org:{cast.branch_a1.pk}"
    assert dims[published][2:] == [wr.group(published).n, *(d.index[published] for d in wr.dimensions)]
    rows = [r for r in found["题目分布"] if r[3] == small]
    assert len(rows) == len(wr.questions) and all(
        r[5:] == [R.SUPPRESSED_TEXT, None, None, None, None] for r in rows
    )


def test_it_never_exports_free_text(cast, forest):
    wr = R.wave_results(forest)
    found = sheets(results_xlsx(wr, [g.id for g in wr.groups]))

    cells = [str(v) for rows in found.values() for row in rows for v in row if v is not None]
    assert not any("会议太多" in c or "13912345678" in c for c in cells)


def test_it_exports_a_leader_only_their_units_groups(client, cast, forest):
    client.force_login(cast.leader)
    response = client.get(reverse("insight:survey_results_xlsx", args=[forest.survey_id]))

    assert response.status_code == 200
    ids = {row[0] for row in sheets(response.content)["参与情况"]}
    assert ids == {f"org:{o.pk}" for o in (cast.committee_a, cast.branch_a1, cast.branch_a2)}


def test_it_names_the_file_after_the_survey_and_wave(client, cast, forest):
    client.force_login(cast.committee_admin)
    response = client.get(reverse("insight:survey_results_xlsx", args=[forest.survey_id]), {"wave": 1})

    assert "filename*=utf-8''" in response["Content-Disposition"]
    assert (
        client.get(reverse("insight:survey_results_xlsx", args=[forest.survey_id]), {"wave": 2}).status_code
        == 404
    )
