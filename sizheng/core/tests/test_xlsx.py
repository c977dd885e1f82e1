"""Tests for the ledger writer (sizheng.core.xlsx)."""

import datetime as dt
import io
import zipfile
from decimal import Decimal
from urllib.parse import unquote
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from sizheng.core.xlsx import (
    XLSX_CONTENT_TYPE,
    LedgerWorkbook,
    cell_value,
    neutralise,
    write_ledger,
    xlsx_response,
)

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
INJECTIONS = ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=x", "\r=y"]
AWARE = dt.datetime(2026, 11, 29, 1, 30, tzinfo=dt.UTC)  # 09:30 in Beijing


def _calamine_rows(data: bytes, index: int = 0) -> list[list]:
    """A sheet read back with python-calamine."""
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(index).to_python()


def _sample() -> bytes:
    """A ledger with injection strings, typed values and a note row."""
    rows = [
        [*INJECTIONS],
        [Decimal("12.50"), dt.date(2026, 11, 29), AWARE, None, True, False],
        [-7, -2.5, "普通文字", "#N/A", 3, "'already quoted"],
    ]
    return write_ledger(
        title="谈心谈话台账",
        headers=["甲", "乙", "丙", "丁", "戊", "己"],
        rows=rows,
        note="导出时间：2026年11月29日 导出人：张三",
    )


def test_it_neutralises_formula_injection_with_a_quote_prefix():
    rows = _calamine_rows(_sample())
    assert rows[3] == ["'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)", "'\t=x", "'\r=y"]


def test_it_never_writes_a_formula_cell():
    ws = openpyxl.load_workbook(io.BytesIO(_sample())).active
    cells = [cell for row in ws.iter_rows() for cell in row]
    assert cells, "the sheet must not be empty"
    assert all(cell.data_type != "f" for cell in cells)
    injected = list(ws[4])
    assert all(cell.data_type == "s" and cell.value.startswith("'") for cell in injected)


def test_it_puts_title_note_and_header_in_place_and_freezes_below_the_header():
    ws = openpyxl.load_workbook(io.BytesIO(_sample())).active
    assert ws["A1"].value == "谈心谈话台账"
    assert ws["A1"].font.b
    assert ws["A2"].value == "导出时间：2026年11月29日 导出人：张三"
    assert [c.value for c in ws[3]] == ["甲", "乙", "丙", "丁", "戊", "己"]
    assert all(c.font.b for c in ws[3])
    assert ws.freeze_panes == "A4"
    assert "A1:F1" in {str(r) for r in ws.merged_cells.ranges}


def test_it_puts_the_header_on_row_two_without_a_note():
    data = write_ledger(title="台账", headers=["姓名"], rows=[["张三"]])
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert [ws["A1"].value, ws["A2"].value, ws["A3"].value] == ["台账", "姓名", "张三"]
    assert ws.freeze_panes == "A3"


def test_it_keeps_numbers_dates_and_converts_other_values():
    rows = _calamine_rows(_sample())
    decimal_, date_, aware, empty, yes, no = rows[4]
    assert decimal_ == 12.5
    assert date_ == dt.date(2026, 11, 29)
    assert aware == dt.datetime(2026, 11, 29, 9, 30)
    assert (empty, yes, no) == ("", "是", "否")
    negative_int, negative_float, text, error_text, number, quoted = rows[5]
    assert (negative_int, negative_float) == (-7, -2.5)
    assert isinstance(negative_int, int | float)
    assert (text, error_text, number, quoted) == ("普通文字", "#N/A", 3, "'already quoted")


def test_it_stores_numbers_as_numbers_and_dates_with_a_date_format():
    ws = openpyxl.load_workbook(io.BytesIO(_sample())).active
    decimal_, date_, aware = ws["A5"], ws["B5"], ws["C5"]
    assert decimal_.data_type == "n" and decimal_.value == 12.5
    assert date_.is_date and date_.number_format == "yyyy-mm-dd"
    assert aware.is_date and aware.value == dt.datetime(2026, 11, 29, 9, 30)
    assert ws["A6"].data_type == "n" and ws["A6"].value == -7
    assert ws["D6"].data_type == "s"  # "#N/A" stays text, not an Excel error value


def test_it_drops_characters_xml_forbids():
    data = write_ledger(title="台\x00账", headers=["a"], rows=[["正\x01常\x0b文\ufffe字\ud800"]])
    rows = _calamine_rows(data)
    assert rows[0][0] == "台账"
    assert rows[2][0] == "正常文字"


def test_it_streams_a_fifty_thousand_row_ledger():
    def rows():
        """Rows produced lazily, never held in a list."""
        yield from ([i] for i in range(50_000))

    data = write_ledger(title="大台账", headers=["序号"], rows=rows())
    table = _calamine_rows(data)
    assert len(table) == 2 + 50_000
    assert table[-1] == [49_999]


def test_it_writes_several_sheets_with_unique_valid_names():
    book = LedgerWorkbook()
    book.add_sheet(title="学习台账", headers=["a"], rows=[[1]])
    book.add_sheet(title="学习台账", headers=["b"], rows=[[2]])
    book.add_sheet(title="x", sheet_name="名称/含[非法]字符:*?" + "长" * 40, headers=["c"], rows=[])
    data = book.to_bytes()
    names = CalamineWorkbook.from_filelike(io.BytesIO(data)).sheet_names
    assert names[:2] == ["学习台账", "学习台账(2)"]
    assert len(names[2]) <= 31 and not set("/[]:*?\\") & set(names[2])
    assert _calamine_rows(data, 1)[2] == [2]
    assert book.to_bytes() == data


def test_it_refuses_a_sheet_after_export_and_an_empty_workbook():
    with pytest.raises(ValueError, match="至少需要一个工作表"):
        LedgerWorkbook().to_bytes()
    book = LedgerWorkbook()
    book.add_sheet(title="t", headers=["a"], rows=[])
    book.to_bytes()
    with pytest.raises(RuntimeError, match="已经导出"):
        book.add_sheet(title="u", headers=["a"], rows=[])


def test_it_rejects_column_widths_that_do_not_match_the_headers():
    with pytest.raises(ValueError, match="列宽"):
        write_ledger(title="t", headers=["a", "b"], rows=[], col_widths=[10])


def test_it_maps_values_it_cannot_store_to_empty_cells():
    assert cell_value(float("nan")) is None
    assert cell_value(Decimal("Infinity")) is None
    naive = dt.datetime(2026, 1, 1, 8, 0)
    assert cell_value(naive) == naive
    shanghai = dt.datetime(2026, 1, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert cell_value(shanghai) == naive


def test_it_serves_a_download_with_an_rfc5987_chinese_filename():
    response = xlsx_response(b"PK", "谈心谈话台账")
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    prefix, _, encoded = disposition.partition("filename*=")
    assert encoded.lower().startswith("utf-8''")
    assert unquote(encoded[len("utf-8''") :]) == "谈心谈话台账.xlsx"
    assert response.content == b"PK"


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=40))
def test_it_never_writes_any_text_as_a_formula(text):
    data = write_ledger(title="t", headers=["h"], rows=[[text]])
    # Read the sheet XML itself: a formula would be an <f> element or a t="str"/"e" cell.
    sheet = ElementTree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml"))
    cells = [c for c in sheet.iter(f"{{{MAIN_NS}}}c") if c.get("r") == "A3"]
    assert all(c.find(f"{{{MAIN_NS}}}f") is None and c.get("t") == "inlineStr" for c in cells)
    stored = "".join(cells[0].itertext()) if cells else ""
    assert not stored.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert stored == neutralise(text)


_XML_LEGAL_TEXT = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc", "Cn")) | st.sampled_from("\t\r\n"), max_size=30
)


@given(_XML_LEGAL_TEXT)
def test_it_quotes_exactly_the_trigger_prefixes(text):
    expected = "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
    assert neutralise(text) == expected
