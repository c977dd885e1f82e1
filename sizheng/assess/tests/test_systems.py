"""Indicator system services: the shipped systems, versions, publication, weights and indicator edits."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from sizheng.assess import systems
from sizheng.assess.models import (
    Indicator,
    IndicatorKind,
    IndicatorSystem,
    RuleKind,
    SystemKind,
    SystemState,
    ValueSource,
)
from sizheng.assess.tests.conftest import build_small_system
from sizheng.core import metrics
from sizheng.core.apitools import Conflict
from sizheng.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _audited(action: str, obj=None) -> bool:
    qs = AuditEvent.objects.filter(action=action)
    return (qs.filter(object_id=str(obj.pk)) if obj is not None else qs).exists()


def _points_by_code(system) -> dict[str, float]:
    return {r.indicator.code: r.points for r in systems.tree(system)}


# --- the shipped systems -------------------------------------------------------------------------


def test_the_classify_system_is_the_100_point_table(ac):
    system = systems.builtin("classify", 2026, actor=ac.committee_admin)
    assert system.state == SystemState.PUBLISHED and system.kind == SystemKind.CLASSIFY
    assert system.self_share == pytest.approx(0.4) and system.bonus_cap == 8
    points = _points_by_code(system)
    level1 = {c: points[c] for c in "1234567"}
    assert level1 == pytest.approx({"1": 15, "2": 10, "3": 10, "4": 10, "5": 10, "6": 20, "7": 25})
    names = dict(system.indicators.filter(parent=None).values_list("code", "name"))
    assert [names[c] for c in "1234567"] == ["党组织带头人", "工作思路", "工作制度", "活动阵地", "保障机制",
                                             "工作业绩", "群众反映"]  # fmt: skip
    assert systems.weight_errors(system) == []
    leaves = [r for r in systems.tree(system) if r.is_leaf and r.indicator.kind == IndicatorKind.SCORED]
    assert sum(r.points for r in leaves) == pytest.approx(100)
    by_code = {i.code: i for i in system.indicators.all()}
    # Deductions: leadership 56 学时 −3 each, members 32 学时 −2 each, no full-time 党务干部 −5.
    assert (by_code["3.3"].rule_kind, by_code["3.3"].rule) == (RuleKind.DEDUCTION, {"per_event": 3})
    assert "56" in by_code["3.3"].key_points and "32" in by_code["3.4"].key_points
    assert by_code["3.4"].rule == {"per_event": 2} and by_code["5.1"].rule == {"per_event": 5}
    satisfaction = by_code["7.1"]
    assert satisfaction.source == ValueSource.DEMOCRATIC and satisfaction.metric_name == ""
    assert satisfaction.rule_kind == RuleKind.BANDS and satisfaction.rule["bands"][-1]["min"] is None
    most = [i for i in system.indicators.all() if i.kind == IndicatorKind.SCORED and i.parent_id]
    assert sum(i.source == ValueSource.SELF_ASSESSOR for i in most) >= len(most) - 1
    bonus = [i for i in system.indicators.all() if i.kind == IndicatorKind.BONUS]
    assert len(bonus) == 1 and bonus[0].max_score == 8 and "+" not in bonus[0].method_text
    assert system.indicators.filter(kind=IndicatorKind.VETO).count() == 3
    assert [(c["indicator"], c["below"], c["max_grade"]) for c in system.caps] == [
        ("7.1", 90, "一般"),
        ("7.1", 50, "较差"),
    ]
    assert _audited("assess_system_builtin", system)


def test_the_thought_system_wires_its_automatic_leaves_to_assessment_metrics(ac):
    system = systems.builtin("thought", 2026, actor=ac.committee_admin, publish=False)
    assert system.state == SystemState.DRAFT
    names = list(system.indicators.filter(parent=None, kind=IndicatorKind.SCORED).order_by("order")
                 .values_list("name", flat=True))  # fmt: skip
    assert names == [
        "责任体系",
        "理论武装",
        "组织生活",
        "谈心谈话与人文关怀",
        "阵地与队伍",
        "工作成效与群众满意度",
    ]
    allowed = {m.name: m for m in metrics.for_consumer(metrics.Consumer.ASSESSMENT)}
    auto = list(system.indicators.filter(source=ValueSource.METRIC))
    assert len(auto) >= 12
    for ind in auto:
        assert ind.metric_name in allowed, ind.metric_name
        assert allowed[ind.metric_name].tier in (metrics.Tier.T0, metrics.Tier.T2_META)
    wired = {i.metric_name for i in auto}
    assert {"duties.on_time_rate", "duties.overdue_count", "life.compliance_rate", "study.hours_coverage",
            "talks.coverage_rate", "care.resolved_rate", "team.coverage_ratio", "funds.execution_rate",
            "insight.satisfaction_index"} <= wired  # fmt: skip
    overdue = next(i for i in auto if i.metric_name == "duties.overdue_count")
    assert overdue.rule_kind == RuleKind.DEDUCTION
    democratic = list(system.indicators.filter(source=ValueSource.DEMOCRATIC))
    assert len(democratic) == 1 and democratic[0].metric_name == ""
    assert system.indicators.filter(source__in=[ValueSource.ASSESSOR, ValueSource.SELF_ASSESSOR]).exists()
    assert systems.weight_errors(system) == [] and systems.publication_problems(system) == []


def test_every_shipped_metric_leaf_exists_and_is_allowed():
    allowed = {m.name for m in metrics.for_consumer(metrics.Consumer.ASSESSMENT)}
    for kind in systems.BUILTIN_KINDS:
        for row in systems.plan_from_points(systems.load_data(kind)["indicators"]):
            if row["source"] == ValueSource.METRIC:
                assert row["metric_name"] in allowed, (kind, row["code"])
            else:
                assert row["metric_name"] == "", (kind, row["code"])


def test_builtin_refuses_an_unknown_kind_and_a_t3_metric(ac, monkeypatch):
    with pytest.raises(ValidationError, match="内置体系只有"):
        systems.builtin("custom", 2026, actor=ac.committee_admin)
    data = systems.load_data("thought")
    data["indicators"][0]["children"][0]["metric_name"] = "wellbeing.severe_share"  # T3
    monkeypatch.setattr(systems, "load_data", lambda kind: data)
    with pytest.raises(ValidationError, match="不允许用于考核"):
        systems.builtin("thought", 2026, actor=ac.committee_admin)
    assert not IndicatorSystem.objects.exists()


def test_builtin_twice_in_a_year_makes_a_second_version(ac):
    first = systems.builtin("classify", 2026, actor=None)
    second = systems.builtin("classify", 2026, actor=None, owner_org=ac.committee_a)
    assert (first.number, second.number) == (1, 2) and second.owner_org == ac.committee_a


# --- versions and publication --------------------------------------------------------------------


def test_copy_to_next_year_is_a_draft_with_the_same_tree(ac):
    system = systems.builtin("classify", 2026, actor=None)
    copy = systems.copy_as_new_version(system, actor=ac.committee_admin, year=2027)
    assert (copy.year, copy.number, copy.state, copy.based_on) == (2027, 1, SystemState.DRAFT, system)
    assert copy.caps == system.caps and copy.bonus_cap == system.bonus_cap

    def shape(s):
        return sorted(
            (i.code, i.parent.code if i.parent else None, i.name, i.weight, i.rule_kind, json.dumps(i.rule),
             i.source, i.max_score, i.kind)
            for i in s.indicators.select_related("parent")
        )  # fmt: skip

    assert shape(copy) == shape(system)
    again = systems.copy_as_new_version(system, actor=ac.committee_admin)
    assert (again.year, again.number) == (2026, 2)
    assert _audited("assess_system_copy", copy)


def test_publish_refuses_wrong_weights_naming_the_parent_and_the_sum(ac, small_system):
    draft = systems.copy_as_new_version(small_system, actor=None)
    leaf = draft.indicators.get(code="1.1")
    Indicator.objects.filter(pk=leaf.pk).update(weight=0.3)
    errors = systems.weight_errors(draft)
    assert len(errors) == 1 and "“党建责任”（1）" in errors[0] and "0.8" in errors[0]
    with pytest.raises(ValidationError) as exc:
        systems.publish(draft, actor=ac.committee_admin, version=draft.version)
    assert any("0.8" in m and "党建责任" in m for m in exc.value.messages)
    draft.refresh_from_db()
    assert draft.state == SystemState.DRAFT
    Indicator.objects.filter(pk=leaf.pk).update(weight=0.5)
    Indicator.objects.filter(system=draft, code="1").update(weight=0.7)
    assert systems.weight_errors(draft) == ["一级指标的权重之和为 1.1，应为 1，请调整（1 0.7、2 0.4）。"]
    # A weight set's weights override the indicators' own.
    top1 = draft.indicators.get(code="1")
    assert systems.weight_errors(draft, {str(top1.pk): 0.6}) == []


def test_publish_and_archive_check_the_version_and_audit(ac, small_system):
    draft = systems.copy_as_new_version(small_system, actor=None)
    with pytest.raises(Conflict):
        systems.publish(draft, actor=ac.committee_admin, version=draft.version + 5)
    systems.publish(draft, actor=ac.committee_admin, version=draft.version)
    assert draft.state == SystemState.PUBLISHED and _audited("assess_system_publish", draft)
    with pytest.raises(ValidationError, match="只有草稿可以发布"):
        systems.publish(draft, actor=ac.committee_admin, version=draft.version)
    systems.archive(draft, actor=ac.committee_admin, version=draft.version)
    assert draft.state == SystemState.ARCHIVED and _audited("assess_system_archive", draft)
    with pytest.raises(ValidationError):
        systems.archive(draft, actor=ac.committee_admin, version=draft.version)


def test_publish_refuses_an_empty_system_and_a_cap_on_a_missing_code(ac):
    empty = systems.create_system(actor=ac.committee_admin, name="空体系", year=2026)
    with pytest.raises(ValidationError, match="还没有计分指标"):
        systems.publish(empty, actor=ac.committee_admin, version=empty.version)
    draft = systems.copy_as_new_version(build_small_system(year=2025), actor=None)
    IndicatorSystem.objects.filter(pk=draft.pk).update(
        caps=[{"indicator": "9.9", "below": 90, "max_grade": "一般"}]
    )
    draft.refresh_from_db()
    with pytest.raises(ValidationError, match="9.9"):
        systems.publish(draft, actor=ac.committee_admin, version=draft.version)


def test_system_settings_are_validated(ac):
    with pytest.raises(ValidationError, match="从高到低"):
        systems.create_system(actor=None, name="甲", year=2026,
                              grade_bands=[{"grade": "好", "min": 80}, {"grade": "较好", "min": 90},
                                           {"grade": "差", "min": None}])  # fmt: skip
    with pytest.raises(ValidationError, match="不设分数线"):
        systems.create_system(actor=None, name="甲", year=2026,
                              grade_bands=[{"grade": "好", "min": 80}, {"grade": "差", "min": 10}])  # fmt: skip
    with pytest.raises(ValidationError, match="自评占比"):
        systems.create_system(actor=None, name="甲", year=2026, self_share=1.5)
    with pytest.raises(ValidationError, match="年度"):
        systems.create_system(actor=None, name="甲", year=1999)
    system = systems.create_system(actor=ac.committee_admin, name="甲", year=2026)
    assert _audited("assess_system_create", system)
    systems.update_system(system, actor=ac.committee_admin, version=system.version, bonus_cap=3,
                          description="说明")  # fmt: skip
    assert system.bonus_cap == 3 and system.version == 2 and _audited("assess_system_update", system)
    with pytest.raises(ValidationError, match="不存在"):
        systems.update_system(system, actor=None, version=system.version,
                              caps=[{"indicator": "1", "below": 90, "max_grade": "一般"}])  # fmt: skip
    with pytest.raises(Conflict):
        systems.update_system(system, actor=None, version=1, description="旧表单")


# --- indicators ----------------------------------------------------------------------------------


def _leaf(**kw):
    base = {"code": "1.3", "name": "新指标", "weight": 0, "source": ValueSource.ASSESSOR,
            "rule_kind": RuleKind.DIRECT, "rule": {}, "max_score": 10}  # fmt: skip
    base.update(kw)
    return base


@pytest.fixture
def draft(small_system):
    return systems.copy_as_new_version(small_system, actor=None)


def test_save_indicator_adds_and_changes_a_leaf_bumping_the_version(ac, draft):
    top1 = draft.indicators.get(code="1")
    v = draft.version
    ind = systems.save_indicator(draft, actor=ac.committee_admin, version=v, parent=top1, **_leaf())
    assert ind.order == 3 and ind.parent == top1 and draft.version == v + 1
    assert _audited("assess_indicator_create", ind)
    ind = systems.save_indicator(draft, actor=ac.committee_admin, version=draft.version, indicator=ind,
                                 parent=top1, rule_kind=RuleKind.LINEAR,
                                 rule={"zero_at": 100, "full_at": 20})  # fmt: skip
    ind.refresh_from_db()
    assert ind.rule == {"zero_at": 100, "full_at": 20} and ind.name == "新指标"
    event = AuditEvent.objects.filter(action="assess_indicator_update", object_id=str(ind.pk)).get()
    assert event.detail["fields"] == ["rule", "rule_kind"]
    with pytest.raises(Conflict):
        systems.save_indicator(draft, actor=None, version=v, indicator=ind, parent=top1, name="旧表单")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"rule_kind": RuleKind.LINEAR, "rule": {"zero_at": 5}}, "零分点"),
        ({"rule_kind": RuleKind.LINEAR, "rule": {"zero_at": 5, "full_at": 5}}, "不能相同"),
        ({"rule_kind": RuleKind.DEDUCTION, "rule": {"per_event": -1}}, "每项扣分"),
        ({"rule_kind": RuleKind.DEDUCTION, "rule": {"per_event": 1, "max_deduction": 0}}, "最多扣分"),
        ({"rule_kind": RuleKind.BANDS, "rule": {"bands": []}}, "至少要有一档"),
        (
            {
                "rule_kind": RuleKind.BANDS,
                "rule": {
                    "bands": [{"min": 80, "score": 80}, {"min": 90, "score": 100}, {"min": None, "score": 0}]
                },
            },
            "从高到低",
        ),
        (
            {
                "rule_kind": RuleKind.BANDS,
                "rule": {"bands": [{"min": 80, "score": 120}, {"min": None, "score": 0}]},
            },
            "0 到 100",
        ),
        ({"rule_kind": RuleKind.BANDS, "rule": {"bands": [{"min": 80, "score": 100}]}}, "其余"),
        ({"rule_kind": RuleKind.DIRECT, "rule": {"per_event": 2}}, "请删除"),
        ({"rule": "not json"}, "JSON 对象"),
        ({"source": ValueSource.METRIC, "metric_name": ""}, "须选择"),
        ({"source": ValueSource.METRIC, "metric_name": "wellbeing.severe_share"}, "不允许用于考核"),
        ({"source": ValueSource.METRIC, "metric_name": "no.such"}, "不存在"),
        ({"code": "1.1"}, "已被指标“责任清单完成”使用"),
        ({"code": "有 空格"}, "编号"),
        ({"weight": 1.5}, "0 到 1"),
        ({"max_score": 0}, "满分"),
        ({"name": ""}, "指标名称"),
    ],
)
def test_save_indicator_explains_what_is_wrong(draft, fields, message):
    top1 = draft.indicators.get(code="1")
    with pytest.raises(ValidationError) as exc:
        systems.save_indicator(draft, actor=None, version=draft.version, parent=top1, **_leaf(**fields))
    assert any(message in m for m in exc.value.messages), exc.value.messages
    assert not draft.indicators.filter(name="新指标").exists()


def test_save_indicator_keeps_the_tree_sound(draft):
    top1, b1 = draft.indicators.get(code="1"), draft.indicators.get(code="B1")
    leaf = draft.indicators.get(code="1.1")
    with pytest.raises(ValidationError, match="加分项和一票否决项下面不能"):
        systems.save_indicator(draft, actor=None, version=draft.version, parent=b1, **_leaf())
    with pytest.raises(ValidationError, match="只能放在第一层"):
        systems.save_indicator(draft, actor=None, version=draft.version, parent=top1,
                               **_leaf(kind=IndicatorKind.BONUS))  # fmt: skip
    with pytest.raises(ValidationError, match="它自己或它的下级"):
        systems.save_indicator(draft, actor=None, version=draft.version, indicator=top1, parent=leaf)
    with pytest.raises(ValidationError, match="有下级指标"):
        systems.save_indicator(
            draft, actor=None, version=draft.version, indicator=top1, kind=IndicatorKind.VETO
        )
    with pytest.raises(ValidationError, match="一票否决项不需要计分参数"):
        systems.save_indicator(draft, actor=None, version=draft.version, indicator=draft.indicators.get(code="V1"),
                               rule={"per_event": 1})  # fmt: skip
    metric = systems.save_indicator(draft, actor=None, version=draft.version, indicator=leaf, parent=top1,
                                    source=ValueSource.ASSESSOR)  # fmt: skip
    assert metric.metric_name == ""  # a non-automatic leaf drops its metric


def test_renaming_a_code_follows_in_the_caps(draft):
    leaf = draft.indicators.get(code="2.1")
    systems.save_indicator(
        draft, actor=None, version=draft.version, indicator=leaf, parent=leaf.parent, code="2.9"
    )
    assert draft.caps[0]["indicator"] == "2.9"


def test_published_systems_are_not_edited(ac, small_system):
    top1 = small_system.indicators.get(code="1")
    with pytest.raises(ValidationError, match="复制为新版本"):
        systems.save_indicator(small_system, actor=None, version=small_system.version, parent=top1, **_leaf())
    with pytest.raises(ValidationError, match="复制为新版本"):
        systems.delete_indicator(top1, actor=None, version=small_system.version)
    with pytest.raises(ValidationError, match="复制为新版本"):
        systems.update_system(small_system, actor=None, version=small_system.version, name="改名")
    assert small_system.indicators.count() == 8


def test_delete_indicator_takes_its_children_and_caps(ac, draft):
    top2 = draft.indicators.get(code="2")
    codes = systems.delete_indicator(top2, actor=ac.committee_admin, version=draft.version)
    assert sorted(codes) == ["2", "2.1", "2.2"]
    assert sorted(draft.indicators.values_list("code", flat=True)) == ["1", "1.1", "1.2", "B1", "V1"]
    draft.refresh_from_db()
    assert draft.caps == [] and draft.version == 2
    assert AuditEvent.objects.filter(action="assess_indicator_delete", object_id=str(top2.pk)).exists()
    with pytest.raises(Conflict):
        systems.delete_indicator(draft.indicators.get(code="1"), actor=None, version=1)


def test_tree_rows_and_rule_summaries(small_system):
    rows = systems.tree(small_system)
    assert [r.indicator.code for r in rows] == ["1", "1.1", "1.2", "2", "2.1", "2.2", "B1", "V1"]
    by = {r.indicator.code: r for r in rows}
    assert by["2.1"].points == pytest.approx(28) and by["2"].points == pytest.approx(40)
    assert by["1.1"].depth == 1 and not by["1"].is_leaf and by["1.1"].metric_label == "按时完成率"
    assert by["1.1"].summary == "100% 及以上得满分，50% 及以下得 0 分，其间按比例计分。"
    assert "每项扣 5 分，最多扣 20 分" in by["2.2"].summary
    assert "≥ 90 得 100%" in by["2.1"].summary and "其余得 0%" in by["2.1"].summary
    assert "每项加 2 分，最多加 4 分" in by["B1"].summary
    assert "最低等次" in by["V1"].summary and by["B1"].points == 0
