"""The 100-point Excel table: export, import with a dry run, per-row errors, the round trip."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import Workbook, load_workbook

from sizheng.assess import systems, tableio
from sizheng.assess.models import IndicatorKind, IndicatorSystem, RuleKind, SystemState, ValueSource
from sizheng.core.models import AuditEvent

pytestmark = pytest.mark.django_db
USUAL = ["一级指标", "二级指标", "评分要点", "评分办法", "分值"]


def _xlsx(rows, *, header=USUAL, title="某局党组织分类定级自评表", merge=None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append([title])
    ws.append(header)
    for row in rows:
        ws.append(row)
    for rng in merge or []:
        ws.merge_cells(rng)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _shape(system):
    inds = system.indicators.select_related("parent")
    return {
        i.code: (i.name, i.parent.code if i.parent else None, i.kind, i.order, round(i.weight, 9), i.key_points,
                 i.method_text, i.source, i.metric_name, i.rule_kind, json.dumps(i.rule, sort_keys=True),
                 i.max_score, i.evidence_required)
        for i in inds
    }  # fmt: skip


@pytest.mark.parametrize("kind", ["classify", "thought"])
def test_export_then_import_gives_the_same_system(kind):
    original = systems.builtin(kind, 2026, actor=None)
    data = tableio.export_table(original)
    report = tableio.import_table(data, actor=None, name="导入的体系", year=2027, dry_run=False)
    assert report.ok, report.errors
    copy = report.system
    assert copy.state == SystemState.DRAFT and copy.kind == original.kind
    assert _shape(copy) == _shape(original)
    for attr in ("grade_bands", "caps", "bonus_cap", "self_share", "missing_policy", "description"):
        assert getattr(copy, attr) == getattr(original, attr), attr
    assert systems.publication_problems(copy) == []
    assert AuditEvent.objects.filter(action="assess_system_import", object_id=str(copy.pk)).exists()


def test_the_export_is_the_usual_table():
    system = systems.builtin("classify", 2026, actor=None)
    ws = load_workbook(io.BytesIO(tableio.export_table(system)))["评分表"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[2][:5]) == USUAL and rows[2][5:10] == (
        "编号",
        "类别",
        "取值来源",
        "计分方式",
        "计分参数（JSON）",
    )
    body = rows[3:]
    assert body[0][0] == "党组织带头人（15分）" and body[0][4] == 6 and body[1][0] is None
    assert body[-1][0] == "合计" and body[-1][4] == 100
    bonus = next(r for r in body if r[6] == "加分项")
    assert bonus[0] == "加分项" and bonus[4] == 8
    vetoes = [r for r in body if r[6] == "一票否决"]
    assert len(vetoes) == 3 and vetoes[0][4] is None
    assert load_workbook(io.BytesIO(tableio.export_table(system)))["体系设置"]["B7"].value.startswith(
        "好 ≥ 90"
    )


def test_a_plain_table_with_merged_cells_imports_with_defaults():
    rows = [
        ["党组织带头人", "书记履职", "履行第一责任人职责", "0—10 分", 10],
        [None, "班子配备", "委员配齐", "缺一人扣 2 分", 5],
        ["工作业绩（85分）", "服务中心", "", "", 85],
        ["加分项", "获得市级表彰", "", "", 4],
        ["一票否决", "一年未开展组织活动", "", "", None],
        ["合计", None, None, None, 100],
    ]
    data = _xlsx(rows, merge=["A3:A4"])
    report = tableio.import_table(data, actor=None, name="自评表", year=2026, dry_run=True)
    assert report.ok, report.errors
    assert report.system is None and not IndicatorSystem.objects.exists()
    assert report.counts == {"level1": 2, "leaves": 3, "bonus": 1, "veto": 1}
    plan = {r["code"]: r for r in report.plan}
    assert sorted(plan) == ["1", "1.1", "1.2", "2", "2.1", "B1", "V1"]
    assert plan["1"]["weight"] == pytest.approx(0.15) and plan["1.1"]["weight"] == pytest.approx(2 / 3)
    assert plan["2.1"]["weight"] == 1 and plan["2"]["name"] == "工作业绩"
    assert plan["1.2"]["source"] == ValueSource.ASSESSOR and plan["1.2"]["rule_kind"] == RuleKind.DIRECT
    assert (
        plan["1.2"]["max_score"] == 5
        and plan["B1"]["max_score"] == 4
        and plan["B1"]["kind"] == IndicatorKind.BONUS
    )
    assert plan["V1"]["kind"] == IndicatorKind.VETO and report.settings["bonus_cap"] == 4
    preview = report.preview()
    assert preview[1]["depth"] == 1 and preview[1]["points"] == pytest.approx(10)
    report = tableio.import_table(data, actor=None, name="自评表", year=2026, dry_run=False)
    assert report.ok and report.system.indicators.count() == 7
    assert systems.weight_errors(report.system) == []


def test_a_level1_row_without_second_level_is_a_leaf_and_totals_other_than_100_warn():
    report = tableio.import_table(
        _xlsx([["群众反映", None, "", "", 25], ["工作业绩", "服务中心", "", "", 50]]),
        actor=None, name="表", year=2026, dry_run=True,
    )  # fmt: skip
    assert report.ok, report.errors
    assert [(r["code"], r["parent"]) for r in report.plan] == [("1", None), ("2", None), ("2.1", "2")]
    assert report.plan[0]["weight"] == pytest.approx(1 / 3)
    assert report.warnings and "75" in report.warnings[0]["message"]


def test_every_bad_row_is_reported_and_nothing_is_written():
    header = [*USUAL, "编号", "类别", "取值来源", "计分方式", "计分参数（JSON）", "自动取数指标"]
    rows = [
        [None, "没有一级指标", "", "", 5, "", "", "", "", "", ""],
        ["责任（10分）", "清单", "", "", "五", "", "", "", "", "", ""],
        [None, "逾期", "", "", 4, "1.2", "", "", "按事项扣分", "{\"per_event\": 0}", ""],
        [None, "覆盖", "", "", 3, "1.3", "", "", "线性", "", ""],
        [None, "解析", "", "", 3, "1.4", "", "", "", "{per_event: 1}", ""],
        [None, "敏感", "", "", 3, "1.5", "", "", "阈值间线性折算", "{\"zero_at\": 0, \"full_at\": 10}",
         "wellbeing.severe_share"],
        [None, "重号", "", "", 3, "1.5", "", "", "", "", ""],
        ["加分项", "表彰", "", "", None, "", "加分项", "", "", "", ""],
        ["其他", "乱填", "", "", 2, "", "奖励", "", "", "", ""],
    ]  # fmt: skip
    report = tableio.import_table(
        _xlsx(rows, header=header), actor=None, name="坏表", year=2026, dry_run=False
    )
    assert not report.ok and not IndicatorSystem.objects.exists()
    by_row = tableio.group_errors(report.errors)
    assert "沿用" in by_row[3][0]
    assert "不是数字" in by_row[4][0]
    assert "计分方式“线性”无法识别" in by_row[6][0]
    assert "不是有效的 JSON" in by_row[7][0]
    assert "最多可加" in by_row[10][0]
    assert "类别“奖励”" in by_row[11][0]
    assert all(e["message"].startswith(f"第 {e['row']} 行") for e in report.errors if e["row"])


def test_rule_metric_and_code_errors_come_after_the_rows_parse():
    header = [*USUAL, "编号", "类别", "取值来源", "计分方式", "计分参数（JSON）", "自动取数指标"]
    rows = [
        ["责任（10分）", "逾期", "", "", 4, "1.2", "", "", "按事项扣分", "{\"per_event\": 0}", ""],
        [None, "敏感", "", "", 3, "1.5", "", "", "阈值间线性折算", "{\"zero_at\": 0, \"full_at\": 10}",
         "wellbeing.severe_share"],
        [None, "重号", "", "", 3, "1.5", "", "", "", "", ""],
    ]  # fmt: skip
    report = tableio.import_table(
        _xlsx(rows, header=header), actor=None, name="坏表", year=2026, dry_run=True
    )
    by_row = tableio.group_errors(report.errors)
    assert "每项扣分" in by_row[3][0]
    assert "不允许用于考核" in by_row[4][0]
    assert "与第 4 行重复" in by_row[5][0]


def test_a_declared_level1_total_must_match_its_rows_and_a_file_must_be_a_table():
    report = tableio.import_table(
        _xlsx([["党组织带头人（15分）", "书记", "", "", 10], [None, "班子", "", "", 4]]),
        actor=None, name="表", year=2026, dry_run=True,
    )  # fmt: skip
    assert not report.ok and "标注 15 分" in report.errors[0]["message"] and report.errors[0]["row"] == 3
    report = tableio.import_table(b"not an excel file", actor=None, name="表", year=2026, dry_run=True)
    assert "无法读取" in report.errors[0]["message"]
    report = tableio.import_table(_xlsx([["a", "b"]], header=["姓名", "电话"]), actor=None, name="表", year=2026,
                                  dry_run=True)  # fmt: skip
    assert "没有找到表头" in report.errors[0]["message"]
    report = tableio.import_table(_xlsx([]), actor=None, name="", year=1900, dry_run=True)
    assert {e["message"][:4] for e in report.errors} >= {"请填写体", "年度须在"}


def test_the_settings_sheet_is_checked(ac):
    system = systems.builtin("classify", 2026, actor=None)
    wb = load_workbook(io.BytesIO(tableio.export_table(system)))
    wb["体系设置"]["B8"] = json.dumps([{"indicator": "9.9", "below": 90, "max_grade": "一般"}])
    buf = io.BytesIO()
    wb.save(buf)
    report = tableio.import_table(buf.getvalue(), actor=None, name="表", year=2026, dry_run=True)
    assert not report.ok and "9.9" in report.errors[0]["message"] and report.errors[0]["row"] is None
