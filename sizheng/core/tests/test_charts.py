"""Tests for the chart renderer (sizheng.core.charts)."""

import io
import logging
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib import font_manager
from PIL import Image

from sizheng.core import charts
from sizheng.core.testing import skip_unless_required

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_size(data: bytes) -> tuple[int, int]:
    """Pixel size of a PNG, after checking that it is one."""
    assert data.startswith(PNG_MAGIC)
    with Image.open(io.BytesIO(data)) as image:
        image.verify()
        return image.size


@pytest.fixture
def no_cjk_font(monkeypatch, tmp_path):
    """A system without any CJK font: the font lookup sees only non-CJK fonts."""
    non_cjk = [e for e in font_manager.fontManager.ttflist if "CJK" not in e.name and "Han" not in e.name]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", non_cjk)
    monkeypatch.setattr(charts, "_FONT_DIRS", (str(tmp_path),))
    charts._cjk_font.cache_clear()
    yield
    charts._cjk_font.cache_clear()


def test_it_draws_a_bar_chart_as_png():
    data = charts.bar_chart(["第一党支部", "第二党支部"], [3, Decimal("4.5")], title="学习次数", ylabel="次")
    assert _png_size(data) == (960, 570)


def test_it_draws_a_line_chart_with_gaps_as_png():
    data = charts.line_chart(["1月", "2月", "3月"], {"学习": [1, None, 3], "谈话": [2, 2, 2]}, title="趋势")
    assert _png_size(data) == (960, 570)


def test_it_draws_a_pie_chart_as_png():
    data = charts.pie_chart(["优秀", "良好", "一般"], [5, 3, 0], title="分布")
    assert _png_size(data) == (960, 570)


def test_it_draws_a_placeholder_for_empty_data():
    assert _png_size(charts.bar_chart([], []))
    assert _png_size(charts.pie_chart(["甲"], [0]))
    assert _png_size(charts.line_chart([], {}))


def test_it_renders_the_same_bytes_for_the_same_chart():
    first = charts.bar_chart(["甲", "乙"], [1, 2], title="同一张图")
    assert first == charts.bar_chart(["甲", "乙"], [1, 2], title="同一张图")
    assert b"Software" not in first and b"matplotlib" not in first


def test_it_rejects_mismatched_lengths_and_negative_slices():
    with pytest.raises(ValueError, match="个数不一致"):
        charts.bar_chart(["甲", "乙"], [1])
    with pytest.raises(ValueError, match="个数不一致"):
        charts.line_chart(["甲"], {"s": [1, 2]})
    with pytest.raises(ValueError, match="非负数"):
        charts.pie_chart(["甲", "乙"], [1, -1])


def test_it_reports_the_cjk_font_it_uses():
    path = charts.cjk_font_path()
    has_cjk = any("CJK" in e.name or "WenQuanYi" in e.name for e in font_manager.fontManager.ttflist)
    if not has_cjk:
        # CI installs fonts-noto-cjk with the browser: there a missing font is a failure, not a skip.
        skip_unless_required(
            "SIZHENG_REQUIRE_BROWSER",
            "没有中文字体（请安装 fonts-noto-cjk），Word 图表中的中文会显示为方框。",
        )
    assert path is not None and Path(path).is_file()
    assert "simhei" not in path.lower()


def test_it_prefers_simplified_chinese_faces():
    entries = [
        font_manager.FontEntry(fname="/f/a.ttc", name="Noto Sans CJK JP", weight=400),
        font_manager.FontEntry(fname="/f/b.ttc", name="Noto Sans CJK SC", weight=700),
        font_manager.FontEntry(fname="/f/c.ttc", name="Noto Sans CJK SC", weight=400),
        font_manager.FontEntry(fname="/f/d.ttc", name="Noto Sans Mono CJK SC", weight=400),
        font_manager.FontEntry(fname="/f/e.ttf", name="DejaVu Sans", weight=400),
    ]
    assert charts._pick(entries).fname == "/f/c.ttc"
    assert charts._pick(entries[:1]).fname == "/f/a.ttc"
    assert charts._pick(entries[3:]) is None


def test_it_still_renders_without_a_cjk_font_and_warns_once(no_cjk_font, caplog):
    with caplog.at_level(logging.WARNING, logger="sizheng.core.charts"):
        assert charts.cjk_font_path() is None
        assert _png_size(charts.bar_chart(["中文"], [1]))
        assert charts.cjk_font_path() is None
    warnings = [r for r in caplog.records if "CJK" in r.getMessage()]
    assert len(warnings) == 1


_LABEL_TEXT = st.text(alphabet=st.sampled_from("党支部学习谈话关爱测评abcXYZ019 &<>%$_^\\{}"), max_size=8)


@settings(max_examples=6, deadline=None)
@given(
    st.lists(
        st.tuples(_LABEL_TEXT, st.floats(min_value=0, max_value=1e6, allow_nan=False)),
        max_size=8,
    )
)
def test_it_renders_any_labels_and_values(pairs):
    labels = [label for label, _ in pairs]
    values = [value for _, value in pairs]
    assert charts.bar_chart(labels, values).startswith(PNG_MAGIC)
    assert charts.pie_chart(labels, values).startswith(PNG_MAGIC)


def test_it_treats_dollar_signs_in_labels_as_text_not_math():
    data = charts.line_chart(["$a$", "b_1^2"], {"$收入$": [1, 2]}, title="$\\frac{1}{2}$")
    assert data.startswith(PNG_MAGIC)
