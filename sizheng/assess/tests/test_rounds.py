"""The round services: set-up, targets, assessors, the state machine with its refusals, entries with
evidence, submissions, compute and publish — database and audit assertions.

In the cast the committee admin (gongwei) runs the rounds over the whole tree; ``ac.unit_boss``
(caiwu) is the secretary of 市财政局机关委员会, the target whose self-assessment these tests fill;
``ac.assessor`` (kaohe) scores. ``small_system``: the unit fills 2.1 (self_assessor, a rate); the
assessor fills 1.2 (score 0–10), 2.1, 2.2 (a count), B1 (bonus count) and V1 (veto).
"""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from sizheng.assess import rounds
from sizheng.assess.models import (
    Assessment,
    AssessorAssignment,
    Entry,
    Indicator,
    RoundState,
    SystemState,
    Target,
    WeightMethod,
    WeightSet,
)
from sizheng.assess.tests.conftest import build_small_system
from sizheng.core.apitools import Conflict
from sizheng.core.models import AuditEvent, Notification, StoredFile

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_today", "_media")]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
)


@pytest.fixture
def _today():
    with time_machine.travel(date(2026, 6, 15), tick=False):
        yield


@pytest.fixture
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def pdf(name="佐证.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def png(name="照片.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def ind(system, code) -> Indicator:
    return Indicator.objects.get(system=system, code=code)


def audited(action, obj=None) -> bool:
    qs = AuditEvent.objects.filter(action=action)
    return (qs.filter(object_id=str(obj.pk)) if obj is not None else qs).exists()


def make_round(ac, system, **kw) -> Assessment:
    fields = {"title": "2026年度考核", "system": system, "owner_org": ac.root, "period_start": date(2026, 1, 1),
              "period_end": date(2026, 12, 31), "self_due_on": date(2026, 12, 20),
              "scoring_due_on": date(2026, 12, 28)}  # fmt: skip
    fields.update(kw)
    return rounds.create_round(actor=ac.committee_admin, **fields)


def target_of(assessment, org) -> Target:
    return Target.objects.select_related("assessment", "assessment__system", "org").get(
        assessment=assessment, org=org
    )


def opened_round(ac, system, **kw) -> Assessment:
    """A round over the default targets with kaohe assigned to every target, opened."""
    a = make_round(ac, system, **kw)
    for t in a.targets.all():
        rounds.assign(a, target=t, user=ac.assessor, actor=ac.committee_admin)
    return rounds.open_round(a, actor=ac.committee_admin, version=a.version)


def fill_assessor(ac, target, system, **values):
    base = {"1.2": 8, "2.1": 92, "2.2": 1, "B1": 1, "V1": 0}
    base.update(values)
    for code, value in base.items():
        rounds.save_entry(
            actor=ac.assessor, target=target, indicator=ind(system, code), side="assessor", value=value
        )


# --- set-up --------------------------------------------------------------------------------------


def test_a_new_round_takes_the_direct_sub_orgs_without_the_leading_group(ac, small_system):
    a = make_round(ac, small_system)
    assert a.state == RoundState.DRAFT and a.version == 1
    orgs = set(a.targets.values_list("org_id", flat=True))
    assert orgs == {ac.committee_a.pk, ac.general_b.pk, ac.branch_c.pk}
    assert ac.leading_a.pk not in orgs
    assert target_of(a, ac.committee_a).unit_id == ac.unit_a.pk
    assert audited("assess_round_create", a)


def test_it_refuses_a_draft_system_a_foreign_weight_set_and_a_reversed_period(ac, small_system):
    draft = build_small_system(year=2027, state=SystemState.DRAFT)
    with pytest.raises(ValidationError) as exc:
        make_round(ac, draft)
    assert "只能选用已发布的指标体系" in exc.value.message_dict["system"][0]
    other = WeightSet.objects.create(system=draft, number=1, name="别的", method=WeightMethod.DIRECT)
    with pytest.raises(ValidationError) as exc:
        make_round(ac, small_system, weight_set=other, period_end=date(2025, 12, 31))
    assert "不属于所选指标体系" in exc.value.message_dict["weight_set"][0]
    assert "不能早于开始日期" in exc.value.message_dict["period_end"][0]
    assert not Assessment.objects.exists()


def test_only_managers_of_the_owner_org_create_rounds(ac, small_system):
    with pytest.raises(PermissionDenied):
        rounds.create_round(actor=ac.secretary_b, title="越权", system=small_system, owner_org=ac.root,
                            period_start=date(2026, 1, 1), period_end=date(2026, 12, 31))  # fmt: skip
    a = rounds.create_round(actor=ac.unit_boss, title="机关党委考核", system=small_system, owner_org=ac.committee_a,
                            period_start=date(2026, 1, 1), period_end=date(2026, 12, 31))  # fmt: skip
    assert set(a.targets.values_list("org_id", flat=True)) == {ac.branch_a1.pk, ac.branch_a2.pk}


def test_targets_are_chosen_in_the_owner_subtree_while_in_draft(ac, small_system):
    a = make_round(ac, small_system)
    t_a = target_of(a, ac.committee_a)
    rounds.assign(a, target=t_a, user=ac.assessor, actor=ac.committee_admin)
    rounds.set_targets(a, [ac.committee_a, ac.branch_b1], actor=ac.committee_admin, version=a.version)
    assert set(a.targets.values_list("org_id", flat=True)) == {ac.committee_a.pk, ac.branch_b1.pk}
    assert AssessorAssignment.objects.filter(target=t_a).exists()  # a kept target keeps its assessors
    assert target_of(a, ac.branch_b1).unit_id == ac.unit_b.pk
    assert audited("assess_targets_set", a)
    with pytest.raises(ValidationError, match="至少选择一个"):
        rounds.set_targets(a, [], actor=ac.committee_admin)
    b = rounds.create_round(actor=ac.unit_boss, title="机关党委考核", system=small_system, owner_org=ac.committee_a,
                            period_start=date(2026, 1, 1), period_end=date(2026, 12, 31))  # fmt: skip
    with pytest.raises(ValidationError, match="不在组织单位"):
        rounds.set_targets(b, [ac.branch_c], actor=ac.unit_boss)
    with pytest.raises(Conflict):
        rounds.set_targets(a, [ac.committee_a], actor=ac.committee_admin, version=1)
    with pytest.raises(PermissionDenied):
        rounds.set_targets(a, [ac.committee_a], actor=ac.unit_boss)


def test_assessors_must_hold_the_role_and_keep_entered_assignments(ac, small_system):
    a = make_round(ac, small_system)
    t = target_of(a, ac.committee_a)
    with pytest.raises(ValidationError, match="没有“考核组”角色"):
        rounds.assign(a, target=t, user=ac.expert, actor=ac.committee_admin)
    assert (
        rounds.assign_many(a, targets=list(a.targets.all()), user=ac.assessor, actor=ac.committee_admin) == 3
    )
    assert AssessorAssignment.objects.filter(user=ac.assessor).count() == 3
    assert audited("assess_assign")
    rounds.open_round(a, actor=ac.committee_admin, version=a.version)
    rounds.save_entry(
        actor=ac.assessor, target=t, indicator=ind(small_system, "1.2"), side="assessor", value=5
    )
    with pytest.raises(ValidationError, match="已为“市财政局机关委员会”录入了评分"):
        rounds.unassign(a, target=t, user=ac.assessor, actor=ac.committee_admin)
    other = target_of(a, ac.branch_c)
    rounds.unassign(a, target=other, user=ac.assessor, actor=ac.committee_admin)
    assert not AssessorAssignment.objects.filter(target=other).exists()
    assert audited("assess_unassign", other)


def test_editing_a_round_under_way_keeps_the_method(ac, small_system):
    a = opened_round(ac, small_system)
    rounds.update_round(a, actor=ac.committee_admin, version=a.version, title="新名称", rectify_below=50,
                        system=small_system)  # fmt: skip
    a.refresh_from_db()
    assert a.title == "新名称" and a.rectify_below == 50
    assert audited("assess_round_update", a)
    other = build_small_system(year=2027)
    with pytest.raises(ValidationError, match="只能修改名称、截止日期和整改线"):
        rounds.update_round(a, actor=ac.committee_admin, version=a.version, system=other)
    with pytest.raises(Conflict):
        rounds.update_round(a, actor=ac.committee_admin, version=1, title="旧版本")


# --- state machine ------------------------------------------------------------------------------


def test_opening_needs_assessors_and_notifies_units_and_assessors(ac, small_system):
    a = make_round(ac, small_system)
    with pytest.raises(ValidationError, match="还没有分配考核组成员"):
        rounds.open_round(a, actor=ac.committee_admin, version=a.version)
    for t in a.targets.all():
        rounds.assign(a, target=t, user=ac.assessor, actor=ac.committee_admin)
    with pytest.raises(PermissionDenied):
        rounds.open_round(a, actor=ac.unit_boss, version=a.version)
    with pytest.raises(Conflict):
        rounds.open_round(a, actor=ac.committee_admin, version=a.version - 1)
    rounds.open_round(a, actor=ac.committee_admin, version=a.version)
    a.refresh_from_db()
    assert a.state == RoundState.OPEN
    assert audited("assess_round_open", a)
    boss = Notification.objects.get(user=ac.unit_boss)
    assert boss.title == "您单位有一项考核自评待填写" and "2026年12月20日" in boss.body
    assert Notification.objects.filter(user=ac.assessor, title="您有新的考核评分任务").exists()
    assert Notification.objects.filter(user=ac.secretary_b).count() == 0  # B1's secretary: not a target
    with pytest.raises(ValidationError, match="只有准备中的轮次才能开启"):
        rounds.open_round(a, actor=ac.committee_admin, version=a.version)


def test_lock_reopen_and_their_refusals(ac, small_system):
    a = opened_round(ac, small_system)
    t = target_of(a, ac.committee_a)
    rounds.save_entry(actor=ac.unit_boss, target=t, indicator=ind(small_system, "2.1"), side="self", value=95)
    rounds.submit_self(t, actor=ac.unit_boss)
    fill_assessor(ac, t, small_system)
    rounds.submit_scores(t, actor=ac.assessor)
    with pytest.raises(ValidationError, match="只有已锁定或已计算的轮次才能重新开放"):
        rounds.reopen(a, actor=ac.committee_admin, version=a.version)
    with pytest.raises(ValidationError, match="请先锁定轮次"):
        rounds.compute(a, actor=ac.committee_admin)
    rounds.lock(a, actor=ac.committee_admin, version=a.version)
    assert a.state == RoundState.LOCKED and audited("assess_round_lock", a)
    with pytest.raises(ValidationError, match="轮次不在自评阶段"):
        rounds.save_entry(actor=ac.unit_boss, target=target_of(a, ac.committee_a),
                          indicator=ind(small_system, "2.1"), side="self", value=90)  # fmt: skip
    with pytest.raises(ValidationError, match="只有正在自评和评分的轮次才能锁定"):
        rounds.lock(a, actor=ac.committee_admin, version=a.version)
    with pytest.raises(ValidationError, match="请先计算结果"):
        rounds.publish(a, actor=ac.committee_admin, version=a.version)
    rounds.reopen(a, actor=ac.committee_admin, version=a.version)
    a.refresh_from_db()
    assert a.state == RoundState.OPEN and audited("assess_round_reopen", a)
    t.refresh_from_db()
    assert t.self_submitted_at is None
    assert AssessorAssignment.objects.get(target=t, user=ac.assessor).submitted_at is None
    assert Entry.objects.filter(target=t).count() == 6  # entries are kept
    assert Notification.objects.filter(user=ac.unit_boss, title="考核轮次已重新开放").exists()
    # editable again
    rounds.save_entry(actor=ac.unit_boss, target=t, indicator=ind(small_system, "2.1"), side="self", value=90)


def test_a_published_round_is_neither_reopened_nor_recomputed(ac, small_system):
    a = opened_round(ac, small_system)
    Assessment.objects.filter(pk=a.pk).update(state=RoundState.PUBLISHED)
    a.refresh_from_db()
    with pytest.raises(ValidationError, match="结果已发布的轮次不能重新开放"):
        rounds.reopen(a, actor=ac.committee_admin, version=a.version)
    with pytest.raises(ValidationError, match="结果已发布的轮次不能重新计算"):
        rounds.compute(a, actor=ac.committee_admin)
    with pytest.raises(ValidationError, match="已经发布"):
        rounds.publish(a, actor=ac.committee_admin, version=a.version)
    with pytest.raises(ValidationError, match="已发布的考核轮次不能再修改"):
        rounds.update_round(a, actor=ac.committee_admin, version=a.version, title="改")


def test_compute_runs_the_engine_on_a_locked_round(ac, small_system):
    pytest.importorskip(
        "sizheng.assess.engine", reason="sizheng.assess.engine (engine helper) not integrated yet"
    )
    a = opened_round(ac, small_system)
    t = target_of(a, ac.committee_a)
    rounds.save_entry(actor=ac.unit_boss, target=t, indicator=ind(small_system, "2.1"), side="self", value=95)
    fill_assessor(ac, t, small_system)
    rounds.lock(a, actor=ac.committee_admin, version=a.version)
    rounds.compute(a, actor=ac.committee_admin)
    assert a.state == RoundState.COMPUTED and a.computed_at is not None
    assert audited("assess_compute", a)
    t.refresh_from_db()
    assert t.total is not None and t.grade


def test_publish_freezes_the_topsis_reference_and_opens_rectification(ac, small_system):
    pytest.importorskip(
        "sizheng.assess.results", reason="sizheng.assess.results (results helper) not integrated yet"
    )
    a = opened_round(ac, small_system, use_topsis=True)
    reference = {"offsets": [0.0], "scales": [1.0], "ideal": [1.0], "anti_ideal": [0.0]}
    Assessment.objects.filter(pk=a.pk).update(
        state=RoundState.COMPUTED, record={"topsis": {"reference": reference}, "methods": {}}
    )
    a.refresh_from_db()
    with pytest.raises(Conflict):
        rounds.publish(a, actor=ac.committee_admin, version=a.version - 1)
    with pytest.raises(PermissionDenied):
        rounds.publish(a, actor=ac.unit_boss, version=a.version)
    rounds.publish(a, actor=ac.committee_admin, version=a.version)
    a.refresh_from_db()
    assert a.state == RoundState.PUBLISHED and a.published_at is not None
    assert a.record["topsis_reference"] == reference
    assert audited("assess_round_publish", a)
    assert Notification.objects.filter(user=ac.unit_boss, title="考核结果已发布").exists()


def test_publish_without_topsis_freezes_nothing(ac, small_system):
    pytest.importorskip(
        "sizheng.assess.results", reason="sizheng.assess.results (results helper) not integrated yet"
    )
    a = opened_round(ac, small_system)
    Assessment.objects.filter(pk=a.pk).update(state=RoundState.COMPUTED, record={"topsis": None})
    a.refresh_from_db()
    rounds.publish(a, actor=ac.committee_admin, version=a.version)
    assert "topsis_reference" not in a.record


# --- entries ------------------------------------------------------------------------------------


def test_the_unit_fills_its_own_items_within_range(ac, small_system):
    a = opened_round(ac, small_system)
    t = target_of(a, ac.committee_a)
    e = rounds.save_entry(actor=ac.unit_boss, target=t, indicator=ind(small_system, "2.1"), side="self", value=95,
                          note="问卷结果", files=[pdf(), png()])  # fmt: skip
    assert (e.value, e.note, e.entered_by_id, e.version) == (95, "问卷结果", ac.unit_boss.pk, 1)
    assert StoredFile.objects.filter(owner_kind="assess.entry", owner_id=e.pk).count() == 2
    assert audited("assess_entry_save", e) and audited("file_upload")
    with pytest.raises(ValidationError, match="0 到 100"):
        rounds.save_entry(
            actor=ac.unit_boss, target=t, indicator=ind(small_system, "2.1"), side="self", value=120
        )
    with pytest.raises(ValidationError, match="单位不需要自评"):
        rounds.save_entry(
            actor=ac.unit_boss, target=t, indicator=ind(small_system, "1.2"), side="self", value=5
        )
    with pytest.raises(Conflict):
        rounds.save_entry(actor=ac.unit_boss, target=t, indicator=ind(small_system, "2.1"), side="self", value=90,
                          version=7)  # fmt: skip
    for outsider in (ac.outsider, ac.secretary_a, ac.assessor):
        with pytest.raises(PermissionDenied):
            rounds.save_entry(
                actor=outsider, target=t, indicator=ind(small_system, "2.1"), side="self", value=90
            )
    # a second manager of the unit edits the same self entry (one per item)
    rounds.save_entry(
        actor=ac.committee_admin, target=t, indicator=ind(small_system, "2.1"), side="self", value=91
    )
    assert Entry.objects.filter(target=t, side="self").count() == 1


def test_the_assessor_scores_only_assigned_targets_with_checked_values(ac, small_system):
    a = opened_round(ac, small_system)
    t = target_of(a, ac.committee_a)
    S = small_system
    with pytest.raises(ValidationError, match="0 到 10 分之间"):
        rounds.save_entry(actor=ac.assessor, target=t, indicator=ind(S, "1.2"), side="assessor", value=11)
    with pytest.raises(ValidationError, match="0 或正整数"):
        rounds.save_entry(actor=ac.assessor, target=t, indicator=ind(S, "2.2"), side="assessor", value=1.5)
    with pytest.raises(ValidationError, match="选择“是”时"):
        rounds.save_entry(actor=ac.assessor, target=t, indicator=ind(S, "V1"), side="assessor", value=1)
    rounds.save_entry(
        actor=ac.assessor, target=t, indicator=ind(S, "V1"), side="assessor", value=1, note="全年未开展"
    )
    with pytest.raises(PermissionDenied):
        rounds.save_entry(actor=ac.expert, target=t, indicator=ind(S, "1.2"), side="assessor", value=5)
    with pytest.raises(ValidationError, match="考核组不需要评分"):
        rounds.save_entry(actor=ac.assessor, target=t, indicator=ind(S, "1.1"), side="assessor", value=5)
    with pytest.raises(ValidationError, match="请在说明中写明情况|还没有填写取值"):
        rounds.submit_scores(t, actor=ac.assessor)
    fill_assessor(ac, t, S, V1=0)
    assignment = rounds.submit_scores(t, actor=ac.assessor)
    assert assignment.submitted_at is not None and audited("assess_scores_submit", assignment)
    with pytest.raises(ValidationError, match="评分已提交"):
        rounds.save_entry(actor=ac.assessor, target=t, indicator=ind(S, "1.2"), side="assessor", value=5)


def test_submitting_the_self_assessment_enforces_values_and_required_evidence(ac, small_system):
    Indicator.objects.filter(system=small_system, code="2.1").update(evidence_required=True)
    a = opened_round(ac, small_system)
    t = target_of(a, ac.committee_a)
    with pytest.raises(ValidationError, match="还没有填写取值"):
        rounds.submit_self(t, actor=ac.unit_boss)
    e = rounds.save_entry(
        actor=ac.unit_boss, target=t, indicator=ind(small_system, "2.1"), side="self", value=95
    )
    with pytest.raises(ValidationError, match="须上传佐证材料后才能提交"):
        rounds.submit_self(t, actor=ac.unit_boss)
    with pytest.raises(ValidationError, match="内容与扩展名"):
        rounds.save_entry(actor=ac.unit_boss, target=t, indicator=ind(small_system, "2.1"), side="self", value=95,
                          files=[SimpleUploadedFile("假的.pdf", b"not a pdf at all")])  # fmt: skip
    rounds.save_entry(actor=ac.unit_boss, target=t, indicator=ind(small_system, "2.1"), side="self", value=95,
                      files=[pdf()])  # fmt: skip
    uid = StoredFile.objects.get(owner_kind="assess.entry", owner_id=e.pk).uid
    rounds.save_entry(actor=ac.unit_boss, target=t, indicator=ind(small_system, "2.1"), side="self", value=95,
                      remove=[uid])  # fmt: skip
    with pytest.raises(ValidationError, match="须上传佐证材料"):
        rounds.submit_self(t, actor=ac.unit_boss)
    rounds.save_entry(actor=ac.unit_boss, target=t, indicator=ind(small_system, "2.1"), side="self", value=95,
                      files=[png()])  # fmt: skip
    rounds.submit_self(t, actor=ac.unit_boss)
    t.refresh_from_db()
    assert t.self_submitted_at is not None and audited("assess_self_submit", t)
    with pytest.raises(ValidationError, match="自评已提交"):
        rounds.save_entry(
            actor=ac.unit_boss, target=t, indicator=ind(small_system, "2.1"), side="self", value=90
        )


def test_words_for_rules_and_values(ac, small_system):
    S = small_system
    assert "达到 100% 得满分" in rounds.rule_text(ind(S, "1.1"))
    assert "每发生一次扣 5 分，最多扣 20 分" in rounds.rule_text(ind(S, "2.2"))
    assert "达到 90% 得满分的 100%" in rounds.rule_text(ind(S, "2.1"))
    assert "一票否决" in rounds.rule_text(ind(S, "V1"))
    assert "每项加 2 分" in rounds.rule_text(ind(S, "B1"))
    assert rounds.value_label(ind(S, "1.2")) == "得分（0—10 分）"
    assert rounds.value_label(ind(S, "2.2")) == "发生次数（次）"
    assert rounds.value_label(ind(S, "2.1")) == "比率（%，0—100）"
    assert rounds.display_value(ind(S, "V1"), 1) == "是（发生了）"
    # A banded leaf with its own unit (工作经费's levels): the short unit in sentences and values.
    levels = ind(S, "2.1")
    levels.rule = {**levels.rule, "unit": "档：2 足额、1 不足、0 没有"}
    assert rounds.value_label(levels) == "取值（档：2 足额、1 不足、0 没有）"
    assert "达到 90 档得满分的 100%" in rounds.rule_text(levels)
    assert rounds.display_value(levels, 2) == "2 档"
    sides = rounds.items_by_side(S)
    assert [i.code for i in sides["self"]] == ["2.1"]
    assert [i.code for i in sides["assessor"]] == ["1.2", "2.1", "2.2", "B1", "V1"]
    assert sides["assessor"][0].group == "1 党建责任" and sides["assessor"][3].group == "加分项"
