"""PHQ-9 and GAD-7: items, scoring and the published severity bands (pure, no database)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sizheng.care import instruments
from sizheng.care.instruments import GAD7, PHQ9


def _answers(total: int, n: int, *, item9: int = 0) -> list[int]:
    """n answers summing to ``total``, with PHQ-9 item 9 fixed (the rest filled greedily)."""
    out = [0] * n
    if n == 9:
        out[8] = item9
        total -= item9
    for i in range(n if n != 9 else 8):
        out[i] = min(3, total)
        total -= out[i]
    assert total == 0, "total not reachable"
    return out


PHQ9_TABLE = [
    (0, "minimal", "无/极轻微"),
    (4, "minimal", "无/极轻微"),
    (5, "mild", "轻度"),
    (9, "mild", "轻度"),
    (10, "moderate", "中度"),
    (14, "moderate", "中度"),
    (15, "moderately_severe", "中重度"),
    (19, "moderately_severe", "中重度"),
    (20, "severe", "重度"),
    (24, "severe", "重度"),
]
GAD7_TABLE = [
    (0, "minimal", "无/极轻微"),
    (4, "minimal", "无/极轻微"),
    (5, "mild", "轻度"),
    (9, "mild", "轻度"),
    (10, "moderate", "中度"),
    (14, "moderate", "中度"),
    (15, "severe", "重度"),
    (21, "severe", "重度"),
]


def test_it_has_the_standard_items_and_options():
    assert len(instruments.PHQ9_ITEMS) == 9 and len(instruments.GAD7_ITEMS) == 7
    assert [label for _, label in instruments.OPTIONS] == ["完全不会", "好几天", "一半以上的天数", "几乎每天"]
    assert [v for v, _ in instruments.OPTIONS] == [0, 1, 2, 3]
    assert "伤害自己" in instruments.PHQ9_ITEMS[8]
    assert instruments.get(PHQ9).max_score == 27 and instruments.get(GAD7).max_score == 21


@pytest.mark.parametrize(("total", "band", "label"), PHQ9_TABLE)
def test_it_bands_phq9_at_every_boundary(total, band, label):
    r = instruments.score(PHQ9, _answers(total, 9))
    assert (r.score, r.band, r.band_label) == (total, band, label)
    assert r.severe == (band == "severe") and r.crisis == r.severe and not r.item9_positive


@pytest.mark.parametrize(("total", "band", "label"), GAD7_TABLE)
def test_it_bands_gad7_at_every_boundary(total, band, label):
    r = instruments.score(GAD7, _answers(total, 7))
    assert (r.score, r.band, r.band_label) == (total, band, label)
    assert r.crisis == (band == "severe") and not r.item9_positive


def test_it_scores_the_phq9_maximum_as_severe():
    r = instruments.score(PHQ9, [3] * 9)
    assert r.score == 27 and r.band == "severe" and r.item9_positive and r.crisis


def test_it_flags_item9_positive_at_a_total_of_one():
    r = instruments.score(PHQ9, _answers(1, 9, item9=1))
    assert r.score == 1 and r.band == "minimal"
    assert r.item9_positive and r.crisis


def test_it_has_no_item9_on_gad7():
    r = instruments.score(GAD7, [0, 0, 0, 0, 0, 0, 3])
    assert not r.item9_positive and not r.crisis


@pytest.mark.parametrize(
    ("code", "answers", "message"),
    [
        (PHQ9, [0] * 8, "共有 9 题"),
        (PHQ9, [0] * 10, "共有 9 题"),
        (GAD7, [0] * 9, "共有 7 题"),
        (PHQ9, [0] * 8 + [4], "第 9 题"),
        (GAD7, [-1] + [0] * 6, "第 1 题"),
        (GAD7, [0, 0, True, 0, 0, 0, 0], "第 3 题"),
        (GAD7, [0, 0, 0, 1.5, 0, 0, 0], "第 4 题"),
        ("bdi", [0] * 21, "PHQ-9 或 GAD-7"),
    ],
)
def test_it_refuses_wrong_answers(code, answers, message):
    with pytest.raises(ValueError, match=message):
        instruments.score(code, answers)


def test_it_refuses_a_score_outside_the_range():
    with pytest.raises(ValueError, match="超出"):
        instruments.get(GAD7).band_for(22)


answer_lists = st.sampled_from([PHQ9, GAD7]).flatmap(
    lambda code: st.tuples(
        st.just(code), st.lists(st.integers(0, 3), min_size=len(instruments.get(code).items),
                                max_size=len(instruments.get(code).items))
    )
)  # fmt: skip


@given(answer_lists)
def test_it_scores_the_sum_of_the_answers(case):
    code, answers = case
    r = instruments.score(code, answers)
    assert r.score == sum(answers)
    assert r.item9_positive == (code == PHQ9 and answers[8] >= 1)
    assert r.crisis == (r.item9_positive or r.band == "severe")


@given(st.sampled_from([PHQ9, GAD7]), st.data())
def test_it_bands_monotonically_in_the_score(code, data):
    inst = instruments.get(code)
    a = data.draw(st.integers(0, inst.max_score))
    b = data.draw(st.integers(a, inst.max_score))
    assert instruments.severity_rank(code, inst.band_for(a).code) <= instruments.severity_rank(
        code, inst.band_for(b).code
    )


@pytest.mark.parametrize("code", [PHQ9, GAD7])
def test_its_bands_partition_the_whole_range(code):
    inst = instruments.get(code)
    assert inst.bands[0].low == 0 and inst.bands[-1].high == inst.max_score
    for prev, nxt in zip(inst.bands, inst.bands[1:], strict=False):
        assert nxt.low == prev.high + 1
    for s in range(inst.max_score + 1):
        assert sum(b.low <= s <= b.high for b in inst.bands) == 1


@given(st.sampled_from([PHQ9, GAD7]), st.integers(-50, 80))
def test_it_bands_every_score_in_exactly_one_band_or_refuses(code, s):
    inst = instruments.get(code)
    if 0 <= s <= inst.max_score:
        assert inst.band_for(s).low <= s <= inst.band_for(s).high
    else:
        with pytest.raises(ValueError):
            inst.band_for(s)
