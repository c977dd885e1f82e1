"""Weighting services: direct weights, expert sessions and judgments, AIJ aggregation, entropy from a
round, combination — each write audited, each refusal one Chinese sentence."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from sizheng.assess import methods, weighting
from sizheng.assess.models import (
    Assessment,
    Indicator,
    IndicatorSystem,
    Judgment,
    RoundState,
    SessionState,
    SystemState,
    WeightMethod,
    WeightSet,
)
from sizheng.core.apitools import Conflict
from sizheng.core.models import AuditEvent, Notification, Role, RoleGrant, User
from sizheng.core.testing import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _ids(system):
    return {i.code: i for i in Indicator.objects.filter(system=system)}


def _audited(action, obj=None) -> bool:
    qs = AuditEvent.objects.filter(action=action)
    return (qs.filter(object_id=str(obj.pk)) if obj is not None else qs).exists()


def make_expert(username: str) -> User:
    user = User.objects.create_user(username=username, password=TEST_PASSWORD, display_name=f"专家{username}")
    RoleGrant.objects.create(user=user, role=Role.EXPERT, scope_kind=RoleGrant.ScopeKind.ALL)
    return user


def _session(ac, system, *experts, **kw):
    return weighting.create_session(
        system, actor=ac.committee_admin, title="2026 年专家赋权", experts=list(experts or [ac.expert]), **kw
    )


def _answer_all(session, expert, system, values=None):
    """Hand in every form of the session with the given (a_code, b_code) → value, else 2 (a over b)."""
    ids = _ids(system)
    values = values or {}
    for parent in weighting.parents(system):
        els = weighting.elements_of(system, parent)
        pairs = [[a.pk, b.pk, values.get((a.code, b.code), 2)] for a, b in weighting.all_pairs(els)]
        weighting.save_judgment(session, expert=expert, parent=parent, pairs=pairs, submit=True)
    return ids


# --- the tree ----------------------------------------------------------------------------------


def test_the_forms_are_the_top_level_and_each_inner_indicator_with_two_scored_children(small_system):
    ids = _ids(small_system)
    assert weighting.parents(small_system) == [None, ids["1"], ids["2"]]
    assert [i.code for i in weighting.scored(small_system)] == ["1", "1.1", "1.2", "2", "2.1", "2.2"]
    assert "B1" not in [i.code for i in weighting.elements_of(small_system, None)]
    single = IndicatorSystem.objects.create(name="单项", year=2026)
    top = Indicator.objects.create(system=single, code="1", name="唯一", weight=1)
    Indicator.objects.create(system=single, parent=top, code="1.1", name="甲", weight=0.5)
    Indicator.objects.create(system=single, parent=top, code="1.2", name="乙", weight=0.5)
    assert weighting.parents(single) == [top]  # a single top-level indicator needs no form


def test_global_weights_are_products_down_the_path(small_system):
    ids = _ids(small_system)
    local = {i.pk: i.weight for i in weighting.scored(small_system)}
    glob = weighting.global_weights(small_system, local)
    assert glob[ids["1.1"].pk] == pytest.approx(0.3)
    assert glob[ids["2.2"].pk] == pytest.approx(0.12)
    assert sum(glob[ids[c].pk] for c in ("1.1", "1.2", "2.1", "2.2")) == pytest.approx(1)


def test_the_scale_in_words():
    assert len(weighting.SCALE_CODES) == 17
    assert weighting.scale_label("9", "甲", "乙") == "甲 极端重要（9）"
    assert weighting.scale_label(1 / 3, "甲", "乙") == "乙 稍微重要（1/3）"
    assert weighting.scale_label(1.0, "甲", "乙") == "同等重要（1）"
    assert weighting.scale_label("1/4", "甲", "乙") == "乙 介于稍微重要与明显重要之间（1/4）"
    assert weighting.parse_scale("1/7") == pytest.approx(1 / 7)
    with pytest.raises(ValidationError):
        weighting.parse_scale("10")


# --- direct ------------------------------------------------------------------------------------


def test_direct_weights_are_saved_as_numbered_sets_and_audited(ac, small_system):
    ids = _ids(small_system)
    w = {ids["1"].pk: 0.5, ids["2"].pk: 0.5, ids["1.1"].pk: 0.4, ids["1.2"].pk: 0.6,
         ids["2.1"].pk: 0.7, ids["2.2"].pk: 0.3}  # fmt: skip
    first = weighting.save_direct(small_system, w, actor=ac.committee_admin, name="直接赋权甲")
    second = weighting.save_direct(small_system, w, actor=ac.committee_admin, name="直接赋权乙")
    assert (first.number, second.number) == (1, 2)
    assert first.method == WeightMethod.DIRECT and first.weights[str(ids["1.1"].pk)] == 0.4
    assert first.created_by == ac.committee_admin
    assert _audited("assess_weightset_create", first)


def test_direct_weights_must_sum_to_one_in_every_group_and_cover_every_indicator(ac, small_system):
    ids = _ids(small_system)
    w = {ids["1"].pk: 0.5, ids["2"].pk: 0.5, ids["1.1"].pk: 0.4, ids["1.2"].pk: 0.5,
         ids["2.1"].pk: 0.7, ids["2.2"].pk: 0.3}  # fmt: skip
    with pytest.raises(ValidationError) as err:
        weighting.save_direct(small_system, w, actor=ac.committee_admin, name="错")
    assert "党建责任" in " ".join(err.value.messages) and "1" in " ".join(err.value.messages)
    del w[ids["2.2"].pk]
    with pytest.raises(ValidationError, match="违纪事项"):
        weighting.save_direct(small_system, w, actor=ac.committee_admin, name="缺")
    small_system.state = SystemState.ARCHIVED
    small_system.save()
    with pytest.raises(ValidationError, match="已停用"):
        weighting.save_direct(small_system, w, actor=ac.committee_admin, name="停")
    assert not WeightSet.objects.exists()


# --- sessions and judgments --------------------------------------------------------------------


def test_a_session_invites_experts_only_and_notifies_them(ac, small_system):
    session = _session(ac, small_system, ac.expert, due_on=timezone.localdate() + timedelta(days=7))
    assert list(session.experts.all()) == [ac.expert]
    assert session.state == SessionState.OPEN and session.ri_table == "saaty_cn"
    assert Notification.objects.filter(user=ac.expert, title__contains="2026 年专家赋权").exists()
    assert _audited("assess_session_create", session)
    with pytest.raises(ValidationError, match="没有专家角色"):
        _session(ac, small_system, ac.member)
    with pytest.raises(ValidationError, match="RI"):
        _session(ac, small_system, ac.expert, ri_table="nope")
    with pytest.raises(ValidationError, match="截止日期"):
        _session(ac, small_system, ac.expert, due_on=date(2000, 1, 1))
    flat = IndicatorSystem.objects.create(name="无比较", year=2026)
    Indicator.objects.create(system=flat, code="1", name="唯一", weight=1)
    with pytest.raises(ValidationError, match="无需专家赋权"):
        _session(ac, flat, ac.expert)


def test_an_expert_saves_an_incomplete_form_and_resumes(ac, small_system):
    session = _session(ac, small_system)
    ids = _ids(small_system)
    j = weighting.save_judgment(session, expert=ac.expert, parent=ids["1"], pairs=[], submit=False)
    assert j.cr is None and j.submitted_at is None
    j = weighting.save_judgment(
        session, expert=ac.expert, parent=ids["1"], pairs=[[ids["1.1"].pk, ids["1.2"].pk, 3]], submit=False
    )
    assert j.cr == 0 and j.pairs == [[ids["1.1"].pk, ids["1.2"].pk, 3.0]]
    assert Judgment.objects.count() == 1
    assert _audited("assess_judgment_save", j)


def test_handing_in_needs_every_pair_and_consistency_or_an_explicit_confirmation(ac):
    system = IndicatorSystem.objects.create(name="三项", year=2026, state=SystemState.PUBLISHED)
    a, b, c = (Indicator.objects.create(system=system, code=str(k), name=n, weight=1 / 3, order=k)
               for k, n in enumerate(["甲", "乙", "丙"], start=1))  # fmt: skip
    session = _session(ac, system)
    with pytest.raises(ValidationError, match="「乙 与 丙」比较未填写"):
        weighting.save_judgment(session, expert=ac.expert, parent=None,
                                pairs=[[a.pk, b.pk, 3], [a.pk, c.pk, 5]], submit=True)  # fmt: skip
    circular = [[a.pk, b.pk, 5], [b.pk, c.pk, 5], [a.pk, c.pk, 1 / 5]]
    with pytest.raises(ValidationError, match="仍然提交"):
        weighting.save_judgment(session, expert=ac.expert, parent=None, pairs=circular, submit=True)
    assert not Judgment.objects.filter(submitted_at__isnull=False).exists()
    j = weighting.save_judgment(
        session, expert=ac.expert, parent=None, pairs=circular, submit=True, accept_inconsistent=True
    )
    assert j.submitted_at is not None and j.consistent is False and j.cr > 0.1
    assert _audited("assess_judgment_submit", j)
    good = [[a.pk, b.pk, 2], [b.pk, c.pk, 2], [a.pk, c.pk, 4]]
    j = weighting.save_judgment(session, expert=ac.expert, parent=None, pairs=good, submit=True)
    assert j.consistent and j.cr == pytest.approx(0, abs=1e-9)
    j = weighting.save_judgment(session, expert=ac.expert, parent=None, pairs=good, submit=False)
    assert j.submitted_at is None  # a saved draft takes the submission back


def test_judgments_are_refused_for_strangers_wrong_forms_values_off_the_scale_and_closed_sessions(
    ac, small_system
):
    session = _session(ac, small_system)
    ids = _ids(small_system)
    other = make_expert("other")
    pair = [[ids["1.1"].pk, ids["1.2"].pk, 3]]
    with pytest.raises(ValidationError, match="没有受邀"):
        weighting.save_judgment(session, expert=other, parent=ids["1"], pairs=pair, submit=False)
    with pytest.raises(ValidationError, match="不需要两两比较"):
        weighting.save_judgment(session, expert=ac.expert, parent=ids["1.1"], pairs=pair, submit=False)
    with pytest.raises(ValidationError, match="不属于这张表"):
        weighting.save_judgment(session, expert=ac.expert, parent=ids["2"], pairs=pair, submit=False)
    with pytest.raises(ValidationError, match="1–9 标度"):
        weighting.save_judgment(session, expert=ac.expert, parent=ids["1"],
                                pairs=[[ids["1.1"].pk, ids["1.2"].pk, 2.5]], submit=False)  # fmt: skip
    session.state = SessionState.CLOSED
    session.save()
    with pytest.raises(ValidationError, match="已经结束"):
        weighting.save_judgment(session, expert=ac.expert, parent=ids["1"], pairs=pair, submit=False)
    assert not Judgment.objects.exists()


def test_check_gives_cr_weights_and_a_hint_or_says_what_to_do():
    empty = weighting.check(["a", "b", "c"], [])
    assert empty["cr"] is None and "尚未填写" in empty["error"] and empty["total"] == 3
    apart = weighting.check(["a", "b", "c"], [("a", "b", 2)], labels={"c": "丙"})
    assert apart["weights"] is None and "丙" in apart["error"]
    ok = weighting.check(["a", "b", "c"], [("a", "b", 2), ("b", "c", 2), ("a", "c", 4)])
    assert ok["consistent"] and ok["complete"] and ok["hint"] is None
    assert ok["weights"]["a"] == pytest.approx(4 / 7)
    bad = weighting.check(["a", "b", "c"], [("a", "b", 5), ("b", "c", 5), ("a", "c", 1 / 5)])
    assert not bad["consistent"] and bad["cr"] > 0.1
    assert bad["hint"]["a"] in "abc" and bad["hint"]["suggested"] != bad["hint"]["current"]


# --- aggregation -------------------------------------------------------------------------------


def test_aggregation_needs_every_form_and_names_the_missing_ones(ac, small_system):
    session = _session(ac, small_system)
    ids = _ids(small_system)
    weighting.save_judgment(session, expert=ac.expert, parent=ids["1"],
                            pairs=[[ids["1.1"].pk, ids["1.2"].pk, 3]], submit=True)  # fmt: skip
    with pytest.raises(ValidationError) as err:
        weighting.aggregate(session, actor=ac.committee_admin)
    text = " ".join(err.value.messages)
    assert "「一级指标」" in text and "「2 群众满意」" in text and "党建责任" not in text
    assert not WeightSet.objects.exists()


def test_aggregation_is_the_aij_of_the_submitted_forms_then_ahp(ac, small_system):
    other = make_expert("other")
    late = make_expert("late")
    session = _session(ac, small_system, ac.expert, other, late)
    ids = _answer_all(session, ac.expert, small_system, {("1", "2"): 3, ("1.1", "1.2"): 2, ("2.1", "2.2"): 5})
    _answer_all(session, other, small_system, {("1", "2"): 1 / 3, ("1.1", "1.2"): 8, ("2.1", "2.2"): 1})
    weighting.save_judgment(
        session, expert=late, parent=None, pairs=[[ids["1"].pk, ids["2"].pk, 9]], submit=False
    )
    ws = weighting.aggregate(session, actor=ac.committee_admin, version=session.version)
    # Geometric means: 1 (top), 4 (group 1), √5 (group 2); drafts do not count.
    assert ws.method == WeightMethod.AHP and ws.number == 1
    assert ws.weights[str(ids["1"].pk)] == pytest.approx(0.5)
    assert ws.weights[str(ids["1.1"].pk)] == pytest.approx(0.8)
    assert ws.weights[str(ids["2.1"].pk)] == pytest.approx(5**0.5 / (1 + 5**0.5))
    assert ws.params["experts"] == 2 and ws.params["ri_table"] == "saaty_cn" and ws.params["threshold"] == 0.1
    groups = ws.details["parents"]
    assert [g["name"] for g in groups] == ["一级指标", "1 党建责任", "2 群众满意"]
    assert {e["expert"] for e in groups[0]["experts"]} == {ac.expert.pk, other.pk}
    assert all(g["cr"] == pytest.approx(0, abs=1e-9) for g in groups)
    session.refresh_from_db()
    assert session.state == SessionState.CLOSED and session.result == ws and session.version == 2
    assert _audited("assess_session_aggregate", session) and _audited("assess_weightset_create", ws)
    with pytest.raises(Conflict):
        weighting.aggregate(session, actor=ac.committee_admin, version=1)
    with pytest.raises(ValidationError, match="已经汇总过"):
        weighting.aggregate(session, actor=ac.committee_admin)


def test_aggregation_reports_each_experts_cr_on_a_five_element_form(ac):
    system = IndicatorSystem.objects.create(name="五项", year=2026, state=SystemState.PUBLISHED)
    els = [Indicator.objects.create(system=system, code=str(k), name=f"指标{k}", weight=0.2, order=k)
           for k in range(1, 6)]  # fmt: skip
    other = make_expert("other")
    session = _session(ac, system, ac.expert, other)
    w1 = np.array([5, 3, 2, 1, 1.0])
    for expert, noise in ((ac.expert, 0), (other, 1)):
        pairs = []
        for (i, a), (j, b) in ((p, q) for p in enumerate(els) for q in enumerate(els) if p[0] < q[0]):
            ratio = w1[i] / w1[j] * (2.0 if noise and (i, j) == (0, 4) else 1.0)
            pairs.append([a.pk, b.pk, weighting.parse_scale(weighting.scale_code(ratio))])
        weighting.save_judgment(session, expert=expert, parent=None, pairs=pairs, submit=True,
                                accept_inconsistent=True)  # fmt: skip
    rows, missing = weighting.preview(session)
    assert missing == [] and len(rows[0].experts) == 2
    matrices = []
    for j in Judgment.objects.filter(session=session).order_by("expert__username"):
        matrices.append(
            methods.ahp_from_pairs(
                [str(e.pk) for e in els], [(str(a), str(b), v) for a, b, v in j.pairs]
            ).matrix
        )
    expected = methods.ahp(methods.aggregate_judgments(matrices))
    ws = weighting.aggregate(session, actor=ac.committee_admin)
    assert [ws.weights[str(e.pk)] for e in els] == pytest.approx(expected.weights)
    assert ws.details["parents"][0]["cr"] == pytest.approx(expected.cr)


# --- entropy and combination -------------------------------------------------------------------


def _round(ac, system, state=RoundState.COMPUTED):
    return Assessment.objects.create(title="2026 年度考核", system=system, owner_org=ac.root,
                                     period_start=date(2026, 1, 1), period_end=date(2026, 12, 31), state=state)  # fmt: skip


def test_entropy_from_a_round_goes_bottom_up_over_the_leaf_scores(ac, small_system, monkeypatch):
    ids = _ids(small_system)
    leaves = [ids[c] for c in ("1.1", "1.2", "2.1", "2.2")]
    scores = np.array([[90, 50, 80, 100], [60, 50, 85, 40], [30, 50, 70, 90], [100, 50, 90, 75.0]])
    monkeypatch.setattr(weighting, "_score_matrix", lambda a: (["t1", "t2", "t3", "t4"], leaves, scores))
    assessment = _round(ac, small_system)
    ws = weighting.entropy_from_round(assessment, actor=ac.committee_admin)
    assert ws.method == WeightMethod.ENTROPY and ws.params["round"] == assessment.pk
    g1 = methods.entropy_weights(scores[:, :2], variant="minmax").weights  # 1.2 is constant → 0
    g2 = methods.entropy_weights(scores[:, 2:], variant="minmax").weights
    assert [ws.weights[str(ids[c].pk)] for c in ("1.1", "1.2")] == pytest.approx(g1)
    assert g1[1] == 0
    assert [ws.weights[str(ids[c].pk)] for c in ("2.1", "2.2")] == pytest.approx(g2)
    inner = np.column_stack([scores[:, :2] @ g1, scores[:, 2:] @ g2])
    top = methods.entropy_weights(inner, variant="minmax").weights
    assert [ws.weights[str(ids[c].pk)] for c in ("1", "2")] == pytest.approx(top)
    assert _audited("assess_weightset_create", ws)


def test_entropy_falls_back_to_the_rounds_weights_where_nothing_differs(ac, small_system, monkeypatch):
    ids = _ids(small_system)
    leaves = [ids[c] for c in ("1.1", "1.2", "2.1", "2.2")]
    scores = np.array([[50, 50, 80, 100], [50, 50, 85, 40], [50, 50, 70, 90.0]])
    monkeypatch.setattr(weighting, "_score_matrix", lambda a: (["t1", "t2", "t3"], leaves, scores))
    ws = weighting.entropy_from_round(_round(ac, small_system), actor=ac.committee_admin, variant="raw")
    assert ws.weights[str(ids["1.1"].pk)] == pytest.approx(0.5)
    group1 = next(g for g in ws.details["parents"] if g["name"] == "1 党建责任")
    assert group1["fallback"] and "沿用" in group1["note"]


def test_entropy_needs_a_computed_round_with_two_targets(ac, small_system, monkeypatch):
    with pytest.raises(ValidationError, match="已计算"):
        weighting.entropy_from_round(_round(ac, small_system, RoundState.OPEN), actor=ac.committee_admin)
    monkeypatch.setattr(weighting, "_score_matrix", lambda a: (["t1"], [], np.zeros((1, 0))))
    with pytest.raises(ValidationError, match="少于 2 个"):
        weighting.entropy_from_round(_round(ac, small_system), actor=ac.committee_admin)


def _direct(ac, system, **override):
    w = {i.pk: i.weight for i in weighting.scored(system)}
    ids = _ids(system)
    w.update({ids[c].pk: v for c, v in override.items()})
    return weighting.save_direct(system, w, actor=ac.committee_admin, name="直接")


def test_combining_two_sets_parent_by_parent(ac, small_system):
    s = _direct(ac, small_system)
    o = _direct(ac, small_system, **{"1": 0.2, "2": 0.8, "2.1": 0.1, "2.2": 0.9})
    ids = _ids(small_system)
    ws = weighting.combine(s, o, actor=ac.committee_admin, method="linear", alpha=0.25)
    assert ws.method == WeightMethod.COMBINED and ws.params == {"subjective": s.pk, "objective": o.pk,
                                                                 "method": "linear", "alpha": 0.25}  # fmt: skip
    assert ws.weights[str(ids["1"].pk)] == pytest.approx(0.25 * 0.6 + 0.75 * 0.2)
    assert ws.weights[str(ids["2.2"].pk)] == pytest.approx(0.25 * 0.3 + 0.75 * 0.9)
    assert set(ws.sources.all()) == {s, o}
    game = weighting.combine(s, o, actor=ac.committee_admin, method="game_theory")
    assert sum(game.weights[str(ids[c].pk)] for c in ("1", "2")) == pytest.approx(1)
    with pytest.raises(ValidationError, match="同一个方案"):
        weighting.combine(s, s, actor=ac.committee_admin)
    other = IndicatorSystem.objects.create(name="另一体系", year=2026)
    foreign = WeightSet.objects.create(system=other, number=1, name="外", method=WeightMethod.DIRECT)
    with pytest.raises(ValidationError, match="同一指标体系"):
        weighting.combine(s, foreign, actor=ac.committee_admin)


def test_the_weight_table_lists_local_global_and_points(ac, small_system):
    ws = _direct(ac, small_system)
    rows = {r["indicator"].code: r for r in weighting.weight_table(ws)}
    assert rows["2.1"]["global"] == pytest.approx(0.28) and rows["2.1"]["points"] == pytest.approx(28)
    assert rows["2"]["depth"] == 0 and rows["2.1"]["depth"] == 1 and not rows["2"]["leaf"]


def test_entropy_reads_the_rounds_leaf_scores_through_the_engine(ac, small_system):
    from sizheng.assess.models import ResultLine, Target

    ids = _ids(small_system)
    assessment = _round(ac, small_system)
    scores = {ac.branch_a1: [90, 50, 80, 100], ac.branch_a2: [60, 70, 85, 40], ac.branch_b1: [30, 40, 70, 90]}
    for org, row in scores.items():
        target = Target.objects.create(assessment=assessment, org=org)
        for code, score in zip(("1.1", "1.2", "2.1", "2.2"), row, strict=True):
            ResultLine.objects.create(target=target, indicator=ids[code], score=score)
    ws = weighting.entropy_from_round(assessment, actor=ac.committee_admin)
    matrix = np.array(list(scores.values()), dtype=float)
    by_org = sorted(range(3), key=lambda k: list(scores)[k].path)  # the engine lists targets by org path
    g2 = methods.entropy_weights(matrix[by_org][:, 2:], variant="minmax").weights
    assert [ws.weights[str(ids[c].pk)] for c in ("2.1", "2.2")] == pytest.approx(g2)
    assert ws.params["targets"] == 3
