"""Reading real office rosters: header detection and variants, dates, IDs, blank lines (no database)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from sizheng.org import roster
from sizheng.org.idcard import make_id_number
from sizheng.org.models import Person, PoliticalStatus

HEADER = ["姓名", "性别", "出生日期", "公民身份证号", "政治面貌", "工作单位", "所在党组织"]
ID_1 = make_id_number("110101", dt.date(1980, 3, 4), 11)
ID_X = next(  # an ID whose check character is X, to test the lower-case x
    make_id_number("110101", dt.date(1981, 1, 1), n) for n in range(1000)
    if make_id_number("110101", dt.date(1981, 1, 1), n).endswith("X")
)  # fmt: skip
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def xlsx(rows: list[list], *, titles: tuple[str, ...] = ()) -> bytes:
    """A small .xlsx: optional title rows, then the rows as given (None/[] is a blank line)."""
    wb = Workbook()
    ws = wb.active
    for title in titles:
        ws.append([title])
    for row in rows:
        ws.append(row or [])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def xls(rows: list[list]) -> bytes:
    """The same as an .xls (BIFF8) file, written with xlwt."""
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook()
    sheet = book.add_sheet("名册")
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for r, row in enumerate(rows):
        for c, value in enumerate(row or []):
            if isinstance(value, dt.date):
                sheet.write(r, c, value, date_style)
            else:
                sheet.write(r, c, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- headers ------------------------------------------------------------------------------------


def test_it_finds_the_header_below_title_rows_and_numbers_rows_as_the_sheet_does():
    data = xlsx(
        [HEADER, ["张三", "男", "1980.03", ID_1, "党员", "市财政局", "A1"]],
        titles=("市财政局干部名册", "填报日期：2026年3月"),
    )
    parsed = roster.parse_roster(data)
    assert parsed.errors == []
    assert parsed.header_row == 3
    assert [r.row for r in parsed.rows] == [4]
    assert parsed.rows[0].values["name"] == "张三"


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("出生年月", "birth_date"), ("出生日期", "birth_date"), ("出生年月日", "birth_date"),
        ("入党时间", "joined_on"), ("入党日期", "joined_on"), ("转正时间", "confirmed_on"), ("转正日期", "confirmed_on"),
        ("参加工作时间", "work_started_on"), ("参加工作日期", "work_started_on"),
        ("公民身份证号", "id_number"), ("身份证号", "id_number"), ("身份证号码", "id_number"),
        ("联系电话", "phone"), ("手机号", "phone"), ("手机", "phone"),
        ("所在党组织", "org"), ("所在党支部", "org"), ("党组织", "org"),
        ("职务/职级", "position"), ("职务", "position"), ("职级", "position"),
        ("工作单位", "unit"), ("单位", "unit"), ("处室", "office"), ("部门", "office"), ("内设机构", "office"),
        (" 姓 名 ", "name"), ("出生年月（年.月）", "birth_date"), ("职务（职级）", "position"), ("手机号*", "phone"),
        ("\u3000身份证号\u3000", "id_number"), ("领导班子成员", "is_leader"), ("序号", ""), ("爱好", None),
    ],
)  # fmt: skip
def test_it_maps_header_variants_ignoring_spaces_and_full_width_parentheses(header, field):
    assert roster.header_field(header) == field


def test_it_lists_unknown_and_repeated_columns_as_warnings():
    data = xlsx(
        [
            ["序号", "姓名", "身份证号", "职务", "职级", "爱好"],
            [1, "张三", ID_1, "处长", "一级调研员", "书法"],
        ]
    )
    parsed = roster.parse_roster(data)
    assert parsed.errors == []
    assert parsed.rows[0].values["position"] == "处长"
    assert {(w["row"], w["column"]) for w in parsed.warnings} == {(1, "职级"), (1, "爱好")}
    assert all("忽略" in w["message"] or "只读取" in w["message"] for w in parsed.warnings)


def test_it_reports_a_file_without_a_header_or_without_the_id_column():
    no_header = roster.parse_roster(xlsx([["随便写点什么"], ["张三", "男"]]))
    assert no_header.errors[0]["row"] is None and "没有找到表头" in no_header.errors[0]["message"]
    no_id = roster.parse_roster(xlsx([["姓名", "性别", "出生日期"], ["张三", "男", "1980.03"]]))
    assert len(no_id.errors) == 1 and "公民身份证号" in no_id.errors[0]["message"]


def test_it_rejects_a_file_that_is_not_a_spreadsheet():
    parsed = roster.parse_roster(b"%PDF-1.7 not a spreadsheet")
    assert parsed.errors == [roster.issue(None, "", parsed.errors[0]["message"])]
    assert "无法读取该文件" in parsed.errors[0]["message"]


# --- cells ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1990.05", (dt.date(1990, 5, 1), True)), ("1990.5", (dt.date(1990, 5, 1), True)),
        ("1990-5-3", (dt.date(1990, 5, 3), False)), ("1990/5/3", (dt.date(1990, 5, 3), False)),
        ("1990年5月3日", (dt.date(1990, 5, 3), False)), ("1990年5月", (dt.date(1990, 5, 1), True)),
        ("1990年05月", (dt.date(1990, 5, 1), True)), ("1990.5.3", (dt.date(1990, 5, 3), False)),
        ("１９９０．０５", (dt.date(1990, 5, 1), True)), ("１９９０年５月３日", (dt.date(1990, 5, 3), False)),
        (" 1990 - 05 - 03 ", (dt.date(1990, 5, 3), False)), ("\u30001990.05\u3000", (dt.date(1990, 5, 1), True)),
        ("19900503", (dt.date(1990, 5, 3), False)), ("199005", (dt.date(1990, 5, 1), True)),
        ("1990-05-03 00:00:00", (dt.date(1990, 5, 3), False)),
        (dt.date(1990, 5, 3), (dt.date(1990, 5, 3), False)), (dt.datetime(1990, 5, 3, 8, 30), (dt.date(1990, 5, 3), False)),
        (32996.0, (dt.date(1990, 5, 3), False)), (32996, (dt.date(1990, 5, 3), False)),
        (1990.05, (dt.date(1990, 5, 1), True)), (1990.12, (dt.date(1990, 12, 1), True)),
    ],
)  # fmt: skip
def test_it_parses_the_date_formats_of_office_rosters(value, expected):
    assert roster.parse_date(value) == expected


@pytest.mark.parametrize(
    "value", ["1990", "1990年", 1990.0, "1990.13", "1990-02-30", "去年", "1850.01", "90.5", dt.time(8)]
)
def test_it_rejects_dates_it_cannot_read_with_a_chinese_message(value):
    with pytest.raises(roster.CellError) as exc:
        roster.parse_date(value)
    assert "日期" in str(exc.value) or "年份" in str(exc.value)


@given(st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2099, 12, 31)))
def test_it_reads_every_day_in_every_written_form(day):
    forms = [
        f"{day:%Y-%m-%d}", f"{day.year}-{day.month}-{day.day}", f"{day.year}/{day.month}/{day.day}",
        f"{day.year}年{day.month}月{day.day}日", f"{day:%Y.%m.%d}", f"{day:%Y%m%d}",
        f"{day:%Y-%m-%d}".translate(FULL_WIDTH), day,
    ]  # fmt: skip
    if day >= dt.date(1906, 1, 1):  # smaller serials (1900–2100) read as a bare year, which is refused
        forms.append((day - dt.date(1899, 12, 30)).days)
    for form in forms:
        assert roster.parse_date(form) == (day, False), form


@given(st.integers(1900, 2100), st.integers(1, 12))
def test_it_reads_every_month_as_month_precision_on_day_one(year, month):
    for form in (
        f"{year}.{month:02d}",
        f"{year}.{month}",
        f"{year}年{month}月",
        f"{year}-{month:02d}",
        f"{year}{month:02d}",
    ):
        assert roster.parse_date(form) == (dt.date(year, month, 1), True), form


@given(st.text(alphabet=st.sampled_from("ab张三 \u3000\t\xa0'=1."), max_size=12))
def test_it_cleans_text_idempotently_without_outer_or_double_spaces(text):
    cleaned = roster.clean_text(text)
    assert roster.clean_text(cleaned) == cleaned or cleaned.startswith("'")
    assert cleaned == cleaned.strip() and "  " not in cleaned and "\u3000" not in cleaned


def test_it_reads_ids_with_full_width_digits_spaces_and_lower_case_x():
    assert roster.parse_id_number(ID_X.lower()) == ID_X
    assert roster.parse_id_number(" " + ID_1.translate(FULL_WIDTH) + "\u3000") == ID_1
    assert roster.parse_id_number(f"{ID_1[:6]} {ID_1[6:14]} {ID_1[14:]}") == ID_1


def test_it_refuses_ids_that_excel_turned_into_numbers_or_that_are_masked():
    with pytest.raises(roster.CellError, match="文本"):
        roster.parse_id_number(float(ID_1))
    with pytest.raises(roster.CellError, match="脱敏"):
        roster.parse_id_number("110***********1234")


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("中共党员", PoliticalStatus.CPC_MEMBER), ("党员", PoliticalStatus.CPC_MEMBER),
        ("预备党员", PoliticalStatus.CPC_PROBATIONARY), ("中共预备党员", PoliticalStatus.CPC_PROBATIONARY),
        ("团员", PoliticalStatus.CYL_MEMBER), ("共青团员", PoliticalStatus.CYL_MEMBER), (" 群 众 ", PoliticalStatus.MASSES),
        ("九三学社社员", PoliticalStatus.JIUSAN), ("无党派人士", PoliticalStatus.NON_PARTY),
    ],
)  # fmt: skip
def test_it_maps_political_status_text(text, status):
    assert roster.parse_status(text) == status


def test_it_explains_an_unknown_status_gender_or_yes_no():
    with pytest.raises(roster.CellError, match="中共党员、中共预备党员"):
        roster.parse_status("党外人士")
    with pytest.raises(roster.CellError, match="男.*女"):
        roster.parse_gender("未知")
    with pytest.raises(roster.CellError, match="是.*否"):
        roster.parse_bool("也许")
    assert roster.parse_gender(" 女 ") == Person.Gender.FEMALE
    assert roster.parse_bool("是") is True and roster.parse_bool(False) is False


def test_it_removes_padding_spaces_inside_chinese_names_and_the_export_formula_quote():
    assert roster.clean_name("王\u3000芳") == "王芳"
    assert roster.clean_name(" 欧阳  修 ") == "欧阳修"
    assert roster.clean_name("Mary  Smith") == "Mary Smith"
    assert roster.clean_text("'=SUM(A1)") == "=SUM(A1)"
    assert roster.clean_text("'普通文字") == "'普通文字"
    assert roster.clean_text(13800001234.0) == "13800001234"


# --- rows -----------------------------------------------------------------------------------------


def test_it_skips_blank_lines_and_footnotes_but_keeps_row_numbers():
    rows = [
        ["序号", *HEADER],
        [1, "张三", "男", "1980.03", ID_1, "党员", "市财政局", "A1"],
        [],
        ["", "  ", "\u3000"],
        ["填表人：李四"],
        [2, "王\u3000芳", "女", dt.date(1981, 1, 1), ID_X.lower(), "群众", "市财政局", ""],
    ]
    parsed = roster.parse_roster(xlsx(rows, titles=("名册",)))
    assert parsed.errors == []
    assert [(r.row, r.values["name"]) for r in parsed.rows] == [(3, "张三"), (7, "王芳")]
    assert parsed.rows[1].values["id_number"] == ID_X
    assert "org" not in parsed.rows[1].values  # blank cells are absent, not ""
    assert [w["row"] for w in parsed.warnings] == [6]


def test_it_reports_bad_cells_with_the_row_and_the_files_header_text():
    rows = [
        ["姓名", "性别", "出生年月", "身份证号", "政治面貌"],
        ["张三", "男", "1980.13", ID_1, "党员"],
        ["李四", "未知", "1980.03", "110***********1234", "党外"],
    ]
    parsed = roster.parse_roster(xlsx(rows))
    assert {(e["row"], e["column"]) for e in parsed.errors} == {
        (2, "出生年月"), (3, "性别"), (3, "身份证号"), (3, "政治面貌"),
    }  # fmt: skip
    assert all(e["message"].endswith("。") for e in parsed.errors)


def test_it_marks_masked_phones_and_warns_about_ambiguous_month_numbers():
    rows = [["姓名", "身份证号", "手机", "入党时间"], ["张三", ID_1, "138****1234", 2001.1]]
    parsed = roster.parse_roster(xlsx(rows))
    record = parsed.rows[0]
    assert "phone" not in record.values and record.masked == {"phone"}
    assert record.values["joined_on"] == (dt.date(2001, 1, 1), True)
    assert {w["column"] for w in parsed.warnings} == {"手机", "入党时间"}


def test_it_reads_xls_files_too():
    data = xls(
        [["干部名册"], [], HEADER, ["张三", "男", dt.date(1980, 3, 4), ID_1, "党员", "市财政局", "A1"]]
    )
    parsed = roster.parse_roster(data)
    assert parsed.errors == []
    assert parsed.header_row == 3
    assert parsed.rows[0].row == 4
    assert parsed.rows[0].values["birth_date"] == (dt.date(1980, 3, 4), False)
    assert parsed.rows[0].values["id_number"] == ID_1


def test_it_reads_from_a_path_and_from_a_file_object(tmp_path):
    data = xlsx([HEADER, ["张三", "男", "1980.03", ID_1, "党员", "市财政局", "A1"]])
    path = tmp_path / "名册.xlsx"
    path.write_bytes(data)
    assert roster.parse_roster(path).rows[0].values["name"] == "张三"
    assert roster.parse_roster(io.BytesIO(data)).rows[0].values["name"] == "张三"
    missing = roster.parse_roster(tmp_path / "没有这个文件.xlsx")
    assert "找不到" in missing.errors[0]["message"] or "无法读取" in missing.errors[0]["message"]
