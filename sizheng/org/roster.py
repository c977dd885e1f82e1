"""Reading office roster spreadsheets (.xlsx / .xls): header detection, cell parsing, per-row errors.

Pure functions, no database: ``parse_roster`` turns a workbook into :class:`RosterRow` records of
parsed values keyed by ``Person`` field names, plus Chinese errors and warnings of the shape
``{"row": <row number as the spreadsheet shows it>, "column": "<header text in the file>",
"message": "…"}``. Matching units, offices and orgs, and every check that needs the database, is
``importer.py``'s job. The export (``export.py``) writes the same columns this module reads.

Real rosters are messy: title rows above the header, header variants (出生年月 / 出生日期 …),
dates typed as 1990.05, 1990-5-3, 1990年5月3日, Excel serials or full-width digits, names padded
with full-width spaces, 身份证号 with a lower-case x — all of that is accepted here.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sizheng.org.models import Person, PoliticalStatus

# (field, the header the export writes, the variants real rosters use).
COLUMNS: list[tuple[str, str, tuple[str, ...]]] = [
    ("name", "姓名", ("姓名", "名字")),
    ("gender", "性别", ("性别",)),
    ("ethnicity", "民族", ("民族",)),
    ("native_place", "籍贯", ("籍贯",)),
    ("birth_date", "出生日期", ("出生日期", "出生年月", "出生年月日", "出生时间")),
    (
        "id_number",
        "公民身份证号",
        (
            "公民身份证号",
            "公民身份证号码",
            "公民身份号码",
            "身份证号",
            "身份证号码",
            "身份证",
            "身份证件号码",
        ),
    ),
    ("education", "学历", ("学历", "文化程度", "最高学历")),
    ("work_started_on", "参加工作日期", ("参加工作日期", "参加工作时间")),
    ("joined_on", "入党日期", ("入党日期", "入党时间")),
    ("confirmed_on", "转正日期", ("转正日期", "转正时间")),
    ("political_status", "政治面貌", ("政治面貌",)),
    ("unit", "工作单位", ("工作单位", "单位", "所在单位", "单位名称")),
    ("office", "处室", ("处室", "部门", "内设机构", "所在处室", "所在部门")),
    ("org", "所在党组织", ("所在党组织", "所在党支部", "党组织", "党支部", "所在支部")),
    ("position", "职务/职级", ("职务/职级", "职务", "职级", "职务职级")),
    ("category", "人员类别", ("人员类别", "人员身份")),
    ("phone", "联系电话", ("联系电话", "手机号", "手机", "手机号码", "电话", "联系方式")),
    ("is_leader", "领导班子成员", ("领导班子成员", "是否领导班子成员")),
]
LABELS: dict[str, str] = {f: label for f, label, _ in COLUMNS}
EXPORT_HEADERS: list[str] = [label for _, label, _ in COLUMNS]
# Columns office rosters often carry that the roster does not import; they still mark the header row.
KNOWN_IGNORED = ("序号", "编号", "备注")
DATE_FIELDS = ("birth_date", "work_started_on", "joined_on", "confirmed_on")
TEXT_FIELDS = ("ethnicity", "native_place", "education", "position", "category", "unit", "office", "org")
HEADER_SCAN_ROWS = 10
HEADER_MIN_MATCHES = 3

_BRACKET_CHARS = re.compile(r"[()\[\]【】<>《》/、*＊]")
_BRACKETED = re.compile(r"[(\[【][^)\]】]*[)\]】]")
_WS = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_FORMULA_QUOTED = re.compile(r"^'[=+\-@\t\r]")
_DATE_YMD = re.compile(r"^(\d{4})[年.\-/](\d{1,2})(?:[月.\-/](\d{1,2})日?|月)?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})?$")
_YEAR_ONLY = re.compile(r"^\d{4}年?$")
_TIME_TAIL = re.compile(r"[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01, counting Excel's phantom 1900-02-29
_ID_PRECISION = 10**15  # a float holds at most 15 significant digits exactly

_STATUS_ALIASES = {
    "党员": PoliticalStatus.CPC_MEMBER,
    "中国共产党党员": PoliticalStatus.CPC_MEMBER,
    "共产党员": PoliticalStatus.CPC_MEMBER,
    "中共正式党员": PoliticalStatus.CPC_MEMBER,
    "正式党员": PoliticalStatus.CPC_MEMBER,
    "预备党员": PoliticalStatus.CPC_PROBATIONARY,
    "中国共产党预备党员": PoliticalStatus.CPC_PROBATIONARY,
    "团员": PoliticalStatus.CYL_MEMBER,
    "共青团员": PoliticalStatus.CYL_MEMBER,
    "中国共产主义青年团团员": PoliticalStatus.CYL_MEMBER,
    "无党派": PoliticalStatus.NON_PARTY,
}
_STATUSES = {str(label): value for value, label in PoliticalStatus.choices} | _STATUS_ALIASES
_GENDERS = {
    "男": Person.Gender.MALE,
    "男性": Person.Gender.MALE,
    "女": Person.Gender.FEMALE,
    "女性": Person.Gender.FEMALE,
}
_TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "领导班子成员"}
_FALSE = {"否", "n", "no", "false", "0", "×", "✗", "-", "—", "无"}


class RosterFileError(Exception):
    """The file cannot be read as a roster at all (not a spreadsheet, no header row …)."""


class CellError(ValueError):
    """One cell cannot be read; the message is a Chinese sentence for the user."""


@dataclass
class RosterRow:
    """One data row: parsed values by Person field (blank cells are absent), and its row number."""

    row: int
    values: dict[str, Any] = field(default_factory=dict)
    masked: set[str] = field(default_factory=set)  # fields whose cell held a masked value (“138****1234”)


@dataclass
class ParsedRoster:
    """The result of reading a sheet: header position, the columns found, rows, errors, warnings."""

    header_row: int | None = None
    columns: dict[str, str] = field(default_factory=dict)  # field → header text as in the file
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)

    def column(self, name: str) -> str:
        """The file's header text for a field (the standard label when the file has no such column)."""
        return self.columns.get(name, LABELS.get(name, ""))


def issue(row: int | None, column: str, message: str) -> dict:
    """An error or warning in the shape the preview, the CLI and the API report."""
    return {"row": row, "column": column, "message": message}


# --- reading the workbook -----------------------------------------------------------------


def read_workbook(source: Any, *, sheet: int = 0) -> list[list[Any]]:
    """Rows of one sheet (the first by default) as calamine returns them, row 1 of the sheet first.

    ``source`` is a path, bytes, or a binary file object; .xlsx and .xls are told apart by content.
    """
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        if isinstance(source, str | Path):
            book = CalamineWorkbook.from_path(str(source))
        else:
            if isinstance(source, bytes | bytearray):
                source = io.BytesIO(source)
            book = CalamineWorkbook.from_filelike(source)
        if not book.sheet_names:
            raise RosterFileError("文件中没有工作表。")
        # Absolute positions (no skipping of leading blank rows) so row numbers match what the user sees.
        return book.get_sheet_by_index(sheet).to_python(skip_empty_area=False)
    except FileNotFoundError:
        raise RosterFileError("找不到要导入的文件，请检查文件路径。") from None
    except (CalamineError, ValueError, OSError, IndexError) as exc:
        raise RosterFileError(
            "无法读取该文件，请确认它是 Excel 表格（.xlsx 或 .xls），且没有加密或损坏。"
        ) from exc


# --- headers --------------------------------------------------------------------------------


def normalize_header(text: Any) -> tuple[str, str]:
    """Two lookup keys for a header cell: brackets dropped, and bracketed remarks dropped."""
    t = _WS.sub("", unicodedata.normalize("NFKC", str(text or "")))
    return _BRACKET_CHARS.sub("", t).lower(), _BRACKET_CHARS.sub("", _BRACKETED.sub("", t)).lower()


_ALIASES: dict[str, str] = {}
for _field, _label, _variants in COLUMNS:
    for _variant in (_label, *_variants):
        _ALIASES[normalize_header(_variant)[0]] = _field
for _ignored in KNOWN_IGNORED:
    _ALIASES[normalize_header(_ignored)[0]] = ""


def header_field(text: Any) -> str | None:
    """The Person field a header cell names, ``""`` for a known column that is not imported, else None."""
    for key in normalize_header(text):
        if key in _ALIASES:
            return _ALIASES[key]
    return None


def find_header(
    rows: list[list[Any]], *, scan: int = HEADER_SCAN_ROWS, min_matches: int = HEADER_MIN_MATCHES
) -> int | None:
    """Index of the header row: the first of the first ``scan`` rows with ≥ ``min_matches`` known headers."""
    for index, row in enumerate(rows[:scan]):
        if sum(1 for cell in row if clean_text(cell) and header_field(cell) is not None) >= min_matches:
            return index
    return None


# --- cells ------------------------------------------------------------------------------------


def clean_text(value: Any) -> str:
    """A cell as text: full-width spaces and runs of whitespace collapsed, ends stripped.

    Whole numbers read back as floats lose their ``.0``; a ``'`` that a ledger export put in front
    of a formula-like text (``'=…``) is removed again.
    """
    if value is None or isinstance(value, bool):
        return "" if value is None else ("是" if value else "否")
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        text = str(int(value)) if value.is_integer() else repr(value)
    elif isinstance(value, dt.datetime | dt.date):
        text = value.isoformat()
    else:
        text = str(value)
    text = _WS.sub(" ", text.replace("\u3000", " ").replace("\xa0", " ")).strip()
    if _FORMULA_QUOTED.match(text):
        text = text[1:]
    return text


def clean_name(value: Any) -> str:
    """A person's name: padding spaces inside Chinese names (“王　芳”) removed."""
    text = clean_text(value)
    if _CJK.search(text) and not re.search(r"[A-Za-z]", text):
        return text.replace(" ", "")
    return text


def _make_date(year: int, month: int, day: int | None, raw: str) -> tuple[dt.date, bool]:
    if not 1900 <= year <= 2100:
        raise CellError(f"日期“{raw}”的年份不合理，请核对。")
    try:
        return dt.date(year, month, day or 1), day is None
    except ValueError:
        raise CellError(f"日期“{raw}”不是有效的日期，请核对月份和日。") from None


def parse_date(value: Any) -> tuple[dt.date, bool]:
    """A date cell → (date, month_only). Month-precision dates come back as day 1.

    Accepts date cells, Excel serial numbers, numbers typed as 1990.05, and text such as
    1990.05, 1990.5.3, 1990-5-3, 1990/5/3, 1990年5月3日, 1990年5月, 19900503 (full-width digits too).
    """
    if isinstance(value, dt.datetime):
        return value.date(), False
    if isinstance(value, dt.date):
        return value, False
    if isinstance(value, dt.time | bool):
        raise CellError("这里应填写日期，而不是时间或是否。")
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number):
            raise CellError("日期单元格的内容无法识别。")
        if 1900 <= number < 2101:
            if number.is_integer():
                raise CellError(f"日期“{int(number)}”只有年份，请至少填写到月份（如 {int(number)}.05）。")
            return parse_date(repr(number))  # typed 1990.05 in a number cell
        if 1 <= number < 73051:  # an Excel serial up to 2099-12-31
            return _EXCEL_EPOCH + dt.timedelta(days=int(number)), False
        raise CellError(f"无法把“{clean_text(value)}”识别为日期。")
    raw = clean_text(value)
    text = _WS.sub("", _TIME_TAIL.sub("", unicodedata.normalize("NFKC", raw)))
    if _YEAR_ONLY.match(text):
        raise CellError(f"日期“{raw}”只有年份，请至少填写到月份（如 {text[:4]}.05）。")
    match = _DATE_YMD.match(text) or _DATE_COMPACT.match(text)
    if not match:
        raise CellError(f"无法识别日期“{raw}”，请写成 1990-05-03、1990.05 或 1990年5月3日 这样的格式。")
    year, month, day = match.groups()
    return _make_date(int(year), int(month), int(day) if day else None, raw)


def is_ambiguous_month(value: Any) -> bool:
    """A number cell like 1990.1: typed as 1990.1 (January) or as 1990.10 (October, zero dropped)?"""
    return isinstance(value, float) and 1900 <= value < 2101 and repr(value).endswith(".1")


def parse_id_number(value: Any) -> str:
    """The 身份证号 of a cell, normalised (full-width digits, spaces, x → X); not yet checksum-tested."""
    from sizheng.org.idcard import normalize_id_number

    if isinstance(value, float):
        if not value.is_integer() or value >= _ID_PRECISION:
            raise CellError("身份证号被 Excel 存成了数字，后几位已经丢失；请把该列设为“文本”格式后重新填写。")
        value = str(int(value))
    text = normalize_id_number(clean_text(value)).lstrip("'‘’")
    if "*" in text:
        raise CellError("身份证号已脱敏（含 *），无法用于识别人员；请使用含完整身份证号的名册。")
    return text


def parse_phone(value: Any) -> str:
    """A phone number: full-width digits and spaces normalised; whole-number cells lose their ``.0``."""
    return _WS.sub("", unicodedata.normalize("NFKC", clean_text(value))).lstrip("'‘’")


def parse_gender(value: Any) -> str:
    """性别 男/女 → Person.Gender."""
    text = clean_text(value)
    try:
        return str(_GENDERS[text])
    except KeyError:
        raise CellError(f"性别“{text}”无法识别，只能填写“男”或“女”。") from None


def parse_status(value: Any) -> str:
    """政治面貌 text → PoliticalStatus (the 13 official values, plus 党员 / 预备党员 / 团员 and the like)."""
    text = _WS.sub("", unicodedata.normalize("NFKC", clean_text(value)))
    try:
        return str(_STATUSES[text])
    except KeyError:
        valid = "、".join(str(label) for _, label in PoliticalStatus.choices)
        raise CellError(f"政治面貌“{text}”无法识别，请填写以下之一：{valid}。") from None


def parse_bool(value: Any) -> bool:
    """是/否 (also Y/N, 1/0, √/×)."""
    if isinstance(value, bool):
        return value
    text = clean_text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(f"“{clean_text(value)}”无法识别，请填写“是”或“否”。")


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not clean_text(value))


def parse_cell(name: str, value: Any) -> Any:
    """Parse one non-blank cell for a Person field; raises CellError with a Chinese message."""
    if name == "name":
        return clean_name(value)
    if name in DATE_FIELDS:
        return parse_date(value)
    if name == "id_number":
        return parse_id_number(value)
    if name == "phone":
        return parse_phone(value)
    if name == "gender":
        return parse_gender(value)
    if name == "political_status":
        return parse_status(value)
    if name == "is_leader":
        return parse_bool(value)
    return clean_text(value)


# --- rows ---------------------------------------------------------------------------------------


def _map_header(row: list[Any], number: int, parsed: ParsedRoster) -> dict[int, str]:
    """Column index → field for the header row; unknown and repeated columns become warnings."""
    positions: dict[int, str] = {}
    for index, cell in enumerate(row):
        text = clean_text(cell)
        if not text:
            continue
        name = header_field(cell)
        if name is None:
            parsed.warnings.append(issue(number, text, f"无法识别“{text}”列，导入时已忽略该列。"))
        elif name and name in parsed.columns:
            parsed.warnings.append(
                issue(
                    number,
                    text,
                    f"“{text}”列与“{parsed.columns[name]}”列含义相同，只读取了“{parsed.columns[name]}”列。",
                )
            )
        elif name:
            parsed.columns[name] = text
            positions[index] = name
    return positions


def parse_rows(rows: list[list[Any]]) -> ParsedRoster:
    """Find the header, map the columns and parse every non-blank data row."""
    parsed = ParsedRoster()
    header = find_header(rows)
    if header is None:
        parsed.errors.append(
            issue(
                None,
                "",
                f"在前 {HEADER_SCAN_ROWS} 行中没有找到表头；表头应包含“姓名”“公民身份证号”“出生日期”等列名。",
            )
        )
        return parsed
    parsed.header_row = header + 1
    positions = _map_header(rows[header], header + 1, parsed)
    for name in ("name", "id_number"):
        if name not in parsed.columns:
            parsed.errors.append(
                issue(
                    header + 1, "", f"表头中没有“{LABELS[name]}”列；名册必须包含“姓名”和“公民身份证号”两列。"
                )
            )
    if parsed.errors:
        return parsed
    for index in range(header + 1, len(rows)):
        row = rows[index]
        record = _parse_row(row, index + 1, positions, parsed)
        if record is not None:
            parsed.rows.append(record)
    return parsed


def _parse_row(
    row: list[Any], number: int, positions: dict[int, str], parsed: ParsedRoster
) -> RosterRow | None:
    """One data row; None for a blank line (or a footnote with nothing in the roster's columns)."""
    cells = {name: row[i] for i, name in positions.items() if i < len(row) and not _is_blank(row[i])}
    if not cells:
        if any(not _is_blank(v) for v in row):
            parsed.warnings.append(
                issue(number, "", "该行没有可识别的人员信息（可能是备注或落款），已跳过。")
            )
        return None
    record = RosterRow(row=number)
    for name, value in cells.items():
        column = parsed.columns[name]
        if name == "phone" and "*" in clean_text(value):
            record.masked.add(name)
            parsed.warnings.append(
                issue(number, column, "联系电话已脱敏（含 *），导入时保留系统中原有的电话。")
            )
            continue
        try:
            parsed_value = parse_cell(name, value)
        except CellError as exc:
            parsed.errors.append(issue(number, column, str(exc)))
            continue
        if name in DATE_FIELDS and is_ambiguous_month(value):
            parsed.warnings.append(
                issue(
                    number,
                    column,
                    f"“{clean_text(value)}”按 1 月读取；如指 10 月，请把单元格设为文本并写作“{clean_text(value)}0”。",
                )
            )
        if parsed_value != "":
            record.values[name] = parsed_value
    return record


def parse_roster(source: Any, *, sheet: int = 0) -> ParsedRoster:
    """Read and parse a roster file; a file that cannot be read becomes one error without a row."""
    try:
        rows = read_workbook(source, sheet=sheet)
    except RosterFileError as exc:
        return ParsedRoster(errors=[issue(None, "", str(exc))])
    return parse_rows(rows)


def sort_issues(issues: Iterable[dict], columns: dict[str, str] | None = None) -> list[dict]:
    """Errors in reading order: file-level first, then by row, then by the column's place in the roster."""
    order = {label: i for i, label in enumerate((columns or {}).values())}
    return sorted(issues, key=lambda e: (e["row"] or 0, order.get(e["column"], len(order))))
