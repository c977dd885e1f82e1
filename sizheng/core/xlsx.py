"""Ledger (台账) writer: streaming .xlsx export with openpyxl in write-only mode.

Every sheet has the same shape: a bold title row (merged across the header width), an optional
note row ("导出时间：… 导出人：…"), a bold header row with the pane frozen below it, then the
data rows, which are streamed — ``rows`` may be any iterable, it is never materialised.

Cell values are normalised by :func:`cell_value`: numbers (int, float, Decimal) stay numbers,
dates are formatted ``yyyy-mm-dd``, aware datetimes are shown in Asia/Shanghai wall time, None is
an empty cell, booleans become 是/否, and every string is made safe against formula injection
(CSV/formula injection, OWASP): a leading ``= + - @ \\t \\r`` gets a ``'`` prefix and the cell is
always written as a plain string, never as a formula or an error value.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The organ works in Beijing time (settings.TIME_ZONE); Excel has no notion of time zones.
EXCEL_TZ = ZoneInfo("Asia/Shanghai")

# Characters that make Excel, LibreOffice or WPS read a typed or re-edited cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# Excel refuses cells longer than this; a longer text would make the file "need repair".
MAX_CELL_CHARS = 32767

# XML 1.0 forbids these code points (C0 controls other than tab/LF/CR, lone surrogates,
# U+FFFE/U+FFFF); openpyxl would raise on them, so they are dropped.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# Control characters and path separators never belong in a download name.
_FILENAME_ILLEGAL = re.compile(r"[\x00-\x1f\x7f/\\]")

# Excel sheet names: at most 31 characters, none of []:*?/\ .
_SHEET_NAME_ILLEGAL = re.compile(r"[\[\]:*?/\\]")
_SHEET_NAME_MAX = 31

_TITLE_FONT = Font(bold=True, size=14)
_NOTE_FONT = Font(size=10, color="595959")
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")
_THIN = Side(style="thin", color="808080")
_HEADER_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_ALIGNMENT = Alignment(horizontal="center", vertical="center", wrap_text=True)


def neutralise(text: str) -> str:
    """Return ``text`` cleaned for a cell: illegal XML characters dropped, formula triggers quoted."""
    text = _XML_ILLEGAL.sub("", text)
    if text.startswith(FORMULA_TRIGGERS):
        text = "'" + text
    return text[:MAX_CELL_CHARS]


def cell_value(value: Any) -> Any:
    """Convert one Python value into what the ledger stores in a cell (see the module docstring)."""
    kind = type(value)
    # Exact-type fast paths first: ledgers stream hundreds of thousands of cells.
    if kind is str:
        return neutralise(value)
    if kind is int:
        return value
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        # NaN and infinities have no Excel representation and would corrupt the file.
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            return value.astimezone(EXCEL_TZ).replace(tzinfo=None)
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date | dt.time):
        return value
    return neutralise(str(value))


def _display_width(text: str) -> int:
    """Approximate column width in Excel units: CJK characters count as two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _sheet_name(raw: str, taken: set[str], index: int) -> str:
    """Return a valid, unique (case-insensitively) Excel sheet name derived from ``raw``."""
    name = _SHEET_NAME_ILLEGAL.sub("_", _XML_ILLEGAL.sub("", raw)).strip().strip("'")
    name = name[:_SHEET_NAME_MAX] or f"Sheet{index}"
    candidate, n = name, 2
    while candidate.casefold() in taken:
        suffix = f"({n})"
        candidate = name[: _SHEET_NAME_MAX - len(suffix)] + suffix
        n += 1
    taken.add(candidate.casefold())
    return candidate


class LedgerWorkbook:
    """A workbook of one or more ledger sheets, streamed to disk-backed buffers as they are added."""

    def __init__(self) -> None:
        """Start an empty write-only workbook."""
        self._wb = Workbook(write_only=True)
        self._wb.properties.creator = "Sizheng"
        self._names: set[str] = set()
        self._sheets = 0
        self._data: bytes | None = None

    def _cell(self, ws, value: Any, *, font=None, fill=None, border=None, alignment=None) -> WriteOnlyCell:
        """A styled write-only cell holding ``cell_value(value)``; strings always stay strings."""
        cell = WriteOnlyCell(ws, value=cell_value(value))
        if isinstance(cell.value, str):
            cell.data_type = "s"
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        if border is not None:
            cell.border = border
        if alignment is not None:
            cell.alignment = alignment
        return cell

    def add_sheet(
        self,
        *,
        title: str,
        headers: Sequence[str],
        rows: Iterable[Sequence[Any]],
        sheet_name: str | None = None,
        col_widths: Sequence[float] | None = None,
        note: str | None = None,
    ) -> None:
        """Write one ledger sheet: title row, optional note row, frozen header row, streamed rows."""
        if self._data is not None:
            raise RuntimeError("工作簿已经导出，不能再添加工作表。")
        headers = list(headers)
        if col_widths is not None and len(col_widths) != len(headers):
            raise ValueError("列宽的个数必须与表头的列数一致。")
        self._sheets += 1
        ws = self._wb.create_sheet(_sheet_name(sheet_name or title, self._names, self._sheets))

        # Write-only sheets emit their settings with the first row, so everything is set up first.
        widths = col_widths or [min(60, max(10, _display_width(str(h)) + 4)) for h in headers]
        for index, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(index)].width = width
        header_row = 3 if note else 2
        ws.freeze_panes = f"A{header_row + 1}"
        ws.print_title_rows = f"{header_row}:{header_row}"
        if len(headers) > 1:
            ws.merged_cells.add(CellRange(min_col=1, min_row=1, max_col=len(headers), max_row=1))
            if note:
                ws.merged_cells.add(CellRange(min_col=1, min_row=2, max_col=len(headers), max_row=2))

        ws.append([self._cell(ws, title, font=_TITLE_FONT)])
        if note:
            ws.append([self._cell(ws, note, font=_NOTE_FONT)])
        ws.append(
            [
                self._cell(
                    ws,
                    h,
                    font=_HEADER_FONT,
                    fill=_HEADER_FILL,
                    border=_HEADER_BORDER,
                    alignment=_HEADER_ALIGNMENT,
                )
                for h in headers
            ]
        )
        for row in rows:
            ws.append([self._row_value(ws, v) for v in row])

    def _row_value(self, ws, value: Any) -> Any:
        """A data cell: the plain value where openpyxl infers the type right, else a forced-string cell."""
        converted = cell_value(value)
        if isinstance(converted, str) and converted.startswith("#") and converted in ERROR_CODES:
            # openpyxl would store "#N/A" and the like as Excel error values, not as the user's text.
            return self._cell(ws, converted)
        return converted

    def to_bytes(self) -> bytes:
        """Return the .xlsx file; the workbook is closed afterwards (later calls return the same bytes)."""
        if self._data is None:
            if self._sheets == 0:
                raise ValueError("工作簿中至少需要一个工作表。")
            buffer = io.BytesIO()
            self._wb.save(buffer)
            self._data = buffer.getvalue()
        return self._data


def write_ledger(
    *,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    sheet_name: str | None = None,
    col_widths: Sequence[float] | None = None,
    note: str | None = None,
) -> bytes:
    """Write a one-sheet ledger and return the .xlsx bytes."""
    book = LedgerWorkbook()
    book.add_sheet(
        title=title, headers=headers, rows=rows, sheet_name=sheet_name, col_widths=col_widths, note=note
    )
    return book.to_bytes()


def xlsx_response(data: bytes, filename: str):
    """Return a Django HttpResponse serving ``data`` as an attachment (RFC 5987 name for Chinese)."""
    from django.http import HttpResponse
    from django.utils.http import content_disposition_header

    filename = _FILENAME_ILLEGAL.sub("", filename).strip() or "台账"
    if not filename.lower().endswith(".xlsx"):
        filename += ".xlsx"
    response = HttpResponse(data, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response
