"""The insight demo: two years of survey waves whose answers carry real themes and seasonal shifts,
stored the way anonymous answers must be (ledger apart, shuffled sheets, tallies that match)."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from sizheng.core import demo as core_demo
from sizheng.core.models import AnonymousTally, AuditEvent
from sizheng.insight import demo as insight_demo
from sizheng.insight import text
from sizheng.insight.demo import (
    Member,
    Setting,
    Traits,
    demo_insight,
    half_waves,
    plan_wave,
    quarter_waves,
    question_specs,
    year_waves,
)
from sizheng.insight.models import (
    AnonymousResponse,
    AnswerLedger,
    Hierarchy,
    NamedResponse,
    Question,
    RiskAlert,
    Survey,
    SurveyMode,
    Template,
    Wave,
)
from sizheng.insight.survey_templates import template_for
from sizheng.org.demo import demo_city
from sizheng.org.models import Person

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)
TODAY = NOW.date()
THEMES = text.load_lexicon()["themes"]


# --- periods ------------------------------------------------------------------------------------


def test_it_plans_eight_quarters_with_the_current_one_open_and_the_latest_closed_one_planted():
    waves = quarter_waves(TODAY)
    assert [w.label for w in waves] == [
        "2025年第一季度", "2025年第二季度", "2025年第三季度", "2025年第四季度",
        "2026年第一季度", "2026年第二季度", "2026年第三季度", "2026年第四季度",
    ]  # fmt: skip
    assert [w.number for w in waves] == list(range(1, 9))
    assert [w.state for w in waves] == ["closed"] * 7 + ["open"]
    assert [w.planted for w in waves] == [False] * 6 + [True, False]
    assert waves[2].opens_on.month == 8  # the Q3 wave runs while school enrolment is on
    assert waves[-1].opens_on <= TODAY <= waves[-1].closes_on and 0.35 < waves[-1].progress < 1


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)))
def test_it_keeps_exactly_the_current_wave_open_whatever_the_day(today):
    for waves, months in ((quarter_waves(today), 3), (half_waves(today), 6)):
        assert [w.state for w in waves] == ["closed"] * (len(waves) - 1) + ["open"]
        assert waves[-1].opens_on <= today <= waves[-1].closes_on
        assert (waves[-1].closes_on - waves[-1].opens_on).days < 30
        assert all(w.closes_on < today for w in waves[:-1])
        assert all(a.closes_on < b.opens_on for a, b in zip(waves, waves[1:], strict=False))
        # Consecutive periods: each wave opens in its own quarter / half.
        starts = [(w.opens_on.year * 12 + w.opens_on.month - 1) // months for w in waves]
        assert starts == list(range(starts[0], starts[0] + len(waves)))
    years = year_waves(today)
    assert len(years) <= 2 and all(w.closes_on < today and w.state == "closed" for w in years)


# --- phrase banks -------------------------------------------------------------------------------


def test_it_writes_comments_the_lexicon_files_under_the_theme_they_were_written_for():
    analyzer = text.default_analyzer()
    for theme, items in insight_demo.CONCERNS.items():
        for phrase, _seasons in items:
            assert theme in analyzer.themes_of(phrase), (theme, phrase)
    for phrase in insight_demo.PLANTED + insight_demo.RELIEF:
        assert insight_demo.PLANTED_THEME in analyzer.themes_of(phrase), phrase
    for theme, items in insight_demo.SUGGESTIONS.items():
        for phrase in items:
            assert theme in analyzer.themes_of(phrase), (theme, phrase)
    assert all(analyzer.analyse(p).polarity == "positive" for p in insight_demo.POSITIVE_STUDY)
    assert all("学习教育" in analyzer.themes_of(p) for p in insight_demo.POSITIVE_STUDY)


def test_it_keeps_risk_phrases_out_of_every_bank_but_the_one_risk_comment():
    analyzer = text.default_analyzer()
    banks = [p for items in insight_demo.CONCERNS.values() for p, _ in items]
    banks += [p for items in insight_demo.SUGGESTIONS.values() for p in items]
    banks += (
        insight_demo.PLANTED + insight_demo.RELIEF + insight_demo.POSITIVE_STUDY + insight_demo.POSITIVE_CARE
    )
    banks += insight_demo.NEGATED + insight_demo.DEMOCRATIC_REMARKS + insight_demo.OPENERS
    assert not [p for p in banks if analyzer.is_risk(p)]
    assert analyzer.is_risk(insight_demo.RISK_COMMENT)
    assert all(text.scrub(p) == p for p in banks)  # nothing in them looks like a name or a number


# --- the answer model ---------------------------------------------------------------------------


def _members(n_groups: int = 10, size: int = 60) -> list[Member]:
    return [
        Member(1000 * g + i, f"org:{g}", g, 25 + (i % 35), f"人员{g}{i}")
        for g in range(n_groups)
        for i in range(size)
    ]


def _thought_specs(rng: random.Random):
    tpl = template_for(Template.THOUGHT)
    rows, qid = [], 1
    for d in tpl["dimensions"]:
        for q in d["questions"]:
            rows.append((qid, q["kind"], q["text"], q["options"], q["required"]))
            qid += 1
    return question_specs(rng, rows)


def _plan(seed: int, *, season: int = 3, planted: bool = False):
    rng = random.Random(seed)
    members = _members()
    traits = {m.pid: Traits(round(rng.gauss(0, 0.45), 3), rng.random() < 0.4, rng.random() < 0.2, m.age < 35,
                            m.age >= 50) for m in members}  # fmt: skip
    qs = _thought_specs(rng)
    spec = quarter_waves(TODAY)[season - 1]  # a closed 2025 wave
    rates = {f"org:{g}": 0.75 for g in range(10)}
    return members, qs, plan_wave(rng, spec, members, qs, traits, rates, Setting(season, planted)), spec


def test_it_plans_the_same_wave_for_the_same_seed():
    _m, _q, first, _s = _plan(3)
    _m, _q, again, _s = _plan(3)
    _m, _q, other, _s = _plan(4)
    assert first.sheets == again.sheets and first.ledger == again.ledger
    assert first.sheets != other.sheets


def test_it_answers_in_the_stored_forms_and_lower_where_a_concern_bites():
    members, qs, plan, _spec = _plan(7, season=4)
    by_id = {str(q.id): q for q in qs}
    for _group, answers in plan.sheets:
        for key, value in answers.items():
            q = by_id[key]
            if q.kind == "likert":
                assert value in range(1, 6)
            elif q.kind == "rating":
                assert value in range(11)
            elif q.kind == "single":
                assert value in range(len(q.options))
            elif q.kind == "multi":
                assert value == sorted(set(value)) and all(v in range(len(q.options)) for v in value)
            else:
                assert isinstance(value, str) and value
        assert all(str(q.id) in answers for q in qs if q.required)
    # Those who wrote about workload rate "任务量" lower than those who wrote nothing.
    load = next(q for q in qs if "任务量" in q.text)
    texts = [str(q.id) for q in qs if q.kind == "text"]
    hurt, calm = [], []
    for _g, a in plan.sheets:
        written = "".join(a.get(k, "") for k in texts)
        if any(k in written for k in THEMES["工作压力"]):
            hurt.append(a[str(load.id)])
        elif not written:
            calm.append(a[str(load.id)])
    assert hurt and calm and sum(hurt) / len(hurt) < sum(calm) / len(calm) - 0.3
    assert len(plan.ledger) == len(plan.sheets) <= len(members)
    writers = sum(1 for _g, a in plan.sheets if a.get(texts[0]))
    assert 0.25 < writers / len(plan.sheets) < 0.5


# --- the generator ------------------------------------------------------------------------------


@pytest.fixture
def demo_mode(settings):
    """Demo accounts are only created in demo mode."""
    settings.DEMO = True


def _generate(scale: float = 0.1, seed: int = 5) -> core_demo.DemoContext:
    """The city, then the surveys, each with its own stream like ``run_all``, on a fixed day."""
    ctx = core_demo.DemoContext(
        scale=scale, seed=seed, rng=random.Random(f"{seed}:org.city"), log=lambda _m: None
    )
    with time_machine.travel(NOW, tick=False):
        demo_city(ctx)
        ctx.rng = random.Random(f"{seed}:insight.history")
        demo_insight(ctx)
    return ctx


def _sheets(wave: Wave) -> list[tuple[str, dict]]:
    return [
        (g, json.loads(a))
        for g, a in AnonymousResponse.objects.filter(wave=wave).values_list("group", "answers")
    ]


def _texts(wave: Wave) -> list[str]:
    ids = [
        str(pk)
        for pk in Question.objects.filter(survey=wave.survey, kind="text").values_list("pk", flat=True)
    ]
    return [a[k] for _g, a in _sheets(wave) for k in ids if a.get(k)]


def _share(texts: list[str], theme: str) -> float:
    return sum(any(k in t for k in THEMES[theme]) for t in texts) / len(texts)


@pytest.mark.django_db
def test_it_writes_eight_quarterly_waves_with_ledger_tallies_and_sheets_that_agree(demo_mode):
    _generate()
    survey = Survey.objects.get(template=Template.THOUGHT)
    assert survey.mode == SurveyMode.ANONYMOUS and survey.hierarchy == Hierarchy.ORG
    waves = list(survey.waves.order_by("number"))
    assert [w.number for w in waves] == list(range(1, 9))
    assert [w.state for w in waves] == ["closed"] * 7 + ["open"]
    for wave in waves:
        sheets = _sheets(wave)
        per_group = Counter(g for g, _ in sheets)
        assert sheets and len(sheets) <= sum(wave.audience_counts.values())
        assert all(n <= wave.audience_counts[g] for g, n in per_group.items())
        assert AnswerLedger.objects.filter(wave=wave).count() == len(sheets)
        tallies = AnonymousTally.objects.filter(kind="survey", wave=str(wave.pk))
        assert dict(tallies.values_list("group", "count")) == dict(per_group)
        rate = len(sheets) / sum(wave.audience_counts.values())
        assert (0.6 < rate < 0.9) if wave.state == "closed" else (0.3 < rate < 0.9)
    # Some small branches answer below the threshold (suppression shows), most groups well above.
    closed = [Counter(g for g, _ in _sheets(w)) for w in waves[:-1]]
    assert any(min(c.values()) < 5 for c in closed)
    # The sheets are not in the ledger's order: the reporting groups come in another sequence.
    leaf = dict(Person.objects.values_list("pk", "org_id"))
    for wave in waves[:2]:
        ledger_groups = [
            f"org:{leaf[p]}"
            for p in AnswerLedger.objects.filter(wave=wave).values_list("person_id", flat=True)
        ]
        sheet_groups = [g for g, _ in _sheets(wave)]
        assert sheet_groups != ledger_groups and sheet_groups != sorted(sheet_groups)


@pytest.mark.django_db
def test_it_links_no_answer_sheet_to_a_person_and_writes_no_per_answer_audit(demo_mode):
    _generate()
    fields = {f.name for f in AnonymousResponse._meta.get_fields()}
    assert fields == {"key", "wave", "group", "answers"}
    assert [f.name for f in AnonymousResponse._meta.get_fields() if f.is_relation] == ["wave"]
    assert AnonymousResponse.objects.count() > 1000
    # No answer leaves an audit row; only the risk wave's close through services (when present) does.
    insight = AuditEvent.objects.filter(object_type__startswith="insight")
    assert set(insight.values_list("action", flat=True)) <= {"wave_close", "risk_alert"}
    assert insight.count() <= 2


@pytest.mark.django_db
def test_it_plants_the_seasonal_shifts_in_the_raw_texts(demo_mode):
    _generate(scale=0.2)  # about 200 comments a wave: enough for the significance test to see the rise
    waves = list(Survey.objects.get(template=Template.THOUGHT).waves.order_by("number"))
    texts = {w.number: _texts(w) for w in waves}
    share = {n: _share(t, "形式主义负担") for n, t in texts.items()}
    # The planted trend: the latest closed quarter (2026 Q3) about double the quarter before.
    assert share[7] > 1.5 * share[6]
    assert (
        text.emerging_themes(text.analyse_many(texts[7], workers=1), text.analyse_many(texts[6], workers=1))[
            0
        ].theme
        == "形式主义负担"
    )
    # Year end higher than the next Q1 (after the 基层减负 measures).
    assert share[4] > share[5]
    # 子女教育 peaks in the August waves (enrolment), 工作压力 at the year's end.
    school = {n: _share(t, "子女教育") for n, t in texts.items()}
    assert school[3] > max(school[2], school[4]) and school[7] > max(school[6], school[8])
    load = {n: _share(t, "工作压力") for n, t in texts.items()}
    assert load[4] > load[3] and load[8] > load[7]
    # Comments from 30–40 % of respondents.
    for wave in waves:
        sheets = _sheets(wave)
        first = str(Question.objects.filter(survey=wave.survey, kind="text").order_by("order").first().pk)
        assert 0.25 < sum(1 for _g, a in sheets if a.get(first)) / len(sheets) < 0.5


@pytest.mark.django_db
def test_it_plants_one_risk_comment_and_a_few_names_and_numbers_for_the_scrubber(demo_mode):
    _generate()
    analyzer = text.default_analyzer()
    survey = Survey.objects.get(template=Template.THOUGHT)
    risky = [(w.number, g) for w in survey.waves.all() for g, a in _sheets(w)
             for v in a.values() if isinstance(v, str) and analyzer.is_risk(v)]  # fmt: skip
    assert len(risky) == 1 and risky[0][0] == 7
    wave = survey.waves.get(number=7)
    group = risky[0][1]
    assert Counter(g for g, _ in _sheets(wave))[group] >= 10
    alert = RiskAlert.objects.get()
    assert alert.wave == wave and alert.count == 1
    assert wave.state == "closed" and wave.closes_on < NOW.date()
    names = list(Person.objects.values_list("name", flat=True))
    changed = [t for w in survey.waves.all() for t in _texts(w) if text.scrub(t, names) != t]
    assert 2 <= len(changed) <= 3
    assert all("[电话]" in text.scrub(t, names) for t in changed)


@pytest.mark.django_db
def test_it_writes_unit_satisfaction_waves_and_a_named_appraisal(demo_mode):
    _generate()
    satisfaction = list(Survey.objects.filter(template=Template.SATISFACTION))
    assert satisfaction
    for survey in satisfaction:
        assert survey.hierarchy == Hierarchy.UNIT and survey.audience_units.count() == 1
        waves = list(survey.waves.order_by("number"))
        assert [w.label[-3:] for w in waves][-1] in ("上半年", "下半年") and len(waves) == 4
        assert [w.state for w in waves] == ["closed"] * 3 + ["open"]
        for wave in waves:
            per_group = Counter(g for g, _ in _sheets(wave))
            assert all(
                g.startswith(("unit:", "office:")) and n <= wave.audience_counts[g]
                for g, n in per_group.items()
            )
            assert AnswerLedger.objects.filter(wave=wave).count() == sum(per_group.values())
    appraisal = Survey.objects.get(template=Template.DEMOCRATIC)
    assert appraisal.mode == SurveyMode.NAMED
    waves = list(appraisal.waves.order_by("number"))
    assert [w.label for w in waves] == ["2024年度", "2025年度"]
    unit = appraisal.audience_units.get()
    for wave in waves:
        rows = list(NamedResponse.objects.filter(wave=wave).select_related("person"))
        assert rows and all(r.person.unit_id == unit.pk and not r.person.is_leader for r in rows)
        assert not AnswerLedger.objects.filter(wave=wave).exists()
        assert wave.opens_on <= min(r.submitted_at.astimezone(TZ).date() for r in rows)


@pytest.mark.django_db
def test_it_adds_nothing_when_run_twice(demo_mode):
    ctx = _generate()
    counts = (Survey.objects.count(), Wave.objects.count(), AnonymousResponse.objects.count(),
              AnswerLedger.objects.count(), NamedResponse.objects.count())  # fmt: skip
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        demo_insight(ctx)
    assert counts == (Survey.objects.count(), Wave.objects.count(), AnonymousResponse.objects.count(),
                      AnswerLedger.objects.count(), NamedResponse.objects.count())  # fmt: skip
