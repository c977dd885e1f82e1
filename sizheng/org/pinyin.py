"""Login names from Chinese names (张晓明 → zhangxiaoming)."""

from __future__ import annotations

import re

from pypinyin import lazy_pinyin


def to_pinyin(name: str) -> str:
    """Lower-case ASCII pinyin of a name, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", "".join(lazy_pinyin(name or "")).lower())
