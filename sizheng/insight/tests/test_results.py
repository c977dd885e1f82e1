"""Results that keep anonymity: aggregation over the fixed reporting groups, suppression with no
value left in a hidden cell, trends, participation, comments (insight/results.py).

The helpers at the top build surveys, waves, people and answer sheets directly (the answering
service is another module's); the other results tests import them.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sizheng.core import anonymous
from sizheng.insight import results as R
from sizheng.insight.groups import audience, leaf_group, leaf_groups
from sizheng.insight.models import (
    AnonymousResponse,
    AnswerLedger,
    Dimension,
    Hierarchy,
    NamedResponse,
    Question,
    QuestionKind,
    Survey,
    SurveyMode,
    SurveyState,
    Wave,
    WaveState,
)
from sizheng.insight.suppression import audit
from sizheng.org.models import Person, PoliticalStatus

pytestmark = pytest.mark.django_db
K = 5

# --- helpers shared by the results tests ---------------------------------------------------------

SINGLE_OPTIONS = ["很好", "一般", "较差"]
MULTI_OPTIONS = ["工作压力", "职业发展", "住房"]


def make_survey(
    owner, *, mode=SurveyMode.ANONYMOUS, hierarchy=Hierarchy.ORG, orgs=(), units=(), title="思想动态调查"
):
    """A published survey with two dimensions and one question of every kind."""
    survey = Survey.objects.create(
        title=title, owner_org=owner, mode=mode, hierarchy=hierarchy, state=SurveyState.PUBLISHED
    )
    survey.audience_orgs.set(orgs)
    survey.audience_units.set(units)
    work = Dimension.objects.create(survey=survey, name="工作状态", order=1)
    belong = Dimension.objects.create(survey=survey, name="组织认同", order=2)
    spec = [
        (QuestionKind.LIKERT, "我对当前的工作状态感到满意", work, []),
        (QuestionKind.RATING, "总体满意度（0—10 分）", work, []),
        (QuestionKind.LIKERT, "我认同本支部的工作", belong, []),
        (QuestionKind.SINGLE, "本单位作风建设情况", None, SINGLE_OPTIONS),
        (QuestionKind.MULTI, "您最关心的问题", None, MULTI_OPTIONS),
        (QuestionKind.TEXT, "您有什么意见建议？", None, []),
    ]
    for i, (kind, text, dim, options) in enumerate(spec, start=1):
        Question.objects.create(survey=survey, kind=kind, text=text, dimension=dim, options=options, order=i)
    return survey


def questions(survey) -> dict[str, Question]:
    """The survey's first question of each kind (``make_survey`` has two Likert questions)."""
    return {q.kind: q for q in reversed(survey.questions.order_by("order"))}


def open_wave(survey, number=1, *, state=WaveState.CLOSED, label=None) -> Wave:
    """A wave with the audience counted per leaf group, as opening a wave fixes it."""
    counts = Counter(g for g in leaf_groups(survey, audience(survey)).values() if g)
    return Wave.objects.create(
        survey=survey,
        number=number,
        label=label or f"第{number}轮",
        opens_on=date(2026, 3, 1),
        closes_on=date(2026, 3, 15),
        state=state,
        audience_counts=dict(counts),
    )


def add_people(unit, count, *, org=None, office=None, prefix="测试", status=PoliticalStatus.CPC_MEMBER):
    """``count`` roster people (bulk: no accounts)."""
    start = Person.objects.count()
    people = [
        Person(name=f"{prefix}{start + i:03d}", unit=unit, org=org, office=office, political_status=status)
        for i in range(count)
    ]
    return Person.objects.bulk_create(people)


def sheet(survey, rng: random.Random, *, skip=0.1, text=None) -> dict:
    """A random answer sheet (keys are question id strings, as stored)."""
    qs = questions(survey)
    out = {}
    if rng.random() >= skip:
        out[str(qs[QuestionKind.LIKERT].pk)] = rng.randint(1, 5)
    out[str(qs[QuestionKind.RATING].pk)] = rng.randint(0, 10)
    likert2 = survey.questions.filter(kind=QuestionKind.LIKERT).order_by("order").last()
    out[str(likert2.pk)] = rng.randint(1, 5)
    out[str(qs[QuestionKind.SINGLE].pk)] = rng.randrange(len(SINGLE_OPTIONS))
    out[str(qs[QuestionKind.MULTI].pk)] = sorted(rng.sample(range(len(MULTI_OPTIONS)), rng.randint(0, 2)))
    if text is not None:
        out[str(qs[QuestionKind.TEXT].pk)] = text
    return out


def answer(wave, people, sheets):
    """Write answer sheets as the answering service would (anonymous rows + ledger, or named rows)."""
    survey = wave.survey
    people = list(people)
    leaves = {p.pk: leaf_group(survey, p) for p in people}
    if survey.mode == SurveyMode.NAMED:
        NamedResponse.objects.bulk_create(
            NamedResponse(wave=wave, person=p, group=leaves[p.pk], answers=s)
            for p, s in zip(people, sheets, strict=True)
        )
        return
    AnonymousResponse.objects.bulk_create(
        AnonymousResponse(wave=wave, group=leaves[p.pk], answers=json.dumps(s, ensure_ascii=False))
        for p, s in zip(people, sheets, strict=True)
    )
    AnswerLedger.objects.bulk_create(AnswerLedger(wave=wave, person=p) for p in people)


def answer_randomly(wave, people, seed=1, **kw):
    rng = random.Random(seed)
    answer(wave, people, [sheet(wave.survey, rng, **kw) for _ in people])


def branch_people(cast, extra):
    """Branch A1's three cast members plus ``extra`` new ones, in roster order."""
    add_people(cast.unit_a, extra, org=cast.branch_a1, prefix="一支部")
    return list(Person.objects.filter(org=cast.branch_a1))


# --- aggregation ---------------------------------------------------------------------------------


@pytest.fixture
def org_survey(cast):
    """An anonymous survey over the whole tree with a small branch (A2), a small general branch (B),
    direct members in committee A, and branch C."""
    add_people(cast.unit_a, 5, org=cast.committee_a, prefix="机关委员")
    add_people(cast.unit_a, 8, org=cast.branch_a1, prefix="一支部")
    add_people(cast.unit_b, 2, org=cast.branch_b1, prefix="教育")
    add_people(cast.unit_c, 7, org=cast.branch_c, prefix="司法")
    survey = make_survey(cast.root, orgs=[cast.root])
    return survey


def test_it_counts_each_sheet_in_its_group_and_every_ancestor(cast, org_survey):
    wave = open_wave(org_survey)
    everyone = list(audience(org_survey))
    answer_randomly(wave, everyone)

    tables = R.wave_tables(wave)
    n = {g: row["n"] for g, row in tables.totals.items()}

    assert n[f"org:{cast.branch_a1.pk}"] == 11 and n[f"org:{cast.branch_a2.pk}"] == 1
    # 5 members of the committee itself plus 周杰, a non-member of unit A counted in its 机关党委.
    assert n[f"org:{cast.committee_a.pk}"] == 11 + 1 + 6
    assert n[f"org:{cast.root.pk}"] == len(everyone) == 18 + 3 + 8
    assert f"org:{cast.leading_a.pk}" not in n  # a 党组 is never a reporting group
    assert tables.hierarchy.has_direct(f"org:{cast.committee_a.pk}")
    for key, table in tables.questions.items():
        for gid, row in table.items():
            assert row["n"] == n[gid], (key, gid)  # every question counts every respondent


def test_it_hides_small_groups_and_their_complements_with_no_value_anywhere(cast, org_survey):
    wave = open_wave(org_survey)
    answer_randomly(wave, audience(org_survey))

    wr = R.wave_results(wave)
    a2, b, b1, c = (f"org:{o.pk}" for o in (cast.branch_a2, cast.general_b, cast.branch_b1, cast.branch_c))

    assert wr.suppressed == {a2, b, b1, c}  # C (8) hides with B (3) so B is not root minus A minus C
    for gid in wr.suppressed:
        row = wr.group(gid)
        assert row.n is None and row.audience is None and row.rate is None
        assert all(gid not in q.rows and gid not in q.means for q in wr.questions)
        assert all(gid not in d.index for d in wr.dimensions)
    assert wr.published(f"org:{cast.committee_a.pk}") and wr.published(f"org:{cast.branch_a1.pk}")
    tables = R.wave_tables(wave)
    served = R.served_figures(wr, [g.id for g in wr.groups])
    assert audit(tables.hierarchy, tables.totals, served["n"], k=K) == []
    for q in wr.questions:
        assert audit(tables.hierarchy, tables.questions[q.key], served[q.key], k=K, additive=q.additive) == []


def test_it_counts_a_skipped_question_as_not_answered_and_computes_means(cast):
    survey = make_survey(cast.branch_a1, orgs=[cast.branch_a1])
    people = branch_people(cast, 3)
    wave = open_wave(survey)
    qs = questions(survey)
    likert, rating, single, multi = (str(qs[k].pk) for k in ("likert", "rating", "single", "multi"))
    sheets = [
        {likert: 5, rating: 10, single: "一般", multi: ["住房", "工作压力"]},
        {likert: "同意", rating: "8", single: 0, multi: [1]},
        {likert: 3, rating: 6, single: 2, multi: []},
        {rating: 4, single: 9},  # no Likert answer; an unknown option counts as not answered
        {likert: 1, rating: 2, single: 1},
        {likert: 2, rating: 0, single: 1, multi: [0, 0, 2]},
    ]
    answer(wave, people, sheets)

    wr = R.wave_results(wave)
    gid = f"org:{cast.branch_a1.pk}"
    by_kind = {q.kind: q for q in reversed(wr.questions)}
    assert by_kind["likert"].rows[gid] == {"n": 6, "o0": 1, "o1": 1, "o2": 1, "o3": 1, "o4": 1, "skip": 1}
    assert by_kind["likert"].means[gid] == 3.0
    assert by_kind["rating"].means[gid] == 5.0
    assert by_kind["single"].rows[gid] == {"n": 6, "o0": 1, "o1": 3, "o2": 1, "skip": 1}
    assert by_kind["multi"].rows[gid] == {"n": 6, "o0": 2, "o1": 1, "o2": 2, "skip": 3}
    work = next(d for d in wr.dimensions if d.name == "工作状态")
    # Likert 5,4,3,1,2 → 100,75,50,0,25; rating 10,8,6,4,2,0 → 100…0: 575 / 11 answered items.
    assert work.index[gid] == round((100 + 75 + 50 + 0 + 25 + 100 + 80 + 60 + 40 + 20 + 0) / 11, 1)
    assert next(d for d in wr.dimensions if d.name == "组织认同").index[gid] is None  # nothing answered


def test_it_reads_the_answer_forms_it_documents():
    likert = Question(kind=QuestionKind.LIKERT)
    single = Question(kind=QuestionKind.SINGLE, options=["甲", "乙", "3"])
    multi = Question(kind=QuestionKind.MULTI, options=["甲", "乙"])
    rating = Question(kind=QuestionKind.RATING)
    text = Question(kind=QuestionKind.TEXT)

    assert R.chosen(likert, 5) == ("o4",) and R.chosen(likert, "非常不同意") == ("o0",)
    assert R.chosen(likert, 0) == () and R.chosen(likert, True) == () and R.chosen(likert, None) == ()
    assert (
        R.chosen(single, 1) == ("o1",) and R.chosen(single, "3") == ("o2",) and R.chosen(single, "丙") == ()
    )
    assert R.chosen(multi, ["乙", 0, 1]) == ("o0", "o1") and R.chosen(multi, "甲") == ("o0",)
    assert (
        R.chosen(rating, 10) == ("o10",) and R.chosen(rating, 11) == () and R.chosen(rating, 7.0) == ("o7",)
    )
    assert R.chosen(text, "  ") == () and R.chosen(text, "意见") == ("answered",)


def test_it_counts_only_written_answers_not_the_pending_pool(cast):
    survey = make_survey(cast.branch_a1, orgs=[cast.branch_a1])
    people = branch_people(cast, 4)
    wave = open_wave(survey)
    answer_randomly(wave, people[:5])
    anonymous.pool_add(
        "survey",
        str(wave.pk),
        {"group": f"org:{cast.branch_a1.pk}", "answers": {}},
        writer=lambda items: None,
    )

    assert R.wave_results(wave).group(f"org:{cast.branch_a1.pk}").n == 5


def test_it_reads_named_answers_and_lists_non_respondents_only_in_named_mode(client, cast):
    named = make_survey(cast.branch_a1, mode=SurveyMode.NAMED, orgs=[cast.branch_a1])
    people = branch_people(cast, 4)
    wave = open_wave(named)
    answer_randomly(wave, people[:5])

    assert R.wave_results(wave).group(f"org:{cast.branch_a1.pk}").n == 5
    missing = list(R.non_respondents(wave, cast.secretary_a))
    assert [p.pk for p in missing] == [
        p.pk for p in sorted(people[5:], key=lambda p: (p.unit_id, p.office_id or 0, p.name, p.pk))
    ]
    assert list(R.non_respondents(wave, cast.leader)) == []  # leaders never get lists of people

    anon = make_survey(cast.branch_a1, orgs=[cast.branch_a1])
    anon_wave = open_wave(anon)
    answer_randomly(anon_wave, people[:5])
    assert list(R.non_respondents(anon_wave, cast.secretary_a)) == []


def test_it_publishes_participation_only_for_published_groups(cast, org_survey):
    wave = open_wave(org_survey)
    everyone = list(audience(org_survey))
    answer_randomly(wave, everyone[:-2])

    rows = {r.id: r for r in R.participation(wave)}
    root = rows[f"org:{cast.root.pk}"]
    assert (root.n, root.audience) == (len(everyone) - 2, len(everyone))
    assert root.rate == pytest.approx((len(everyone) - 2) / len(everyone))
    small = rows[f"org:{cast.branch_a2.pk}"]
    assert (small.n, small.audience, small.rate) == (None, None, None)


def test_it_leaves_out_groups_nobody_was_asked_in(cast):
    survey = make_survey(cast.root, orgs=[cast.committee_a])
    add_people(cast.unit_a, 6, org=cast.branch_a1)
    Person.objects.filter(org=cast.branch_a2).update(left_on=date(2025, 1, 1))
    wave = open_wave(survey)
    answer_randomly(wave, audience(survey))

    ids = {g.id for g in R.wave_results(wave).groups}
    assert ids == {f"org:{cast.committee_a.pk}", f"org:{cast.branch_a1.pk}"}
    # Someone who moved into A2 after the wave opened counts in committee A, as a direct member.
    before = R.wave_tables(wave).totals[f"org:{cast.committee_a.pk}"]["n"]
    AnonymousResponse.objects.create(wave=wave, group=f"org:{cast.branch_a2.pk}", answers="{}")
    AnonymousResponse.objects.create(wave=wave, group="org:999999", answers="{}")  # not a group: nowhere
    assert R.wave_tables(wave).totals[f"org:{cast.committee_a.pk}"]["n"] == before + 1


def test_it_draws_trends_over_closed_waves_with_gaps_where_a_group_was_hidden(cast):
    survey = make_survey(cast.root, orgs=[cast.branch_a1])
    people = branch_people(cast, 5)
    first, second, third = (open_wave(survey, n) for n in (1, 2, 3))
    answer_randomly(first, people, seed=1)
    answer_randomly(second, people[:3], seed=2)  # too few: hidden
    answer_randomly(third, people, seed=3)
    live = open_wave(survey, 4, state=WaveState.OPEN)
    answer_randomly(live, people, seed=4)

    gid = f"org:{cast.branch_a1.pk}"
    points = R.trend(survey, gid)

    assert [p.number for p in points] == [1, 2, 3]  # an open wave is never served
    assert points[1].n is None and set(points[1].index.values()) == {None}
    assert points[0].n == points[2].n == 8
    work = survey.dimensions.get(name="工作状态").pk
    assert points[0].index[work] == R.wave_results(first).dimensions[0].index[gid]


def test_it_shows_comments_only_for_published_groups_scrubbed_and_in_an_order_of_their_own(cast, org_survey):
    planted = Person.objects.filter(org=cast.branch_a1, user__isnull=True).first()
    Person.objects.filter(pk=planted.pk).update(name="欧阳明辉")
    planted.refresh_from_db()
    wave = open_wave(org_survey)
    rng = random.Random(5)
    everyone = list(audience(org_survey).order_by("pk"))
    texts = {
        p.pk: (
            f"{planted.name}同志总是加班，有事打电话 13912345678 或 0531-88886666"
            if i == 0
            else f"意见{i:02d}"
        )
        for i, p in enumerate(everyone)
    }
    answer(wave, everyone, [sheet(org_survey, rng, text=texts[p.pk]) for p in everyone])

    found = R.comments(wave)
    wr = R.wave_results(wave)
    published = {g.id for g in wr.groups if g.n is not None}

    assert set(found) == published  # never a suppressed group (B1 with 3, nor C hidden with it)
    blob = json.dumps(found, ensure_ascii=False)
    assert planted.name not in blob and "13912345678" not in blob and "88886666" not in blob
    assert "某某同志总是加班" in blob and "[电话]" in blob
    root = f"org:{cast.root.pk}"
    assert len(found[root]) == len(everyone)  # a parent's comments include its children's
    assert len(found[f"org:{cast.branch_a1.pk}"]) == 11
    assert R.texts_by_group(wave)[f"org:{cast.branch_c.pk}"] == sorted(
        texts[p.pk] for p in everyone if p.org_id == cast.branch_c.pk
    )

    # The order depends on the texts alone, not on the order the sheets were written in.
    AnonymousResponse.objects.filter(wave=wave).delete()
    AnswerLedger.objects.filter(wave=wave).delete()
    answer(
        wave, list(reversed(everyone)), [sheet(org_survey, rng, text=texts[p.pk]) for p in reversed(everyone)]
    )
    assert R.comments(wave) == found


def test_it_shows_a_leader_only_the_groups_of_their_unit(cast):
    survey = make_survey(cast.root, orgs=[cast.committee_a, cast.general_b, cast.branch_c])
    items = R.wave_results(open_wave(survey)).groups
    by_unit = make_survey(cast.root, hierarchy=Hierarchy.UNIT, units=[cast.unit_a, cast.unit_b])

    from sizheng.insight.groups import groups

    assert R.visible_group_ids(cast.leader, survey, items) == [
        f"org:{o.pk}" for o in (cast.committee_a, cast.branch_a1, cast.branch_a2)
    ]
    assert R.visible_group_ids(cast.leader, by_unit, groups(by_unit)) == [
        f"unit:{cast.unit_a.pk}",
        f"office:{cast.office_a1.pk}",
        f"office:{cast.office_a2.pk}",
    ]
    assert len(R.visible_group_ids(cast.committee_admin, survey, items)) == len(items)
    assert R.visible_group_ids(cast.member, survey, items) == []
    tree = R.group_tree(groups(by_unit), R.visible_group_ids(cast.leader, by_unit, groups(by_unit)))
    assert [(g["id"], g["parent_id"]) for g in tree][0] == (f"unit:{cast.unit_a.pk}", None)


def test_it_computes_a_wave_in_the_same_number_of_queries_however_many_answered(cast):
    survey = make_survey(cast.root, orgs=[cast.root])
    people = add_people(cast.unit_a, 30, org=cast.branch_a1)
    small, large = open_wave(survey, 1), open_wave(survey, 2)
    answer_randomly(small, people[:5], text="希望减少会议")
    answer_randomly(large, people, text="希望减少会议")

    def count(wave):
        wave = Wave.objects.select_related("survey").get(pk=wave.pk)
        with CaptureQueriesContext(connection) as ctx:
            R.wave_results(wave)
            R.comments(wave)
        return len(ctx.captured_queries)

    assert count(small) == count(large)


def test_it_never_shows_a_comment_with_a_risk_phrase_to_managers(cast, org_survey):
    wave = open_wave(org_survey)
    rng = random.Random(6)
    everyone = list(audience(org_survey).order_by("pk"))
    texts = {
        p.pk: ("最近压力很大，觉得活着没意思" if i == 0 else f"意见{i:02d}") for i, p in enumerate(everyone)
    }
    answer(wave, everyone, [sheet(org_survey, rng, text=texts[p.pk]) for p in everyone])
    blob = json.dumps(R.comments(wave), ensure_ascii=False)
    assert "活着没意思" not in blob and "意见01" in blob
    # The raw text still reaches the aggregate analysis and the risk scan.
    assert any("活着没意思" in t for texts_ in R.texts_by_group(wave).values() for t in texts_)
