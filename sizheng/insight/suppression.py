"""Statistical disclosure control over a fixed hierarchy of reporting groups (pure; no Django).

Survey results are published only over a fixed tree of reporting groups (ARCHITECTURE §5, issue 7):
ids like ``org:12``, ``unit:3``, ``office:7``, each with a parent id or ``None`` (a forest is allowed).
:func:`suppress` / :func:`suppress_table` decide which groups may be published; :func:`audit`
checks any set of served figures with a linear program; :func:`bounds` / :func:`table_bounds`
give the tightest bounds of every unpublished cell.

The model
---------
A *measure* gives every group a count. A parent's count is the sum of its children's counts plus
its own *direct* members (people attached to the group itself, not to any child). The direct part
is modelled as an implicit extra child, the cell ``"<id>/direct"`` (:func:`direct_id`), which is
**never published**: it is only ever *derivable* (parent minus children). So the equations an
attacker can use are, for every group ``g`` with children::

    n(g) = n(g/direct) + sum(n(c) for c in children(g))

A table (:func:`suppress_table`) is one such measure per column: rows are groups, one column holds
the respondent count (``total``, default ``"n"``) and the others count respondents who chose an
answer option (or a Likert level). Each option count is at most the row's total; with
``additive=True`` (single choice, everybody answered) the options add up to the total.

Rules (each pinned by a test in ``tests/test_suppression.py``)
----------------------------------------------------------------
* **Primary.** A group whose respondent count is below ``k`` is suppressed, **zero included**:
  a published 0 says "nobody in this group answered", a statement about its members' participation,
  and the issue allows participation counts only for groups of at least ``k`` (and no list of
  non-respondents in anonymous mode). Leave groups out of the hierarchy that have nobody in the
  survey's audience, or they will be suppressed (and need complements) for nothing.
* **Direct members.** The direct part ``d = n(g) - sum(children)`` is never published. It is
  *sensitive* (must not be derivable) when ``d < k``; when ``d >= k`` it may be derived, like any
  figure of at least ``k`` people. When ``d == 0`` the module cannot tell "the group has no direct
  members" from "none of them answered"; it assumes the former and treats the cell as a **known
  zero** (also in the audit, so the audit never counts on an attacker not knowing the structure).
  For groups that do have direct members, pass them as ``Hierarchy(..., with_direct=ids)``: their
  direct part is then always an unknown cell, sensitive when below ``k`` (zero included).
  A direct part that is not a known zero is never published, so it protects its siblings for free:
  ``12 = 9 + 3`` with 3 suppressed and 5 direct members is safe, the pair (3, direct) is hidden.
* **Option counts.** A published figure must be computed from a group of at least ``k``
  respondents. The option counts of a published group are its answer distribution and are
  published even when small (e.g. 2 of 20 chose "不满意"); they identify nobody. The same groups
  are suppressed in every column (the respondent totals decide), so a suppressed group's option
  counts cannot be differenced out of any column either.
* **Complementary.** After primary suppression, cells are added until these hold (see *Why it is
  safe*):

  1. every suppressed group with children has an unknown member in its family (a suppressed child
     or an unknown direct part) — otherwise it equals the sum of published figures;
  2. a published group whose family holds a protected cell (a suppressed child, or a sensitive
     direct part) has at least two unknown members in its family — otherwise the one is derivable;
  3. the *remainder* of every published group — its count minus its published descendants just
     below the hidden part, i.e. the people in the hidden cells under it — is at least ``k``:
     that difference is itself a derivable figure, and it describes exactly those people (this is
     stronger than "no cell pinned": for 20 = 16 + 3 + 1 the pair (3, 1) is not pinned but the
     remainder 4 says "these four people …" in every column).

  A fix takes the smallest published group that helps (the smallest published sibling for rule
  2; the smallest published group on the hidden part's border for rule 3; the smallest published
  child for rule 1), and the rules are applied again until nothing changes, so a suppressed parent
  is handled in its grandparent's family too. Finally every complementary suppression is undone
  again (largest first) if the rules still hold without it, so each one left is needed.

Why it is safe (what :func:`audit` checks with a linear program)
------------------------------------------------------------------
The unknown cells split into independent *regions*: the hidden cells under one published group
``P`` (down to the next published groups), or under a hidden root. Inside a region everything is a
fixed offset plus a sum of *atoms* (hidden leaf groups and unknown direct parts), the atoms are
``>= 0`` and, below a published ``P``, add up to the remainder ``A``. So every hidden cell whose
atoms are some but not all of the region's ranges over exactly ``[offset, offset + A]``: rules 1
and 2 give "some but not all", rule 3 gives a width ``A >= k >= 1``. Under a hidden root the
widths are infinite. In answer columns the same holds column by column; the only pins left are
when the remainder's count in a column is 0 ("nobody among these ``>= k`` people chose this"),
the same kind of statement a published distribution makes, and :func:`audit` accepts exactly
those. The constraint matrix of one hierarchy is totally unimodular, so the continuous bounds
are the integer bounds; ``integral=True`` solves the integer programs anyway.

Limits
------
Everything served (UI, API, Excel) must be a group of the hierarchy: a survey-wide total must be
its root. The audit assumes the attacker knows the hierarchy and that counts are ``>= 0``, not
group sizes: with full participation a respondent count equals the (known) group size, so only the
answer columns stay protected. Suppression and audit are per measure (or per table): differences
*between* measures are outside the model, e.g. a wave's respondent count minus one question's
when questions may be skipped. Keep every question's respondent count equal to the wave's, or at
least pass ``also=`` the wave's suppressed groups so the same groups are hidden everywhere. A group of
exactly ``k`` that all chose one answer reveals that answer for each of them; that is the
threshold's accepted limit.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, SupportsIndex

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csr_array

GroupId = str
Column = str
Reason = Literal["primary", "complementary"]
FindingKind = Literal["small", "pinned", "remainder"]

DIRECT_SUFFIX = "/direct"
DEFAULT_COLUMN: Column = "n"
# A pinned cell has max - min < 1; the tolerance keeps a width of exactly 1 from reading as 0.999999.
_TOLERANCE = 1e-6


def direct_id(group_id: GroupId) -> str:
    """The id of a group's implicit direct-members cell."""
    return group_id + DIRECT_SUFFIX


class Hierarchy:
    """A fixed forest of reporting groups: ``(id, parent id or None, name)`` triples, validated."""

    def __init__(
        self, groups: Iterable[tuple[GroupId, GroupId | None, str]], *, with_direct: Iterable[GroupId] = ()
    ) -> None:
        """Check ids are unique, parents exist and there is no cycle; order groups parents first."""
        parents: dict[GroupId, GroupId | None] = {}
        names: dict[GroupId, str] = {}
        for item in groups:
            gid, pid, name = item
            if not isinstance(gid, str) or not gid:
                raise ValueError(f"group id {gid!r} must be a non-empty string")
            if gid.endswith(DIRECT_SUFFIX):
                raise ValueError(f"group id {gid!r} must not end with {DIRECT_SUFFIX!r} (reserved)")
            if gid in parents:
                raise ValueError(f"group {gid!r} appears twice")
            if pid is not None and not isinstance(pid, str):
                raise ValueError(f"parent of {gid!r} must be a group id or None, not {pid!r}")
            parents[gid] = pid
            names[gid] = str(name)
        children: dict[GroupId, list[GroupId]] = {gid: [] for gid in parents}
        roots: list[GroupId] = []
        for gid, pid in parents.items():
            if pid is None:
                roots.append(gid)
            elif pid not in parents:
                raise ValueError(f"parent {pid!r} of group {gid!r} is not a group")
            else:
                children[pid].append(gid)
        order: list[GroupId] = []
        depth: dict[GroupId, int] = {}
        for root in roots:
            depth[root] = 0
            stack = [root]
            while stack:
                gid = stack.pop()
                order.append(gid)
                for child in reversed(children[gid]):
                    depth[child] = depth[gid] + 1
                    stack.append(child)
        if len(order) != len(parents):
            stuck = sorted(set(parents) - set(order))
            raise ValueError(f"groups {stuck[:5]!r} are in a cycle (no path up to a root)")
        direct = frozenset(with_direct)
        unknown = direct - set(parents)
        if unknown:
            raise ValueError(f"with_direct names groups that are not in the hierarchy: {sorted(unknown)!r}")
        self._parents = parents
        self._names = names
        self._children = {gid: tuple(kids) for gid, kids in children.items()}
        self._order = tuple(order)
        self._depth = depth
        self._with_direct = direct
        self.roots: tuple[GroupId, ...] = tuple(roots)

    @property
    def ids(self) -> tuple[GroupId, ...]:
        """All group ids, every parent before its children."""
        return self._order

    def parent(self, gid: GroupId) -> GroupId | None:
        """The parent id, or None for a root."""
        return self._parents[gid]

    def children(self, gid: GroupId) -> tuple[GroupId, ...]:
        """The child ids in input order."""
        return self._children[gid]

    def name(self, gid: GroupId) -> str:
        """The display name."""
        return self._names[gid]

    def depth(self, gid: GroupId) -> int:
        """0 for a root."""
        return self._depth[gid]

    def has_direct(self, gid: GroupId) -> bool:
        """Whether the group was declared to have direct members (its direct part is never a known zero)."""
        return gid in self._with_direct

    def __contains__(self, gid: object) -> bool:
        return gid in self._parents

    def __iter__(self) -> Iterator[GroupId]:
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)

    def __repr__(self) -> str:
        return f"Hierarchy({len(self)} groups, roots={list(self.roots)!r})"


@dataclass(frozen=True)
class Suppression:
    """What one measure may publish: ``published`` figures and the ``suppressed`` groups with their reason."""

    k: int
    published: dict[GroupId, int]
    suppressed: dict[GroupId, Reason]


@dataclass(frozen=True)
class TableSuppression:
    """What a table may publish: whole rows of ``published`` groups; the same groups suppressed in every column."""

    k: int
    total: Column
    additive: bool
    columns: tuple[Column, ...]
    published: dict[GroupId, dict[Column, int]]
    suppressed: dict[GroupId, Reason]


@dataclass(frozen=True)
class Finding:
    """One disclosure problem: a ``small`` published figure, a ``pinned`` hidden cell or a small ``remainder``."""

    kind: FindingKind
    cell: str
    column: Column | None
    lo: float
    hi: float
    message: str


@dataclass
class _Data:
    """A validated table: group rows, derived direct rows and which direct parts are unknowns."""

    columns: tuple[Column, ...]
    total: Column
    additive: bool
    rows: dict[GroupId, dict[Column, int]]
    direct: dict[GroupId, dict[Column, int]]  # only for groups with children
    unknown_direct: frozenset[GroupId]  # groups whose direct part is not a known zero


def _count(value: object, where: str) -> int:
    """An int >= 0 (numpy ints accepted; bools and floats refused)."""
    if isinstance(value, bool) or not isinstance(value, SupportsIndex):
        raise ValueError(f"{where}: {value!r} is not a count")
    number = operator.index(value)
    if number < 0:
        raise ValueError(f"{where}: {number} is negative")
    return int(number)


def _check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int, not {k!r}")
    return k


def _prepare(
    hierarchy: Hierarchy, table: Mapping[GroupId, Mapping[Column, object]], total: Column, additive: bool
) -> _Data:
    """Validate a table against the hierarchy and derive the direct parts."""
    extra = [gid for gid in table if gid not in hierarchy]
    if extra:
        raise ValueError(f"counts name groups that are not in the hierarchy: {sorted(extra)[:5]!r}")
    missing = [gid for gid in hierarchy.ids if gid not in table]
    if missing:
        raise ValueError(f"counts are missing for groups {missing[:5]!r}")
    columns: tuple[Column, ...] | None = None
    rows: dict[GroupId, dict[Column, int]] = {}
    for gid in hierarchy.ids:
        row = table[gid]
        if columns is None:
            if total not in row:
                raise ValueError(f"the rows have no {total!r} (respondent count) column")
            columns = (total, *sorted((c for c in row if c != total), key=str))
        if set(row) != set(columns):
            raise ValueError(
                f"row {gid!r} has columns {sorted(row, key=str)!r}, expected {sorted(columns, key=str)!r}"
            )
        rows[gid] = {c: _count(row[c], f"{gid}[{c!r}]") for c in columns}
    columns = columns or (total,)
    options = columns[1:]
    direct: dict[GroupId, dict[Column, int]] = {}
    for gid in hierarchy.ids:
        kids = hierarchy.children(gid)
        if kids:
            part = {c: rows[gid][c] - sum(rows[kid][c] for kid in kids) for c in columns}
            if any(v < 0 for v in part.values()):
                raise ValueError(f"group {gid!r} counts fewer than its children together")
            direct[gid] = part
    for label, row in [*rows.items(), *((direct_id(g), r) for g, r in direct.items())]:
        for c in options:
            if row[c] > row[total]:
                raise ValueError(f"{label}: {c!r} = {row[c]} is more than the {row[total]} respondents")
        if additive and sum(row[c] for c in options) != row[total]:
            raise ValueError(f"{label}: the options do not add up to {total!r} (additive=True)")
    unknown_direct = frozenset(g for g, part in direct.items() if part[total] > 0 or hierarchy.has_direct(g))
    return _Data(columns, total, additive, rows, direct, unknown_direct)


# --- the suppression rules -----------------------------------------------------------------------


@dataclass
class _Region:
    """The hidden cells under one published group, down to the next published groups."""

    top: GroupId
    groups: list[GroupId]  # hidden groups inside
    directs: list[GroupId]  # owners of the unknown direct parts inside (the top's included)
    border: list[GroupId]  # published children of the top and of the hidden groups inside


def _region(hierarchy: Hierarchy, top: GroupId, hidden: Mapping[GroupId, object], data: _Data) -> _Region:
    region = _Region(top, [], [], [])
    stack = [top]
    while stack:
        gid = stack.pop()
        if gid in data.unknown_direct:
            region.directs.append(gid)
        for kid in hierarchy.children(gid):
            if kid in hidden:
                region.groups.append(kid)
                stack.append(kid)
            else:
                region.border.append(kid)
    return region


def _remainder(region: _Region, data: _Data, column: Column) -> int:
    """The people in the region's atoms: the top's count minus the published border."""
    return data.rows[region.top][column] - sum(data.rows[b][column] for b in region.border)


def _sensitive_direct(gid: GroupId, data: _Data, k: int) -> bool:
    return gid in data.unknown_direct and data.direct[gid][data.total] < k


def _next_fix(hierarchy: Hierarchy, data: _Data, k: int, hidden: Mapping[GroupId, object]) -> GroupId | None:
    """The group to suppress next to satisfy rules 1-3 (module docstring), or None when they hold."""
    total = data.total

    def smallest(candidates: Iterable[GroupId]) -> GroupId | None:
        return min(candidates, key=lambda g: (data.rows[g][total], position[g]), default=None)

    position = {gid: i for i, gid in enumerate(hierarchy.ids)}
    for gid in hierarchy.ids:
        kids = hierarchy.children(gid)
        if gid in hidden:
            # Rule 1: a hidden group needs an unknown member, or it is the sum of published figures.
            if kids and gid not in data.unknown_direct and not any(kid in hidden for kid in kids):
                return smallest(kids)
            continue
        region = _region(hierarchy, gid, hidden, data)
        members = [kid for kid in kids if kid in hidden]
        protected = bool(members) or _sensitive_direct(gid, data, k)
        unknown_members = len(members) + (gid in data.unknown_direct)
        if protected and unknown_members < 2:
            # Rule 2: a lone unknown member equals the parent minus its published siblings.
            # Unreachable fallback (a lone child equals its parent, so both are primary): hide the parent.
            return smallest(kid for kid in kids if kid not in hidden) or gid
        protected = protected or any(_sensitive_direct(g, data, k) for g in region.directs)
        if protected and _remainder(region, data, total) < k:
            # Rule 3: the remainder is a derivable figure about the people in the hidden cells.
            return smallest(region.border) or gid
    return None


def _holds(hierarchy: Hierarchy, data: _Data, k: int, hidden: Mapping[GroupId, object]) -> bool:
    return _next_fix(hierarchy, data, k, hidden) is None


def _choose(hierarchy: Hierarchy, data: _Data, k: int, also: Iterable[GroupId]) -> dict[GroupId, Reason]:
    """Primary suppression, complements to a fixpoint, then drop every complement that is not needed."""
    reasons: dict[GroupId, Reason] = {}
    forced = set(also)
    unknown = forced - set(hierarchy.ids)
    if unknown:
        raise ValueError(f"also names groups that are not in the hierarchy: {sorted(unknown)!r}")
    for gid in hierarchy.ids:
        if data.rows[gid][data.total] < k:
            reasons[gid] = "primary"
        elif gid in forced:
            reasons[gid] = "complementary"
    while (fix := _next_fix(hierarchy, data, k, reasons)) is not None:
        reasons[fix] = "complementary"
    # Greedy fixes can make an earlier one redundant; publish back what is not needed, largest first
    # (the larger a figure, the more it is worth), until each remaining complement is necessary.
    changed = True
    while changed:
        changed = False
        optional = [g for g, why in reasons.items() if why == "complementary" and g not in forced]
        for gid in sorted(optional, key=lambda g: (-data.rows[g][data.total], g)):
            trial = {g: why for g, why in reasons.items() if g != gid}
            if _holds(hierarchy, data, k, trial):
                reasons = trial
                changed = True
    return {gid: reasons[gid] for gid in hierarchy.ids if gid in reasons}


def suppress(
    hierarchy: Hierarchy, counts: Mapping[GroupId, int], *, k: int, also: Iterable[GroupId] = ()
) -> Suppression:
    """Decide which groups of one measure may be published (primary + complementary suppression).

    ``also``: groups to suppress in any case (e.g. those suppressed for the whole wave).
    """
    k = _check_k(k)
    table = {gid: {DEFAULT_COLUMN: value} for gid, value in counts.items()}
    data = _prepare(hierarchy, table, DEFAULT_COLUMN, False)
    reasons = _choose(hierarchy, data, k, also)
    published = {gid: data.rows[gid][DEFAULT_COLUMN] for gid in hierarchy.ids if gid not in reasons}
    return Suppression(k=k, published=published, suppressed=reasons)


def suppress_table(
    hierarchy: Hierarchy,
    table: Mapping[GroupId, Mapping[Column, int]],
    *,
    k: int,
    total: Column = DEFAULT_COLUMN,
    additive: bool = False,
    also: Iterable[GroupId] = (),
) -> TableSuppression:
    """Suppress whole rows of a group x column table; the ``total`` (respondent count) column decides."""
    k = _check_k(k)
    data = _prepare(hierarchy, table, total, additive)
    reasons = _choose(hierarchy, data, k, also)
    published = {gid: dict(data.rows[gid]) for gid in hierarchy.ids if gid not in reasons}
    return TableSuppression(
        k=k, total=total, additive=additive, columns=data.columns, published=published, suppressed=reasons
    )


# --- the linear-programming audit ----------------------------------------------------------------


class _Program:
    """One independent block of the attacker's system: no constraint links it to another block."""

    def __init__(
        self,
        width: int,
        eq_rows: list[dict[int, float]],
        eq_rhs: list[float],
        ub_rows: list[dict[int, float]],
    ) -> None:
        self.width = width
        self.a_eq = _matrix(eq_rows, width)
        self.b_eq = np.array(eq_rhs, dtype=float)
        self.a_ub = _matrix(ub_rows, width)
        self.b_ub = np.zeros(len(ub_rows))
        # The spread of every variable over the feasible points found so far (see _Model.pinned).
        self.low = np.full(width, math.inf)
        self.high = np.full(width, -math.inf)

    def solve(self, var: int, sign: float, integral: bool) -> tuple[float, np.ndarray | None]:
        """Minimise (sign 1) or maximise (sign -1) one variable: its optimum and an optimal point."""
        objective = np.zeros(self.width)
        objective[var] = sign
        kwargs: dict[str, object] = {"bounds": (0, None), "method": "highs"}
        if self.a_eq is not None:
            kwargs |= {"A_eq": self.a_eq, "b_eq": self.b_eq}
        if self.a_ub is not None:
            kwargs |= {"A_ub": self.a_ub, "b_ub": self.b_ub}
        result = linprog(objective, **kwargs)
        if result.status == 3:
            return -math.inf * sign, None
        if result.status != 0:
            raise ValueError(f"the disclosure LP failed: {result.message}")
        point = np.asarray(result.x)
        value = float(result.fun) * sign
        if integral:
            constraints = []
            if self.a_eq is not None:
                constraints.append(LinearConstraint(self.a_eq, self.b_eq, self.b_eq))
            if self.a_ub is not None:
                constraints.append(LinearConstraint(self.a_ub, -np.inf, self.b_ub))
            exact = milp(
                objective, constraints=constraints, integrality=np.ones(self.width), bounds=Bounds(0, np.inf)
            )
            if exact.status != 0:
                raise ValueError(f"the disclosure integer program failed: {exact.message}")
            point = np.asarray(exact.x)
            value = float(exact.fun) * sign
        np.minimum(self.low, point, out=self.low)
        np.maximum(self.high, point, out=self.high)
        return value, point


class _Model:
    """The attacker's linear system: hidden cells x columns >= 0, subject to every served figure."""

    def __init__(self, hierarchy: Hierarchy, data: _Data, served: frozenset[GroupId]) -> None:
        self.data = data
        cells = [gid for gid in hierarchy.ids if gid not in served]
        cells += [direct_id(gid) for gid in hierarchy.ids if gid in data.unknown_direct]
        self.cells = cells
        index: dict[tuple[str, Column], int] = {}
        for cell in cells:
            for column in data.columns:
                index[(cell, column)] = len(index)
        eq_rows: list[dict[int, float]] = []
        eq_rhs: list[float] = []
        for gid in hierarchy.ids:
            kids = hierarchy.children(gid)
            if not kids:
                continue
            terms = [(gid, 1.0), *((kid, -1.0) for kid in kids)]
            if gid in data.unknown_direct:
                terms.append((direct_id(gid), -1.0))
            for column in data.columns:
                coefficients: dict[int, float] = {}
                rhs = 0.0
                for cell, sign in terms:
                    var = index.get((cell, column))
                    if var is None:
                        rhs -= sign * data.rows[cell][column]
                    else:
                        coefficients[var] = sign
                if coefficients:
                    eq_rows.append(coefficients)
                    eq_rhs.append(rhs)
        ub_rows: list[dict[int, float]] = []
        total, options = data.total, data.columns[1:]
        for cell in cells:
            t = index[(cell, total)]
            if data.additive and options:
                eq_rows.append({t: -1.0, **{index[(cell, c)]: 1.0 for c in options}})
                eq_rhs.append(0.0)
            # Every option count counts distinct respondents of the row, so it is at most the total.
            ub_rows.extend({index[(cell, c)]: 1.0, t: -1.0} for c in options)
        # Regions (and, in a table, their columns) share no constraint: many small programs solve
        # far faster than one large one.
        root = list(range(len(index)))

        def find(v: int) -> int:
            while root[v] != v:
                root[v] = root[root[v]]
                v = root[v]
            return v

        for row in (*eq_rows, *ub_rows):
            first, *rest = row
            for v in rest:
                root[find(v)] = find(first)
        members: dict[int, list[int]] = {}
        for v in range(len(index)):
            members.setdefault(find(v), []).append(v)
        local = {v: i for block in members.values() for i, v in enumerate(block)}
        blocks_eq: dict[int, tuple[list[dict[int, float]], list[float]]] = {b: ([], []) for b in members}
        blocks_ub: dict[int, list[dict[int, float]]] = {b: [] for b in members}
        for row, rhs in zip(eq_rows, eq_rhs, strict=True):
            rows, rhss = blocks_eq[find(next(iter(row)))]
            rows.append({local[v]: c for v, c in row.items()})
            rhss.append(rhs)
        for row in ub_rows:
            blocks_ub[find(next(iter(row)))].append({local[v]: c for v, c in row.items()})
        programs = {
            b: _Program(len(block), blocks_eq[b][0], blocks_eq[b][1], blocks_ub[b])
            for b, block in members.items()
        }
        self.where = {key: (programs[find(v)], local[v]) for key, v in index.items()}

    def value(self, cell: str, column: Column) -> int:
        if cell.endswith(DIRECT_SUFFIX):
            return self.data.direct[cell.removesuffix(DIRECT_SUFFIX)][column]
        return self.data.rows[cell][column]

    def bounds(
        self, cells: Iterable[tuple[str, Column]], integral: bool
    ) -> dict[tuple[str, Column], tuple[float, float]]:
        """The exact bounds of every cell: two programs each."""
        found: dict[tuple[str, Column], tuple[float, float]] = {}
        for key in cells:
            program, var = self.where[key]
            found[key] = (program.solve(var, 1.0, integral)[0], program.solve(var, -1.0, integral)[0])
        return found

    def pinned(
        self, cells: Iterable[tuple[str, Column]], integral: bool
    ) -> dict[tuple[str, Column], tuple[float, float]]:
        """The exact bounds of the cells whose width is below 1.

        Every optimum found is a feasible point for all variables of its block; a cell that took two
        values at least 1 apart among those points is provably not pinned and needs no programs of
        its own, which saves most of them.
        """
        found: dict[tuple[str, Column], tuple[float, float]] = {}
        for key in cells:
            program, var = self.where[key]
            bounds: list[float] = []
            for sign in (1.0, -1.0):
                if program.high[var] - program.low[var] >= 1 - _TOLERANCE:
                    break
                bounds.append(program.solve(var, sign, integral)[0])
            if len(bounds) == 2 and bounds[1] - bounds[0] < 1 - _TOLERANCE:
                found[key] = (bounds[0], bounds[1])
        return found


def _matrix(rows: list[dict[int, float]], width: int) -> np.ndarray | csr_array | None:
    if not rows or not width:
        return None
    if len(rows) * width <= 250_000:  # HiGHS via scipy is faster on small dense input
        dense = np.zeros((len(rows), width))
        for r, row in enumerate(rows):
            for c, v in row.items():
                dense[r, c] = v
        return dense
    data, row_ids, col_ids = [], [], []
    for r, row in enumerate(rows):
        for c, v in row.items():
            data.append(v)
            row_ids.append(r)
            col_ids.append(c)
    return csr_array((data, (row_ids, col_ids)), shape=(len(rows), width))


def _served(
    hierarchy: Hierarchy, data: _Data, served: Mapping[GroupId, Mapping[Column, object]]
) -> frozenset[GroupId]:
    """The served groups; every served figure must be a whole row equal to the data."""
    for gid, row in served.items():
        if gid not in hierarchy:
            raise ValueError(
                f"served group {gid!r} is not in the hierarchy (serve groups of the hierarchy only)"
            )
        if set(row) != set(data.columns):
            raise ValueError(f"served row {gid!r} must carry every column {list(data.columns)!r}")
        for column in data.columns:
            if _count(row[column], f"served {gid}[{column!r}]") != data.rows[gid][column]:
                raise ValueError(f"served {gid}[{column!r}] = {row[column]} differs from the data")
    return frozenset(served)


def _rows_of(
    values: Mapping[GroupId, object], is_table: bool, what: str
) -> dict[GroupId, Mapping[Column, object]]:
    """One measure or a table, as table rows."""
    rows: dict[GroupId, Mapping[Column, object]] = {}
    for gid, value in values.items():
        if isinstance(value, Mapping) != is_table:
            raise ValueError(f"{what} {gid!r}: expected {'a row of counts' if is_table else 'one count'}")
        rows[gid] = value if isinstance(value, Mapping) else {DEFAULT_COLUMN: value}
    return rows


def _as_table(
    hierarchy: Hierarchy,
    counts: Mapping[GroupId, object],
    served: Suppression | TableSuppression | Mapping[GroupId, object],
    total: Column | None,
    additive: bool | None,
) -> tuple[_Data, frozenset[GroupId], bool]:
    """Normalise one measure or a table (and what was served) to the table form; True for a table."""
    is_table = isinstance(served, TableSuppression) or any(isinstance(v, Mapping) for v in counts.values())
    published: Mapping[GroupId, object]
    if isinstance(served, Suppression | TableSuppression):
        published = served.published
    else:
        published = served
    if isinstance(served, TableSuppression):
        total = served.total if total is None else total
        additive = served.additive if additive is None else additive
    if not is_table:
        total, additive = DEFAULT_COLUMN, False
    data = _prepare(hierarchy, _rows_of(counts, is_table, "counts"), total or DEFAULT_COLUMN, bool(additive))
    return data, _served(hierarchy, data, _rows_of(published, is_table, "served")), is_table


def _cells_of(model: _Model, cells: Iterable[str] | None) -> list[str]:
    if cells is None:
        return model.cells
    wanted = list(cells)
    unknown = [cell for cell in wanted if cell not in model.cells]
    if unknown:
        raise ValueError(f"cells {unknown[:5]!r} are published or do not exist; bounds are for hidden cells")
    return wanted


def bounds(
    hierarchy: Hierarchy,
    counts: Mapping[GroupId, int],
    served: Suppression | Mapping[GroupId, int],
    *,
    cells: Iterable[str] | None = None,
    integral: bool = False,
) -> dict[str, tuple[float, float]]:
    """The tightest ``(lo, hi)`` of the unpublished cells (default: every hidden group and unknown direct part).

    ``hi`` is ``inf`` under a hidden root. Two linear programs per cell.
    """
    data, shown, _ = _as_table(hierarchy, counts, served, None, None)
    model = _Model(hierarchy, data, shown)
    found = model.bounds(((cell, DEFAULT_COLUMN) for cell in _cells_of(model, cells)), integral)
    return {cell: lohi for (cell, _), lohi in found.items()}


def table_bounds(
    hierarchy: Hierarchy,
    table: Mapping[GroupId, Mapping[Column, int]],
    served: TableSuppression | Mapping[GroupId, Mapping[Column, int]],
    *,
    cells: Iterable[str] | None = None,
    total: Column | None = None,
    additive: bool | None = None,
    integral: bool = False,
) -> dict[tuple[str, Column], tuple[float, float]]:
    """The tightest ``(lo, hi)`` of every column of the unpublished cells of a table."""
    data, shown, _ = _as_table(hierarchy, table, served, total, additive)
    model = _Model(hierarchy, data, shown)
    keys = ((cell, column) for cell in _cells_of(model, cells) for column in data.columns)
    return model.bounds(keys, integral)


def _label(hierarchy: Hierarchy, cell: str) -> str:
    if cell.endswith(DIRECT_SUFFIX):
        return f"「{hierarchy.name(cell.removesuffix(DIRECT_SUFFIX))}」的直属人员"
    return f"「{hierarchy.name(cell)}」"


def audit(
    hierarchy: Hierarchy,
    counts: Mapping[GroupId, int] | Mapping[GroupId, Mapping[Column, int]],
    served: Suppression | TableSuppression | Mapping[GroupId, int] | Mapping[GroupId, Mapping[Column, int]],
    *,
    k: int,
    total: Column | None = None,
    additive: bool | None = None,
    integral: bool = False,
) -> list[Finding]:
    """The disclosure audit of everything served: an empty list when it is safe.

    ``counts`` are the true figures (one measure, or a table of rows); ``served`` is a
    :class:`Suppression` / :class:`TableSuppression` or a plain mapping of the figures actually
    served (whole rows for a table). Findings: a served group below ``k`` (``small``); a hidden
    cell the LP pins to one value (``pinned`` — in answer columns a pin at a remainder of 0 is
    allowed, see the module docstring); a derivable remainder below ``k`` (``remainder``).
    """
    k = _check_k(k)
    data, shown, is_table = _as_table(hierarchy, counts, served, total, additive)
    findings: list[Finding] = []
    col = data.total
    shown_column: Column | None = col if is_table else None
    for gid in hierarchy.ids:
        n = data.rows[gid][col]
        if gid in shown and n < k:
            findings.append(
                Finding(
                    "small",
                    gid,
                    shown_column,
                    n,
                    n,
                    f"「{hierarchy.name(gid)}」公开的人数为 {n}，少于匿名阈值 {k} 人，应当隐藏。",
                )
            )
    model = _Model(hierarchy, data, shown)
    # Regions under served groups: their remainders, and which answer columns hold nobody hidden.
    zero_columns: dict[str, set[Column]] = {}
    hidden = {g: True for g in hierarchy.ids if g not in shown}
    for gid in hierarchy.ids:
        if gid not in shown:
            continue
        region = _region(hierarchy, gid, hidden, data)
        cells = region.groups + [direct_id(g) for g in region.directs]
        if not cells:
            continue
        empty = {c for c in data.columns[1:] if _remainder(region, data, c) == 0}
        for cell in cells:
            zero_columns[cell] = empty
        protected = bool(region.groups) or any(_sensitive_direct(g, data, k) for g in region.directs)
        rest = _remainder(region, data, col)
        if protected and rest < k:
            findings.append(
                Finding(
                    "remainder",
                    gid,
                    shown_column,
                    rest,
                    rest,
                    f"由「{hierarchy.name(gid)}」及其公开的下级组的人数，可以推出其中隐藏部分合计 {rest} 人，"
                    f"少于匿名阈值 {k} 人。",
                )
            )
    # Protected cells: every hidden group, and every unknown direct part below k.
    targets = [cell for cell in model.cells if not cell.endswith(DIRECT_SUFFIX) or model.value(cell, col) < k]
    # A column where nobody hidden under a served group answered pins those cells at a remainder of 0,
    # which the module accepts (module docstring): no program needed for them.
    keys = (
        (cell, column)
        for cell in targets
        for column in data.columns
        if column == col or column not in zero_columns.get(cell, ())
    )
    for (cell, column), (lo, hi) in model.pinned(keys, integral).items():
        what = "人数" if column == col else f"“{column}”一栏的人数"
        findings.append(
            Finding(
                "pinned",
                cell,
                column if is_table else None,
                lo,
                hi,
                f"{_label(hierarchy, cell)}已隐藏，但由公开的数字可以推出其{what}恰为 {round(lo)}。",
            )
        )
    return findings
