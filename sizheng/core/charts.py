"""Charts for Word reports: PNG bytes drawn with matplotlib (Agg) in a CJK font found on the system.

The font is looked up once: a free CJK family (Noto Sans/Serif CJK, Source Han, WenQuanYi —
Debian's fonts-noto-cjk provides ``/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc``).
Commercial fonts such as SimHei are never used. Without a CJK font the charts still render (the
Chinese labels show as boxes) and one warning is logged.

Figures are built with the object-oriented ``Figure`` API on an explicit Agg canvas, not pyplot:
the process-wide backend is left alone and no global figure registry keeps figures alive (they are
cleared after drawing, nothing needs closing); rcParams are process-global, so drawing is serialised by a lock.
PNG output is deterministic: no software tag or timestamp in its metadata.
"""

from __future__ import annotations

import functools
import io
import logging
import math
import threading
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
from cycler import cycler
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

DPI = 150
FIGSIZE = (6.4, 3.8)  # inches: 960×570 px at 150 dpi, about 150 mm wide in a 公文 page

# Preferred families, best first. Exact names first (Simplified-Chinese faces), then prefixes.
_PREFERRED_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Serif CJK SC",
    "Source Han Serif SC",
    "Source Han Serif CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
)
_FAMILY_PREFIXES = ("Noto Sans CJK", "Source Han Sans", "Noto Serif CJK", "Source Han Serif", "WenQuanYi")

# Where Debian and common distributions install free CJK fonts; used when matplotlib's font
# cache predates the font installation.
_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")
_FONT_GLOBS = ("**/NotoSansCJK*.tt[cf]", "**/NotoSerifCJK*.tt[cf]", "**/SourceHan*.tt[cf]", "**/wqy*.tt[cf]")

# 党政 reports lead with a deep red; the rest are muted and distinguishable in greyscale print.
_PALETTE = ("#C00000", "#1F4E79", "#BF9000", "#548235", "#7F7F7F", "#843C0C", "#2E75B6", "#7030A0")

_DRAW_LOCK = threading.Lock()


def _pick(entries: Sequence[font_manager.FontEntry]) -> font_manager.FontEntry | None:
    """Choose the best CJK entry: preferred family, then regular weight, then a stable order."""
    candidates = []
    for entry in entries:
        if entry.name in _PREFERRED_FAMILIES:
            rank = _PREFERRED_FAMILIES.index(entry.name)
        else:
            prefix = next((p for p in _FAMILY_PREFIXES if entry.name.startswith(p)), None)
            if prefix is None or "Mono" in entry.name:
                continue
            rank = len(_PREFERRED_FAMILIES) + _FAMILY_PREFIXES.index(prefix)
        weight = entry.weight if isinstance(entry.weight, int) else 400
        candidates.append((rank, abs(weight - 400), entry.style != "normal", entry.name, entry.fname, entry))
    return min(candidates, key=lambda c: c[:5])[-1] if candidates else None


@functools.cache
def _cjk_font() -> font_manager.FontEntry | None:
    """Find a free CJK font once per process; register system fonts matplotlib had not cached."""
    entry = _pick(font_manager.fontManager.ttflist)
    if entry is None:
        for directory in _FONT_DIRS:
            for pattern in _FONT_GLOBS:
                for path in sorted(Path(directory).glob(pattern)):
                    try:
                        font_manager.fontManager.addfont(str(path))
                    except (OSError, RuntimeError, ValueError):
                        logger.debug("Skipping unreadable font %s", path)
        entry = _pick(font_manager.fontManager.ttflist)
    if entry is None:
        logger.warning(
            "No CJK font found (install fonts-noto-cjk); chart labels in Chinese will render as boxes."
        )
    return entry


def cjk_font_path() -> str | None:
    """Return the file of the CJK font charts use, or None when the system has none."""
    entry = _cjk_font()
    return entry.fname if entry is not None else None


def _rc() -> dict:
    """rcParams for one drawing: the CJK family first, DejaVu Sans as glyph fallback."""
    entry = _cjk_font()
    families = [entry.name, "DejaVu Sans"] if entry is not None else ["DejaVu Sans"]
    return {
        "font.family": families,
        "font.size": 10,
        "text.parse_math": False,  # labels are user text: "$" must not start mathtext
        "axes.unicode_minus": False,  # CJK fonts often lack U+2212; use the ASCII hyphen
        "axes.prop_cycle": cycler(color=_PALETTE),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "figure.dpi": DPI,
        "savefig.dpi": DPI,
        "svg.hashsalt": "sizheng",
    }


def _floats(values: Sequence, *, missing: float) -> list[float]:
    """Convert values (int, float, Decimal, None) to floats, None becoming ``missing``."""
    return [missing if v is None else float(v) for v in values]


def _render(draw) -> bytes:
    """Run ``draw(figure)`` under the chart rcParams and return the PNG bytes."""
    with _DRAW_LOCK, matplotlib.rc_context(_rc()), warnings.catch_warnings():
        # Without a CJK font every Chinese glyph would warn; the one logged warning is enough.
        warnings.filterwarnings("ignore", message="Glyph .* missing from")
        figure = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
        FigureCanvasAgg(figure)
        try:
            draw(figure)
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
        finally:
            figure.clear()
    return buffer.getvalue()


def _empty(ax, title: str | None) -> None:
    """Draw the 'no data' placeholder."""
    ax.axis("off")
    ax.text(0.5, 0.5, "暂无数据", ha="center", va="center", fontsize=14, color="#7F7F7F")
    if title:
        ax.set_title(title)


def _check_lengths(labels: Sequence, values: Sequence) -> None:
    """Refuse labels and values of different lengths."""
    if len(labels) != len(values):
        raise ValueError("标签与数值的个数不一致。")


def _tilt_if_crowded(ax, labels: Sequence[str]) -> None:
    """Tilt x labels when they would overlap."""
    if len(labels) > 6 or sum(len(str(label)) for label in labels) > 40:
        for label in ax.get_xticklabels():
            label.set_rotation(30)
            label.set_horizontalalignment("right")


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str | None = None,
    ylabel: str | None = None,
) -> bytes:
    """A vertical bar chart with each bar's value written on it; returns PNG bytes."""
    _check_lengths(labels, values)
    numbers = _floats(values, missing=0.0)

    def draw(figure: Figure) -> None:
        """Draw the bars."""
        ax = figure.subplots()
        if not numbers:
            _empty(ax, title)
            return
        positions = range(len(numbers))
        bars = ax.bar(positions, numbers, color=_PALETTE[0], width=0.6)
        ax.bar_label(bars, fmt="%g", padding=2, fontsize=9)
        ax.set_xticks(list(positions), [str(label) for label in labels])
        _tilt_if_crowded(ax, [str(label) for label in labels])
        ax.margins(y=0.12)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
        if ylabel:
            ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)

    return _render(draw)


def line_chart(
    x_labels: Sequence[str], series: Mapping[str, Sequence[float | None]], *, title: str | None = None
) -> bytes:
    """A line chart with one line per series (None leaves a gap); returns PNG bytes."""
    for values in series.values():
        _check_lengths(x_labels, values)
    data = {str(name): _floats(values, missing=math.nan) for name, values in series.items()}

    def draw(figure: Figure) -> None:
        """Draw the lines."""
        ax = figure.subplots()
        if not x_labels or not data:
            _empty(ax, title)
            return
        positions = list(range(len(x_labels)))
        for name, numbers in data.items():
            ax.plot(positions, numbers, marker="o", linewidth=2, markersize=4, label=name)
        ax.set_xticks(positions, [str(label) for label in x_labels])
        _tilt_if_crowded(ax, [str(label) for label in x_labels])
        ax.grid(axis="y", alpha=0.3)
        ax.legend(frameon=False)
        if title:
            ax.set_title(title)

    return _render(draw)


def pie_chart(labels: Sequence[str], values: Sequence[float | None], *, title: str | None = None) -> bytes:
    """A pie chart with percentages; zero slices are left out. Returns PNG bytes."""
    _check_lengths(labels, values)
    numbers = _floats(values, missing=0.0)
    if any(v < 0 or math.isnan(v) for v in numbers):
        raise ValueError("饼图的数值必须是非负数。")
    kept = [(str(label), v) for label, v in zip(labels, numbers, strict=True) if v > 0]

    def draw(figure: Figure) -> None:
        """Draw the pie."""
        ax = figure.subplots()
        if not kept:
            _empty(ax, title)
            return
        _, _, percentages = ax.pie(
            [v for _, v in kept],
            labels=[label for label, _ in kept],
            colors=[_PALETTE[i % len(_PALETTE)] for i in range(len(kept))],
            autopct="%1.1f%%",
            startangle=90,
            counterclock=False,
            pctdistance=0.75,
            textprops={"fontsize": 9},
            wedgeprops={"linewidth": 1, "edgecolor": "white"},
        )
        for text in percentages:
            text.set_color("white")
        ax.set_aspect("equal")
        if title:
            ax.set_title(title)

    return _render(draw)
