"""Insight's numbers (issue 7 item 6): participation, satisfaction and negative sentiment per org subtree.

``insight.democratic_rating`` (issue 9: 民主测评满意率 for assessment rounds) follows the same rules.

All of them are aggregates of survey answer sheets of waves **closed** in the period (``closes_on``
in it), attributed to the org tree through each sheet's leaf reporting group: ``org:<id>`` is that
org; ``unit:<id>`` and ``office:<id>`` (surveys reported by unit → office) count in the depth-1
org holding the unit (the 机关党委 / 党总支 / 党支部 under the root, never a 党组) — the same rule
``insight.groups`` uses for staff who are not party members. A value covers the target's subtree.

Anonymity (ARCHITECTURE §5): every metric is suppressed over the **whole org tree at once** with
``insight.suppression.suppress`` on its own count (answer sheets, scored sheets, free-text
documents), so a target gets a value only when it counts at least ``ANONYMITY_MIN_GROUP`` and no
hidden org's figure can be recovered by subtracting published ones. The decision depends only on
the data, never on which targets were asked for, so two dashboards asking for different orgs can
never be combined to recover a hidden one.

Tier T0: each value is an aggregate of anonymous answer sheets over at least k people, with no
link to any person — ARCHITECTURE §1's "T0 … visible within scope"; it reads no T2 or T3 data
(talks and wellbeing are not sources here). Each function runs a fixed number of queries
whatever the number of targets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from django.db.models import Count, Q

from sizheng.core.metrics import Suppressed, Tier, metric
from sizheng.core.rules import Period
from sizheng.insight.models import (
    AnonymousResponse,
    NamedResponse,
    Question,
    QuestionKind,
    Template,
    Wave,
    WaveState,
)
from sizheng.insight.survey_templates import DEMOCRATIC_OPTIONS
from sizheng.org.models import Office, Org

# One reason for "nobody answered" and "too few answered": telling them apart would say that
# nobody in a small group answered (a published zero, ARCHITECTURE §5).
NO_DATA = TOO_FEW = "本期没有已结束的调查，或参与人数不足匿名阈值，不予显示。"
STEP = 7  # a materialised path segment: six digits and a dot


def _closed_in(period: Period, prefix: str = "") -> Q:
    return Q(
        **{
            f"{prefix}state": WaveState.CLOSED,
            f"{prefix}closes_on__gte": period.start,
            f"{prefix}closes_on__lte": period.end,
        }
    )


class _Tree:
    """Target paths and leaf group → org path, loaded in one or two queries."""

    def __init__(self, targets: list[int], leaves: Iterable[str]) -> None:
        org_ids, unit_ids, office_ids = set(), set(), set()
        for gid in leaves:
            kind, _, raw = gid.partition(":")
            if not raw.isdigit():
                continue
            {"org": org_ids, "unit": unit_ids, "office": office_ids}.get(kind, set()).add(int(raw))
        office_unit: dict[int, int] = {}
        if office_ids:
            office_unit = dict(Office.objects.filter(pk__in=office_ids).values_list("pk", "unit_id"))
            unit_ids |= set(office_unit.values())
        q = Q(pk__in=set(targets) | org_ids)
        if unit_ids:
            q |= Q(depth=1, units__in=unit_ids)
        rows = (
            Org.objects.filter(q)
            .order_by("path")
            .values_list("pk", "path", "depth", "kind", "units" if unit_ids else "pk")
        )
        self.path: dict[int, str] = {}
        holder: dict[int, str] = {}
        for pk, path, depth, kind, unit in rows:
            self.path[pk] = path
            if unit_ids and depth == 1 and kind != Org.Kind.LEADING_GROUP and unit in unit_ids:
                holder.setdefault(unit, path)
        self.targets = {t: self.path[t] for t in targets if t in self.path}
        self._office_unit = office_unit
        self._holder = holder

    def leaf_path(self, gid: str) -> str | None:
        """The org path a leaf reporting group counts in (None: not in the org tree)."""
        kind, _, raw = gid.partition(":")
        if not raw.isdigit():
            return None
        pk = int(raw)
        if kind == "org":
            return self.path.get(pk)
        if kind == "unit":
            return self._holder.get(pk)
        if kind == "office":
            return self._holder.get(self._office_unit.get(pk, -1))
        return None


def _ids(path: str) -> list[str]:
    return [path[:n] for n in range(STEP, len(path) + 1, STEP)]


def _published(counts_by_path: Mapping[str, int], k: int) -> set[str]:
    """Org paths (subtrees) that may be published for a measure counted at leaf org paths."""
    from sizheng.insight.analysis import GroupInfo, _suppressed

    nodes: dict[str, str | None] = {}
    for path in counts_by_path:
        prefixes = _ids(path)
        for i, p in enumerate(prefixes):
            nodes.setdefault(p, prefixes[i - 1] if i else None)
    groups = [GroupInfo(p, nodes[p], p, p.count(".") - 1) for p in sorted(nodes)]
    hidden = _suppressed(groups, counts_by_path, k=k)
    return {p for p in nodes if p not in hidden}


def _subtree_sum(values: Mapping[str, float], path: str) -> float:
    return sum(v for p, v in values.items() if p.startswith(path))


def _finish(
    targets: list[int],
    tree: _Tree,
    counts: Mapping[str, int],
    value,
) -> dict[int, object]:
    """Per target: its subtree's value when published, else Suppressed (no data / too few)."""
    from sizheng.insight.analysis import k_min

    published = _published(counts, k_min()) if counts else set()
    out: dict[int, object] = {}
    for t in targets:
        path = tree.targets.get(t)
        if path is None or not _subtree_sum(counts, path):
            out[t] = Suppressed(NO_DATA)
        elif path not in published:
            out[t] = Suppressed(TOO_FEW)
        else:
            out[t] = value(path)
    return out


@metric(
    "insight.participation_rate",
    label="调查参与率",
    unit="%",
    higher_is_better=True,
    period_kind="half",
    tier=Tier.T0,
    level="org",
    description="本半年内结束的各轮调查中，实际作答的份数占发放对象人数（开卷时确定）的比例；不足匿名阈值不予显示。",
)
def participation_rate(targets: list[int], period: Period) -> dict[int, object]:
    """Answer sheets / audience over the waves closed in the period, per subtree. Three to five queries."""
    waves = dict(Wave.objects.filter(_closed_in(period)).values_list("pk", "audience_counts"))
    counts_by_leaf: dict[str, int] = defaultdict(int)
    audience_by_leaf: dict[str, int] = defaultdict(int)
    if waves:
        anon = (
            AnonymousResponse.objects.filter(wave_id__in=waves)
            .order_by()
            .values_list("group")
            .annotate(n=Count("pk"))
        )
        named = (
            NamedResponse.objects.filter(wave_id__in=waves)
            .order_by()
            .values_list("group")
            .annotate(n=Count("pk"))
        )
        for group, n in anon.union(named, all=True):
            counts_by_leaf[group] += n
        for audience in waves.values():
            for group, n in (audience or {}).items():
                if isinstance(n, int | float) and n > 0:
                    audience_by_leaf[str(group)] += int(n)
    tree = _Tree(targets, set(counts_by_leaf) | set(audience_by_leaf))
    counts: dict[str, int] = defaultdict(int)
    audience: dict[str, int] = defaultdict(int)
    for gid, n in counts_by_leaf.items():
        path = tree.leaf_path(gid)
        if path:
            counts[path] += n
    for gid, n in audience_by_leaf.items():
        path = tree.leaf_path(gid)
        if path:
            audience[path] += n

    def rate(path: str) -> object:
        whole = _subtree_sum(audience, path)
        if not whole:
            return Suppressed(NO_DATA)
        return round(min(100.0, 100.0 * _subtree_sum(counts, path) / whole), 1)

    return _finish(targets, tree, counts, rate)


def _scaled(kind: str, value) -> float | None:
    """A Likert answer 1–5 or a rating 0–10 on the 0–100 scale (as ``results`` indexes them)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        return None
    if kind == QuestionKind.LIKERT and 1 <= value <= 5:
        return (value - 1) * 25.0
    if kind == QuestionKind.RATING and 0 <= value <= 10:
        return value * 10.0
    return None


def _answers(raw) -> dict:
    from sizheng.insight.analysis import _decode

    return _decode(raw)


@metric(
    "insight.satisfaction_index",
    label="满意度指数",
    unit="分",
    higher_is_better=True,
    period_kind="half",
    tier=Tier.T0,
    level="org",
    description="本半年内结束的满意度测评中，五级量表和 0—10 分评价题折算为 0—100 分后的平均值（每份答卷先取平均）；不足匿名阈值不予显示。",
)
def satisfaction_index(targets: list[int], period: Period) -> dict[int, object]:
    """Mean over answer sheets of each sheet's mean scored item on 0–100. Four to six queries."""
    scored: dict[int, dict[str, str]] = defaultdict(dict)  # wave → question key → kind
    rows = Question.objects.filter(
        _closed_in(period, "survey__waves__"),
        survey__template=Template.SATISFACTION,
        kind__in=[QuestionKind.LIKERT, QuestionKind.RATING],
    ).values_list("survey__waves", "pk", "kind")
    for wave_id, qid, kind in rows:
        scored[wave_id][str(qid)] = kind
    sheets: dict[str, list[float]] = defaultdict(list)  # leaf → each sheet's mean
    if scored:
        for model in (AnonymousResponse, NamedResponse):
            for wave_id, group, raw in model.objects.filter(wave_id__in=scored).values_list(
                "wave_id", "group", "answers"
            ):
                answers = _answers(raw)
                values = [
                    v
                    for key, kind in scored[wave_id].items()
                    if (v := _scaled(kind, answers.get(key))) is not None
                ]
                if values:
                    sheets[group].append(sum(values) / len(values))
    tree = _Tree(targets, sheets)
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for gid, means in sheets.items():
        path = tree.leaf_path(gid)
        if path:
            totals[path] += sum(means)
            counts[path] += len(means)
    return _finish(
        targets,
        tree,
        counts,
        lambda path: round(_subtree_sum(totals, path) / _subtree_sum(counts, path), 1),
    )


@metric(
    "insight.negative_share",
    label="负面情绪意见占比",
    unit="%",
    higher_is_better=False,
    period_kind="half",
    tier=Tier.T0,
    level="org",
    description="本半年内结束的调查中，填写了文字意见的答卷里情绪倾向为负面的比例（按当前主题词库分析）；不足匿名阈值不予显示。",
)
def negative_share(targets: list[int], period: Period) -> dict[int, object]:
    """Negative documents / documents (one per respondent who wrote text). Three to six queries
    (the text analysis of a wave is cached, so a warm cache reads no answers at all)."""
    from sizheng.insight.analysis import leaf_text_stats

    keys: dict[int, list[str]] = defaultdict(list)
    waves: dict[int, Wave] = {}
    rows = (
        Question.objects.filter(_closed_in(period, "survey__waves__"), kind=QuestionKind.TEXT)
        .order_by("order", "pk")
        .values_list("survey__waves", "pk", "survey__waves__state")
    )
    for wave_id, qid, state in rows:
        keys[wave_id].append(str(qid))
        waves.setdefault(wave_id, Wave(pk=wave_id, state=state))
    stats = leaf_text_stats(list(waves.values()), text_keys=keys) if waves else {}
    documents: dict[str, int] = defaultdict(int)
    negative: dict[str, int] = defaultdict(int)
    leaves = {leaf for per_wave in stats.values() for leaf in per_wave}
    tree = _Tree(targets, leaves)
    for per_wave in stats.values():
        for leaf, (n, neg) in per_wave.items():
            path = tree.leaf_path(leaf)
            if path:
                documents[path] += n
                negative[path] += neg
    return _finish(
        targets,
        tree,
        documents,
        lambda path: round(100.0 * _subtree_sum(negative, path) / _subtree_sum(documents, path), 1),
    )


#: An answer sheet counts as satisfied when its mean scored item reaches this (0–100 scale).
DEMOCRATIC_PASS = 60.0


_GRADE_QUESTION = "grade"
# The 民主测评 template's four grades on the 0–100 scale: a sheet whose mean is ≥ DEMOCRATIC_PASS
# (60) counts as satisfied, so 好 and 较好 satisfy and 一般 and 差 do not — the usual 满意率
# (好 + 较好 over all), also when a sheet mixes grades with Likert or rating items.
_GRADE_SCORES = (100.0, 75.0, 50.0, 25.0)


def _democratic_scaled(kind: str, value) -> float | None:
    if kind != _GRADE_QUESTION:
        return _scaled(kind, value)
    from sizheng.insight.results import _index_of

    i = _index_of(value, DEMOCRATIC_OPTIONS)
    return None if i is None else _GRADE_SCORES[i]


def democratic_rating_for(
    targets: list[int], period, survey_ids: Iterable[int] | None = None
) -> dict[int, object]:
    """民主测评满意率 per org subtree: % of answer sheets whose mean scored item (Likert 1–5 and
    rating 0–10 on 0–100, as :func:`satisfaction_index`) is at least ``DEMOCRATIC_PASS``.

    ``period`` is a ``core.rules.Period`` or anything with ``start``/``end`` dates (an assessment
    round's span); waves closed in it count. ``survey_ids``: only these surveys (an assessment's
    chosen 民主测评 questionnaire, whatever its template); None: every survey of the 民主测评
    template. Suppressed like the other insight metrics (whole tree at once, on the number of
    scored sheets). Four to six queries whatever the number of targets.
    """
    scope = (
        Q(survey__template=Template.DEMOCRATIC) if survey_ids is None else Q(survey_id__in=list(survey_ids))
    )
    scored: dict[int, dict[str, str]] = defaultdict(dict)  # wave → question key → kind
    rows = Question.objects.filter(
        scope,
        _closed_in(period, "survey__waves__"),
        kind__in=[QuestionKind.LIKERT, QuestionKind.RATING, QuestionKind.SINGLE],
    ).values_list("survey__waves", "pk", "kind", "options")
    for wave_id, qid, kind, options in rows:
        if kind != QuestionKind.SINGLE:
            scored[wave_id][str(qid)] = kind
        elif [str(o) for o in options or []] == DEMOCRATIC_OPTIONS:
            scored[wave_id][str(qid)] = _GRADE_QUESTION  # the template's 好/较好/一般/差 items
    sheets: dict[str, list[bool]] = defaultdict(list)  # leaf → each sheet: satisfied or not
    if scored:
        for model in (AnonymousResponse, NamedResponse):
            for wave_id, group, raw in model.objects.filter(wave_id__in=scored).values_list(
                "wave_id", "group", "answers"
            ):
                answers = _answers(raw)
                values = [
                    v
                    for key, kind in scored[wave_id].items()
                    if (v := _democratic_scaled(kind, answers.get(key))) is not None
                ]
                if values:
                    sheets[group].append(sum(values) / len(values) >= DEMOCRATIC_PASS)
    tree = _Tree(targets, sheets)
    satisfied: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    for gid, marks in sheets.items():
        path = tree.leaf_path(gid)
        if path:
            satisfied[path] += sum(marks)
            counts[path] += len(marks)
    return _finish(
        targets,
        tree,
        counts,
        lambda path: round(100.0 * _subtree_sum(satisfied, path) / _subtree_sum(counts, path), 1),
    )


@metric(
    "insight.democratic_rating",
    label="民主测评满意率",
    unit="%",
    higher_is_better=True,
    period_kind="year",
    tier=Tier.T0,
    level="org",
    description="本年度内结束的民主测评中，各题平均（五级量表和 0—10 分评价题折算为 0—100 分）不低于 60 分的答卷所占比例；不足匿名阈值不予显示。",
)
def democratic_rating(targets: list[int], period: Period) -> dict[int, object]:
    """民主测评满意率 over every 民主测评 survey's waves closed in the period."""
    return democratic_rating_for(targets, period, None)


# Registers the recommendation duty's close handler (apps.ready imports this module at start-up).
from sizheng.insight import reports as _reports  # noqa: E402, F401
