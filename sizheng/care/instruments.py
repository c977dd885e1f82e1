"""PHQ-9 and GAD-7 self-screening instruments: items, response options, scoring and severity bands.

Pure (no Django): the standard items in the usual Simplified Chinese translation, each answered for
"the last two weeks" with one of four options scored 0–3; the total is the sum of the item scores.
Severity bands are the published cut-offs (Kroenke, Spitzer & Williams 2001 for PHQ-9; Spitzer et al.
2006 for GAD-7). PHQ-9 item 9 (thoughts of being better off dead or of self-harm) is "positive" at
any score ≥ 1, whatever the total: a positive item 9 always shows the crisis resources.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PHQ9 = "phq9"
GAD7 = "gad7"

STEM = "在过去两周里，以下问题困扰您的频率有多少？"

# The four response options, scored 0–3 (same for both instruments).
OPTIONS: tuple[tuple[int, str], ...] = (
    (0, "完全不会"),
    (1, "好几天"),
    (2, "一半以上的天数"),
    (3, "几乎每天"),
)
MAX_ITEM_SCORE = 3

PHQ9_ITEMS: tuple[str, ...] = (
    "做事时提不起劲或没有兴趣",
    "感到心情低落、沮丧或绝望",
    "入睡困难、睡不安稳或睡眠过多",
    "感觉疲倦或没有活力",
    "食欲不振或吃太多",
    "觉得自己很糟，或觉得自己很失败，或让自己或家人失望",
    "对事物专注有困难，例如阅读报纸或看电视时",
    "动作或说话速度缓慢到别人已经察觉；或正好相反，烦躁或坐立不安、动来动去的情况更胜于平常",
    "有不如死掉或用某种方式伤害自己的念头",
)

GAD7_ITEMS: tuple[str, ...] = (
    "感觉紧张、焦虑或急切",
    "不能够停止或控制担忧",
    "对各种各样的事情担忧过多",
    "很难放松下来",
    "由于不安而无法静坐",
    "变得容易烦恼或急躁",
    "感到似乎将有可怕的事情发生而害怕",
)

# Band codes (stored, encrypted) and their Chinese labels.
MINIMAL, MILD, MODERATE, MODERATELY_SEVERE, SEVERE = (
    "minimal",
    "mild",
    "moderate",
    "moderately_severe",
    "severe",
)
BAND_LABELS: dict[str, str] = {
    MINIMAL: "无/极轻微",
    MILD: "轻度",
    MODERATE: "中度",
    MODERATELY_SEVERE: "中重度",
    SEVERE: "重度",
}


@dataclass(frozen=True)
class Band:
    """A severity band: inclusive score range, code and Chinese label."""

    low: int
    high: int
    code: str

    @property
    def label(self) -> str:
        return BAND_LABELS[self.code]


@dataclass(frozen=True)
class Instrument:
    """One questionnaire: its items and its published bands (which partition 0..max_score)."""

    code: str
    name: str
    items: tuple[str, ...]
    bands: tuple[Band, ...]

    @property
    def max_score(self) -> int:
        return len(self.items) * MAX_ITEM_SCORE

    def band_for(self, score: int) -> Band:
        """The band containing a total score (ValueError outside 0..max_score)."""
        for band in self.bands:
            if band.low <= score <= band.high:
                return band
        raise ValueError(f"总分 {score} 超出 {self.name} 的计分范围 0–{self.max_score}。")


INSTRUMENTS: dict[str, Instrument] = {
    PHQ9: Instrument(
        PHQ9,
        "PHQ-9 抑郁症状自评",
        PHQ9_ITEMS,
        (
            Band(0, 4, MINIMAL),
            Band(5, 9, MILD),
            Band(10, 14, MODERATE),
            Band(15, 19, MODERATELY_SEVERE),
            Band(20, 27, SEVERE),
        ),
    ),
    GAD7: Instrument(
        GAD7,
        "GAD-7 焦虑症状自评",
        GAD7_ITEMS,
        (Band(0, 4, MINIMAL), Band(5, 9, MILD), Band(10, 14, MODERATE), Band(15, 21, SEVERE)),
    ),
}

# Index of PHQ-9 item 9 (0-based).
ITEM9 = 8


@dataclass(frozen=True)
class Result:
    """A scored screening."""

    instrument: str
    answers: tuple[int, ...]
    score: int
    band: str
    band_label: str
    item9_positive: bool
    severe: bool

    @property
    def crisis(self) -> bool:
        """Crisis resources shown at the top, and (for a named screening) a crisis alert."""
        return self.item9_positive or self.severe


def get(code: str) -> Instrument:
    """The instrument with this code (ValueError for an unknown one)."""
    try:
        return INSTRUMENTS[code]
    except KeyError:
        raise ValueError("请选择 PHQ-9 或 GAD-7 量表。") from None


def band_label(code: str) -> str:
    """The Chinese label of a band code (the code itself when unknown)."""
    return BAND_LABELS.get(code, code)


def score(code: str, answers: Sequence[int]) -> Result:
    """Score a completed questionnaire; ValueError on a wrong number of answers or an answer not 0–3."""
    inst = get(code)
    values = list(answers)
    if len(values) != len(inst.items):
        raise ValueError(f"{inst.name}共有 {len(inst.items)} 题，请逐题作答（收到 {len(values)} 个答案）。")
    for i, v in enumerate(values, start=1):
        # bool is an int subclass: True/False are not answers.
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_ITEM_SCORE:
            raise ValueError(f"第 {i} 题的答案无效，每题只能选择 0–3 分中的一项。")
    total = sum(values)
    band = inst.band_for(total)
    item9 = code == PHQ9 and values[ITEM9] >= 1
    return Result(
        instrument=code,
        answers=tuple(values),
        score=total,
        band=band.code,
        band_label=band.label,
        item9_positive=item9,
        severe=band.code == SEVERE,
    )


def severity_rank(code: str, band: str) -> int:
    """The band's position in its instrument (0 = mildest)."""
    return [b.code for b in get(code).bands].index(band)
