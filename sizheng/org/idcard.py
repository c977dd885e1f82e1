"""The 18-digit 公民身份号码 (GB 11643-1999): normalisation, check digit, birth date.

Pure functions with no Django imports; messages are full Chinese sentences.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


def normalize_id_number(value: str) -> str:
    """Full-width digits to ASCII, spaces removed, x → X."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or "")).upper()


def check_digit(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def birth_date_from_id(value: str) -> date | None:
    """The birth date encoded in positions 7–14, or None when it is not a real date."""
    v = normalize_id_number(value)
    try:
        return date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return None


def validate_id_number(value: str, *, today: date | None = None) -> str | None:
    """None when the number is valid, else a Chinese sentence saying what is wrong."""
    v = normalize_id_number(value)
    if len(v) != 18:
        return f"身份证号应为 18 位，这里是 {len(v)} 位。"
    if not _SHAPE.match(v):
        return "身份证号前 17 位必须是数字，最后一位是数字或 X。"
    born = birth_date_from_id(v)
    if born is None:
        return "身份证号中的出生日期不是有效日期。"
    if today and born > today:
        return "身份证号中的出生日期晚于今天。"
    if born.year < 1900:
        return "身份证号中的出生年份早于 1900 年。"
    if check_digit(v[:17]) != v[17]:
        return "身份证号校验位不正确，请核对是否有数字录错。"
    return None


def make_id_number(region: str, born: date, seq: int) -> str:
    """Build a valid number (for demo data and tests): 6-digit region, birth date, 3-digit sequence."""
    first17 = f"{region}{born:%Y%m%d}{seq % 1000:03d}"
    return first17 + check_digit(first17)
