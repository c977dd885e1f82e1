"""谈心谈话台账 (Excel): who, when, mode, status and org — never kind, tags, summary or content (T2)."""

from __future__ import annotations

from collections.abc import Iterable

from sizheng.core.xlsx import write_ledger
from sizheng.talks.models import Talk

TITLE = "谈心谈话台账"
HEADERS = ["序号", "谈话日期", "谈话人", "谈话对象", "谈话方式", "状态", "记录所在党组织"]
WIDTHS = [8, 14, 12, 30, 14, 10, 30]


def ledger_rows(talks: Iterable[Talk]):
    """One row per talk, from talks decorated with ``counterpart_list`` (see ``views.decorate``)."""
    for n, t in enumerate(talks, start=1):
        yield [
            n,
            t.held_on,
            t.initiator.name,
            "、".join(p.name for p in t.counterpart_list),
            t.get_mode_display(),
            t.get_status_display(),
            t.org.name,
        ]


def ledger_xlsx(talks: Iterable[Talk], *, note: str | None = None) -> bytes:
    """The workbook's bytes (one sheet)."""
    return write_ledger(title=TITLE, headers=HEADERS, rows=ledger_rows(talks), col_widths=WIDTHS, note=note)
