"""Text analysis of a wave and talk topic-tag counts: suppression below k (with complements),
emerging themes, the active lexicon, caching, and never a raw text or a talk's summary/content."""

from __future__ import annotations

import json
import pickle
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sizheng.core.models import AuditEvent
from sizheng.core.rules import Period
from sizheng.insight import analysis
from sizheng.insight.models import (
    AnonymousResponse,
    Dimension,
    Hierarchy,
    Question,
    QuestionKind,
    Survey,
    SurveyMode,
    SurveyState,
    Template,
    Wave,
    WaveState,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 7, 15)
H1 = Period.parse("2026-H1")
CANARY = "金丝雀绝密XQ7"
PRESSURE = "最近经常加班，工作压力很大，很累"
HOUSING = "房租太贵，住房困难，不满意"
NEUTRAL = "学习安排很好，很满意"


# --- building survey data directly with the models (no dependency on insight.services) ------------


def make_survey(
    cast, *, template=Template.THOUGHT, owner=None, title="思想动态调查", mode=SurveyMode.ANONYMOUS
):
    """A published survey of committee A's subtree with a Likert, a rating and a text question."""
    survey = Survey.objects.create(
        title=title,
        template=template,
        mode=mode,
        hierarchy=Hierarchy.ORG,
        owner_org=owner or cast.committee_a,
        state=SurveyState.PUBLISHED,
    )
    work = Dimension.objects.create(survey=survey, name="工作状态", order=1)
    belong = Dimension.objects.create(survey=survey, name="组织认同", order=2)
    survey.likert = Question.objects.create(
        survey=survey, dimension=work, kind=QuestionKind.LIKERT, text="热情", order=1
    )
    survey.rating = Question.objects.create(
        survey=survey, dimension=belong, kind=QuestionKind.RATING, text="推荐", order=2
    )
    survey.text = Question.objects.create(
        survey=survey, kind=QuestionKind.TEXT, text="意见建议", required=False, order=3
    )
    return survey


def make_wave(survey, number, closes_on, *, state=WaveState.CLOSED, audience=None) -> Wave:
    return Wave.objects.create(
        survey=survey,
        number=number,
        label=f"第{number}轮",
        opens_on=closes_on - timedelta(days=14),
        closes_on=closes_on,
        state=state,
        audience_counts=audience or {},
    )


def answer(wave, group: str, n: int, *, text: str = "", likert: int = 4, rating: int = 8) -> None:
    """n anonymous answer sheets in a leaf group (written directly, as the pool's writer would)."""
    survey = wave.survey
    rows = []
    for _ in range(n):
        answers = {str(survey.likert.pk): likert, str(survey.rating.pk): rating}
        if text:
            answers[str(survey.text.pk)] = text
        rows.append(
            AnonymousResponse(wave=wave, group=group, answers=json.dumps(answers, ensure_ascii=False))
        )
    AnonymousResponse.objects.bulk_create(rows)


def g(org) -> str:
    return f"org:{org.pk}"


def wave_with(cast, survey, number, closes_on, spec: dict) -> Wave:
    """A closed wave: ``spec`` = {org: [(n, text), ...]}; audience = sheets per leaf."""
    audience = {g(org): sum(n for n, _ in items) for org, items in spec.items()}
    wave = make_wave(survey, number, closes_on, audience=audience)
    wave.survey = survey
    for org, items in spec.items():
        for n, text in items:
            answer(wave, g(org), n, text=text)
    return wave


# --- suppression --------------------------------------------------------------------------------


def test_it_publishes_groups_with_at_least_k_writers(cast):
    survey = make_survey(cast)
    wave = wave_with(cast, survey, 1, date(2026, 6, 20), {
        cast.branch_a1: [(6, PRESSURE), (2, HOUSING)],
        cast.branch_a2: [(5, PRESSURE), (3, NEUTRAL)],
    })  # fmt: skip
    result = analysis.wave_analysis(wave)
    a1, a2, root = result.group(g(cast.branch_a1)), result.group(g(cast.branch_a2)), result.root
    assert root.id == g(cast.committee_a) and a1.published and a2.published and root.published
    assert (root.n, a1.n, a2.n) == (16, 8, 8)
    assert root.theme("工作压力").count == 11 and root.theme("工作压力").share == pytest.approx(11 / 16)
    # A theme touched by fewer than k people's comments is not shown at all (it would describe them).
    assert a1.theme("住房") is None
    assert root.theme("工作压力").negative_share == 1.0
    assert root.negative == 13  # 11 pressure + 2 housing complaints; the praise is positive
    assert "加班" in dict(root.keywords)


def test_it_suppresses_a_group_below_k_and_a_complement_so_it_cannot_be_derived(cast):
    survey = make_survey(cast)
    wave = wave_with(cast, survey, 1, date(2026, 6, 20), {
        cast.branch_a1: [(8, PRESSURE)],
        cast.branch_a2: [(3, HOUSING), (5, "")],  # eight answered, only three wrote text
    })  # fmt: skip
    result = analysis.wave_analysis(wave)
    a1, a2, root = result.group(g(cast.branch_a1)), result.group(g(cast.branch_a2)), result.root
    assert a2.suppressed == analysis.PRIMARY
    assert a2.n is None and a2.themes == () and a2.keywords == () and a2.negative is None
    # Root minus A1 would be A2's figures: one of them must be hidden too.
    assert not (root.published and a1.published)
    assert "complementary" in {a1.suppressed, root.suppressed}


def test_it_hides_what_the_results_hide_for_the_respondent_counts(cast):
    survey = make_survey(cast)
    wave = wave_with(cast, survey, 1, date(2026, 6, 20), {
        cast.branch_a1: [(12, PRESSURE)],
        cast.branch_a2: [(3, PRESSURE)],
    })  # fmt: skip
    result = analysis.wave_analysis(wave)
    from sizheng.insight.results import wave_results

    hidden_in_results = wave_results(wave).suppressed
    assert g(cast.branch_a2) in hidden_in_results
    for gid in hidden_in_results:
        assert not result.group(gid).published


def test_it_never_returns_or_caches_a_raw_text(cast):
    survey = make_survey(cast)
    wave = wave_with(cast, survey, 1, date(2026, 6, 20), {
        cast.branch_a1: [(7, PRESSURE), (1, f"{CANARY}，加班太多，住房困难")],
        cast.branch_a2: [(6, HOUSING)],
    })  # fmt: skip
    result = analysis.wave_analysis(wave)
    assert CANARY not in repr(result)
    assert all(CANARY not in w for grp in result.groups for w, _n in grp.keywords)
    stored = cache._cache  # LocMemCache: every value is pickled
    for value in stored.values():
        assert CANARY.encode() not in value and CANARY not in repr(pickle.loads(value))  # noqa: S301


# --- emerging themes -----------------------------------------------------------------------------


def test_it_finds_an_emerging_theme_against_the_previous_closed_wave(cast):
    survey = make_survey(cast)
    wave_with(cast, survey, 1, date(2026, 3, 20), {
        cast.branch_a1: [(3, PRESSURE), (10, HOUSING), (27, NEUTRAL)],
    })  # fmt: skip
    make_wave(survey, 2, date(2026, 5, 1), state=WaveState.OPEN)  # an open wave is never the comparison
    current = wave_with(cast, survey, 3, date(2026, 6, 20), {
        cast.branch_a1: [(20, PRESSURE), (10, HOUSING), (10, NEUTRAL)],
    })  # fmt: skip
    result = analysis.wave_analysis(current)
    assert result.previous_label == "第1轮"
    emerging = {e.theme: e for e in result.group(g(cast.branch_a1)).emerging}
    assert set(emerging) == {"工作压力"}
    e = emerging["工作压力"]
    assert e.direction == "up" and e.p_adjusted < 0.05
    assert (e.count_before, e.n_before, e.count_now, e.n_now) == (3, 40, 20, 40)
    assert e.points == pytest.approx(42.5)
    assert result.previous(g(cast.branch_a1)).theme("住房").count == 10


def test_it_reports_no_emerging_theme_for_the_first_wave(cast):
    survey = make_survey(cast)
    wave = wave_with(cast, survey, 1, date(2026, 6, 20), {cast.branch_a1: [(10, PRESSURE)]})
    result = analysis.wave_analysis(wave)
    assert result.previous_wave_id is None and result.group(g(cast.branch_a1)).emerging == ()


# --- lexicon and cache --------------------------------------------------------------------------


def test_it_analyses_with_the_active_lexicon(cast):
    survey = make_survey(cast)
    wave = wave_with(cast, survey, 1, date(2026, 6, 20), {cast.branch_a1: [(6, "食堂饭菜不好吃，不满意")]})
    before = analysis.wave_analysis(wave)
    assert before.group(g(cast.branch_a1)).theme("后勤保障") is None
    data = analysis.lexicon_active().data
    data = {**data, "themes": {**data["themes"], "后勤保障": ["食堂", "饭菜"]}}
    analysis.lexicon_update(actor=cast.committee_admin, data=data, version=0)
    after = analysis.wave_analysis(wave)
    assert after.lexicon_version == 1
    assert after.group(g(cast.branch_a1)).theme("后勤保障").count == 6


def test_it_caches_a_closed_waves_analysis(cast):
    survey = make_survey(cast)
    wave = wave_with(cast, survey, 1, date(2026, 6, 20), {cast.branch_a1: [(6, PRESSURE)]})
    first = analysis.wave_analysis(wave)
    with CaptureQueriesContext(connection) as ctx:
        second = analysis.wave_analysis(wave)
    assert second.groups == first.groups
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "insight_anonymousresponse" not in sql  # no answer is read again


def test_it_counts_new_answers_of_an_open_wave(cast):
    survey = make_survey(cast)
    wave = make_wave(survey, 1, date(2026, 6, 20), state=WaveState.OPEN, audience={g(cast.branch_a1): 20})
    answer(wave, g(cast.branch_a1), 5, text=PRESSURE)
    assert analysis.wave_analysis(wave).group(g(cast.branch_a1)).n == 5
    answer(wave, g(cast.branch_a1), 5, text=HOUSING)
    assert analysis.wave_analysis(wave).group(g(cast.branch_a1)).n == 10


def test_it_counts_one_document_per_respondent(cast):
    survey = make_survey(cast)
    second = Question.objects.create(
        survey=survey, kind=QuestionKind.TEXT, text="其他", required=False, order=4
    )
    wave = make_wave(survey, 1, date(2026, 6, 20), audience={g(cast.branch_a1): 3})
    # Three people writing two answers each are three documents: below k, whatever the answers.
    for _ in range(3):
        AnonymousResponse.objects.create(
            wave=wave,
            group=g(cast.branch_a1),
            answers=json.dumps({str(survey.text.pk): PRESSURE, str(second.pk): HOUSING}, ensure_ascii=False),
        )
    docs = analysis.texts_by_respondent([wave])[wave.pk]
    assert len(docs[g(cast.branch_a1)]) == 3
    assert not analysis.wave_analysis(wave).group(g(cast.branch_a1)).published


# --- talk topic tags ----------------------------------------------------------------------------


def people(cast, org, n, prefix):
    from sizheng.org.testing import make_person

    unit = cast.unit_a
    return [make_person(f"{prefix}{i}", unit, org=org) for i in range(n)]


def talk(cast, org, initiator, counterpart, tags, *, held_on=date(2026, 4, 10), wellbeing=False):
    from sizheng.talks.models import Talk, TalkParticipant

    t = Talk.objects.create(
        org=org,
        initiator=initiator,
        held_on=held_on,
        tags=json.dumps(tags, ensure_ascii=False),
        summary=f"摘要{CANARY}",
        content=f"内容{CANARY}",
        is_wellbeing=wellbeing,
    )
    TalkParticipant.objects.create(talk=t, person=initiator, is_initiator=True)
    TalkParticipant.objects.create(talk=t, person=counterpart)
    return t


def talks_in(cast, spec: dict) -> None:
    """spec = {org: number of distinct people talked to}; tags alternate so counts are checkable."""
    boss = cast.person(cast.secretary_a)
    for org, n in spec.items():
        for i, p in enumerate(people(cast, org, n, f"对象{org.pk}-")):
            talk(cast, org, boss, p, ["工作", "家庭"] if i % 2 == 0 else ["工作"])


def test_it_counts_talk_tags_only_over_orgs_with_k_people(cast):
    talks_in(cast, {cast.branch_a1: 6, cast.branch_a2: 2})
    result = analysis.talk_tags(cast.committee_a, H1, actor=cast.committee_admin)
    by_id = {t.id: t for t in result.groups}
    a1, a2, root = by_id[g(cast.branch_a1)], by_id[g(cast.branch_a2)], by_id[g(cast.committee_a)]
    assert a2.suppressed == analysis.PRIMARY and a2.tags == () and a2.talks is None
    # Committee minus A1 would give A2's two people: A1 is hidden to protect them.
    assert a1.suppressed == analysis.COMPLEMENTARY
    assert root.published and root.talks == 8 and root.people == 8
    assert dict(root.tags) == {"工作": 8}  # 家庭 4 < k: not shown


def test_it_publishes_every_org_with_enough_people_and_leaves_out_wellbeing_talks(cast):
    talks_in(cast, {cast.branch_a1: 6, cast.branch_a2: 5})
    talk(
        cast,
        cast.branch_a1,
        cast.person(cast.secretary_a),
        cast.person(cast.member),
        ["心理压力"],
        wellbeing=True,
    )
    talk(
        cast,
        cast.branch_a1,
        cast.person(cast.secretary_a),
        cast.person(cast.member),
        ["学习"],
        held_on=date(2026, 7, 2),
    )
    result = analysis.talk_tags(cast.committee_a, H1)
    by_id = {t.id: t for t in result.groups}
    assert all(t.published for t in result.groups)
    assert dict(by_id[g(cast.branch_a1)].tags) == {"工作": 6}  # 家庭 3 < k: not shown
    assert "心理压力" not in dict(by_id[g(cast.committee_a)].tags)  # wellbeing-flagged: not counted
    assert "学习" not in dict(by_id[g(cast.committee_a)].tags)  # outside the period


def test_it_never_reads_a_talks_summary_or_content(cast):
    talks_in(cast, {cast.branch_a1: 6})
    with CaptureQueriesContext(connection) as ctx:
        result = analysis.talk_tags(cast.committee_a, H1, actor=cast.committee_admin)
    for q in ctx.captured_queries:
        assert '"summary"' not in q["sql"] and '"content"' not in q["sql"] and '"kind"' not in q["sql"]
    assert CANARY not in repr(result)
    event = AuditEvent.objects.get(action="talk_tags_counted")
    assert event.detail["fields"] == ["tags"] and event.detail["talks"] == 6
    assert CANARY not in json.dumps(event.detail, ensure_ascii=False)
    assert "工作" not in json.dumps(event.detail, ensure_ascii=False)  # counts, never a tag value


def test_it_reads_the_tags_once_until_talks_change(cast):
    talks_in(cast, {cast.branch_a1: 6})
    analysis.talk_tags(cast.committee_a, H1)
    analysis.talk_tags(cast.committee_a, H1)
    assert AuditEvent.objects.filter(action="talk_tags_counted").count() == 1
    talks_in(cast, {cast.branch_a2: 1})
    assert analysis.talk_tags(cast.committee_a, H1).root.talks == 7
    assert AuditEvent.objects.filter(action="talk_tags_counted").count() == 2


def test_it_protects_few_people_talked_to_many_times(cast):
    talks_in(cast, {cast.branch_a1: 6})
    boss = cast.person(cast.secretary_a)
    pair = people(cast, cast.branch_a2, 2, "常谈")
    for _ in range(4):
        for p in pair:
            talk(cast, cast.branch_a2, boss, p, ["心理压力"])
    by_id = {t.id: t for t in analysis.talk_tags(cast.committee_a, H1).groups}
    a1, a2, root = by_id[g(cast.branch_a1)], by_id[g(cast.branch_a2)], by_id[g(cast.committee_a)]
    assert not a2.published  # eight talks, but two people
    assert not (root.published and a1.published)  # so no subtraction gives their topics
