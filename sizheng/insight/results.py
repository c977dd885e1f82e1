"""Survey results that keep anonymity: per-wave aggregation over the survey's fixed hierarchy of
reporting groups, with primary and complementary suppression applied once and served everywhere
(page, API, Excel) from the same structure (ARCHITECTURE §5, issue 7 items 2–3).

How a wave's figures are made
-----------------------------
* Only **written** answers count: ``AnonymousResponse`` rows (anonymous mode; the pending pool is
  not read — the wave closes with a flush, and counting pending items would let a viewer watch a
  batch arrive) or ``NamedResponse`` rows (named mode). Results are served for **closed** waves
  only, so nobody can watch figures move while people answer.
* The hierarchy is ``groups.groups(survey)`` pruned to the groups whose subtree had somebody in
  the wave's audience (``wave.audience_counts``, fixed when the wave opened). A group nobody was
  asked in is left out instead of being suppressed (and needing complements) for nothing; that
  decision rests on the audience, never on who answered, so it says nothing about answers. A sheet
  from a group left out (its author moved in after the wave opened) counts in the nearest group
  kept above it, as a direct member there.
* Every answer sheet counts once in its leaf group and in every ancestor (``n``). Every question
  is a table over the same respondents: one column per option / Likert level / rating point plus
  ``skip`` ("未作答") — a question's ``n`` is always the wave's ``n`` in that group, so the same
  groups are hidden in every column (``suppression``'s *Limits*).
* ``suppression.suppress_table`` over the respondent totals, with ``k = ANONYMITY_MIN_GROUP`` and
  the groups that have direct members declared (``with_direct``), decides which groups are
  published. A suppressed group carries **no value anywhere**: no ``n``, no audience, no rate, no
  distribution, no mean, no comments — and nothing says whether it was hidden for being small or to
  protect a neighbour.
* Means and the 0–100 dimension index are functions of the published count tables (a Likert mean
  is ``sum(level × count) / answered``), so they disclose nothing the counts do not.
* Comments (free text) are shown only for **published** groups — not merely groups of ``k`` or more:
  a complementary-suppressed group's comments could be differenced out of its parent's — scrubbed by
  ``text.scrub`` with the audience's roster names, sorted and then shuffled by a seed of wave, group
  and question, so the order depends on nothing but the set of texts. A published parent's comments
  include its children's.

:func:`wave_tables` returns the true counts (the audit's ground truth; never rendered).
:func:`served_figures` is what a channel serves: ``{table: {group: {column: count}}}`` with the
table ``"n"`` (respondents) and one table ``"q<question id>"`` per question.
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings

from sizheng.insight import suppression
from sizheng.insight.models import (
    LIKERT_LABELS,
    AnonymousResponse,
    Dimension,
    NamedResponse,
    Question,
    QuestionKind,
    Survey,
    SurveyMode,
    Wave,
    WaveState,
)

TOTAL = "n"
SKIP = "skip"
ANSWERED = "answered"
SUPPRESSED_TEXT = "＊ 人数不足，不予显示"
RATING_POINTS = range(11)


def table_key(question_id: int) -> str:
    """The served-figures table of one question."""
    return f"q{question_id}"


# --- structures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One answer column of a question: its key, label and value (for means and the dimension index)."""

    key: str
    label: str
    score: float | None = None  # Likert 1–5, rating 0–10
    index: float | None = None  # the same answer on the 0–100 dimension index scale


@dataclass(frozen=True)
class GroupRow:
    """One reporting group of a wave; ``n`` and ``audience`` are None when the group is suppressed."""

    id: str
    parent_id: str | None
    name: str
    depth: int
    n: int | None
    audience: int | None

    @property
    def suppressed(self) -> bool:
        return self.n is None

    @property
    def rate(self) -> float | None:
        """Participation (respondents / audience at wave open), capped at 1 (people move)."""
        if self.n is None or not self.audience:
            return None
        return min(1.0, self.n / self.audience)


@dataclass(frozen=True)
class QuestionResult:
    """One question's distribution per published group (``rows``) and its mean where it has one."""

    id: int
    number: int  # 1-based position in the survey
    text: str
    kind: str
    dimension_id: int | None
    additive: bool
    columns: tuple[Column, ...]
    rows: dict[str, dict[str, int]]  # published groups only: {"n": …, column key: count}
    means: dict[str, float | None]  # published groups only; None when nobody answered

    @property
    def key(self) -> str:
        return table_key(self.id)

    @property
    def scored(self) -> bool:
        return self.kind in (QuestionKind.LIKERT, QuestionKind.RATING)

    @property
    def kind_label(self) -> str:
        return str(QuestionKind(self.kind).label)

    @property
    def answer_columns(self) -> tuple[Column, ...]:
        """The columns without "未作答" (what the chart shows)."""
        return tuple(c for c in self.columns if c.key != SKIP)


@dataclass(frozen=True)
class DimensionResult:
    """A dimension's 0–100 index per published group (None: nothing scored was answered)."""

    id: int
    name: str
    index: dict[str, float | None]


@dataclass(frozen=True)
class WaveResults:
    """Everything a wave may publish; a suppressed group has no value in any field."""

    survey: Survey
    wave: Wave
    k: int
    groups: tuple[GroupRow, ...]  # the wave's hierarchy, parents before children
    questions: tuple[QuestionResult, ...]
    dimensions: tuple[DimensionResult, ...]
    _by_id: dict[str, GroupRow] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_id.update({g.id: g for g in self.groups})

    def group(self, gid: str) -> GroupRow | None:
        return self._by_id.get(gid)

    def published(self, gid: str) -> bool:
        row = self._by_id.get(gid)
        return row is not None and row.n is not None

    @property
    def suppressed(self) -> frozenset[str]:
        return frozenset(g.id for g in self.groups if g.n is None)


@dataclass(frozen=True)
class Tables:
    """A wave's true counts over its hierarchy — the ground truth; never rendered or served."""

    hierarchy: suppression.Hierarchy
    totals: dict[str, dict[str, int]]  # {gid: {"n": respondents}}
    questions: dict[str, dict[str, dict[str, int]]]  # {"q<id>": {gid: {"n": …, column: count}}}
    additive: dict[str, bool]  # per question table
    audience: dict[str, int]  # rolled up
    texts: dict[str, list[tuple[int, str]]]  # leaf group → (question id, raw text)


@dataclass(frozen=True)
class TrendPoint:
    """One closed wave of a group's trend; ``n`` and every index are None when suppressed there."""

    number: int
    label: str
    n: int | None
    index: dict[int, float | None]  # dimension id → index


# --- questions and answers -----------------------------------------------------------------------


def columns_of(question: Question) -> tuple[Column, ...]:
    """The answer columns of a question, "未作答" last."""
    kind = question.kind
    if kind == QuestionKind.LIKERT:
        cols = [Column(f"o{i}", label, i + 1, i * 25.0) for i, label in enumerate(LIKERT_LABELS)]
    elif kind == QuestionKind.RATING:
        cols = [Column(f"o{v}", f"{v} 分", float(v), v * 10.0) for v in RATING_POINTS]
    elif kind == QuestionKind.TEXT:
        return (Column(ANSWERED, "已填写"), Column(SKIP, "未填写"))
    else:
        cols = [Column(f"o{i}", str(label)) for i, label in enumerate(question.options or [])]
    return (*cols, Column(SKIP, "未作答"))


def _index_of(value: object, labels: list[str], *, base: int = 0) -> int | None:
    """An option position from an int (``base``-based), a digit string or a label."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if text in labels:
            return labels.index(text)
        if not text.lstrip("-").isdigit():
            return None
        value = int(text)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 <= value - base < len(labels):
        return value - base
    return None


def chosen(question: Question, raw: object) -> tuple[str, ...]:
    """The column keys one answer falls in (empty: not answered). Accepted forms: Likert 1–5 or its
    label; single choice the 0-based option index or the option's label; multiple choice a list of
    those; rating 0–10; text a non-blank string."""
    kind = question.kind
    if raw is None:
        return ()
    if kind == QuestionKind.TEXT:
        return (ANSWERED,) if isinstance(raw, str) and raw.strip() else ()
    if kind == QuestionKind.LIKERT:
        i = _index_of(raw, LIKERT_LABELS, base=1)
        return () if i is None else (f"o{i}",)
    if kind == QuestionKind.RATING:
        i = _index_of(raw, [str(v) for v in RATING_POINTS])
        return () if i is None else (f"o{i}",)
    labels = [str(o) for o in question.options or []]
    if kind == QuestionKind.MULTI:
        items = raw if isinstance(raw, list | tuple) else [raw]
        found = {i for i in (_index_of(item, labels) for item in items) if i is not None}
        return tuple(f"o{i}" for i in sorted(found))
    i = _index_of(raw, labels)
    return () if i is None else (f"o{i}",)


def _answers(raw: object) -> dict[str, object]:
    """An answer sheet as a dict keyed by question id strings (anonymous rows hold JSON text)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw or "{}")
        except ValueError:
            return {}
    return {str(k): v for k, v in raw.items()} if isinstance(raw, dict) else {}


# --- loading and counting ------------------------------------------------------------------------


def _sheets(survey: Survey, waves: list[Wave]) -> dict[int, list[tuple[str, dict]]]:
    """The written answer sheets of the waves, per wave: (leaf group, answers). One query."""
    model = AnonymousResponse if survey.mode == SurveyMode.ANONYMOUS else NamedResponse
    found: dict[int, list[tuple[str, dict]]] = {w.pk: [] for w in waves}
    rows = model.objects.filter(wave__in=[w.pk for w in waves]).values_list("wave_id", "group", "answers")
    for wave_id, group, answers in rows.iterator(chunk_size=2000):
        found[wave_id].append((group, _answers(answers)))
    return found


def _current_audience(survey: Survey) -> dict[str, int]:
    """Audience per leaf group from today's roster (waves opened before audience counts were kept)."""
    from sizheng.insight.groups import audience, leaf_groups

    counts = Counter(g for g in leaf_groups(survey, audience(survey)).values() if g)
    return dict(counts)


@dataclass
class _Survey:
    """What every wave of a survey shares, loaded once."""

    survey: Survey
    groups: list  # groups.Group, parents first
    questions: list[Question]
    dimensions: list[Dimension]
    columns: dict[int, tuple[Column, ...]]
    fallback_audience: dict[str, int] | None = None

    @classmethod
    def load(cls, survey: Survey) -> _Survey:
        from sizheng.insight.groups import groups

        questions = list(survey.questions.order_by("order", "pk"))
        return cls(
            survey=survey,
            groups=groups(survey),
            questions=questions,
            dimensions=list(survey.dimensions.order_by("order", "pk")),
            columns={q.pk: columns_of(q) for q in questions},
        )

    def audience_of(self, wave: Wave) -> dict[str, int]:
        if wave.audience_counts:
            return {str(g): int(c) for g, c in wave.audience_counts.items() if int(c) > 0}
        if self.fallback_audience is None:
            self.fallback_audience = _current_audience(self.survey)
        return self.fallback_audience


def _tables(shared: _Survey, wave: Wave, sheets: list[tuple[str, dict]]) -> Tables:
    """Count one wave's sheets over the pruned hierarchy and roll them up."""
    audience_own = shared.audience_of(wave)
    parent = {g.id: g.parent_id for g in shared.groups}
    # Keep a group when its subtree was asked (children come after parents). The choice rests on the
    # audience fixed at wave open, never on who answered, so the set of groups tells nothing.
    present = {g.id: audience_own.get(g.id, 0) > 0 for g in shared.groups}
    for g in reversed(shared.groups):
        if present[g.id] and g.parent_id is not None:
            present[g.parent_id] = True
    kept = [g for g in shared.groups if present[g.id]]
    kids: dict[str, list[str]] = defaultdict(list)
    for g in kept:
        if g.parent_id is not None:
            kids[g.parent_id].append(g.id)
    with_direct = [g.id for g in kept if kids.get(g.id) and audience_own.get(g.id, 0) > 0]
    hierarchy = suppression.Hierarchy(((g.id, g.parent_id, g.name) for g in kept), with_direct=with_direct)

    def home(group: str) -> str | None:
        # Someone who moved into a group nobody in it was asked from counts in its nearest kept
        # ancestor (as a direct member there); a group outside the hierarchy counts nowhere.
        while group is not None and not present.get(group, False):
            group = parent.get(group)
        return group

    questions = shared.questions
    leaf: dict[str, dict[str, Counter]] = {
        g.id: {table_key(q.pk): Counter() for q in questions} for g in kept
    }
    own_n: Counter = Counter()
    texts: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for raw_group, answers in sheets:
        group = home(raw_group)
        if group is None:
            continue
        own_n[group] += 1
        row = leaf[group]
        for q in questions:
            raw = answers.get(str(q.pk))
            keys = chosen(q, raw)
            counter = row[table_key(q.pk)]
            counter.update(keys or (SKIP,))
            if q.kind == QuestionKind.TEXT and keys:
                texts[group].append((q.pk, str(raw).strip()))

    n = {g.id: own_n[g.id] for g in kept}
    audience = {g.id: audience_own.get(g.id, 0) for g in kept}
    for g in reversed(kept):
        p = parent[g.id]
        if p is not None:
            n[p] += n[g.id]
            audience[p] += audience[g.id]
            for key, counter in leaf[g.id].items():
                leaf[p][key].update(counter)
    tables: dict[str, dict[str, dict[str, int]]] = {}
    additive: dict[str, bool] = {}
    for q in questions:
        key = table_key(q.pk)
        cols = [c.key for c in shared.columns[q.pk]]
        tables[key] = {g.id: {TOTAL: n[g.id], **{c: leaf[g.id][key][c] for c in cols}} for g in kept}
        additive[key] = q.kind != QuestionKind.MULTI
    return Tables(
        hierarchy=hierarchy,
        totals={g.id: {TOTAL: n[g.id]} for g in kept},
        questions=tables,
        additive=additive,
        audience=audience,
        texts=dict(texts),
    )


def _mean(row: Mapping[str, int], columns: Iterable[Column], attr: str) -> float | None:
    total = answered = 0.0
    for c in columns:
        value = getattr(c, attr)
        if value is not None:
            count = row.get(c.key, 0)
            total += value * count
            answered += count
    return round(total / answered, 2) if answered else None


def dimension_index(rows: Iterable[tuple[Mapping[str, int], Iterable[Column]]]) -> float | None:
    """The 0–100 index pooled over the answered scored items of (question row, columns) pairs."""
    total = answered = 0.0
    for row, columns in rows:
        for c in columns:
            if c.index is not None:
                count = row.get(c.key, 0)
                total += c.index * count
                answered += count
    return round(total / answered, 1) if answered else None


def _results(shared: _Survey, wave: Wave, tables: Tables) -> WaveResults:
    """Suppress once over the respondent totals and keep only what may be published."""
    k = settings.ANONYMITY_MIN_GROUP
    h = tables.hierarchy
    decided = suppression.suppress_table(h, tables.totals, k=k)
    published = set(decided.published)
    groups = tuple(
        GroupRow(
            id=gid,
            parent_id=h.parent(gid),
            name=h.name(gid),
            depth=h.depth(gid),
            n=tables.totals[gid][TOTAL] if gid in published else None,
            audience=tables.audience[gid] if gid in published else None,
        )
        for gid in h.ids
    )
    questions = []
    for number, q in enumerate(shared.questions, start=1):
        key = table_key(q.pk)
        cols = shared.columns[q.pk]
        rows = {gid: dict(tables.questions[key][gid]) for gid in h.ids if gid in published}
        scored = q.kind in (QuestionKind.LIKERT, QuestionKind.RATING)
        questions.append(
            QuestionResult(
                id=q.pk,
                number=number,
                text=q.text,
                kind=q.kind,
                dimension_id=q.dimension_id,
                additive=tables.additive[key],
                columns=cols,
                rows=rows,
                means={gid: _mean(row, cols, "score") for gid, row in rows.items()} if scored else {},
            )
        )
    dimensions = []
    for d in shared.dimensions:
        members = [qr for qr in questions if qr.dimension_id == d.pk and qr.scored]
        index = {
            gid: dimension_index((qr.rows[gid], qr.columns) for qr in members)
            for gid in h.ids
            if gid in published
        }
        dimensions.append(DimensionResult(id=d.pk, name=d.name, index=index))
    return WaveResults(
        survey=shared.survey,
        wave=wave,
        k=k,
        groups=groups,
        questions=tuple(questions),
        dimensions=tuple(dimensions),
    )


def _compute(survey: Survey, waves: list[Wave]) -> dict[int, tuple[Tables, WaveResults]]:
    """Tables and results of several waves of one survey in a fixed number of queries."""
    shared = _Survey.load(survey)
    sheets = _sheets(survey, waves)
    out = {}
    for wave in waves:
        tables = _tables(shared, wave, sheets[wave.pk])
        out[wave.pk] = (tables, _results(shared, wave, tables))
    return out


# --- the public functions ------------------------------------------------------------------------


def wave_tables(wave: Wave) -> Tables:
    """The wave's true counts over its hierarchy (the disclosure audit's ground truth; never served)."""
    return _compute(wave.survey, [wave])[wave.pk][0]


def wave_results(wave: Wave) -> WaveResults:
    """What a wave may publish: per group × question distributions and means, group × dimension
    indices, respondents and audience per group — suppressed groups without any value."""
    return _compute(wave.survey, [wave])[wave.pk][1]


def closed_waves(survey: Survey) -> list[Wave]:
    """The survey's closed waves, oldest first (the only ones whose results are served)."""
    return list(survey.waves.filter(state=WaveState.CLOSED).order_by("number"))


def survey_results(survey: Survey) -> dict[int, WaveResults]:
    """Results of every closed wave, keyed by wave number (one load for a page with trends)."""
    waves = closed_waves(survey)
    computed = _compute(survey, waves)
    return {w.number: computed[w.pk][1] for w in waves}


def participation(wave: Wave) -> list[GroupRow]:
    """Respondents and audience per group — published only for groups that are published (≥ k and
    not hidden to protect another); never a list of who did not answer."""
    return list(wave_results(wave).groups)


def trend_of(results: Iterable[WaveResults], group_id: str) -> list[TrendPoint]:
    """A group's dimension indices across already computed waves (suppressed waves are gaps)."""
    points = []
    for wr in sorted(results, key=lambda r: r.wave.number):
        row = wr.group(group_id)
        shown = row is not None and row.n is not None
        points.append(
            TrendPoint(
                number=wr.wave.number,
                label=wr.wave.label,
                n=row.n if shown and row else None,
                index={d.id: (d.index.get(group_id) if shown else None) for d in wr.dimensions},
            )
        )
    return points


def trend(survey: Survey, group_id: str) -> list[TrendPoint]:
    """The group's dimension indices across the survey's closed waves (suppressed waves are gaps)."""
    return trend_of(survey_results(survey).values(), group_id)


def texts_by_group(wave: Wave) -> dict[str, list[str]]:
    """Raw free text per leaf group, for aggregate analysis only — never rendered or quoted.

    Sorted, so the order says nothing about when or in which batch an answer was written.
    """
    tables = wave_tables(wave)
    return {gid: sorted(text for _, text in items) for gid, items in tables.texts.items()}


def roster_names(survey: Survey) -> list[str]:
    """The names the scrubber removes: everybody in the survey's audience."""
    from sizheng.insight.groups import audience

    return list(audience(survey).values_list("name", flat=True))


def _shuffled(texts: list[str], seed: str) -> list[str]:
    # Sorting first makes the order a function of the set of texts alone; the seeded shuffle then
    # keeps alphabetical order from grouping similar answers (and is stable across page loads).
    out = sorted(texts)
    random.Random(seed).shuffle(out)  # noqa: S311 — an ordering, not a secret
    return out


def comments_by_question(
    wave: Wave, *, tables: Tables | None = None, results: WaveResults | None = None
) -> dict[str, dict[int, list[str]]]:
    """Scrubbed free text per published group and text question; a group's texts include its
    descendants'. Groups that are suppressed (small, or hidden to protect another) get nothing."""
    if tables is None or results is None:
        tables, results = _compute(wave.survey, [wave])[wave.pk]
    published = {g.id for g in results.groups if g.n is not None}
    if not published or not tables.texts:
        return {}
    names = roster_names(wave.survey)
    h = tables.hierarchy
    gathered: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for leaf, items in tables.texts.items():
        chain = []
        gid: str | None = leaf
        while gid is not None:
            if gid in published:
                chain.append(gid)
            gid = h.parent(gid)
        if not chain:
            continue
        for qid, text in items:
            # A comment with a risk phrase (self-harm and the like) goes to the group's counselors as an
            # alert without identity (insight.services.risk_scan); it is never shown to managers.
            if is_risk(text):
                continue
            clean = scrub_text(text, names)
            for gid in chain:
                gathered[gid][qid].append(clean)
    return {
        gid: {qid: _shuffled(texts, f"{wave.pk}:{gid}:{qid}") for qid, texts in by_q.items()}
        for gid, by_q in gathered.items()
    }


def is_risk(text: str) -> bool:
    """Whether a comment carries a risk phrase (``text.is_risk``: no jieba loaded for it)."""
    from sizheng.insight.text import is_risk as risky

    return risky(text)


def scrub_text(text: str, names: Iterable[str]) -> str:
    """``text.scrub`` (imported lazily: jieba is not needed for scrubbing, but the module is large)."""
    from sizheng.insight.text import scrub

    return scrub(text, names)


def comments(wave: Wave) -> dict[str, list[str]]:
    """Scrubbed free text per published group (groups ≥ k that are not hidden to protect another)."""
    return {
        gid: _shuffled([t for texts in by_q.values() for t in texts], f"{wave.pk}:{gid}")
        for gid, by_q in comments_by_question(wave).items()
    }


# --- served figures and scope --------------------------------------------------------------------


def served_figures(
    results: WaveResults, groups: Iterable[str], *, detail: Iterable[str] | None = None
) -> dict[str, dict[str, dict[str, int]]]:
    """What a channel serves: respondents of the published ``groups``, and the question tables of the
    published ``detail`` groups (default: the same groups). Means and indices are functions of these."""
    wanted = [g for g in groups if results.published(g)]
    detailed = wanted if detail is None else [g for g in detail if results.published(g)]
    figures: dict[str, dict[str, dict[str, int]]] = {
        TOTAL: {g: {TOTAL: results.group(g).n} for g in wanted}  # type: ignore[union-attr]
    }
    for q in results.questions:
        figures[q.key] = {g: dict(q.rows[g]) for g in detailed}
    return figures


def visible_group_ids(user, survey: Survey, group_list: Iterable) -> list[str]:
    """The ids of the groups (of ``group_list``: anything with ``id`` and ``parent_id``) the user may
    see: all of them for a manager of the survey or a leader of everything; for a leader by unit,
    the groups of their units (units and their offices; orgs holding one of their units)."""
    from sizheng.core.models import Role
    from sizheng.insight.access import may_manage
    from sizheng.insight.models import Hierarchy
    from sizheng.org.access import scope_of
    from sizheng.org.models import Office, Org

    items = list(group_list)
    if may_manage(user, survey):
        return [g.id for g in items]
    scope = scope_of(user)
    if scope.has_everything(Role.LEADER):
        return [g.id for g in items]
    units = set(scope.unit_ids.get(Role.LEADER, []))
    if not units:
        return []
    kinds = {g.id.partition(":")[0] for g in items}
    if survey.hierarchy == Hierarchy.UNIT or kinds <= {"unit", "office"}:
        office_ids = [int(g.id[7:]) for g in items if g.id.startswith("office:")]
        office_units = dict(Office.objects.filter(pk__in=office_ids).values_list("pk", "unit_id"))
        visible = set()
        for g in items:
            kind, _, raw = g.id.partition(":")
            if (kind == "unit" and int(raw) in units) or (
                kind == "office" and office_units.get(int(raw)) in units
            ):
                visible.add(g.id)
    else:
        org_ids = [int(g.id[4:]) for g in items if g.id.startswith("org:")]
        held = set(
            Org.units.through.objects.filter(org_id__in=org_ids, unit_id__in=units).values_list(
                "org_id", flat=True
            )
        )
        visible = {f"org:{pk}" for pk in held}
    return [g.id for g in items if g.id in visible]


def group_tree(group_list: Iterable, visible: Iterable[str]) -> list[dict]:
    """``[{id, name, parent_id, depth}]`` of the visible groups; a parent the user may not see
    becomes None (their groups form a forest of their own)."""
    shown = set(visible)
    out: list[dict] = []
    depth: dict[str, int] = {}
    for g in group_list:
        if g.id not in shown:
            continue
        parent = g.parent_id if g.parent_id in shown else None
        depth[g.id] = depth[parent] + 1 if parent is not None else 0
        out.append({"id": g.id, "name": g.name, "parent_id": parent, "depth": depth[g.id]})
    return out


def non_respondents(wave: Wave, user):
    """Named mode only: the people of the audience in the user's scope who have not answered.
    Anonymous mode never has such a list (ARCHITECTURE §5): an empty queryset."""
    from sizheng.insight.access import may_manage
    from sizheng.insight.groups import audience
    from sizheng.org.models import Person

    if wave.survey.mode != SurveyMode.NAMED or not may_manage(user, wave.survey):
        return Person.objects.none()
    answered = NamedResponse.objects.filter(wave=wave).values("person_id")
    return (
        audience(wave.survey)
        .filter(pk__in=Person.objects.visible_to(user).values("pk"))
        .exclude(pk__in=answered)
        .select_related("unit", "org", "office")
        .order_by("unit_id", "office_id", "name", "pk")
    )


def percent(part: int | None, whole: int | None) -> float | None:
    """A share in percent with one decimal (None without a whole)."""
    if part is None or not whole:
        return None
    return round(100.0 * part / whole, 1)
