"""The usual 100-point table (百分制评分表) as Excel: export a system, import one (dry run first).

Sheet 1 「评分表」, one row per scored leaf, then the bonus (加分项) and veto (一票否决) rows and a
合计 row::

    一级指标 | 二级指标 | 评分要点 | 评分办法 | 分值 | 编号 | 类别 | 取值来源 | 计分方式 | 计分参数（JSON） | 自动取数指标 | 满分 | 须上传佐证

* 一级指标 is written once per group as "党组织带头人（15分）"; a blank (or merged) cell below
  means "same as above". A level-1 indicator without 二级指标 is itself a leaf. Deeper trees write
  the path under level 1 in 二级指标, joined by "／".
* 分值 is the leaf's points on the 100-point table (its global weight × 100). On import the points
  become local weights: a level-1 indicator's points (the sum of its leaves) over the total, a
  leaf's points over its parent's. Bonus rows: 分值 = the most points it can add; veto rows: 分值
  is ignored.
* The machine columns on the right are optional on import (a plain table gets 考核组评分, 直接评分
  with full marks = 分值); inner codes come from the leaves' codes ("1.2" → "1"), else numbering.

Sheet 2 「体系设置」 holds the system's settings (等次划分, 等次上限规则 as JSON, 加分上限, 自评占比,
缺数处理, 类型); it is optional on import.

Import is all-or-nothing: every row is checked (with the same checks as editing an indicator) and
every problem is reported with its row number; nothing is written when anything is wrong or in a
dry run.
"""

from __future__ import annotations

import io
import json
import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sizheng.assess import systems
from sizheng.assess.models import (
    IndicatorKind,
    IndicatorSystem,
    MissingPolicy,
    RuleKind,
    SystemKind,
    ValueSource,
    default_bands,
)
from sizheng.core import audit
from sizheng.core.xlsx import LedgerWorkbook

SHEET = "评分表"
SETTINGS_SHEET = "体系设置"
HEADERS = [
    "一级指标",
    "二级指标",
    "评分要点",
    "评分办法",
    "分值",
    "编号",
    "类别",
    "取值来源",
    "计分方式",
    "计分参数（JSON）",
    "自动取数指标",
    "满分",
    "须上传佐证",
]
FIELDS = [
    "l1",
    "l2",
    "key_points",
    "method_text",
    "points",
    "code",
    "kind",
    "source",
    "rule_kind",
    "rule",
    "metric_name",
    "max_score",
    "evidence_required",
]
WIDTHS = [22, 24, 40, 40, 8, 8, 10, 16, 14, 30, 26, 8, 10]
PATH_SEP = "／"
TOTAL_LABELS = {"合计", "总分", "总计", "合 计"}
BONUS_L1 = "加分项"
VETO_L1 = "一票否决"
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 500
HEADER_SCAN = 10

_WS = re.compile(r"[ \t\u3000\xa0]+")
_FORMULA_QUOTED = re.compile(r"^'[=+\-@\t\r]")
_POINTS_SUFFIX = re.compile(r"^(.*?)\s*[（(]\s*([0-9]+(?:\.[0-9]+)?)\s*分\s*[)）]\s*$")
_BRACKETED = re.compile(r"[（(][^）)]*[）)]")


def _norm(text: Any) -> str:
    t = unicodedata.normalize("NFKC", str(text or ""))
    return re.sub(r"\s+", "", _BRACKETED.sub("", t.replace("（", "(").replace("）", ")"))).lower()


_HEADER_KEYS = {_norm(h): f for h, f in zip(HEADERS, FIELDS, strict=True)}
_HEADER_KEYS.update({_norm("计分参数"): "rule", _norm("计分规则"): "rule", _norm("指标编号"): "code",
                     _norm("考核要点"): "key_points", _norm("考核内容"): "key_points", _norm("评分标准"): "method_text",
                     _norm("标准分"): "points", _norm("分数"): "points"})  # fmt: skip


def _text(value: Any, *, keep_lines: bool = False) -> str:
    if value is None or isinstance(value, bool):
        return "" if value is None else ("是" if value else "否")
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        value = int(value) if value.is_integer() else value
    text = str(value)
    if keep_lines:
        text = "\n".join(
            _WS.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")
        ).strip()
    else:
        text = _WS.sub(" ", text.replace("\n", " ")).strip()
    if _FORMULA_QUOTED.match(text):
        text = text[1:]
    return text


def _choice(value: str, choices, *, default: str) -> str | None:
    """A TextChoices value from its value or its label (None when unknown)."""
    if not value:
        return default
    for v, label in choices:
        if value in (v, str(label)):
            return v
    return None


KIND_WORDS = {
    "计分指标": IndicatorKind.SCORED,
    "计分": IndicatorKind.SCORED,
    "加分项": IndicatorKind.BONUS,
    "加分": IndicatorKind.BONUS,
    "一票否决": IndicatorKind.VETO,
    "一票否决项": IndicatorKind.VETO,
    "否决": IndicatorKind.VETO,
}
KIND_LABEL = {IndicatorKind.SCORED: "计分指标", IndicatorKind.BONUS: "加分项", IndicatorKind.VETO: "一票否决"}


# --- export --------------------------------------------------------------------------------------


def _pts(x: float) -> float | int:
    v = round(x, 4)
    return int(v) if float(v).is_integer() else v


def table_rows(system: IndicatorSystem) -> list[list[Any]]:
    """The rows of sheet 1 (without the header), as written to the file."""
    rows = systems.tree(system)
    by_id = {r.indicator.pk: r for r in rows}
    out: list[list[Any]] = []
    last_l1 = None
    total = 0.0
    for r in rows:
        ind = r.indicator
        if ind.kind != IndicatorKind.SCORED or not r.is_leaf:
            continue
        path = []
        node = ind
        while node.parent_id is not None:
            path.append(node.name)
            node = by_id[node.parent_id].indicator
        top = by_id[node.pk]
        l1 = ""
        if top.indicator.pk != last_l1:
            l1 = f"{top.indicator.name}（{systems.num(_pts(top.points))}分）"
            last_l1 = top.indicator.pk
        total += r.points
        out.append([l1, PATH_SEP.join(reversed(path)), *_machine(ind, _pts(r.points))])
    for kind, label in ((IndicatorKind.BONUS, BONUS_L1), (IndicatorKind.VETO, VETO_L1)):
        first = True
        for r in rows:
            if r.indicator.kind != kind:
                continue
            points = _pts(r.indicator.max_score) if kind == IndicatorKind.BONUS else None
            out.append([label if first else "", r.indicator.name, *_machine(r.indicator, points)])
            first = False
    out.append(["合计", "", "", "", _pts(total), "", "", "", "", "", "", "", ""])
    return out


def _machine(ind, points) -> list[Any]:
    return [
        ind.key_points,
        ind.method_text,
        points,
        ind.code,
        KIND_LABEL[ind.kind],
        ind.get_source_display(),
        ind.get_rule_kind_display(),
        json.dumps(ind.rule, ensure_ascii=False) if ind.rule else "",
        ind.metric_name,
        _pts(ind.max_score),
        "是" if ind.evidence_required else "否",
    ]


def settings_rows(system: IndicatorSystem) -> list[list[Any]]:
    bands = "；".join(
        f"{b['grade']} ≥ {systems.num(b['min'])}" if b.get("min") is not None else b["grade"]
        for b in system.grade_bands
    )
    return [
        ["体系名称", system.name],
        ["类型", system.get_kind_display()],
        ["年度", system.year],
        ["版本", system.number],
        ["等次划分", bands],
        ["等次上限规则", json.dumps(system.caps or [], ensure_ascii=False)],
        ["加分上限", _pts(system.bonus_cap)],
        ["自评占比", _pts(system.self_share)],
        ["缺数处理", system.get_missing_policy_display()],
        ["说明", system.description],
    ]


def export_table(system: IndicatorSystem) -> bytes:
    """The system as the usual 100-point table (.xlsx), machine columns on the right, settings on sheet 2."""
    book = LedgerWorkbook()
    note = (
        f"{system.year}年 · 第{system.number}版 · {system.get_state_display()}；分值 = 全局权重 × 100。"
        f"右侧各列供导入时还原计分方式，可不填。导出时间：{timezone.localtime():%Y年%m月%d日 %H:%M}"
    )
    book.add_sheet(
        title=f"{system.year}年{system.name}评分表",
        headers=HEADERS,
        rows=table_rows(system),
        sheet_name=SHEET,
        col_widths=WIDTHS,
        note=note,
    )
    book.add_sheet(
        title=f"{system.name}：体系设置", headers=["项目", "内容"], rows=settings_rows(system),
        sheet_name=SETTINGS_SHEET, col_widths=[18, 80],
    )  # fmt: skip
    return book.to_bytes()


# --- import --------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import found (and, unless a dry run or anything is wrong, created)."""

    dry_run: bool
    errors: list[dict] = field(default_factory=list)  # {"row": n or None, "message": "…"}
    warnings: list[dict] = field(default_factory=list)
    plan: list[dict] = field(
        default_factory=list
    )  # indicator rows, parents first (see systems.plan_from_points)
    settings: dict = field(default_factory=dict)
    total_points: float = 0.0
    system: IndicatorSystem | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, row: int | None, message: str) -> None:
        self.errors.append({"row": row, "message": message})

    def warn(self, row: int | None, message: str) -> None:
        self.warnings.append({"row": row, "message": message})

    @property
    def counts(self) -> dict[str, int]:
        parents = {r["parent"] for r in self.plan if r["parent"]}
        scored = [r for r in self.plan if r["kind"] == IndicatorKind.SCORED]
        return {
            "level1": sum(1 for r in scored if r["parent"] is None),
            "leaves": sum(1 for r in scored if r["code"] not in parents),
            "bonus": sum(1 for r in self.plan if r["kind"] == IndicatorKind.BONUS),
            "veto": sum(1 for r in self.plan if r["kind"] == IndicatorKind.VETO),
        }

    def preview(self) -> list[dict]:
        """Plan rows with depth, points and a rule summary, for the preview table."""
        depth: dict[str, int] = {}
        points: dict[str, float] = {}
        out = []
        metrics = systems.allowed_metrics()
        for r in self.plan:
            d = depth[r["parent"]] + 1 if r["parent"] else 0
            depth[r["code"]] = d
            if r["kind"] == IndicatorKind.SCORED:
                points[r["code"]] = (points[r["parent"]] if r["parent"] else 100.0) * r["weight"]
            ind = _Fake(r)
            leaf = not any(x["parent"] == r["code"] for x in self.plan)
            metric = metrics.get(r["metric_name"]) if r["metric_name"] else None
            out.append({
                **r, "depth": d, "indent": range(d), "is_leaf": leaf,
                "points": points.get(r["code"]) if r["kind"] == IndicatorKind.SCORED else None,
                "summary": systems.rule_summary(ind, metric) if leaf else "",
                "kind_label": KIND_LABEL[r["kind"]],
                "source_label": dict(ValueSource.choices).get(r["source"], r["source"]),
            })  # fmt: skip
        return out


class _Fake:
    """Just enough of an Indicator for ``systems.rule_summary``."""

    def __init__(self, row: dict) -> None:
        self.__dict__.update(row)


def _read(data: bytes) -> tuple[list[list[Any]], list[list[Any]] | None]:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        if not book.sheet_names:
            raise ValidationError("文件中没有工作表。")
        main = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
        extra = None
        if SETTINGS_SHEET in book.sheet_names:
            extra = book.get_sheet_by_name(SETTINGS_SHEET).to_python(skip_empty_area=False)
        return main, extra
    except (CalamineError, ValueError, OSError, IndexError) as exc:
        raise ValidationError(
            "无法读取该文件，请确认它是 Excel 表格（.xlsx 或 .xls），且没有加密或损坏。"
        ) from exc


def _number(raw: Any) -> float | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise ValueError
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise ValueError
        return float(raw)
    text = _text(raw).replace("分", "").replace(",", "").strip()
    if not text:
        return None
    value = float(text)
    if not math.isfinite(value):
        raise ValueError
    return value


@dataclass
class _Line:
    row: int
    l1: str
    path: list[str]
    kind: str
    points: float | None
    fields: dict


def _parse_line(report: ImportReport, row_no: int, cells: dict[str, Any], l1: str) -> _Line | None:
    """One data row → a line (None when the row has an error, which is reported)."""
    name_l2 = _text(cells.get("l2"))
    kind_text = _text(cells.get("kind"))
    kind = KIND_WORDS.get(kind_text) if kind_text else None
    if kind_text and kind is None:
        kind = _choice(kind_text, IndicatorKind.choices, default=IndicatorKind.SCORED)
    if kind is None and kind_text:
        report.error(
            row_no, f"第 {row_no} 行：类别“{kind_text}”无法识别，请填写“计分指标”“加分项”或“一票否决”。"
        )
        return None
    if kind is None:
        kind = KIND_WORDS.get(l1, IndicatorKind.SCORED) if l1 in (BONUS_L1, "加分", "加分指标", VETO_L1, "一票否决项") else IndicatorKind.SCORED  # fmt: skip
    try:
        points = _number(cells.get("points"))
    except ValueError:
        report.error(
            row_no, f"第 {row_no} 行：分值“{_text(cells.get('points'))}”不是数字，请填写该项的分数。"
        )
        return None
    if kind != IndicatorKind.VETO and (points is None or points <= 0):
        what = "加分项须在“分值”填写最多可加的分数" if kind == IndicatorKind.BONUS else "分值须为大于 0 的数"
        report.error(row_no, f"第 {row_no} 行：{what}。")
        return None
    metric_name = _text(cells.get("metric_name"))
    source_text = _text(cells.get("source"))
    default_source = (
        ValueSource.METRIC if metric_name and kind != IndicatorKind.VETO else ValueSource.ASSESSOR
    )
    source = _choice(source_text, ValueSource.choices, default=default_source)
    if source is None:
        labels = "、".join(str(label) for _, label in ValueSource.choices)
        report.error(row_no, f"第 {row_no} 行：取值来源“{source_text}”无法识别，请填写：{labels}。")
        return None
    rule_kind_text = _text(cells.get("rule_kind"))
    rule_kind = _choice(rule_kind_text, RuleKind.choices, default=RuleKind.DIRECT)
    if rule_kind is None:
        labels = "、".join(str(label) for _, label in RuleKind.choices)
        report.error(row_no, f"第 {row_no} 行：计分方式“{rule_kind_text}”无法识别，请填写：{labels}。")
        return None
    rule_text = _text(cells.get("rule"))
    try:
        rule = json.loads(rule_text) if rule_text else {}
    except json.JSONDecodeError:
        report.error(
            row_no,
            f'第 {row_no} 行：计分参数不是有效的 JSON，请按导出文件的格式填写（例如 {{"per_event": 3}}），不需要时留空。',
        )
        return None
    try:
        max_score = _number(cells.get("max_score"))
    except ValueError:
        report.error(row_no, f"第 {row_no} 行：满分“{_text(cells.get('max_score'))}”不是数字。")
        return None
    if max_score is None:
        max_score = 1.0 if kind == IndicatorKind.VETO else points
    evidence_text = _text(cells.get("evidence_required"))
    if evidence_text not in ("", "是", "否", "1", "0", "TRUE", "FALSE", "true", "false"):
        report.error(row_no, f"第 {row_no} 行：“须上传佐证”请填写“是”或“否”。")
        return None
    if kind == IndicatorKind.SCORED:
        path = [p.strip() for p in name_l2.split(PATH_SEP)] if name_l2 else []
        if any(not p for p in path):
            report.error(row_no, f"第 {row_no} 行：二级指标“{name_l2}”中有空的层级名称。")
            return None
    else:
        path = []
    fields = {
        "name": (name_l2 or l1) if kind != IndicatorKind.SCORED else (path[-1] if path else l1),
        "code": _text(cells.get("code")),
        "kind": kind,
        "key_points": _text(cells.get("key_points"), keep_lines=True),
        "method_text": _text(cells.get("method_text"), keep_lines=True),
        "source": source,
        "metric_name": metric_name,
        "rule_kind": rule_kind,
        "rule": rule,
        "max_score": max_score,
        "evidence_required": evidence_text in ("是", "1", "TRUE", "true"),
    }
    return _Line(row=row_no, l1=l1, path=path, kind=kind, points=points, fields=fields)


def _header(rows: list[list[Any]]) -> tuple[int, dict[str, int]] | None:
    for index, row in enumerate(rows[:HEADER_SCAN]):
        cols: dict[str, int] = {}
        for c, cell in enumerate(row):
            key = _HEADER_KEYS.get(_norm(cell))
            if key and key not in cols:
                cols[key] = c
        if "l1" in cols and "points" in cols:
            return index, cols
    return None


class _Node:
    def __init__(self, name: str, row: int) -> None:
        self.name = name
        self.row = row
        self.children: list[_Node] = []
        self.by_name: dict[str, _Node] = {}
        self.line: _Line | None = None
        self.declared: float | None = None
        self.code = ""

    @property
    def points(self) -> float:
        if self.line is not None:
            return float(self.line.points or 0)
        return sum(c.points for c in self.children)

    def child(self, name: str, row: int) -> _Node:
        node = self.by_name.get(name)
        if node is None:
            node = self.by_name[name] = _Node(name, row)
            self.children.append(node)
        return node

    def leaves(self):
        if self.line is not None:
            yield self
        for c in self.children:
            yield from c.leaves()


def _build(report: ImportReport, lines: list[_Line], declared: dict[str, float]) -> list[dict]:
    """Group lines into the tree, derive codes and local weights; returns plan rows (parents first)."""
    tops: list[tuple[str, Any]] = []  # ("node", _Node) or ("line", _Line) in order of appearance
    groups: dict[str, _Node] = {}
    for line in lines:
        if line.kind != IndicatorKind.SCORED:
            tops.append(("line", line))
            continue
        top = groups.get(line.l1)
        if top is None:
            top = groups[line.l1] = _Node(line.l1, line.row)
            top.declared = declared.get(line.l1)
            tops.append(("node", top))
        node = top
        for name in line.path:
            node = node.child(name, line.row)
        if node.line is not None:
            report.error(line.row, f"第 {line.row} 行：指标“{node.name}”重复出现，请合并为一行或改名。")
            continue
        if node.children:
            report.error(
                line.row, f"第 {line.row} 行：指标“{node.name}”已有下级指标，不能同时作为计分的一行。"
            )
            continue
        node.line = line

    for _, top in (t for t in tops if t[0] == "node"):
        for node in _walk(top):
            if node.line is not None and node.children:
                report.error(
                    node.line.row,
                    f"第 {node.line.row} 行：“{node.name}”既作为一行计分，又有下级指标，请删去这一行或把它的下级指标移走。",
                )
        if top.declared is not None and abs(top.declared - top.points) > 1e-6:
            report.error(
                top.row,
                f"第 {top.row} 行：一级指标“{top.name}”标注 {systems.num(top.declared)} 分，"
                f"但其下各项分值合计 {systems.num(top.points)} 分，请核对。",
            )

    used = {ln.fields["code"] for ln in lines if ln.fields["code"]}
    seen_codes: dict[str, int] = {}
    for ln in lines:
        code = ln.fields["code"]
        if code and code in seen_codes:
            report.error(
                ln.row, f"第 {ln.row} 行：编号“{code}”与第 {seen_codes[code]} 行重复，请改为不同的编号。"
            )
        elif code:
            seen_codes[code] = ln.row

    def new_code(prefix: str, start: int = 1) -> str:
        n = start
        while f"{prefix}{n}" in used:
            n += 1
        used.add(f"{prefix}{n}")
        return f"{prefix}{n}"

    def derive(node: _Node, depth: int, parent_code: str | None) -> None:
        if node.line is not None:
            node.code = node.line.fields["code"] or new_code(f"{parent_code}." if parent_code else "")
            return
        candidate = ""
        for leaf in node.leaves():
            parts = leaf.line.fields["code"].split(".") if leaf.line and leaf.line.fields["code"] else []
            if len(parts) > depth + 1:
                candidate = ".".join(parts[: depth + 1])
                break
        ok = (
            candidate
            and candidate not in used
            and (parent_code is None or candidate.startswith(parent_code + "."))
        )
        if ok:
            used.add(candidate)
            node.code = candidate
        else:
            node.code = new_code(f"{parent_code}." if parent_code else "")
        for child in node.children:
            derive(child, depth + 1, node.code)

    for kind, item in tops:
        if kind == "node":
            derive(item, 0, None)
    bonus_n = veto_n = 0
    for kind, item in tops:
        if kind == "line" and not item.fields["code"]:
            if item.kind == IndicatorKind.BONUS:
                bonus_n += 1
                item.fields["code"] = new_code("B", bonus_n)
            else:
                veto_n += 1
                item.fields["code"] = new_code("V", veto_n)

    total = sum(item.points for kind, item in tops if kind == "node")
    report.total_points = total
    plan: list[dict] = []

    def emit(node: _Node, parent_code: str | None, parent_points: float, order: int) -> None:
        base = dict(node.line.fields) if node.line is not None else {
            "name": node.name, "code": node.code, "kind": IndicatorKind.SCORED, "key_points": "",
            "method_text": "", "source": ValueSource.ASSESSOR, "metric_name": "", "rule_kind": RuleKind.DIRECT,
            "rule": {}, "max_score": node.points or 1.0, "evidence_required": False,
        }  # fmt: skip
        base.update(
            code=node.code,
            name=node.name if node.line is None or node.children else base["name"],
            parent=parent_code,
            order=order,
            weight=(node.points / parent_points) if parent_points else 0.0,
            _row=node.line.row if node.line is not None else node.row,
        )
        plan.append(base)
        for n, child in enumerate(node.children, start=1):
            emit(child, node.code, node.points, n)

    for order, (kind, item) in enumerate(tops, start=1):
        if kind == "node":
            emit(item, None, total, order)
        else:
            plan.append({**item.fields, "parent": None, "order": order, "weight": 0.0, "_row": item.row})
    return plan


def _walk(node: _Node):
    yield node
    for c in node.children:
        yield from _walk(c)


def _parse_settings(report: ImportReport, rows: list[list[Any]] | None, plan: list[dict]) -> dict:
    bonus = [r["max_score"] for r in plan if r["kind"] == IndicatorKind.BONUS]
    values = {
        "grade_bands": default_bands(),
        "caps": [],
        "bonus_cap": max(bonus) if bonus else 0.0,
        "self_share": 0.4,
        "missing_policy": MissingPolicy.REDISTRIBUTE,
        "kind": SystemKind.CUSTOM,
        "description": "",
    }
    for row in rows or []:
        if len(row) < 2:
            continue
        key, raw = _text(row[0]), row[1]
        text = _text(raw, keep_lines=True)
        try:
            if key == "等次划分" and text:
                values["grade_bands"] = _parse_bands(text)
            elif key == "等次上限规则" and text:
                values["caps"] = json.loads(text)
            elif key == "加分上限" and text:
                values["bonus_cap"] = _number(raw)
            elif key == "自评占比" and text:
                values["self_share"] = _number(raw)
            elif key == "缺数处理" and text:
                policy = _choice(text, MissingPolicy.choices, default=MissingPolicy.REDISTRIBUTE)
                if policy is None:
                    raise ValueError
                values["missing_policy"] = policy
            elif key == "类型" and text:
                values["kind"] = (
                    _choice(text, SystemKind.choices, default=SystemKind.CUSTOM) or SystemKind.CUSTOM
                )
            elif key == "说明":
                values["description"] = text
        except (ValueError, json.JSONDecodeError):
            report.error(
                None,
                f"“{SETTINGS_SHEET}”工作表中“{key}”的内容“{text[:40]}”无法识别，请按导出文件的格式填写。",
            )
    return values


_BAND_RE = re.compile(r"^(.+?)\s*(?:[≥>＞]=?\s*([0-9]+(?:\.[0-9]+)?))?$")


def _parse_bands(text: str) -> list[dict]:
    out = []
    for part in re.split(r"[；;\n]", text):
        part = part.strip()
        if not part:
            continue
        m = _BAND_RE.match(part)
        if not m:
            raise ValueError
        out.append({"grade": m.group(1).strip(), "min": float(m.group(2)) if m.group(2) else None})
    return out


def import_table(data: bytes, *, actor, name: str, year: int, dry_run: bool, owner_org=None) -> ImportReport:
    """Read a 100-point table and (unless ``dry_run`` or anything is wrong) create a draft system from it."""
    report = ImportReport(dry_run=dry_run)
    name = (name or "").strip()
    if not name:
        report.error(None, "请填写体系名称。")
    if not isinstance(year, int) or not systems.FIRST_YEAR <= year <= systems.LAST_YEAR:
        report.error(None, f"年度须在 {systems.FIRST_YEAR} 至 {systems.LAST_YEAR} 之间。")
    if len(data) > MAX_BYTES:
        report.error(None, "文件超过 2 MB，评分表不应这么大，请只保留评分表和体系设置两个工作表。")
        return report
    try:
        rows, settings_sheet = _read(data)
    except ValidationError as exc:
        report.error(None, exc.messages[0])
        return report
    found = _header(rows)
    if found is None:
        report.error(
            None, "没有找到表头：前 10 行中须有一行包含“一级指标”和“分值”两列，请使用导出的评分表作为模板。"
        )
        return report
    header_index, cols = found
    body = rows[header_index + 1 :]
    if len(body) > MAX_ROWS:
        report.error(None, f"评分表超过 {MAX_ROWS} 行，请检查是否选错了文件。")
        return report
    lines: list[_Line] = []
    declared: dict[str, float] = {}
    last_l1 = ""
    for offset, raw in enumerate(body):
        row_no = header_index + 2 + offset
        cells = {f: (raw[c] if c < len(raw) else None) for f, c in cols.items()}
        if all(_text(v) == "" for v in cells.values()):
            continue
        l1_raw, l2 = _text(cells.get("l1")), _text(cells.get("l2"))
        if l1_raw in TOTAL_LABELS and not l2:
            try:
                stated = _number(cells.get("points"))
            except ValueError:
                stated = None
            if stated is not None:
                declared["__total__"] = stated
            continue
        if not l1_raw:
            if not last_l1:
                report.error(row_no, f"第 {row_no} 行：一级指标为空，上面也没有可以沿用的一级指标，请填写。")
                continue
            l1 = last_l1
        else:
            m = _POINTS_SUFFIX.match(l1_raw)
            l1 = (m.group(1).strip() if m else l1_raw) or l1_raw
            if m:
                declared[l1] = float(m.group(2))
            last_l1 = l1
        if len(l1) > 100:
            report.error(row_no, f"第 {row_no} 行：一级指标名称超过 100 个字，请缩短。")
            continue
        line = _parse_line(report, row_no, cells, l1)
        if line is not None:
            lines.append(line)
    if not lines and report.ok:
        report.error(None, "评分表中没有指标行，请在表头下面逐行填写指标。")
    if not report.ok:
        return report
    plan = _build(report, lines, declared)
    if "__total__" in declared and abs(declared["__total__"] - report.total_points) > 1e-6:
        report.error(
            None,
            f"合计行写的是 {systems.num(declared['__total__'])} 分，而各项分值合计 {systems.num(report.total_points)} 分，请核对。",
        )
    if report.total_points <= 0:
        report.error(None, "评分表中没有计分指标（只有加分项或一票否决项），请至少填写一个计分指标。")
    elif abs(report.total_points - 100) > 1e-6:
        report.warn(
            None, f"各项分值合计 {systems.num(report.total_points)} 分，不是 100 分；权重按实际合计折算。"
        )
    allowed = systems.allowed_metrics()
    for row in plan:
        fields = {k: v for k, v in row.items() if k not in ("parent", "_row")}
        try:
            systems._check_fields(fields, allowed=allowed)
            row.update(fields)
        except ValidationError as exc:
            report.error(row["_row"], f"第 {row['_row']} 行（{row['name']}）：{'；'.join(exc.messages)}")
    values = _parse_settings(report, settings_sheet, plan)
    codes = {r["code"] for r in plan}
    try:
        settings = systems._settings(
            grade_bands=values["grade_bands"], caps=values["caps"], bonus_cap=values["bonus_cap"],
            self_share=values["self_share"], missing_policy=values["missing_policy"], codes=codes,
        )  # fmt: skip
    except ValidationError as exc:
        for message in exc.messages:
            report.error(None, f"体系设置：{message}")
        settings = {}
    report.settings = {**settings, "kind": values["kind"], "description": values["description"]}
    report.plan = [{k: v for k, v in r.items() if k != "_row"} for r in plan]
    report.errors.sort(key=lambda e: (e["row"] is not None, e["row"] or 0))
    if not report.ok or dry_run:
        return report
    with transaction.atomic():
        system = IndicatorSystem.objects.create(
            name=name[:100],
            kind=values["kind"],
            year=year,
            number=systems.next_number(name, year),
            description=values["description"],
            owner_org=owner_org,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            **settings,
        )
        systems._create_tree(system, [dict(r) for r in report.plan])
        audit.record(
            actor,
            "assess_system_import",
            system,
            {"year": year, "indicators": len(report.plan), "total_points": report.total_points},
        )
    report.system = system
    return report


def group_errors(errors: list[dict]) -> dict[int | None, list[str]]:
    """Errors by row (None = the whole file), for templates."""
    out: dict[int | None, list[str]] = defaultdict(list)
    for e in errors:
        out[e["row"]].append(e["message"])
    return dict(out)
