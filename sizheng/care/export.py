"""困难诉求台账 (Excel): who, org, handler, how it was opened, state and dates — never the details.

The category, tier, description and action notes are T2 (ARCHITECTURE §5) and never reach an
export; the rows are built from cases loaded with ``metadata_only()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.utils import timezone

from sizheng.care.models import CareCase
from sizheng.core.xlsx import write_ledger

TITLE = "困难诉求台账"
HEADERS = [
    "序号",
    "受理日期",
    "当事人",
    "单位",
    "党组织",
    "来源",
    "承办方",
    "承办党组织",
    "状态",
    "办理天数",
    "解决日期",
    "回访日期",
    "满意度（1-5）",
    "重新打开次数",
    "长期困难",
    "下次复核日期",
]
WIDTHS = [6, 12, 10, 14, 28, 18, 12, 28, 8, 10, 12, 12, 12, 12, 10, 14]


def _day(moment):
    return timezone.localtime(moment).date() if moment else None


def ledger_rows(cases: Iterable[CareCase], now=None) -> Iterator[list[Any]]:
    """One row per case, metadata only."""
    now = now or timezone.now()
    for n, c in enumerate(cases, start=1):
        end = c.resolved_at or now
        yield [
            n,
            _day(c.opened_at),
            c.person.name,
            c.unit.short_name or c.unit.name,
            c.org.name if c.org_id else "",
            c.get_opened_via_display(),
            c.get_handler_display(),
            c.handler_org.name,
            c.get_state_display(),
            max(0, (end - c.opened_at).days),
            _day(c.resolved_at),
            _day(c.followed_up_at),
            c.satisfaction,
            c.reopen_count,
            c.is_ongoing,
            c.recheck_on,
        ]


def ledger_xlsx(cases: Iterable[CareCase], *, note: str | None = None) -> bytes:
    """The ledger workbook of these cases (load them with ``metadata_only()``)."""
    return write_ledger(title=TITLE, headers=HEADERS, rows=ledger_rows(cases), col_widths=WIDTHS, note=note)
