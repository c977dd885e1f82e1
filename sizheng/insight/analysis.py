"""Text analysis of a survey wave and topic-tag counts of talks, published only as suppressed aggregates.

What is analysed (issue 7 item 4):

* **Survey free text.** One document per respondent: the respondent's free-text answers of the
  wave joined (:func:`texts_by_respondent`), so every threshold below counts *people*, never
  answers. The documents go through ``text.Analyzer.analyse_many`` with the **active lexicon**
  (:func:`lexicon_active`), and are aggregated per reporting group of the survey's fixed hierarchy
  (``insight.groups``): theme shares, the negative share (overall and per theme), keywords.
  A group is published only when at least ``ANONYMITY_MIN_GROUP`` people wrote text in it, with
  complementary suppression (``insight.suppression.suppress``) over the same hierarchy, plus every
  group already suppressed for the wave's respondent counts — so no figure about fewer than k
  people can be derived by subtracting published groups. Raw texts are never returned, cached or
  logged; only counts and dictionary keywords found in at least k documents leave this module.
* **Emerging themes** against the previous closed wave of the same survey (``text.emerging_themes``:
  Fisher's exact test, Holm-adjusted), for groups published in both waves.
* **Talk topic tags** (:func:`talk_tags`): ``Talk.tags`` is T2. It is read only to be counted —
  one query selecting the talk's org and its tags column (never kind, summary or content), held
  talks in the period, wellbeing-flagged talks left out (their T2 belongs to counselors) — and
  published per org subtree only where at least k distinct people were talked *to* (initiators
  are not counted), with complementary suppression over the org tree on those people counts. Every
  computation writes an audit row (field name and counts only). Never per talk.

Caching: analysing is expensive, so the per-wave aggregates (never a text) are kept in Django's
cache, keyed by the wave (and, while it is still open, its number of answer sheets — a closed wave's
answers are final), the lexicon version and digest, and the threshold: a new batch of answers, a
lexicon edit or another threshold is a different key, so nothing is ever invalidated by hand. Talk
tag counts are keyed by org, period and the count and versions of the talks counted. Use a cache
shared by the web workers in production (the default local-memory cache is per process).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Sum
from django.utils import timezone

from sizheng.core import audit
from sizheng.core.apitools import Conflict
from sizheng.core.models import Role
from sizheng.insight import text
from sizheng.insight.models import (
    AnonymousResponse,
    Lexicon,
    NamedResponse,
    Question,
    QuestionKind,
    Wave,
    WaveState,
)

CACHE_TTL = int(timedelta(days=30).total_seconds())
CACHE_PREFIX = "insight:analysis:v1"
LEXICON_CACHE_KEY = "insight:lexicon:active:v1"
TOP_KEYWORDS = 10
VIRTUAL_ROOT = "all"  # a survey whose hierarchy is a forest gets one root, so its total is a group too

PRIMARY = "primary"
COMPLEMENTARY = "complementary"


def k_min() -> int:
    """The anonymity threshold (ARCHITECTURE §5: default 5, never below 3)."""
    return max(int(settings.ANONYMITY_MIN_GROUP), 3)


# --------------------------------------------------------------------------------------------
# The lexicon (one active row; the shipped defaults until the committee admin saves one)


@dataclass(frozen=True)
class ActiveLexicon:
    """The lexicon the analysis uses: its JSON, the row's version (0 = shipped defaults) and a key."""

    data: dict
    version: int
    updated_at: object = None
    updated_by: str = ""

    @property
    def key(self) -> str:
        """Part of every cache key: the version and a digest of the content."""
        digest = hashlib.sha256(
            json.dumps(self.data, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()
        return f"{self.version}-{digest[:12]}"


def _lexicon_row() -> Lexicon | None:
    return Lexicon.objects.select_related("updated_by").order_by("pk").first()


def lexicon_active() -> ActiveLexicon:
    """The active lexicon (cached; a save replaces the cached copy)."""
    cached = cache.get(LEXICON_CACHE_KEY)
    if cached is not None:
        return cached
    row = _lexicon_row()
    if row is None or not row.data:
        active = ActiveLexicon(text.load_lexicon(), 0)
    else:
        active = ActiveLexicon(
            dict(row.data),
            row.version,
            row.updated_at,
            (row.updated_by.display_name or row.updated_by.get_username()) if row.updated_by else "",
        )
    cache.set(LEXICON_CACHE_KEY, active, CACHE_TTL)
    return active


def may_edit_lexicon(user) -> bool:
    """Only the committee admin (机关工委) edits the lexicon every analysis uses."""
    from sizheng.org.access import scope_of

    return scope_of(user).has_everything(Role.COMMITTEE_ADMIN)


def lexicon_validate(data: Mapping) -> dict:
    """The lexicon as stored, or a ValidationError with the parser's Chinese sentence."""
    try:
        text.Lexicon.parse(data)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    return dict(data)


@transaction.atomic
def lexicon_update(*, actor, data: Mapping, version: int) -> Lexicon:
    """Save the lexicon (committee admin only; compare-and-swap on ``version``; audited)."""
    if not may_edit_lexicon(actor):
        raise PermissionDenied("只有机关工委管理员可以修改主题词库。")
    data = lexicon_validate(data)
    row = Lexicon.objects.order_by("pk").first()
    now = timezone.now()
    user = actor if getattr(actor, "pk", None) else None
    if row is None:
        if version != 0:
            raise Conflict("主题词库已被他人修改，请刷新页面后重新填写。")
        row = Lexicon.objects.create(data=data, updated_at=now, updated_by=user)
    else:
        updated = Lexicon.objects.filter(pk=row.pk, version=version).update(
            data=data, updated_at=now, updated_by=user, version=F("version") + 1
        )
        if not updated:
            raise Conflict("主题词库已被他人修改，请刷新页面后重新填写。")
        row.refresh_from_db()
    audit.record(
        actor,
        "lexicon_update",
        row,
        {"version": row.version, "fields": ["themes", "sentiment"], "themes": len(data.get("themes", {}))},
    )
    transaction.on_commit(lambda: cache.delete(LEXICON_CACHE_KEY))
    cache.delete(LEXICON_CACHE_KEY)
    return row


_ANALYZERS: dict[str, text.Analyzer] = {}


def analyzer(lexicon: ActiveLexicon | None = None) -> text.Analyzer:
    """An analyser for the lexicon (the shared default one for the shipped lexicon; one kept per process)."""
    lexicon = lexicon or lexicon_active()
    if lexicon.version == 0:
        return text.default_analyzer()
    found = _ANALYZERS.get(lexicon.key)
    if found is None:
        _ANALYZERS.clear()  # an edited lexicon replaces the previous one; keep one copy only
        found = _ANALYZERS[lexicon.key] = text.Analyzer(lexicon.data)
    return found


# --------------------------------------------------------------------------------------------
# Reading the free text: one document per respondent, for many waves in a fixed number of queries


def _text_questions(wave_ids: Iterable[int]) -> dict[int, list[str]]:
    """wave id → the ids (as answer keys) of its survey's free-text questions (one query)."""
    out: dict[int, list[str]] = defaultdict(list)
    rows = Question.objects.filter(survey__waves__in=list(wave_ids), kind=QuestionKind.TEXT).values_list(
        "survey__waves", "pk"
    )
    for wave_id, qid in rows.order_by("survey__waves", "order", "pk"):
        out[wave_id].append(str(qid))
    return out


def _document(answers: Mapping, keys: list[str]) -> str:
    parts = []
    for key in keys:
        value = answers.get(key)
        if isinstance(value, str) and value.strip():
            parts.append(value.strip())
    return "\n".join(parts)


def _decode(raw) -> dict:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def texts_by_respondent(
    waves: Iterable[Wave], *, text_keys: Mapping[int, list[str]] | None = None
) -> dict[int, dict[str, list[str]]]:
    """wave id → leaf group → one document per respondent who wrote any free text (three queries).

    For aggregate analysis only: never rendered, cached or logged. Answers still waiting in a wave's
    anonymous pool are not included (they are written at the latest when the wave closes).
    """
    ids = [w.pk for w in waves]
    out: dict[int, dict[str, list[str]]] = {i: defaultdict(list) for i in ids}
    if not ids:
        return out
    keys = _text_questions(ids) if text_keys is None else text_keys
    if not any(keys.get(i) for i in ids):
        return out
    for model in (AnonymousResponse, NamedResponse):
        for wave_id, group, raw in model.objects.filter(wave_id__in=ids).values_list(
            "wave_id", "group", "answers"
        ):
            doc = _document(_decode(raw), keys.get(wave_id, []))
            if doc:
                out[wave_id][group].append(doc)
    return out


def respondent_counts(waves: Iterable[Wave]) -> dict[int, dict[str, int]]:
    """wave id → leaf group → answer sheets written (two queries)."""
    ids = [w.pk for w in waves]
    out: dict[int, dict[str, int]] = {i: {} for i in ids}
    if not ids:
        return out
    for model in (AnonymousResponse, NamedResponse):
        rows = (
            model.objects.filter(wave_id__in=ids)
            .order_by()
            .values_list("wave_id", "group")
            .annotate(n=Count("pk"))
        )
        for wave_id, group, n in rows:
            out[wave_id][group] = out[wave_id].get(group, 0) + n
    return out


# --------------------------------------------------------------------------------------------
# Hierarchy and suppression helpers


@dataclass(frozen=True)
class GroupInfo:
    """A reporting group as the analysis uses it."""

    id: str
    parent_id: str | None
    name: str
    depth: int


def _forest(rows: Iterable) -> list[GroupInfo]:
    """Groups (anything with id, parent_id, name; parents first) with one root: a forest gets the
    virtual root "all", so the survey-wide total is a group of the hierarchy like any other."""
    found = list(rows)
    roots = [g for g in found if g.parent_id is None]
    extra = len(roots) > 1
    out: list[GroupInfo] = [GroupInfo(VIRTUAL_ROOT, None, "全部", 0)] if extra else []
    depth: dict[str, int] = {VIRTUAL_ROOT: 0} if extra else {}
    for g in found:
        parent = g.parent_id if g.parent_id is not None else (VIRTUAL_ROOT if extra else None)
        depth[g.id] = depth[parent] + 1 if parent in depth else 0
        out.append(GroupInfo(g.id, parent, g.name, depth[g.id]))
    return out


def _rollup(groups: list[GroupInfo], leaf_values: Mapping[str, int]) -> dict[str, int]:
    """Each group's subtree total of a leaf-level count (children after parents in ``groups``)."""
    totals = {g.id: int(leaf_values.get(g.id, 0)) for g in groups}
    for g in reversed(groups):
        if g.parent_id is not None and g.parent_id in totals:
            totals[g.parent_id] += totals[g.id]
    return totals


def _suppressed(
    groups: list[GroupInfo],
    leaf_counts: Mapping[str, int],
    *,
    k: int,
    also: Iterable[str] = (),
    with_direct: Iterable[str] | None = None,
) -> dict[str, str]:
    """group id → "primary" / "complementary" for the groups that may not be published.

    ``with_direct``: the groups with members of their own (default: those with a leaf count) —
    their direct part is an unknown of the attacker's system even when it is zero.
    """
    from sizheng.insight.suppression import Hierarchy, suppress

    if not groups:
        return {}
    has_children = {g.parent_id for g in groups if g.parent_id is not None}
    own = set(with_direct) if with_direct is not None else {gid for gid, n in leaf_counts.items() if n}
    direct = [g.id for g in groups if g.id in has_children and g.id in own]
    hierarchy = Hierarchy([(g.id, g.parent_id, g.name) for g in groups], with_direct=direct)
    counts = _rollup(groups, leaf_counts)
    result = suppress(hierarchy, counts, k=k, also=[a for a in also if a in hierarchy])
    return dict(result.suppressed)


# --------------------------------------------------------------------------------------------
# Per-wave analysis


@dataclass(frozen=True)
class ThemeRow:
    """A theme in one group: documents touching it, their share, and how many of them read negative."""

    theme: str
    count: int
    share: float
    negative: int
    negative_share: float | None  # None when fewer than k documents touch the theme


@dataclass(frozen=True)
class Emerging:
    """A theme whose share rose (or fell) significantly against the previous wave."""

    theme: str
    share_now: float
    share_before: float
    effect: float
    p_adjusted: float
    direction: str
    count_now: int
    n_now: int
    count_before: int
    n_before: int

    @property
    def points(self) -> float:
        """The change in percentage points."""
        return round(100 * self.effect, 1)


@dataclass(frozen=True)
class GroupAnalysis:
    """One reporting group: suppressed groups carry no figures at all."""

    id: str
    parent_id: str | None
    name: str
    depth: int
    suppressed: str = ""  # "" (published), "primary" or "complementary"
    n: int | None = None  # respondents who wrote free text
    negative: int | None = None
    themes: tuple[ThemeRow, ...] = ()
    keywords: tuple[tuple[str, int], ...] = ()
    emerging: tuple[Emerging, ...] = ()
    # Themes touched by fewer than k people: never shown, kept only so the comparison with another
    # wave counts them at their true size (not as zero).
    small_themes: tuple[tuple[str, int], ...] = field(default=(), repr=False)

    @property
    def published(self) -> bool:
        return not self.suppressed

    @property
    def negative_share(self) -> float | None:
        return (self.negative / self.n) if self.published and self.n else None

    def theme(self, name: str) -> ThemeRow | None:
        return next((t for t in self.themes if t.theme == name), None)

    @property
    def theme_counts(self) -> dict[str, int]:
        return {t.theme: t.count for t in self.themes}


@dataclass(frozen=True)
class WaveAnalysis:
    """The analysis of one wave over its survey's hierarchy (aggregates only, suppression applied)."""

    wave_id: int
    survey_id: int
    label: str
    k: int
    lexicon_version: int
    themes: tuple[str, ...]
    groups: tuple[GroupAnalysis, ...]
    previous_wave_id: int | None = None
    previous_label: str = ""
    previous_groups: tuple[GroupAnalysis, ...] = ()  # the previous wave's groups (no emerging)
    computed_at: object = None

    def previous(self, gid: str | None) -> GroupAnalysis | None:
        """The same group in the previous closed wave (None when there is none)."""
        return next((g for g in self.previous_groups if g.id == gid), None)

    def group(self, gid: str | None) -> GroupAnalysis | None:
        return next((g for g in self.groups if g.id == gid), None)

    @property
    def root(self) -> GroupAnalysis | None:
        """The survey-wide group (the hierarchy's root, or the virtual root of a forest)."""
        roots = [g for g in self.groups if g.parent_id is None]
        return roots[0] if len(roots) == 1 else None

    def subtree(self, gid: str | None) -> list[GroupAnalysis]:
        """The group and its descendants, parents first (all groups when ``gid`` is None)."""
        if gid is None:
            return list(self.groups)
        keep: set[str] = set()
        out = []
        for g in self.groups:
            if g.id == gid or g.parent_id in keep:
                keep.add(g.id)
                out.append(g)
        return out

    @property
    def published(self) -> list[GroupAnalysis]:
        return [g for g in self.groups if g.published]


def _cache_key(kind: str, wave: Wave, lexicon: ActiveLexicon, k: int, sheets: int | None) -> str:
    # A closed wave's answers are final (the pool is flushed at close); an open one's key moves
    # with every batch written.
    state = "closed" if wave.state == WaveState.CLOSED else f"{wave.state}-{sheets}"
    return f"{CACHE_PREFIX}:{kind}:{wave.pk}:{state}:{lexicon.key}:{k}"


def _needs_count(waves: Iterable[Wave]) -> list[Wave]:
    return [w for w in waves if w.state != WaveState.CLOSED]


def _sheet_totals(waves: list[Wave]) -> dict[int, int]:
    return {w: sum(c.values()) for w, c in respondent_counts(waves).items()}


@dataclass(frozen=True)
class _Base:
    """What is cached per wave: the groups with their figures (suppressed ones without any), no
    emerging themes, no texts."""

    groups: tuple[GroupAnalysis, ...]
    themes: tuple[str, ...]


def _analyse_groups(
    groups: list[GroupInfo],
    by_leaf: Mapping[str, list[text.TextResult]],
    hidden: Mapping[str, str],
    engine: text.Analyzer,
    k: int,
) -> tuple[GroupAnalysis, ...]:
    """Aggregate per group (a group's documents are those of its subtree); hidden groups stay empty."""
    children: dict[str | None, list[str]] = defaultdict(list)
    for g in groups:
        children[g.parent_id].append(g.id)

    def subtree_results(gid: str) -> list[text.TextResult]:
        out = list(by_leaf.get(gid, ()))
        for child in children.get(gid, ()):
            out.extend(subtree_results(child))
        return out

    rows = []
    for g in groups:
        if g.id in hidden:
            rows.append(GroupAnalysis(g.id, g.parent_id, g.name, g.depth, suppressed=hidden[g.id]))
            continue
        results = subtree_results(g.id)
        n = len(results)
        counts: Counter[str] = Counter()
        negative: Counter[str] = Counter()
        for r in results:
            themes = set(r.themes)
            counts.update(themes)
            if r.negative:
                negative.update(themes)
        themes = tuple(
            # A theme is shown only when at least k people's comments touch it: "住房 10 %" of ten writers
            # would describe one person's comment. Its negative share is a distribution over those ≥ k.
            ThemeRow(theme, c, c / n, negative[theme], negative[theme] / c)
            for theme, c in sorted(counts.items(), key=lambda tc: (-tc[1], tc[0]))
            if c >= k
        )
        small = tuple((theme, c) for theme, c in sorted(counts.items()) if c < k)
        keywords = tuple((kw.word, kw.texts) for kw in engine.keywords(results, TOP_KEYWORDS, min_df=k))
        negatives = sum(1 for r in results if r.negative)
        rows.append(
            GroupAnalysis(
                g.id,
                g.parent_id,
                g.name,
                g.depth,
                n=n,
                negative=negatives,
                themes=themes,
                keywords=keywords,
                small_themes=small,
            )
        )
    return tuple(rows)


def _compute_base(wave: Wave, lexicon: ActiveLexicon, k: int, workers: int) -> _Base:
    """Analyse the wave's documents and aggregate them over the survey's hierarchy, suppressed."""
    from sizheng.insight.results import wave_results

    # The hierarchy and the groups hidden for the respondent counts are exactly those of the
    # wave's published results, so the analysis never shows a group the results hide.
    published = wave_results(wave)
    groups = _forest(published.groups)
    engine = analyzer(lexicon)
    docs = texts_by_respondent([wave])[wave.pk]
    known = {g.id for g in groups}
    order: list[str] = []
    flat: list[str] = []
    for leaf, items in sorted(docs.items()):
        if leaf in known:
            order.extend([leaf] * len(items))
            flat.extend(items)
    by_leaf: dict[str, list[text.TextResult]] = defaultdict(list)
    for leaf, result in zip(order, engine.analyse_many(flat, workers=workers), strict=True):
        by_leaf[leaf].append(result)
    audience = {str(g) for g, n in (wave.audience_counts or {}).items() if n}
    hidden = _suppressed(
        groups,
        {leaf: len(rs) for leaf, rs in by_leaf.items()},
        k=k,
        also=published.suppressed,
        with_direct=audience | set(by_leaf),
    )
    return _Base(_analyse_groups(groups, by_leaf, hidden, engine, k), tuple(engine.themes))


def _base(
    wave: Wave, *, lexicon: ActiveLexicon, k: int, sheets: int | None = None, workers: int = 1
) -> _Base:
    key = _cache_key("base", wave, lexicon, k, sheets)
    found = cache.get(key)
    if found is None:
        found = _compute_base(wave, lexicon, k, workers)
        cache.set(key, found, CACHE_TTL)
    return found


def previous_wave(wave: Wave) -> Wave | None:
    """The previous closed wave of the same survey."""
    return (
        Wave.objects.filter(survey_id=wave.survey_id, number__lt=wave.number, state=WaveState.CLOSED)
        .select_related("survey")
        .order_by("-number")
        .first()
    )


class _Counted:
    """Stand-in results with only ``themes``: emerging_themes needs just the marginal counts."""

    __slots__ = ("themes",)

    def __init__(self, themes: tuple[str, ...]) -> None:
        self.themes = themes


def _synthetic(group: GroupAnalysis) -> list[_Counted]:
    """n stand-in documents whose theme counts equal the group's (only the margins matter)."""
    n = group.n or 0
    assigned: list[list[str]] = [[] for _ in range(n)]
    for theme, count in [*((row.theme, row.count) for row in group.themes), *group.small_themes]:
        for i in range(min(count, n)):
            assigned[i].append(theme)
    return [_Counted(tuple(t)) for t in assigned]


def _emerging(now: GroupAnalysis, before: GroupAnalysis | None, k: int) -> tuple[Emerging, ...]:
    if before is None or not (now.published and before.published) or not now.n or not before.n:
        return ()
    found = text.emerging_themes(_synthetic(now), _synthetic(before), min_count=k, include_falls=True)
    return tuple(
        Emerging(
            e.theme,
            e.share_now,
            e.share_before,
            e.effect,
            e.p_adjusted,
            e.direction,
            e.count_now,
            e.n_now,
            e.count_before,
            e.n_before,
        )
        for e in found
    )


def wave_analysis(wave: Wave, *, workers: int = 1) -> WaveAnalysis:
    """The wave's analysis: published groups' themes, negative shares, keywords and emerging themes.

    ``workers`` > 1 forks processes for large waves: only from a task worker or a command (see
    ``insight.text``), never from a multi-threaded web process.
    """
    lexicon = lexicon_active()
    k = k_min()
    prev = previous_wave(wave)
    waves = [wave, prev] if prev else [wave]
    totals = _sheet_totals(_needs_count(waves))
    base = _base(wave, lexicon=lexicon, k=k, sheets=totals.get(wave.pk), workers=workers)
    before = _base(prev, lexicon=lexicon, k=k, sheets=totals.get(prev.pk), workers=workers) if prev else None
    before_groups = {g.id: g for g in before.groups} if before else {}
    groups = tuple(
        GroupAnalysis(
            g.id,
            g.parent_id,
            g.name,
            g.depth,
            g.suppressed,
            g.n,
            g.negative,
            g.themes,
            g.keywords,
            _emerging(g, before_groups.get(g.id), k),
        )
        for g in base.groups
    )
    return WaveAnalysis(
        wave_id=wave.pk,
        survey_id=wave.survey_id,
        label=wave.label,
        k=k,
        lexicon_version=lexicon.version,
        themes=base.themes,
        groups=groups,
        previous_wave_id=prev.pk if prev else None,
        previous_label=prev.label if prev else "",
        previous_groups=before.groups if before else (),
        computed_at=timezone.now(),
    )


def analysis_warm(wave_id: int, *, workers: int = 2) -> None:
    """Compute and cache a wave's analysis ahead of time (for a task run when the wave closes)."""
    wave = Wave.objects.select_related("survey").filter(pk=wave_id).first()
    if wave is not None:
        wave_analysis(wave, workers=workers)


def leaf_text_stats(
    waves: list[Wave], text_keys: Mapping[int, list[str]] | None = None
) -> dict[int, dict[str, tuple[int, int]]]:
    """wave id → leaf group → (documents, negative documents), unsuppressed: for metrics only.

    A fixed number of queries whatever the number of waves: the answer-sheet counts of waves not
    closed, the lexicon (cached), and for waves not yet cached one read of their documents.
    """
    if not waves:
        return {}
    lexicon = lexicon_active()
    k = k_min()
    totals = _sheet_totals(_needs_count(waves))
    keys = {w.pk: _cache_key("leaf", w, lexicon, k, totals.get(w.pk)) for w in waves}
    found = cache.get_many(list(keys.values()))
    out: dict[int, dict[str, tuple[int, int]]] = {}
    missing = []
    for w in waves:
        if keys[w.pk] in found:
            out[w.pk] = found[keys[w.pk]]
        else:
            missing.append(w)
    if missing:
        engine = analyzer(lexicon)
        docs = texts_by_respondent(missing, text_keys=text_keys)
        fresh = {}
        for w in missing:
            stats = {}
            for leaf, items in docs[w.pk].items():
                results = engine.analyse_many(items, workers=1)
                stats[leaf] = (len(results), sum(1 for r in results if r.negative))
            out[w.pk] = stats
            fresh[keys[w.pk]] = stats
        cache.set_many(fresh, CACHE_TTL)
    return out


# --------------------------------------------------------------------------------------------
# Talk topic tags (T2, counted only)


@dataclass(frozen=True)
class TagGroup:
    """Tag counts of the held talks recorded in one org's subtree (published groups only)."""

    id: str
    org_id: int
    parent_id: str | None
    name: str
    depth: int
    suppressed: str = ""
    talks: int | None = None
    people: int | None = None
    tags: tuple[tuple[str, int], ...] = ()

    @property
    def published(self) -> bool:
        return not self.suppressed


@dataclass(frozen=True)
class TalkTags:
    """Talk topic-tag counts of an org subtree over a period."""

    org_id: int
    period: str
    k: int
    groups: tuple[TagGroup, ...]

    @property
    def root(self) -> TagGroup | None:
        return self.groups[0] if self.groups else None


def _talk_signature(org, period) -> tuple[int, int]:
    from sizheng.talks.models import Status, Talk

    row = Talk.objects.filter(
        org__path__startswith=org.path,
        status=Status.HELD,
        held_on__gte=period.start,
        held_on__lte=period.end,
        is_wellbeing=False,
    ).aggregate(n=Count("pk"), v=Sum("version"))
    return row["n"] or 0, row["v"] or 0


def talk_tags(org, period, *, actor=None) -> TalkTags:
    """Topic-tag counts of held talks in ``org``'s subtree during ``period`` (a ``core.rules.Period``).

    Only org subtrees where at least k distinct people were talked to are published, with
    complementary suppression over the org tree on the number of people talked to; wellbeing-flagged
    talks are left out. Reading the tags column writes one audit row (its name and counts, never a value).
    """
    from sizheng.org.models import Org
    from sizheng.talks.models import Status, Talk, TalkParticipant

    k = k_min()
    n_talks, versions = _talk_signature(org, period)
    key = f"{CACHE_PREFIX}:tags:{org.pk}:{period.key}:{n_talks}:{versions}:{k}"
    found = cache.get(key)
    if found is not None:
        return found
    orgs = list(
        Org.objects.filter(path__startswith=org.path)
        .order_by("path")
        .values_list("pk", "parent_id", "name", "depth")
    )
    ids = {o[0] for o in orgs}
    infos = [
        GroupInfo(
            f"org:{pk}", f"org:{parent}" if parent in ids and pk != org.pk else None, name, depth - org.depth
        )
        for pk, parent, name, depth in orgs
    ]
    held = Talk.objects.filter(
        org__path__startswith=org.path,
        status=Status.HELD,
        held_on__gte=period.start,
        held_on__lte=period.end,
        is_wellbeing=False,
    )
    # The talk's org and its tags column only: kind, summary and content are never selected.
    rows = list(held.order_by().values_list("org_id", "tags"))
    talks_by_org: Counter[str] = Counter()
    tags_by_org: dict[str, list[list[str]]] = defaultdict(list)
    for org_id, raw in rows:
        gid = f"org:{org_id}"
        talks_by_org[gid] += 1
        try:
            tags = json.loads(raw) if raw else []
        except ValueError:
            tags = []
        tags_by_org[gid].append([str(t) for t in tags] if isinstance(tags, list) else [])
    people_by_org: dict[str, set[int]] = defaultdict(set)
    for org_id, person_id in (
        TalkParticipant.objects.filter(talk__in=held, is_initiator=False)
        .order_by()
        .values_list("talk__org_id", "person_id")
    ):
        people_by_org[f"org:{org_id}"].add(person_id)

    # Distinct people per subtree (a person talked to in two orgs counts once higher up).
    children: dict[str | None, list[str]] = defaultdict(list)
    for g in infos:
        children[g.parent_id].append(g.id)

    def people(gid: str) -> set[int]:
        out = set(people_by_org.get(gid, ()))
        for child in children.get(gid, ()):
            out |= people(child)
        return out

    def subtree_tags(gid: str) -> list[list[str]]:
        out = list(tags_by_org.get(gid, ()))
        for child in children.get(gid, ()):
            out.extend(subtree_tags(child))
        return out

    # Orgs where nobody was talked to are left out of the hierarchy (a zero needs no protection).
    with_data = set(talks_by_org)
    keep: set[str] = set()
    for g in reversed(infos):
        if g.id in with_data or any(c in keep for c in children.get(g.id, ())):
            keep.add(g.id)
    infos = [g for g in infos if g.id in keep]
    people_count = {g.id: len(people(g.id)) for g in infos}
    too_few = [gid for gid, n in people_count.items() if n < k]
    # The measure is people, not talks: five talks with the same two people must stay hidden, and
    # so must anything that would let them be recovered by subtraction. Per org the people are
    # distinct, and a subtraction of published subtrees leaves whole orgs, so the remainder the
    # suppression checks counts the people behind any derived figure.
    hidden = _suppressed(infos, {gid: len(p) for gid, p in people_by_org.items()}, k=k, also=too_few)
    groups = []
    for g in infos:
        org_id = int(g.id.split(":")[1])
        if g.id in hidden:
            groups.append(TagGroup(g.id, org_id, g.parent_id, g.name, g.depth, suppressed=hidden[g.id]))
            continue
        lists = subtree_tags(g.id)
        # A tag counted fewer than k times ("心理压力 1 次") would describe one or two people's talks.
        counts = {tag: c for tag, c in text.tag_counts(lists).items() if c >= k}
        groups.append(
            TagGroup(
                g.id,
                org_id,
                g.parent_id,
                g.name,
                g.depth,
                talks=len(lists),
                people=people_count[g.id],
                tags=tuple(sorted(counts.items(), key=lambda tc: (-tc[1], tc[0]))),
            )
        )
    result = TalkTags(org.pk, period.key, k, tuple(groups))
    audit.record(
        actor,
        "talk_tags_counted",
        org,
        {
            "fields": ["tags"],
            "period": period.key,
            "talks": len(rows),
            "published": sum(1 for g in groups if g.published),
        },
    )
    cache.set(key, result, CACHE_TTL)
    return result
