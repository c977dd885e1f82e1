"""Text analysis for 思想动态分析研判 (issue 7 item 4): pure Python, no Django.

What it does with one short free-text answer (a survey comment — never a talk summary or talk
content, which are T2 and are not analysed or quoted anywhere):

- **tokens**: jieba segmentation with the government-work user dictionary ``data/dict.txt`` (plus
  the lexicon's sentiment words and modifiers), dictionary-only (``HMM=False``: deterministic, and unknown
  character runs — mostly names — stay single characters instead of becoming "new words"), then
  stop words (``data/stopwords.txt``), punctuation, whitespace and bare numbers removed;
- **keywords**: the text's tokens ranked by tf × idf, the idf being the word's self-information in
  jieba's dictionary (``log(total / freq)``); only dictionary words of two or more characters, so
  a name or a number written in a comment never becomes a keyword (negators, intensifiers and
  connectives neither);
- **themes**: every theme of the editable lexicon ``data/lexicon.json`` one of whose keywords occurs
  in the text (substring match on the text without whitespace, so it does not depend on how jieba
  cut the sentence);
- **sentiment** in (−1, 1) and a **polarity** label, from the transparent lexicon (below);
- **risk**: whether a risk phrase (``data/risk.txt``: self-harm and the like) occurs (below).

Sentiment rule (lexicon ``sentiment``): each positive word scores +w, each negative word −w (w = 1
unless the lexicon gives a weight). A token the dictionary kept whole but that is a modifier plus a
sentiment word (``不满意``, ``很累``, ``不太好``) is split into those parts first, and two adjacent
tokens that together make a lexicon word the context made jieba split (会议太多了 → 太/多) are
joined again. For each sentiment
word we look back at most ``NEGATION_WINDOW`` (3) tokens in the same clause: the look-back stops at
punctuation, at a clause connective (``boundaries``: 但是, 不过 …), at another sentiment word, and at
any token that is not a negator, softener, intensifier or bridge word (是, 觉得, 感到, 都, 还 …) —
so in 不加班很开心 the 不 does not reach 开心. Then, with ``n`` the negators and softeners found:

- ``n`` even (none, or a double negation 不是不满意): score × the intensifiers found (很满意 = 1.5);
- ``n`` odd and *softened* — a softener (不太, 不是很, 没那么 …) or a negator standing before an
  intensifier (不是很累, 不太满意, 不觉得很满意): −½ of the word's polarity: 不太满意 = −0.5
  (negative), 不是很累 = +0.5 (mildly positive);
- ``n`` odd otherwise: a positive word flips fully (不满意 = −1, 很不满意 = −1.5 — an intensifier
  before the negator strengthens the negation); a negative word flips to half (不累 = +0.5: the
  absence of a complaint is not enthusiasm).

A token that is both an intensifier and a sentiment word (好) directly before a sentiment word acts
as the intensifier (好累 = −1.4). The text's sum ``s`` becomes ``s / sqrt(s² + 4)`` (1 → 0.45,
2 → 0.71; a VADER-style squash), rounded to 4 places; polarity is negative below −0.1, positive
above 0.1, else neutral (no sentiment word gives 0.0, neutral).

Risk rule: the raw text and the phrases are both normalised the same way — NFKC (full-width to
half-width), lower case, and every character that is not a letter or a digit removed (spaces,
punctuation, symbols, zero-width characters) — so 不 想 活, 自-杀, 轻……生 match. Lines of
``risk.txt`` starting with ``!`` are exemption contexts blanked out before matching (自杀式袭击,
年轻生活, 不想活动, 想不开会), so 自杀式袭击的新闻 is not a risk while 看了自杀式袭击的新闻我也想自杀 is.
The list errs on the side of alerting: an alert only asks the group's counselors to reach out to
the whole group.

Process model: jieba is initialised **once per process** by :func:`initialise` (about 1 s and
~90 MB: jieba's prefix dictionary, our user dictionary, the lexicon's sentiment words). Call it — or build an :class:`Analyzer`,
which calls it — in the parent before forking (gunicorn ``preload_app``, before
:meth:`Analyzer.analyse_many`), so the workers inherit the dictionary copy-on-write instead of
loading it again. :meth:`Analyzer.analyse_many` forks a ``multiprocessing`` pool (start method
``fork``; ``gc.freeze()`` first so the children's garbage collector does not dirty the inherited
pages); the texts are inherited too, only index ranges go to the workers and compact tuples come
back. Inputs under ``PARALLEL_MIN_TEXTS``, ``workers=1``, platforms without ``fork`` and daemon
processes (a pool's own workers) run in the calling process. The results are identical either way.
Forking copies only the calling thread: call it from a task worker or a management command, not
from a multi-threaded web process. An :class:`Analyzer` built on a custom lexicon whose sentiment
words the shared dictionary would not cut out whole gets a private copy of the frequency table, so
it never changes how other analysers cut text.
"""

from __future__ import annotations

import copy
import functools
import gc
import json
import logging
import math
import multiprocessing
import re
import sys
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import jieba

DATA_DIR = Path(__file__).resolve().parent / "data"
USER_DICT = DATA_DIR / "dict.txt"
STOPWORDS = DATA_DIR / "stopwords.txt"
LEXICON = DATA_DIR / "lexicon.json"
RISK_PHRASES = DATA_DIR / "risk.txt"

NEGATION_WINDOW = 3
SOFTENED = 0.5  # 不太满意, 不是很累: the negation keeps half of the word's weight
NEGATED_NEGATIVE = 0.5  # 不累: a negated complaint is mild praise, not enthusiasm
SQUASH = 4.0  # s / sqrt(s² + SQUASH)
NEUTRAL_BAND = 0.1
KEYWORDS_PER_TEXT = 5
# Below this many texts a pool costs more (fork, pipes) than it saves.
PARALLEL_MIN_TEXTS = 2000

POSITIVE, NEGATIVE, NEUTRAL = "positive", "negative", "neutral"

_WORDLIKE = re.compile(r"[^\W\d_]")  # a letter (CJK included): not punctuation, space or a bare number
_SPACE = re.compile(r"\s+")
_NON_WORD = re.compile(r"[\W_]+")
_DICT_LINE = re.compile(r"^(\S+?)(?:\s+(\d+))?(?:\s+([a-z]+))?$")


# --------------------------------------------------------------------------------------------
# Data files


def read_lines(path: str | Path) -> list[str]:
    """The non-empty, non-comment (``#``) lines of a UTF-8 data file, stripped."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [s for s in (line.strip() for line in lines) if s and not s.startswith("#")]


def load_lexicon(path: str | Path = LEXICON) -> dict[str, Any]:
    """The lexicon JSON as a dict (themes → keywords; sentiment word lists)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("词表文件的最外层应当是一个对象（themes 和 sentiment）。")
    return data


@dataclass(frozen=True)
class Lexicon:
    """A validated lexicon: themes and the sentiment word lists with their weights."""

    themes: Mapping[str, tuple[str, ...]]
    polarity: Mapping[str, float]  # word → +w (positive) or −w (negative)
    negators: frozenset[str]
    softeners: frozenset[str]
    intensifiers: Mapping[str, float]
    boundaries: frozenset[str]
    bridges: frozenset[str]

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Lexicon:
        """Validate the JSON shape; raise ValueError with a Chinese sentence on the first problem."""
        raw_themes = data.get("themes")
        if not isinstance(raw_themes, Mapping) or not raw_themes:
            raise ValueError("词表缺少 themes：请按“主题 → 关键词列表”填写至少一个主题。")
        themes: dict[str, tuple[str, ...]] = {}
        for name, words in raw_themes.items():
            if not isinstance(words, list) or not words:
                raise ValueError(f"主题“{name}”的关键词应当是一个非空列表。")
            clean = []
            for word in words:
                word = _SPACE.sub("", unicodedata.normalize("NFKC", str(word)))
                if len(word) < 2:
                    raise ValueError(f"主题“{name}”的关键词“{word}”太短：至少两个字，否则会误配其他词。")
                clean.append(word)
            themes[str(name)] = tuple(dict.fromkeys(clean))
        senti = data.get("sentiment")
        if not isinstance(senti, Mapping):
            raise ValueError("词表缺少 sentiment：请填写正面词、负面词、否定词和程度副词。")

        def weights(key: str) -> dict[str, float]:
            value = senti.get(key, [])
            if isinstance(value, Mapping):
                return {str(w): float(x) for w, x in value.items()}
            if isinstance(value, list):
                return {str(w): 1.0 for w in value}
            raise ValueError(f"词表 sentiment.{key} 应当是词的列表或“词 → 权重”的对象。")

        positive, negative = weights("positive"), weights("negative")
        both = sorted(set(positive) & set(negative))
        if both:
            raise ValueError(f"这些词同时列在正面词和负面词里，请只保留一处：{'、'.join(both)}。")
        polarity = {**positive, **{w: -x for w, x in negative.items()}}
        return cls(
            themes=themes,
            polarity=polarity,
            negators=frozenset(weights("negators")),
            softeners=frozenset(weights("softeners")),
            intensifiers=weights("intensifiers"),
            boundaries=frozenset(weights("boundaries")),
            bridges=frozenset(weights("bridges")),
        )

    def sentiment_words(self) -> set[str]:
        """The sentiment words and modifiers: the tokenizer learns them so they come out whole.

        Theme keywords are deliberately not added: a keyword such as 会议太多 made one token would
        hide the sentiment word 太多 inside it, and themes are matched on the raw text anyway.
        """
        out = set(self.polarity) | self.negators | self.softeners | set(self.intensifiers)
        return out | self.boundaries | self.bridges


# --------------------------------------------------------------------------------------------
# The process-wide tokenizer

_INIT_LOCK = threading.Lock()
_TOKENIZER: Any = None
_TOKENIZER_DICT: Path | None = None


def initialise(user_dict: str | Path = USER_DICT) -> Any:
    """Load jieba's dictionary, our user dictionary and the lexicon's sentiment words, once per process.

    Returns the shared ``jieba.Tokenizer`` (our own instance: ``jieba.lcut`` elsewhere keeps the
    plain dictionary). Calling it again is free; calling it with another dictionary is an error,
    because forked workers and every analyser in the process must cut text the same way.
    """
    global _TOKENIZER, _TOKENIZER_DICT
    path = Path(user_dict).resolve()
    with _INIT_LOCK:
        if _TOKENIZER is not None:
            if path != _TOKENIZER_DICT:
                raise RuntimeError(f"分词词典已用 {_TOKENIZER_DICT} 初始化，同一进程不能再换成 {path}。")
            return _TOKENIZER
        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        for line in read_lines(path):
            match = _DICT_LINE.match(line)
            if match is None:
                raise ValueError(f"用户词典 {path.name} 的这一行格式不对（应为“词 词频 词性”）：{line}")
            word, freq, tag = match.groups()
            tokenizer.add_word(word, int(freq) if freq else None, tag)
        # A word jieba would split (不太, or 太多 that it knows too rarely to keep whole) gets the
        # frequency that keeps it whole. Sorted, so the dictionary's total — and with it every
        # segmentation — is the same in every process.
        for word in sorted(Lexicon.parse(load_lexicon()).sentiment_words()):
            if not _cuts_whole(tokenizer, word):
                tokenizer.add_word(word, tokenizer.suggest_freq(word))
        _TOKENIZER, _TOKENIZER_DICT = tokenizer, path
        return tokenizer


def tokenizer() -> Any:
    """The process's tokenizer, initialised with the default user dictionary if nobody did yet."""
    return _TOKENIZER if _TOKENIZER is not None else initialise()


def _cuts_whole(tok: Any, word: str) -> bool:
    return len(word) < 2 or tok.lcut(word, HMM=False) == [word]


def _tokenizer_for(lexicon: Lexicon) -> Any:
    """The shared tokenizer, or — for a lexicon with sentiment words it would not cut out whole —
    a private copy that knows them.

    A sentiment word must be one token to be scored. Adding a custom lexicon's words to the shared
    tokenizer would change how every other analyser in the process cuts text, so such a lexicon
    gets its own copy of the frequency table instead (a shallow dict copy, ~50 ms; the default
    lexicon's words are already in the shared one).
    """
    shared = tokenizer()
    missing = sorted(w for w in lexicon.sentiment_words() if not _cuts_whole(shared, w))
    if not missing:
        return shared
    private = copy.copy(shared)
    private.FREQ = dict(shared.FREQ)
    for word in missing:
        private.add_word(word, private.suggest_freq(word))
    return private


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class TextResult:
    """The analysis of one text."""

    tokens: tuple[str, ...]
    keywords: tuple[str, ...]
    themes: tuple[str, ...]
    sentiment: float
    polarity: str
    risk: bool

    @property
    def negative(self) -> bool:
        """Whether the text reads as negative (sentiment below −0.1)."""
        return self.polarity == NEGATIVE


class SentimentHit(NamedTuple):
    """One sentiment word found, its score and the modifiers that shaped it (for explanations)."""

    word: str
    score: float
    modifiers: tuple[str, ...]


class Keyword(NamedTuple):
    """A corpus keyword: the word, the number of texts containing it, and its tf-idf-like score."""

    word: str
    texts: int
    score: float


class HasThemes(Protocol):
    """Anything with a ``themes`` tuple (a :class:`TextResult`)."""

    @property
    def themes(self) -> tuple[str, ...]: ...


class HasThemesAndPolarity(HasThemes, Protocol):
    """Anything with ``themes`` and ``polarity`` (a :class:`TextResult`)."""

    @property
    def polarity(self) -> str: ...


# --------------------------------------------------------------------------------------------
# The analyser


def _compact(text: str) -> str:
    """NFKC, lower case, letters and digits only: the form risk phrases are matched in."""
    # Punctuation first: a full-width comma alone would otherwise make every text pay for NFKC.
    s = _NON_WORD.sub("", text)
    if not unicodedata.is_normalized("NFKC", s):
        s = _NON_WORD.sub("", unicodedata.normalize("NFKC", s))
    return s.lower()


def _trie_pattern(words: Iterable[str]) -> str:
    """One regex matching any of the words, as a character trie (the longest word wins at a position).

    ``re`` tries the branches of a flat alternation one by one at every position; a trie makes that
    one branch per character, which is what keeps theme and risk matching cheap next to jieba.
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


class RiskMatcher:
    """Risk phrases (self-harm and the like) as one pattern; needs no segmentation, so a web process
    can check a comment without loading jieba."""

    def __init__(self, phrases: Iterable[str] | None = None) -> None:
        lines = read_lines(RISK_PHRASES) if phrases is None else [p.strip() for p in phrases]
        # Exemption contexts are blanked out first, then the phrases are looked for.
        risky = {_compact(p) for p in lines if p and not p.startswith("!")} - {""}
        exempt = {_compact(p[1:]) for p in lines if p.startswith("!")} - {""}
        self._risk_rx = re.compile(_trie_pattern(risky)) if risky else None
        self._exempt_rx = re.compile(_trie_pattern(exempt)) if exempt else None

    def match(self, text: str) -> bool:
        """Whether a risk phrase occurs in the text (normalised; exemption contexts blanked out)."""
        if self._risk_rx is None:
            return False
        s = _compact(text or "")
        if self._exempt_rx is not None:
            s = self._exempt_rx.sub("|", s)
        return self._risk_rx.search(s) is not None


@functools.lru_cache(maxsize=1)
def risk_matcher() -> RiskMatcher:
    """The default risk phrases (``data/risk.txt``), compiled once per process."""
    return RiskMatcher()


def is_risk(text: str) -> bool:
    """Whether a comment carries a default risk phrase — without building an Analyzer (no jieba)."""
    return risk_matcher().match(text)


class Analyzer:
    """Tokens, keywords, themes, sentiment and risk for short Chinese texts (see the module doc)."""

    def __init__(
        self,
        lexicon: Mapping[str, Any] | Lexicon | None = None,
        *,
        stopwords: Iterable[str] | None = None,
        risk_phrases: Iterable[str] | None = None,
        keywords_per_text: int = KEYWORDS_PER_TEXT,
    ) -> None:
        if lexicon is None:
            lexicon = load_lexicon()
        self.lexicon = lexicon if isinstance(lexicon, Lexicon) else Lexicon.parse(lexicon)
        self._tok = _tokenizer_for(self.lexicon)
        self.themes: tuple[str, ...] = tuple(self.lexicon.themes)
        self.stopwords = frozenset(read_lines(STOPWORDS) if stopwords is None else stopwords)
        self.keywords_per_text = keywords_per_text
        lex = self.lexicon
        self._polarity = dict(lex.polarity)
        self._intensifiers = dict(lex.intensifiers)
        self._negators, self._softeners = lex.negators, lex.softeners
        self._bridges = lex.bridges
        self._modifiers = lex.negators | lex.softeners | frozenset(lex.intensifiers)
        self._known = self._modifiers | frozenset(self._polarity) | lex.boundaries | lex.bridges
        self._mergeable = frozenset(w for w in self._modifiers | frozenset(self._polarity) if len(w) > 1)
        self._modifier_heads = frozenset(w[0] for w in self._modifiers)
        # Negators, intensifiers and connectives (不太, 非常, 但是) say nothing about the topic.
        self._known_plain = self._modifiers | lex.boundaries | lex.bridges
        self._expansions: dict[str, tuple[str, ...]] = {}
        self._idf_cache: dict[str, float | None] = {}
        # Themes: keyword → the themes it implies, including those of keywords nested inside it.
        theme_of: dict[str, set[int]] = {}
        for index, words in enumerate(lex.themes.values()):
            for word in words:
                theme_of.setdefault(word, set()).add(index)
        self._theme_keys: dict[str, frozenset[int]] = {
            word: frozenset().union(*(theme_of[w] for w in theme_of if w in word)) for word in theme_of
        }
        # Finds the longest keyword at a position; shorter ones starting there are covered by the
        # union above.
        self._theme_rx = re.compile(_trie_pattern(theme_of))
        self._risk = RiskMatcher(risk_phrases) if risk_phrases is not None else risk_matcher()

    # -- one text ---------------------------------------------------------------------------

    def cut(self, text: str) -> list[str]:
        """jieba's cut with our dictionary, dictionary-only (no HMM new-word guessing)."""
        return self._tok.lcut(text or "", HMM=False)

    def tokens(self, text: str) -> tuple[str, ...]:
        """The text's tokens without stop words, punctuation, whitespace and bare numbers."""
        return self._filter(self.cut(text))

    def _filter(self, raw: Sequence[str]) -> tuple[str, ...]:
        # Interned: 100,000 results repeat a few thousand words; one object per word keeps them
        # small in memory and lets pickle send each word once per chunk from a pool worker.
        stop = self.stopwords
        return tuple(sys.intern(t) for t in raw if t not in stop and _WORDLIKE.search(t))

    def analyse(self, text: str) -> TextResult:
        """Tokens, keywords, themes, sentiment, polarity and risk of one text."""
        return TextResult(*self._row(text))

    def _row(self, text: str | None) -> tuple[Any, ...]:
        text = text or ""
        raw = self.cut(text)
        tokens = self._filter(raw)
        score = self._sentiment(raw)
        sentiment = round(score / math.sqrt(score * score + SQUASH), 4)
        polarity = (
            NEGATIVE if sentiment < -NEUTRAL_BAND else POSITIVE if sentiment > NEUTRAL_BAND else NEUTRAL
        )
        return (
            tokens,
            self._keywords_of(tokens),
            self.themes_of(text),
            sentiment,
            polarity,
            self.is_risk(text),
        )

    def themes_of(self, text: str) -> tuple[str, ...]:
        """The lexicon themes one of whose keywords occurs in the text, in lexicon order."""
        s = _SPACE.sub("", text or "")
        found: set[int] = set()
        keys, search = self._theme_keys, self._theme_rx.search
        match = search(s)
        while match is not None:
            found |= keys[match.group()]
            match = search(s, match.start() + 1)  # overlapping keywords too (学区房: 学区, 区房)
        return tuple(self.themes[i] for i in sorted(found))

    def is_risk(self, text: str) -> bool:
        """Whether a risk phrase occurs in the text (normalised; exemption contexts blanked out)."""
        return self._risk.match(text)

    def explain(self, text: str) -> list[SentimentHit]:
        """The sentiment words of a text with their scores and modifiers (what the score is made of)."""
        hits: list[SentimentHit] = []
        self._sentiment(self.cut(text), hits)
        return hits

    def _expand(self, token: str) -> tuple[str, ...]:
        """Split a token the dictionary kept whole into modifiers + a sentiment word (不满意 → 不, 满意)."""
        cached = self._expansions.get(token)
        if cached is not None:
            return cached
        out: tuple[str, ...] = (token,)
        for k in range(len(token) - 1, 0, -1):  # longest modifier first: 不太|好 before 不|太好
            head, rest = token[:k], token[k:]
            if head not in self._modifiers:
                continue
            if rest in self._polarity:
                out = (head, rest)
                break
            tail = self._expand(rest) if rest[0] in self._modifier_heads else (rest,)
            if len(tail) > 1:
                out = (head, *tail)
                break
        self._expansions[token] = out
        return out

    def _sentiment(self, raw: Sequence[str], hits: list[SentimentHit] | None = None) -> float:
        """The summed word scores of a cut text under the negation rule of the module doc."""
        polarity, intens, known, heads = self._polarity, self._intensifiers, self._known, self._modifier_heads
        seq: list[str] = []
        mergeable = self._mergeable
        for t in raw:
            if t.isspace():
                continue
            if seq and seq[-1] + t in mergeable:
                seq[-1] += t  # the context made jieba split a lexicon word (会议太多了: 太/多)
            elif t in known or len(t) < 2 or t[0] not in heads:
                seq.append(t)
            else:
                seq.extend(self._expand(t))
        total = 0.0
        n = len(seq)
        for i, word in enumerate(seq):
            w = polarity.get(word)
            if w is None:
                continue
            if word in intens and i + 1 < n and seq[i + 1] in polarity:
                continue  # 好累: 好 is the intensifier here, not praise
            negations, softened, inner, outer = 0, False, 1.0, 1.0
            modifiers: list[str] = []
            for j in range(i - 1, max(-1, i - 1 - NEGATION_WINDOW), -1):
                m = seq[j]
                if m in self._softeners:
                    negations += 1
                    softened = True
                elif m in self._negators:
                    negations += 1
                    softened = softened or inner != 1.0  # 不是很累: negator before an intensifier
                elif m in intens:
                    if m in polarity and j != i - 1:
                        break  # 好，不累: that 好 was praise of its own, scored already
                    if negations:
                        outer *= intens[m]  # 很不满意: the intensifier strengthens the negation
                    else:
                        inner *= intens[m]
                elif m in self._bridges:
                    continue
                else:
                    break  # punctuation, a connective, another sentiment word or a content word
                modifiers.append(m)
            if negations % 2 == 0:
                score = w * inner * outer
            elif softened:
                score = -w * SOFTENED * outer
            else:
                score = -w * outer * (1.0 if w > 0 else NEGATED_NEGATIVE)
            total += score
            if hits is not None:
                hits.append(SentimentHit(word, round(score, 4), tuple(reversed(modifiers))))
        return total

    def _idf(self, word: str) -> float | None:
        """The word's self-information in the dictionary; None for words the dictionary lacks."""
        try:
            return self._idf_cache[word]
        except KeyError:
            freq = self._tok.FREQ.get(word, 0)
            value = math.log(self._tok.total / freq) if freq > 0 else None
            self._idf_cache[word] = value
            return value

    def _keywords_of(self, tokens: Sequence[str]) -> tuple[str, ...]:
        scores: dict[str, list[float]] = {}
        plain = self._known_plain
        for i, t in enumerate(tokens):
            if len(t) < 2 or t in plain:
                continue
            idf = self._idf(t)
            if idf is None:
                continue
            if t in scores:
                scores[t][0] += idf
            else:
                scores[t] = [idf, i]
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
        return tuple(word for word, _ in ranked[: self.keywords_per_text])

    # -- many texts -------------------------------------------------------------------------

    def analyse_many(
        self, texts: Iterable[str], *, workers: int = 2, chunksize: int | None = None
    ) -> list[TextResult]:
        """One :class:`TextResult` per text, in order, across ``workers`` forked processes.

        Falls back to this process for fewer than ``PARALLEL_MIN_TEXTS`` texts, ``workers <= 1``,
        no ``fork`` start method, or when running inside a daemon process (a pool worker).
        """
        items = list(texts)
        if workers <= 1 or len(items) < PARALLEL_MIN_TEXTS or not _can_fork():
            return [TextResult(*self._row(t)) for t in items]
        size = chunksize or max(250, math.ceil(len(items) / (workers * 16)))
        ranges = [(start, min(start + size, len(items))) for start in range(0, len(items), size)]
        global _SHARED
        out: list[TextResult] = []
        with _POOL_LOCK:
            _SHARED = (self, items)
            # Objects alive now move to the permanent generation: the children's collections then
            # leave the inherited pages (the jieba dictionary) untouched, so they stay shared.
            gc.collect()
            gc.freeze()
            try:
                with multiprocessing.get_context("fork").Pool(workers) as pool:
                    for rows in pool.imap(_analyse_range, ranges):
                        out.extend(TextResult(*row) for row in rows)
                    pool.close()
                    pool.join()
            finally:
                gc.unfreeze()
                _SHARED = None
        return out

    def keywords(self, texts: Iterable[str | TextResult], top: int = 20, *, min_df: int = 5) -> list[Keyword]:
        """The corpus keywords: document frequency × dictionary idf, words in ≥ ``min_df`` texts.

        ``min_df`` keeps words only a handful of people wrote (a name, a rare detail) out of
        anything shown; pass the survey's anonymity threshold. Ties break by the word, so the
        order is deterministic.
        """
        df: Counter[str] = Counter()
        for item in texts:
            tokens = item.tokens if isinstance(item, TextResult) else self.tokens(item)
            df.update({t for t in tokens if len(t) >= 2 and t not in self._known_plain})
        scored = []
        for word, count in df.items():
            idf = self._idf(word)
            if count >= min_df and idf is not None:
                scored.append(Keyword(word, count, round(count * idf, 4)))
        scored.sort(key=lambda k: (-k.score, k.word))
        return scored[:top]


_POOL_LOCK = threading.Lock()
_SHARED: tuple[Analyzer, list[str]] | None = None


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


def _analyse_range(bounds: tuple[int, int]) -> list[tuple[Any, ...]]:
    """In a forked worker: analyse the inherited texts[start:stop] with the inherited analyser."""
    assert _SHARED is not None, "analyse_many sets the shared analyser before forking"
    analyzer, texts = _SHARED
    return [analyzer._row(t) for t in texts[bounds[0] : bounds[1]]]


_DEFAULT: Analyzer | None = None
_DEFAULT_LOCK = threading.Lock()


def default_analyzer() -> Analyzer:
    """The analyser with the default lexicon, stop words and risk phrases (built once per process)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = Analyzer()
        return _DEFAULT


def analyse(text: str) -> TextResult:
    """:meth:`Analyzer.analyse` with the default analyser."""
    return default_analyzer().analyse(text)


def analyse_many(texts: Iterable[str], *, workers: int = 2, chunksize: int | None = None) -> list[TextResult]:
    """:meth:`Analyzer.analyse_many` with the default analyser."""
    return default_analyzer().analyse_many(texts, workers=workers, chunksize=chunksize)


def keywords(texts: Iterable[str | TextResult], top: int = 20, *, min_df: int = 5) -> list[Keyword]:
    """:meth:`Analyzer.keywords` with the default analyser."""
    return default_analyzer().keywords(texts, top, min_df=min_df)


# --------------------------------------------------------------------------------------------
# Aggregates over results


def _theme_counts(results: Iterable[HasThemes]) -> tuple[Counter[str], int]:
    counts: Counter[str] = Counter()
    n = 0
    for r in results:
        n += 1
        counts.update(set(r.themes))
    return counts, n


def theme_shares(results: Iterable[HasThemes]) -> dict[str, float]:
    """Theme → share of the texts that touch it (largest first; themes nobody touched are absent)."""
    counts, n = _theme_counts(results)
    if not n:
        return {}
    return {t: c / n for t, c in sorted(counts.items(), key=lambda tc: (-tc[1], tc[0]))}


def negative_share_by_theme(results: Iterable[HasThemesAndPolarity]) -> dict[str, float]:
    """Theme → share of that theme's texts whose polarity is negative (largest first)."""
    totals: Counter[str] = Counter()
    negative: Counter[str] = Counter()
    for r in results:
        themes = set(r.themes)
        totals.update(themes)
        if r.polarity == NEGATIVE:
            negative.update(themes)
    shares = {t: negative[t] / n for t, n in totals.items()}
    return dict(sorted(shares.items(), key=lambda ts: (-ts[1], ts[0])))


@dataclass(frozen=True)
class EmergingTheme:
    """A theme whose share changed significantly between two periods."""

    theme: str
    count_now: int
    n_now: int
    count_before: int
    n_before: int
    share_now: float
    share_before: float
    effect: float  # share_now − share_before
    p_value: float  # Fisher's exact test (one-sided for rises; two-sided with include_falls)
    p_adjusted: float  # Holm–Bonferroni over every theme tested
    direction: str  # "up" | "down"


def emerging_themes(
    current_results: Iterable[HasThemes],
    previous_results: Iterable[HasThemes],
    *,
    alpha: float = 0.05,
    min_count: int = 5,
    include_falls: bool = False,
) -> list[EmergingTheme]:
    """Themes whose share of texts rose significantly against the previous period, largest change first.

    Each theme with at least ``min_count`` texts now (or before, with ``include_falls``) gets
    Fisher's exact test on the 2×2 table (texts with / without the theme, now / before) — exact at
    any size, unlike a z-test on small groups; one-sided ("greater") when only rises are asked
    for, two-sided with ``include_falls``. The p-values are Holm-adjusted over all themes tested,
    so a dozen themes of pure noise do not produce a false alarm one time in two.
    """
    now, n_now = _theme_counts(current_results)
    before, n_before = _theme_counts(previous_results)
    if not n_now or not n_before:
        return []
    from scipy import stats  # a second's import, only needed here

    alternative = "two-sided" if include_falls else "greater"
    tested: list[tuple[str, float]] = []
    for theme in sorted(set(now) | set(before)):
        a, b = now[theme], before[theme]
        if a < min_count and not (include_falls and b >= min_count):
            continue
        table = [[a, n_now - a], [b, n_before - b]]
        tested.append((theme, float(stats.fisher_exact(table, alternative=alternative).pvalue)))
    adjusted = _holm([p for _, p in tested])
    out = []
    for (theme, p), p_adj in zip(tested, adjusted, strict=True):
        share_now, share_before = now[theme] / n_now, before[theme] / n_before
        effect = share_now - share_before
        if p_adj > alpha or effect == 0 or (effect < 0 and not include_falls):
            continue
        out.append(
            EmergingTheme(
                theme=theme,
                count_now=now[theme],
                n_now=n_now,
                count_before=before[theme],
                n_before=n_before,
                share_now=share_now,
                share_before=share_before,
                effect=effect,
                p_value=p,
                p_adjusted=p_adj,
                direction="up" if effect > 0 else "down",
            )
        )
    out.sort(key=lambda e: (-abs(e.effect), e.theme))
    return out


def _holm(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values, in the input order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def tag_counts(tag_lists: Iterable[Iterable[str]]) -> Counter[str]:
    """How many items (talks) carry each tag; a tag repeated on one item counts once, blanks skipped."""
    counts: Counter[str] = Counter()
    for tags in tag_lists:
        counts.update({t.strip() for t in tags if t and t.strip()})
    return counts


# --------------------------------------------------------------------------------------------
# Scrubbing free text before it is shown

_D = "[0-9０-９]"
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+\s?[@＠]\s?[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_ID18 = re.compile(rf"(?<!{_D}){_D}{{6}}[\s-]?{_D}{{8}}[\s-]?{_D}{{3}}[0-9０-９XxＸｘ](?!{_D})")
_ID15 = re.compile(rf"(?<!{_D}){_D}{{15}}(?!{_D})")
_MOBILE = re.compile(rf"(?<!{_D})(?:(?:\+|＋|00)?86[\s-]?)?[1１][3-9３-９](?:[\s-]?{_D}){{9}}(?!{_D})")
_LANDLINE = re.compile(
    rf"(?<!{_D})(?:[(（]0{_D}{{2,3}}[)）]\s?|0{_D}{{2,3}}[\s-]?){_D}{{7,8}}(?:\s?(?:-|转|分机)\s?{_D}{{1,6}})?(?!{_D})"
)
_SERVICE = re.compile(rf"(?<!{_D})[48４８][0０]{{2}}[\s-]?{_D}{{3}}[\s-]?{_D}{{4}}(?!{_D})")
_AFTER_PHONE_WORD = re.compile(
    rf"(电话号码|联系电话|办公电话|手机号码|手机号|手机|电话|座机|分机|联系方式|tel|TEL|Tel)([:：\s]*)({_D}[0-9０-９\s-]{{2,14}}{_D}|{_D}{{3,}})"
)
_LONG_NUMBER = re.compile(rf"(?<!{_D}){_D}{{9,}}(?!{_D})")
# Common surnames, without the characters that are also everyday words or start common titles
# (和 于 向 从 时 党 区 车 安 常 文 支 明 全 成 单 解 路 司 应 连 师 商 查 池 关 包 管 华 余 任 农 荣) — so 公安局长, 常务副主任, 语文老师, 其余同志, 主任科员 stay intact.
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "司徒")
_SINGLE_SURNAMES = (
    "王李张刘陈杨黄赵高吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾萧肖田董袁潘蒋蔡杜叶程苏魏吕丁沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付傅邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔汤易温康"
    "施牛樊葛邢齐乔伍庞颜倪庄聂章鲁岳翟殷詹申耿兰焦俞左柳甘祝宁尚符舒阮柯纪梅童凌毕季裴霍涂苗谷盛曲翁冉骆"
    "蓝游辛靳柴蒙鲍喻祁蒲房滕屈饶牟艾尤阳穆卓古吉缪简项芦麦褚娄窦戚岑景宫费卜冷晏席卫米柏宗瞿桂佟臧闵苟邬"
    "边卞姬仇栾隋刁沙巫寇桑郎甄丛仲虞敖巩佘麻苑迟邝"
)
_SURNAME_ALT = "|".join([*_COMPOUND_SURNAMES, f"[{_SINGLE_SURNAMES}]"])
# The titles a surname may stand directly before (王主任, 李副处长).
_TITLES = (
    "副秘书长|秘书长|副科长|科长|副处长|处长|副主任|主任|副局长|局长|副书记|书记|副部长|部长|副厅长|厅长|副所长|所长|副站长|"
    "站长|副股长|股长|副组长|组长|副队长|队长|副院长|院长|副校长|校长|老师|师傅|经理|主席|委员|干事|科员|同志"
)
_TITLE_NAME = re.compile(rf"(?:{_SURNAME_ALT})(?=(?:{_TITLES}))")
# "王小明同志": 同志 follows a full name (rarely anything else), so the given name goes too.
_COMRADE = re.compile(rf"(?:{_SURNAME_ALT})[\u4e00-\u9fff]{{1,2}}(?=同志)")
_SURNAMED = re.compile(rf"(?<![百])(姓)(?:{_SURNAME_ALT})")


def scrub(text: str, names: Iterable[str] = ()) -> str:
    """The text with identifying details replaced, before anyone is shown a free-text answer.

    - e-mail addresses → ``[邮箱]``;
    - 18-digit ID numbers (last character a digit or X, optionally grouped 6-8-4) and 15-digit
      old ones → ``[身份证号]``;
    - mobile numbers (1[3-9] + 9 digits, optional +86/0086, spaces or dashes between digits),
      landlines with an area code (010-12345678, (0531)8888888, with an extension), 400/800
      numbers, and any number after 电话/手机/座机/分机/联系方式 → ``[电话]``;
    - any remaining run of 9 or more digits (bank card, QQ, staff numbers) → ``[号码]``;
    - every roster name given (two characters or more, spaces between its characters allowed)
      → ``某某``; a surname directly before a title (王主任, 李科长 → 某主任, 某科长); a surname
      and given name before 同志 (王小明同志 → 某某同志); 姓王 → 姓某. Free-standing names not
      in the roster are not guessed (叫小张, 老王 stay): pass the roster of the reporting group.

    Full-width digits are recognised too. Idempotent: scrubbing twice changes nothing more.
    """
    if not text:
        return text or ""
    out = _EMAIL.sub("[邮箱]", text)
    out = _ID18.sub("[身份证号]", out)
    out = _ID15.sub("[身份证号]", out)
    out = _MOBILE.sub("[电话]", out)
    out = _LANDLINE.sub("[电话]", out)
    out = _SERVICE.sub("[电话]", out)
    out = _AFTER_PHONE_WORD.sub(r"\1\2[电话]", out)
    out = _LONG_NUMBER.sub("[号码]", out)
    roster = sorted(
        {n for n in (_SPACE.sub("", name or "") for name in names) if len(n) >= 2}, key=len, reverse=True
    )
    if roster:
        alternation = "|".join(r"\s*".join(map(re.escape, name)) for name in roster)
        out = re.sub(alternation, "某某", out)
    out = _COMRADE.sub("某某", out)
    out = _TITLE_NAME.sub("某", out)
    out = _SURNAMED.sub(r"\1某", out)
    return out
