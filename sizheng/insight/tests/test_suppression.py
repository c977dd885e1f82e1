"""Statistical disclosure control: suppression rules, the LP audit and its bounds (pure; no database)."""

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sizheng.insight.suppression import (
    Hierarchy,
    Suppression,
    audit,
    bounds,
    direct_id,
    suppress,
    suppress_table,
    table_bounds,
)

K = 5


def tree(*edges, with_direct=()):
    """A hierarchy from (id, parent) pairs; names are the ids."""
    return Hierarchy(((gid, parent, f"组{gid}") for gid, parent in edges), with_direct=with_direct)


def kinds(findings):
    return sorted((f.kind, f.cell, f.column) for f in findings)


# --- examples --------------------------------------------------------------------------------------


def test_it_hides_a_second_child_when_one_of_two_is_small():
    h = tree(("org:1", None), ("org:2", "org:1"), ("org:3", "org:1"))
    counts = {"org:1": 12, "org:2": 9, "org:3": 3}

    result = suppress(h, counts, k=K)

    assert result.published == {"org:1": 12}
    assert result.suppressed == {"org:2": "complementary", "org:3": "primary"}
    assert audit(h, counts, result, k=K) == []
    assert bounds(h, counts, result) == {"org:2": (0.0, 12.0), "org:3": (0.0, 12.0)}


def test_it_finds_the_small_child_recovered_by_differencing():
    h = tree(("org:1", None), ("org:2", "org:1"), ("org:3", "org:1"))
    counts = {"org:1": 12, "org:2": 9, "org:3": 3}

    findings = audit(h, counts, {"org:1": 12, "org:2": 9}, k=K)

    assert kinds(findings) == [("pinned", "org:3", None), ("remainder", "org:1", None)]
    pinned = next(f for f in findings if f.kind == "pinned")
    assert (pinned.lo, pinned.hi) == (3.0, 3.0)
    assert "组org:3" in pinned.message and "3" in pinned.message


def test_it_reports_a_published_figure_below_the_threshold():
    h = tree(("org:1", None), ("org:2", "org:1"), ("org:3", "org:1"))
    counts = {"org:1": 12, "org:2": 9, "org:3": 3}

    findings = audit(h, counts, {"org:2": 9, "org:3": 3}, k=K)

    assert ("small", "org:3", None) in kinds(findings)
    assert ("pinned", "org:1", None) in kinds(findings)  # 9 + 3, no direct members


def test_it_suppresses_a_group_nobody_in_answered():
    h = tree(("unit:1", None), ("office:1", "unit:1"), ("office:2", "unit:1"))
    counts = {"unit:1": 20, "office:1": 20, "office:2": 0}

    result = suppress(h, counts, k=K)

    # A published 0 would say that nobody in office 2 answered; 20 - 20 would say it too.
    assert result.suppressed == {"office:2": "primary", "office:1": "complementary"}
    assert audit(h, counts, result, k=K) == []


def test_it_lets_direct_members_protect_a_lone_small_child():
    h = tree(("org:1", None), ("org:2", "org:1"))
    counts = {"org:1": 8, "org:2": 3}  # five direct members of org 1 answered

    result = suppress(h, counts, k=K)

    assert result.published == {"org:1": 8}
    assert result.suppressed == {"org:2": "primary"}
    assert audit(h, counts, result, k=K) == []
    assert bounds(h, counts, result) == {"org:2": (0.0, 8.0), direct_id("org:1"): (0.0, 8.0)}


def test_it_publishes_an_only_child_equal_to_its_parent():
    h = tree(("org:1", None), ("org:2", "org:1"))

    assert suppress(h, {"org:1": 8, "org:2": 8}, k=K).suppressed == {}
    assert suppress(h, {"org:1": 4, "org:2": 4}, k=K).suppressed == {"org:1": "primary", "org:2": "primary"}


def test_it_protects_a_small_number_of_direct_members():
    h = tree(("org:1", None), ("org:2", "org:1"), ("org:3", "org:1"))
    counts = {"org:1": 20, "org:2": 10, "org:3": 7}  # 3 direct members

    unsafe = audit(h, counts, {"org:1": 20, "org:2": 10, "org:3": 7}, k=K)
    result = suppress(h, counts, k=K)

    assert kinds(unsafe) == [("pinned", direct_id("org:1"), None), ("remainder", "org:1", None)]
    assert "直属人员" in unsafe[0].message or "直属人员" in unsafe[1].message
    assert result.suppressed == {"org:3": "complementary"}
    assert audit(h, counts, result, k=K) == []


def test_it_lets_many_direct_members_be_derived():
    h = tree(("org:1", None), ("org:2", "org:1"), ("org:3", "org:1"))
    counts = {"org:1": 30, "org:2": 10, "org:3": 7}  # 13 direct members: a figure of >= k people

    result = suppress(h, counts, k=K)

    assert result.suppressed == {}
    assert audit(h, counts, result, k=K) == []
    assert bounds(h, counts, result) == {direct_id("org:1"): (13.0, 13.0)}


def test_it_treats_a_zero_direct_part_as_known_unless_told_otherwise():
    edges = [("unit:1", None), ("office:1", "unit:1"), ("office:2", "unit:1")]
    counts = {"unit:1": 20, "office:1": 10, "office:2": 10}

    assert suppress(tree(*edges), counts, k=K).suppressed == {}
    # The unit has staff of its own and none of them answered: that zero must not be derivable.
    result = suppress(tree(*edges, with_direct=["unit:1"]), counts, k=K)
    assert result.suppressed == {"office:1": "complementary"}
    assert audit(tree(*edges, with_direct=["unit:1"]), counts, result, k=K) == []
    assert kinds(audit(tree(*edges, with_direct=["unit:1"]), counts, {**counts}, k=K)) == [
        ("pinned", direct_id("unit:1"), None),
        ("remainder", "unit:1", None),
    ]


def test_it_keeps_the_hidden_remainder_at_least_k():
    h = tree(("org:1", None), ("org:2", "org:1"), ("org:3", "org:1"), ("org:4", "org:1"))
    counts = {"org:1": 20, "org:2": 16, "org:3": 3, "org:4": 1}

    naive = {"org:1": 20, "org:2": 16}
    result = suppress(h, counts, k=K)

    # Nothing is pinned, but 20 - 16 = 4 people are described by a derivable figure.
    assert kinds(audit(h, counts, naive, k=K)) == [("remainder", "org:1", None)]
    assert result.suppressed == {"org:2": "complementary", "org:3": "primary", "org:4": "primary"}
    assert audit(h, counts, result, k=K) == []


def test_it_needs_no_complement_when_two_small_siblings_reach_k_together():
    h = tree(("org:1", None), ("org:2", "org:1"), ("org:3", "org:1"), ("org:4", "org:1"))
    counts = {"org:1": 20, "org:2": 15, "org:3": 3, "org:4": 2}

    result = suppress(h, counts, k=K)

    assert result.suppressed == {"org:3": "primary", "org:4": "primary"}
    assert audit(h, counts, result, k=K) == []


def test_it_protects_a_small_group_deep_in_the_tree():
    h = tree(
        ("org:1", None),
        ("org:2", "org:1"),
        ("org:3", "org:1"),
        ("org:4", "org:2"),
        ("org:5", "org:2"),
        ("org:6", "org:4"),
        ("org:7", "org:4"),
    )
    counts = {"org:1": 40, "org:2": 25, "org:3": 15, "org:4": 18, "org:5": 7, "org:6": 16, "org:7": 2}

    result = suppress(h, counts, k=K)

    assert result.suppressed == {"org:6": "complementary", "org:7": "primary"}
    assert audit(h, counts, result, k=K) == []


def test_it_carries_a_suppressed_parent_into_the_grandparents_family():
    h = tree(("org:1", None), ("org:2", "org:1"), ("org:3", "org:1"), ("org:4", "org:2"), ("org:5", "org:2"))
    counts = {"org:1": 30, "org:2": 4, "org:3": 26, "org:4": 2, "org:5": 2}

    result = suppress(h, counts, k=K)

    assert result.published == {"org:1": 30}
    assert result.suppressed == {
        "org:2": "primary",
        "org:3": "complementary",
        "org:4": "primary",
        "org:5": "primary",
    }
    assert audit(h, counts, result, k=K) == []


def test_it_hides_a_child_of_a_hidden_complement():
    h = tree(("org:1", None), ("org:2", "org:1"), ("org:3", "org:1"), ("org:4", "org:3"), ("org:5", "org:3"))
    counts = {"org:1": 40, "org:2": 4, "org:3": 36, "org:4": 30, "org:5": 6}

    naive = {"org:1": 40, "org:4": 30, "org:5": 6}
    result = suppress(h, counts, k=K)

    # Hiding org 3 alone is no use: it is 30 + 6.
    assert ("pinned", "org:3", None) in kinds(audit(h, counts, naive, k=K))
    assert result.suppressed == {"org:2": "primary", "org:3": "complementary", "org:5": "complementary"}
    assert audit(h, counts, result, k=K) == []
    assert bounds(h, counts, result)["org:3"] == (30.0, 40.0)


def test_it_hides_everything_when_the_whole_tree_is_below_k():
    h = tree(("org:1", None), ("org:2", "org:1"), ("org:3", "org:1"))
    counts = {"org:1": 4, "org:2": 2, "org:3": 2}

    result = suppress(h, counts, k=K)

    assert result.published == {}
    assert set(result.suppressed) == {"org:1", "org:2", "org:3"}
    assert audit(h, counts, result, k=K) == []
    assert bounds(h, counts, result)["org:1"] == (0.0, math.inf)


def test_it_handles_a_forest_of_roots():
    h = tree(("unit:1", None), ("office:1", "unit:1"), ("office:2", "unit:1"), ("unit:2", None))
    counts = {"unit:1": 12, "office:1": 9, "office:2": 3, "unit:2": 3}

    result = suppress(h, counts, k=K)

    assert result.published == {"unit:1": 12}
    assert result.suppressed == {"office:1": "complementary", "office:2": "primary", "unit:2": "primary"}
    assert audit(h, counts, result, k=K) == []


def test_it_suppresses_the_groups_it_is_told_to_and_protects_them():
    h = tree(("org:1", None), ("org:2", "org:1"), ("org:3", "org:1"), ("org:4", "org:1"))
    counts = {"org:1": 30, "org:2": 10, "org:3": 10, "org:4": 10}

    result = suppress(h, counts, k=K, also=["org:2"])

    assert result.suppressed == {"org:2": "complementary", "org:3": "complementary"}
    assert audit(h, counts, result, k=K) == []


def test_it_gives_the_same_bounds_as_the_integer_program():
    h = tree(("org:1", None), ("org:2", "org:1"), ("org:3", "org:1"), ("org:4", "org:3"), ("org:5", "org:3"))
    counts = {"org:1": 40, "org:2": 4, "org:3": 36, "org:4": 30, "org:5": 6}
    served = {"org:1": 40, "org:4": 30}

    assert bounds(h, counts, served, integral=True) == bounds(h, counts, served)


def test_it_refuses_an_inconsistent_hierarchy():
    with pytest.raises(ValueError, match="twice"):
        tree(("a", None), ("a", None))
    with pytest.raises(ValueError, match="not a group"):
        tree(("a", None), ("b", "c"))
    with pytest.raises(ValueError, match="cycle"):
        tree(("a", None), ("b", "c"), ("c", "b"))
    with pytest.raises(ValueError, match="reserved"):
        tree(("a/direct", None))
    with pytest.raises(ValueError, match="with_direct"):
        tree(("a", None), with_direct=["b"])


def test_it_refuses_counts_that_do_not_fit_the_hierarchy():
    h = tree(("a", None), ("b", "a"))
    with pytest.raises(ValueError, match="missing"):
        suppress(h, {"a": 5}, k=K)
    with pytest.raises(ValueError, match="not in the hierarchy"):
        suppress(h, {"a": 5, "b": 5, "c": 1}, k=K)
    with pytest.raises(ValueError, match="fewer than its children"):
        suppress(h, {"a": 5, "b": 6}, k=K)
    with pytest.raises(ValueError, match="not a count"):
        suppress(h, {"a": 5.0, "b": 5}, k=K)
    with pytest.raises(ValueError, match="not a count"):
        suppress(h, {"a": True, "b": 1}, k=K)
    with pytest.raises(ValueError, match="negative"):
        suppress(h, {"a": 5, "b": -1}, k=K)
    with pytest.raises(ValueError, match="positive int"):
        suppress(h, {"a": 5, "b": 5}, k=0)
    with pytest.raises(ValueError, match="differs"):
        audit(h, {"a": 5, "b": 5}, {"a": 6}, k=K)


# --- tables ----------------------------------------------------------------------------------------


TABLE_TREE = [("org:1", None), ("org:2", "org:1"), ("org:3", "org:1")]
TABLE = {
    "org:1": {"n": 12, "满意": 9, "一般": 3, "不满意": 0},
    "org:2": {"n": 9, "满意": 7, "一般": 2, "不满意": 0},
    "org:3": {"n": 3, "满意": 2, "一般": 1, "不满意": 0},
}


def test_it_suppresses_the_same_groups_in_every_column():
    h = tree(*TABLE_TREE)

    result = suppress_table(h, TABLE, k=K, additive=True)

    assert result.columns == ("n", "一般", "不满意", "满意")
    assert result.suppressed == suppress(h, {g: row["n"] for g, row in TABLE.items()}, k=K).suppressed
    assert result.published == {"org:1": TABLE["org:1"]}
    assert audit(h, TABLE, result, k=K) == []
    found = table_bounds(h, TABLE, result)
    assert found[("org:3", "满意")] == (0.0, 9.0)
    assert found[("org:3", "一般")] == (0.0, 3.0)


def test_it_publishes_small_option_counts_of_a_published_group():
    h = tree(*TABLE_TREE, ("org:4", "org:1"))
    table = {
        "org:1": {"n": 25, "满意": 19, "一般": 5, "不满意": 1},
        "org:2": {"n": 17, "满意": 14, "一般": 2, "不满意": 1},
        "org:3": {"n": 3, "满意": 2, "一般": 1, "不满意": 0},
        "org:4": {"n": 5, "满意": 3, "一般": 2, "不满意": 0},
    }

    result = suppress_table(h, table, k=K, additive=True)

    # org 2 has 17 respondents: its one "不满意" is part of a distribution over >= k people.
    assert result.suppressed == {"org:3": "primary", "org:4": "complementary"}
    assert result.published["org:2"]["不满意"] == 1
    assert audit(h, table, result, k=K) == []


def test_it_finds_every_column_of_a_recoverable_row_except_empty_remainders():
    h = tree(*TABLE_TREE)
    served = {"org:1": TABLE["org:1"], "org:2": TABLE["org:2"]}

    findings = audit(h, TABLE, served, k=K)

    # Nobody outside org 2 chose "不满意": that says nothing about fewer than k people by itself.
    assert kinds(findings) == [
        ("pinned", "org:3", "n"),
        ("pinned", "org:3", "一般"),
        ("pinned", "org:3", "满意"),
        ("remainder", "org:1", "n"),
    ]


def test_it_refuses_inconsistent_tables():
    h = tree(*TABLE_TREE)
    with pytest.raises(ValueError, match="more than"):
        suppress_table(
            h,
            {
                **TABLE,
                "org:1": {"n": 12, "满意": 11, "一般": 3, "不满意": 0},
                "org:3": {"n": 3, "满意": 4, "一般": 1, "不满意": 0},
            },
            k=K,
        )
    with pytest.raises(ValueError, match="add up"):
        suppress_table(h, {**TABLE, "org:3": {"n": 3, "满意": 1, "一般": 1, "不满意": 0}}, k=K, additive=True)
    with pytest.raises(ValueError, match="columns"):
        suppress_table(h, {**TABLE, "org:3": {"n": 3, "满意": 2}}, k=K)
    with pytest.raises(ValueError, match="respondent count"):
        suppress_table(h, TABLE, k=K, total="人数")
    with pytest.raises(ValueError, match="every column"):
        audit(h, TABLE, {"org:1": {"n": 12}}, k=K)


# --- properties ------------------------------------------------------------------------------------


@st.composite
def surveys(draw, options=0, min_people=0):
    """A random forest (<= 30 groups, <= 4 levels) with respondents spread over it."""
    size = draw(st.integers(1, 30))
    parents: list[int | None] = [None]
    depth = [0]
    for i in range(1, size):
        eligible = [j for j in range(i) if depth[j] < 3]
        parent = None if draw(st.integers(0, 9)) == 0 else draw(st.sampled_from(eligible))
        parents.append(parent)
        depth.append(0 if parent is None else depth[parent] + 1)
    has_children = {p for p in parents if p is not None}
    ids = [f"g:{i}" for i in range(size)]
    own: list[list[int]] = []
    for i in range(size):
        people = draw(
            st.integers(min_people, 12)
            if i not in has_children
            else st.sampled_from([0, 0, 0, 1, 2, 3, 6, 9])
        )
        if options:
            answers = draw(st.lists(st.integers(0, options - 1), min_size=people, max_size=people))
            own.append([people, *(answers.count(o) for o in range(options))])
        else:
            own.append([people])
    with_direct = [ids[i] for i in sorted(has_children) if draw(st.booleans())]
    h = Hierarchy(
        ((ids[i], None if parents[i] is None else ids[parents[i]], f"组{i}") for i in range(size)),
        with_direct=with_direct,
    )
    totals = [list(row) for row in own]
    for i in reversed(range(size)):  # children have larger indices than their parents
        if parents[i] is not None:
            totals[parents[i]] = [a + b for a, b in zip(totals[parents[i]], totals[i], strict=True)]
    columns = ["n", *(f"选项{o}" for o in range(options))]
    table = {ids[i]: dict(zip(columns, totals[i], strict=True)) for i in range(size)}
    return h, table, draw(st.sampled_from([3, 5]))


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(surveys(), st.data())
def test_it_leaves_nothing_for_the_audit_to_find(survey, data):
    h, table, k = survey
    counts = {g: row["n"] for g, row in table.items()}

    result = suppress(h, counts, k=k)

    assert {g for g, why in result.suppressed.items() if why == "primary"} == {g for g in h if counts[g] < k}
    assert all(counts[g] >= k for g, why in result.suppressed.items() if why == "complementary")
    assert set(result.published) | set(result.suppressed) == set(h.ids)
    assert audit(h, counts, result, k=k) == []
    found = bounds(h, counts, result, cells=result.suppressed)
    for gid in result.suppressed:
        lo, hi = found[gid]
        assert lo <= counts[gid] <= hi
        assert hi - lo >= k
    # Every complement was needed: publishing it as well gives the audit something to find.
    complements = sorted(g for g, why in result.suppressed.items() if why == "complementary")
    if complements:
        gid = data.draw(st.sampled_from(complements))
        served = Suppression(k=k, published={**result.published, gid: counts[gid]}, suppressed={})
        assert audit(h, counts, served, k=k) != []


@FAST
@given(surveys(min_people=1))
def test_it_publishes_everything_when_no_group_is_small(survey):
    h, table, _ = survey
    counts = {g: row["n"] for g, row in table.items()}
    k = min(counts.values())

    result = suppress(h, counts, k=k)

    # Only direct parts below k can still force a complement; without them nothing is hidden.
    direct_small = any(
        (counts[g] - sum(counts[c] for c in h.children(g)) < k)
        and (h.has_direct(g) or counts[g] - sum(counts[c] for c in h.children(g)) > 0)
        for g in h
        if h.children(g)
    )
    if not direct_small:
        assert result.suppressed == {}
    assert audit(h, counts, result, k=k) == []


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(surveys(options=3))
def test_it_leaves_nothing_to_find_in_any_column_of_a_table(survey):
    h, table, k = survey
    result = suppress_table(h, table, k=k, additive=True)

    assert result.suppressed == suppress(h, {g: row["n"] for g, row in table.items()}, k=k).suppressed
    assert all(result.published[g] == table[g] for g in result.published)
    assert audit(h, table, result, k=k) == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(surveys(options=2), st.data())
def test_it_reports_pins_only_at_the_true_value(survey, data):
    h, table, k = survey
    shown = data.draw(st.sets(st.sampled_from(h.ids)))
    served = {g: table[g] for g in shown}

    findings = audit(h, table, served, k=k)

    for finding in findings:
        if finding.kind == "small":
            assert finding.cell in shown and table[finding.cell]["n"] < k
        if finding.kind == "pinned" and not finding.cell.endswith("/direct"):
            assert finding.lo == pytest.approx(table[finding.cell][finding.column])
            assert finding.hi == pytest.approx(finding.lo)
    if any(table[g]["n"] < k for g in shown):
        assert any(f.kind == "small" for f in findings)
