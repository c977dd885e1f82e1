"""Tests of the pure text analysis (insight/text.py): themes, negation, risk, scrub, emerging themes."""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sizheng.insight import text
from sizheng.insight.text import Analyzer, TextResult
from sizheng.org.idcard import make_id_number


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return text.default_analyzer()


A = text.default_analyzer  # for hypothesis tests (function-scoped fixtures do not mix with @given)

# Text without digits, '@' or ASCII letters: what a generated number is embedded in.
FILLER = st.text(
    alphabet=st.sampled_from(list("我们单位最近工作很忙请联系，。！？、 （）：；—")), max_size=12
)


# --- themes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("最近经常加班加点，周末也不能休息", {"工作压力"}),
        ("职称评定名额太少，职级晋升看不到希望", {"职业发展"}),
        ("绩效工资偏低，希望提高待遇", {"薪酬待遇"}),
        ("房贷压力大，住房公积金能否提高", {"住房"}),
        ("孩子上学接送困难，子女入学希望单位协调", {"子女教育"}),
        ("颈椎不好，体检查出高血压", {"医疗健康"}),
        ("家里老人需要照护，父母年迈", {"家庭照护"}),
        ("同事之间沟通不畅，关系紧张", {"人际关系"}),
        ("个别干部吃拿卡要，门难进脸难看", {"作风建设"}),
        ("文山会海，督查检查太多，基层减负没落实", {"形式主义负担"}),
        ("三会一课和主题党日内容很充实", {"学习教育"}),
        ("理想信念有所动摇，思想包袱重", {"思想认识"}),
        ("今天天气晴朗", set()),
    ],
)
def test_it_classifies_themes_by_the_lexicon(analyzer: Analyzer, sentence: str, expected: set[str]) -> None:
    assert set(analyzer.analyse(sentence).themes) == expected


def test_it_finds_nested_and_overlapping_keywords(analyzer: Analyzer) -> None:
    # 学区房 (住房) contains 学区 (子女教育); whitespace inside a keyword does not hide it.
    assert analyzer.themes_of("学区房太贵") == ("住房", "子女教育")
    assert analyzer.themes_of("文山 会海") == ("形式主义负担",)


def test_it_reports_themes_in_lexicon_order(analyzer: Analyzer) -> None:
    themes = analyzer.themes_of("理想信念坚定，但是加班太多，住房也紧张")
    assert themes == tuple(t for t in analyzer.themes if t in themes)


def test_it_uses_an_editable_lexicon() -> None:
    shared_before = (text.tokenizer().total, text.tokenizer().FREQ.get("难吃"))
    custom = Analyzer(
        {
            "themes": {"食堂": ["食堂", "午饭"]},
            "sentiment": {
                "positive": ["好吃"],
                "negative": ["难吃"],
                "negators": ["不", "没有"],
                "intensifiers": {"很": 1.5},
            },
        }
    )
    # 难吃 and 好吃 come out whole although only this lexicon knows them (a private tokenizer copy).
    assert custom.analyse("食堂的午饭难吃").themes == ("食堂",)
    assert custom.analyse("食堂的午饭难吃").polarity == "negative"
    assert custom.analyse("午饭没有难吃的").polarity == "positive"
    assert custom.analyse("饭菜很好吃").sentiment > custom.analyse("饭菜好吃").sentiment > 0
    # The shared tokenizer did not learn them: other analysers cut text as before.
    assert (text.tokenizer().total, text.tokenizer().FREQ.get("难吃")) == shared_before


def test_it_rejects_a_lexicon_with_a_one_character_keyword() -> None:
    with pytest.raises(ValueError, match="太短"):
        text.Lexicon.parse({"themes": {"住房": ["房"]}, "sentiment": {}})


def test_it_rejects_a_word_listed_as_both_positive_and_negative() -> None:
    with pytest.raises(ValueError, match="同时列在"):
        text.Lexicon.parse({"themes": {"x": ["住房"]}, "sentiment": {"positive": ["好"], "negative": ["好"]}})


def test_it_shares_one_tokenizer_between_default_analysers() -> None:
    # Forked workers inherit this one dictionary; a copy per analyser would double the memory.
    total = text.tokenizer().total
    assert text.default_analyzer()._tok is text.tokenizer()
    assert Analyzer()._tok is text.tokenizer()
    assert text.tokenizer().total == total
    assert text.initialise() is text.tokenizer()


def test_it_refuses_a_second_dictionary_in_the_same_process(tmp_path) -> None:
    other = tmp_path / "dict.txt"
    other.write_text("某词 10 n\n", encoding="utf-8")
    text.initialise()
    with pytest.raises(RuntimeError, match="同一进程"):
        text.initialise(other)


@pytest.mark.parametrize(
    "term", ["形式主义", "基层减负", "三会一课", "主题党日", "谈心谈话", "民主生活会", "住房公积金"]
)
def test_it_cuts_government_terms_whole(analyzer: Analyzer, term: str) -> None:
    assert term in analyzer.cut(f"关于{term}的意见")


def test_it_reads_every_line_of_the_user_dictionary() -> None:
    lines = text.read_lines(text.USER_DICT)
    assert len(lines) > 300
    assert all(text._DICT_LINE.match(line) for line in lines)


# --- sentiment and negation -------------------------------------------------------------------


def score(sentence: str) -> float:
    return A().analyse(sentence).sentiment


def test_it_scores_plain_sentiment_words() -> None:
    assert score("很满意") > score("满意") > 0
    assert score("很累") < score("累") < 0
    assert score("今天开会") == 0.0


def test_it_flips_a_negated_positive_word() -> None:
    assert A().analyse("不满意").polarity == "negative"
    assert A().analyse("没有落实").polarity == "negative"
    assert score("很不满意") < score("不满意")


def test_it_softens_not_very() -> None:
    # 不太满意: negative, but milder than 不满意; 不是很累: mildly positive.
    assert score("不满意") < score("不太满意") < 0
    assert A().analyse("不太满意").polarity == "negative"
    assert 0 < score("不是很累") < score("满意")
    assert score("没那么忙") == score("不是很累")


def test_it_treats_a_negated_complaint_as_mild() -> None:
    assert 0 < score("不累") < score("轻松")


def test_it_cancels_a_double_negation() -> None:
    assert score("不是不满意") > 0


def test_it_does_not_let_a_negator_reach_past_a_content_word() -> None:
    # 不加班很开心: the 不 belongs to 加班.
    assert A().analyse("不加班很开心").polarity == "positive"


def test_it_stops_negation_at_punctuation_and_connectives() -> None:
    assert A().analyse("不，我很满意").polarity == "positive"
    assert A().analyse("不加班，但是很累").polarity == "negative"


def test_it_rejoins_a_sentiment_word_the_context_split() -> None:
    assert [h.word for h in A().explain("会议太多了")] == ["太多"]
    assert A().analyse("会议太多了").polarity == "negative"


def test_it_reads_an_intensifier_that_is_also_praise_as_an_intensifier() -> None:
    assert A().analyse("好累").polarity == "negative"
    assert A().analyse("很好").polarity == "positive"


def test_it_explains_each_sentiment_word(analyzer: Analyzer) -> None:
    hits = analyzer.explain("学习很有收获，但会议不太满意")  # 很 makes 有收获 1.5
    assert [(h.word, h.score) for h in hits] == [("有收获", 1.5), ("满意", -0.5)]
    assert hits[1].modifiers == ("不太",)


# --- risk phrases -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "最近真的不想活了",
        "活着没意思",
        "有过轻生的念头",
        "我 不 想 活",
        "不-想-活",
        "自。杀",
        "结束　生命",  # an ideographic space
        "撑不下去了！",
        "想自\u200b杀",  # a zero-width space
        "看了自杀式袭击的新闻，我也想自杀",
    ],
)
def test_it_detects_risk_phrases_and_their_variants(analyzer: Analyzer, sentence: str) -> None:
    assert analyzer.analyse(sentence).risk


@pytest.mark.parametrize(
    "sentence",
    ["自杀式袭击的新闻让人震惊", "年轻生活充实", "下班后不想活动", "真想不开会了", "工作很累但很充实"],
)
def test_it_does_not_flag_exempt_contexts(analyzer: Analyzer, sentence: str) -> None:
    assert not analyzer.analyse(sentence).risk


@given(
    phrase=st.sampled_from(["不想活", "活着没意思", "轻生", "自杀", "结束生命"]),
    separators=st.lists(
        st.sampled_from([" ", "　", "，", "…", "-", "*", "\u200b", ""]), min_size=5, max_size=5
    ),
    before=FILLER,
    after=FILLER,
)
def test_it_detects_a_risk_phrase_however_it_is_spaced(phrase, separators, before, after) -> None:
    spaced = "".join(ch + sep for ch, sep in zip(phrase, separators, strict=False))
    assert A().is_risk(before + spaced + after)


# --- scrub ------------------------------------------------------------------------------------


def test_it_scrubs_names_phones_ids_and_emails() -> None:
    raw = (
        "张三和李 四说，王主任让联系13812345678或 138-1234-5678、+86 139 1234 5678，"
        "座机010-12345678，(0531)88888888，分机 8023，身份证11010519491231002X，邮箱 zhang.san@gov.cn；"
        "王小明同志和姓刘的同事都知道。"
    )
    out = text.scrub(raw, ["张三", "李四"])
    for secret in [
        "张三",
        "李 四",
        "王主任",
        "1381234",
        "5678",
        "010-",
        "0531",
        "8023",
        "002X",
        "zhang",
        "王小明",
        "姓刘",
    ]:
        assert secret not in out
    assert out.count("某某") == 3
    assert "某主任" in out and "姓某" in out
    assert out.count("[电话]") == 6
    assert "[身份证号]" in out and "[邮箱]" in out


def test_it_leaves_titles_without_a_surname_alone() -> None:
    kept = "公安局长、常务副主任、其余同志、主任科员、语文老师、周末主任值班、老百姓看病难"
    assert text.scrub(kept) == kept


def test_it_scrubs_long_numbers_and_full_width_digits() -> None:
    assert text.scrub("卡号6222021234567890123") == "卡号[号码]"
    assert text.scrub("手机１３８１２３４５６７８") == "手机[电话]"


@given(number=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), before=FILLER, after=FILLER)
def test_it_removes_any_mobile_number(number: str, before: str, after: str) -> None:
    out = text.scrub(before + number + after)
    assert number not in out
    assert "[电话]" in out


@given(
    region=st.integers(110000, 659999),
    born=st.dates(date(1930, 1, 1), date(2010, 12, 31)),
    seq=st.integers(0, 999),
    before=FILLER,
    after=FILLER,
)
def test_it_removes_any_valid_id_number(region: int, born: date, seq: int, before: str, after: str) -> None:
    number = make_id_number(str(region), born, seq)
    out = text.scrub(before + number + after)
    assert number not in out
    assert number[:14] not in out
    assert "[身份证号]" in out


@given(
    name=st.text(
        alphabet=st.sampled_from(list("王李张刘陈明华伟芳娜敏静丽强磊军洋")), min_size=2, max_size=3
    ),
    before=FILLER,
    after=FILLER,
)
def test_it_removes_any_roster_name(name: str, before: str, after: str) -> None:
    out = text.scrub(before + name + after, [name])
    assert name not in out


@given(st.text(alphabet=st.sampled_from(list("王主任张三同志13800138000@a.cn，。 姓李0-（）X")), max_size=60))
def test_it_scrubs_idempotently(raw: str) -> None:
    once = text.scrub(raw, ["张三"])
    assert text.scrub(once, ["张三"]) == once


# --- aggregates and emerging themes -------------------------------------------------------------


def result(*themes: str, polarity: str = "neutral") -> TextResult:
    return TextResult((), (), themes, 0.0, polarity, False)


def sample(rng: random.Random, n: int, shares: dict[str, float]) -> list[TextResult]:
    return [result(*(t for t, p in shares.items() if rng.random() < p)) for _ in range(n)]


BASE = {"工作压力": 0.3, "住房": 0.1, "子女教育": 0.12, "学习教育": 0.2, "作风建设": 0.05, "医疗健康": 0.08}


def test_it_computes_theme_shares_and_negative_shares() -> None:
    results = [result("住房", polarity="negative"), result("住房", "工作压力"), result(), result("工作压力")]
    assert text.theme_shares(results) == {"住房": 0.5, "工作压力": 0.5}
    assert text.negative_share_by_theme(results) == {"住房": 0.5, "工作压力": 0.0}
    assert text.theme_shares([]) == {}


def test_it_detects_a_planted_rise() -> None:
    rng = random.Random(7)
    before = sample(rng, 400, BASE)
    now = sample(rng, 400, {**BASE, "住房": 0.25})
    found = text.emerging_themes(now, before)
    assert [e.theme for e in found] == ["住房"]
    rise = found[0]
    assert rise.direction == "up" and rise.share_now > rise.share_before
    assert rise.p_adjusted <= 0.05 and rise.p_value <= rise.p_adjusted
    assert rise.effect == pytest.approx(rise.share_now - rise.share_before)


@pytest.mark.parametrize("seed", range(10))
def test_it_finds_nothing_in_noise(seed: int) -> None:
    rng = random.Random(seed)
    assert text.emerging_themes(sample(rng, 300, BASE), sample(rng, 300, BASE)) == []


def test_it_reports_falls_only_when_asked() -> None:
    rng = random.Random(3)
    before = sample(rng, 400, BASE)
    now = sample(rng, 400, {**BASE, "工作压力": 0.1})
    assert text.emerging_themes(now, before) == []
    [fall] = text.emerging_themes(now, before, include_falls=True)
    assert (fall.theme, fall.direction) == ("工作压力", "down")


def test_it_ignores_themes_below_the_minimum_count() -> None:
    now = [result("住房")] * 6 + [result()] * 94
    before = [result()] * 100
    assert text.emerging_themes(now, before, min_count=7) == []
    assert [e.theme for e in text.emerging_themes(now, before, min_count=6)] == ["住房"]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_it_never_finds_a_change_between_identical_periods(seed: int) -> None:
    rows = sample(random.Random(seed), 200, BASE)
    assert text.emerging_themes(rows, list(rows), include_falls=True) == []


def test_it_counts_tags_once_per_item() -> None:
    counts = text.tag_counts([["工作", "家庭", "工作"], [" 家庭 ", ""], []])
    assert counts == {"工作": 1, "家庭": 2}


# --- keywords ---------------------------------------------------------------------------------


def test_it_extracts_corpus_keywords_deterministically(analyzer: Analyzer) -> None:
    texts = ["基层减负要落实，文山会海太多"] * 6 + ["孩子上学难，希望解决子女入学"] * 5 + ["王建国不太满意"]
    first = analyzer.keywords(texts, top=5)
    assert first == analyzer.keywords(list(reversed(texts)), top=5)
    words = [k.word for k in first]
    assert "基层减负" in words and "文山会海" in words
    assert all(k.texts >= 5 for k in first)
    assert "王建国" not in words and "不太" not in words


def test_it_gives_each_text_its_keywords_without_modifiers(analyzer: Analyzer) -> None:
    result = analyzer.analyse("职称评定不太公平，非常影响积极性")
    assert "职称评定" in result.keywords
    assert not {"不太", "非常"} & set(result.keywords)
    assert "，" not in result.tokens


# --- determinism and the process pool -----------------------------------------------------------

PHRASES = [
    "最近加班加点，身心疲惫",
    "职称评定不太公平",
    "住房公积金偏低",
    "孩子上学接送难",
    "文山会海，督查检查太多",
    "理论学习很有收获",
    "同事关系融洽，很满意",
    "家里老人生病，顾不上照顾",
    "不是很累，挺充实",
    "有时觉得活着没意思",
]


def corpus(n: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    return [
        "，".join(rng.sample(PHRASES, rng.randint(1, 3))) + rng.choice(["。", "！", ""]) for _ in range(n)
    ]


def test_it_gives_the_same_results_with_two_workers_as_with_one(analyzer: Analyzer, monkeypatch) -> None:
    contexts: list[str] = []
    real = text.multiprocessing.get_context
    monkeypatch.setattr(
        text.multiprocessing, "get_context", lambda method: contexts.append(method) or real(method)
    )
    texts = corpus(text.PARALLEL_MIN_TEXTS + 500)
    parallel = analyzer.analyse_many(texts, workers=2, chunksize=300)
    assert contexts == ["fork"]  # the pool really ran
    assert parallel == analyzer.analyse_many(texts, workers=1)
    assert len(parallel) == len(texts)
    assert parallel[5] == analyzer.analyse(texts[5])


def test_it_analyses_small_inputs_in_process(analyzer: Analyzer) -> None:
    texts = corpus(10)
    assert analyzer.analyse_many(texts) == [analyzer.analyse(t) for t in texts]
    assert analyzer.analyse_many([]) == []


@settings(max_examples=60, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("我不很太满意累加班住房孩子学习会议，。！ 好没有自杀abc123")),
        max_size=40,
    )
)
def test_it_analyses_any_text_deterministically(sentence: str) -> None:
    analyzer = A()
    first = analyzer.analyse(sentence)
    assert first == analyzer.analyse(sentence)
    assert -1 < first.sentiment < 1
    assert (first.polarity == "negative") == (first.sentiment < -text.NEUTRAL_BAND)
    assert (first.polarity == "positive") == (first.sentiment > text.NEUTRAL_BAND)
    assert not set(first.tokens) & analyzer.stopwords
    assert all(any(ch.isalpha() for ch in t) for t in first.tokens)
    assert set(first.keywords) <= set(first.tokens)
    assert set(first.themes) <= set(analyzer.themes)
