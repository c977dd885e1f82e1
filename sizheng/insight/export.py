"""Survey results as an Excel workbook, with exactly the suppression of the page and the API.

Three sheets over the groups the viewer may see: 参与情况 (respondents, audience, rate),
维度得分 (the group × dimension index), 题目分布 (one row per question, group and answer column).
A suppressed group has one row per sheet (and per question) saying "＊ 人数不足，不予显示" and no
number at all. No free text is exported: comments are read on the page, scrubbed, for groups ≥ k.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from sizheng.core.xlsx import LedgerWorkbook
from sizheng.insight import results as R

PARTICIPATION_HEADERS = ["统计组编号", "统计组", "上级统计组", "调查对象人数", "作答人数", "参与率（%）"]
QUESTION_HEADERS = [
    "题号",
    "题目",
    "题型",
    "统计组编号",
    "统计组",
    "作答人数",
    "选项",
    "人数",
    "占比（%）",
    "平均分",
]


def results_xlsx(wr: R.WaveResults, groups: Iterable[str], *, exported_by: str = "") -> bytes:
    """The workbook of one closed wave over the given (visible) groups."""
    tree = R.group_tree(wr.groups, groups)
    names = {g.id: g.name for g in wr.groups}
    book = LedgerWorkbook()
    note = (
        f"{wr.wave.label}；导出时间：{timezone.localtime():%Y年%m月%d日 %H:%M}"
        + (f"；导出人：{exported_by}" if exported_by else "")
        + f"；人数少于 {wr.k} 人的统计组，以及为防止推算而一并隐藏的统计组，均不显示数字。"
    )
    title = f"{wr.survey.title} · {wr.wave.label}"

    def participation_rows():
        for item in tree:
            row = wr.group(item["id"])
            parent = names.get(item["parent_id"], "") if item["parent_id"] else ""
            if row.n is None:
                yield [row.id, row.name, parent, None, R.SUPPRESSED_TEXT, None]
            else:
                yield [row.id, row.name, parent, row.audience, row.n, R.percent(row.n, row.audience)]

    book.add_sheet(
        title=f"{title} 参与情况",
        sheet_name="参与情况",
        headers=PARTICIPATION_HEADERS,
        rows=participation_rows(),
        note=note,
    )

    def dimension_rows():
        for item in tree:
            row = wr.group(item["id"])
            if row.n is None:
                yield [row.id, row.name, R.SUPPRESSED_TEXT, *([None] * len(wr.dimensions))]
            else:
                yield [row.id, row.name, row.n, *(d.index.get(row.id) for d in wr.dimensions)]

    book.add_sheet(
        title=f"{title} 维度得分（0—100）",
        sheet_name="维度得分",
        headers=["统计组编号", "统计组", "作答人数", *(d.name for d in wr.dimensions)],
        rows=dimension_rows(),
        note=note,
    )

    def question_rows():
        for q in wr.questions:
            for item in tree:
                gid = item["id"]
                head = [f"第{q.number}题", q.text, q.kind_label, gid, item["name"]]
                row = q.rows.get(gid)
                if row is None:
                    yield [*head, R.SUPPRESSED_TEXT, None, None, None, None]
                    continue
                n = row[R.TOTAL]
                mean = q.means.get(gid)
                for i, c in enumerate(q.columns):
                    yield [*head, n, c.label, row[c.key], R.percent(row[c.key], n), mean if i == 0 else None]

    book.add_sheet(
        title=f"{title} 题目分布",
        sheet_name="题目分布",
        headers=QUESTION_HEADERS,
        rows=question_rows(),
        note=note,
    )
    return book.to_bytes()
