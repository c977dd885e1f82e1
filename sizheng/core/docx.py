"""公文 (official document) writer following GB/T 9704-2012, built on python-docx.

Page: A4 (210×297 mm); 天头 37 mm and 订口 28 mm, body 156×225 mm, so the margins are top 37,
bottom 35, left 28, right 26 mm. The body is a 22 lines × 28 characters grid: a line grid
(``w:docGrid w:type="lines"``) with a 28.95 pt line pitch, exact 28.95 pt line spacing, and −0.25 pt
character spacing on the 3号 (16 pt) runs, which puts exactly 28 characters on a 156 mm line
(156 mm = 442.2 pt; 28 × 15.75 pt = 441 pt). A ``linesAndChars`` grid would say the same to Word,
but LibreOffice puts each 16 pt character into two 15.79 pt cells and spreads lines to 14 characters,
so the character count comes from the spacing, as ARCHITECTURE §6 describes.

Fonts (7.1 and 7.3): title 方正小标宋简体 2号 (22 pt) centred; body 仿宋_GB2312 3号; headings
"一、" 黑体, "（一）" 楷体_GB2312, "1．" 仿宋_GB2312 bold, "（1）" 仿宋_GB2312, all 3号 and indented
like the body. python-docx only writes ``w:ascii``/``w:hAnsi``; Word picks Chinese glyphs from
``w:eastAsia``, so every style and every run written here names the font in all four slots. The
font table maps the GB2312-era names to the fonts modern Windows ships (仿宋_GB2312 → 仿宋, …) so a
machine without them still gets the right look.

Page numbers (7.5): "— 1 —", 4号 宋体, outer alignment as the standard asks — odd pages right
and even pages left, one character in from the edge — with the dash about 7 mm below the body.

落款 (7.3.5.3, document without a seal): 发文机关署名 two characters from the right, 成文日期 on
the next line with its first character two characters right of the name's first character; a
date longer than that allows keeps two characters from the right and pushes the name left.

A long title should be broken by the caller with ``"\\n"`` where the meaning allows (7.3.1 asks for
line breaks that keep words whole); the title paragraph keeps such breaks as line breaks.

Word and WPS put each 3号 character in one 15.79 pt grid cell. LibreOffice is not a faithful
preview here: it puts a character slightly wider than the cell into two cells, so some lines look
letter-spaced there; pictures are sized to whole grid lines, which keeps them clean in all three.

Text from users may contain anything: characters XML 1.0 forbids are dropped, ``&``, ``<`` and
``>`` are escaped by the XML writer, and each line of a paragraph's text becomes its own paragraph.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from decimal import Decimal
from os import PathLike
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import quoteattr
from zoneinfo import ZoneInfo

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.image.exceptions import UnrecognizedImageError
from docx.image.image import Image
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Emu, Mm, Pt, RGBColor, Twips

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def mm_to_twips(mm: float) -> int:
    """Millimetres to twentieths of a point, rounded to the nearest twip."""
    return round(mm * 1440 / 25.4)


PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297
MARGIN_TOP_MM, MARGIN_BOTTOM_MM, MARGIN_LEFT_MM, MARGIN_RIGHT_MM = 37, 35, 28, 26
BODY_WIDTH_MM, BODY_HEIGHT_MM = 156, 225
LINES_PER_PAGE, CHARS_PER_LINE = 22, 28

BODY_SIZE_PT = 16  # 3号
TITLE_SIZE_PT = 22  # 2号
TABLE_SIZE_PT = 12  # 小四
CAPTION_SIZE_PT = 14  # 4号
PAGE_NUMBER_SIZE_PT = 14  # 4号

LINE_PITCH_TWIPS = 579  # 28.95 pt: 22 lines fill the 225 mm body
CHAR_SPACING_TWENTIETHS = -5  # −0.25 pt: 28 characters of 3号 fill the 156 mm body

FONT_TITLE = "方正小标宋简体"
FONT_BODY = "仿宋_GB2312"
FONT_HEITI = "黑体"
FONT_KAITI = "楷体_GB2312"
FONT_SONGTI = "宋体"

# Word looks a missing font up by these alternative names (w:altName), in order.
FONT_FALLBACKS = {
    FONT_TITLE: ("方正小标宋_GBK", "华文中宋", "宋体"),
    FONT_BODY: ("仿宋", "FangSong"),
    FONT_KAITI: ("楷体", "KaiTi"),
    FONT_HEITI: ("SimHei",),
    FONT_SONGTI: ("SimSun",),
}

RED = RGBColor(0xFF, 0x00, 0x00)
SHANGHAI = ZoneInfo("Asia/Shanghai")

# Child order of the OOXML elements edited by hand (ECMA-376 CT_PPr, CT_RPr, CT_TrPr); a child
# out of order makes Word refuse the file.
_PPR_ORDER = (
    "w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr", "w:widowControl",
    "w:numPr", "w:suppressLineNumbers", "w:pBdr", "w:shd", "w:tabs", "w:suppressAutoHyphens",
    "w:kinsoku", "w:wordWrap", "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN",
    "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
    "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
    "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
)  # fmt: skip
_RPR_ORDER = (
    "w:rStyle", "w:rFonts", "w:b", "w:bCs", "w:i", "w:iCs", "w:caps", "w:smallCaps", "w:strike",
    "w:dstrike", "w:outline", "w:shadow", "w:emboss", "w:imprint", "w:noProof", "w:snapToGrid",
    "w:vanish", "w:webHidden", "w:color", "w:spacing", "w:w", "w:kern", "w:position", "w:sz", "w:szCs",
    "w:highlight", "w:u", "w:effect", "w:bdr", "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs",
    "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish", "w:oMath",
)  # fmt: skip
_TRPR_ORDER = (
    "w:cnfStyle", "w:divId", "w:gridBefore", "w:gridAfter", "w:wBefore", "w:wAfter", "w:cantSplit",
    "w:trHeight", "w:tblHeader", "w:tblCellSpacing", "w:jc", "w:hidden", "w:ins", "w:del", "w:trPrChange",
)  # fmt: skip

# XML 1.0 forbids these code points (C0 controls other than tab/LF/CR, lone surrogates,
# U+FFFE/U+FFFF); lxml refuses them, so they are dropped from user text.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_FILENAME_ILLEGAL = re.compile(r"[\x00-\x1f\x7f/\\]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# A heading that already carries its ordinal ("一、", "（二）", "3．", "（4）") is not numbered again.
_ORDINAL_PREFIX = re.compile(
    r"^(?:[一二三四五六七八九十百]+、|[（(][一二三四五六七八九十百]+[）)]|\d+[.．、]|[（(]\d+[）)])"
)
_CN_DIGITS = "零一二三四五六七八九"


def clean_text(value: Any) -> str:
    """``str(value)`` without the characters XML 1.0 forbids."""
    return _XML_ILLEGAL.sub("", str(value))


def chinese_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 21 → 二十一 (for heading ordinals; 100 and above stay Arabic)."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _CN_DIGITS[ones]
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + ("" if ones == 0 else _CN_DIGITS[ones])


def chinese_date(value: dt.date) -> str:
    """成文日期 as the 2012 standard writes it: Arabic numerals, no padding (2026年11月29日)."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(SHANGHAI)
    return f"{value.year}年{value.month}月{value.day}日"


def text_width_chars(text: str) -> float:
    """Width of ``text`` in 3号 character cells: full-width counts 1, half-width (digits) ½."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WFA" else 0.5 for ch in text)


def _child(parent, tag: str, order: Sequence[str]):
    """Return ``parent``'s ``tag`` child, creating it at its schema position if missing."""
    found = parent.find(qn(tag))
    if found is not None:
        return found
    element = OxmlElement(tag)
    parent.insert_element_before(element, *order[order.index(tag) + 1 :])
    return element


def _set_fonts(rpr, font: str, *, east_asia_hint: bool = False) -> None:
    """Name ``font`` in every rFonts slot (eastAsia included) and drop theme-font overrides."""
    rfonts = _child(rpr, "w:rFonts", _RPR_ORDER)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), font)
    if east_asia_hint:
        rfonts.set(qn("w:hint"), "eastAsia")


def _set_run_props(rpr, *, font: str, size_pt: float | None, char_spacing: int | None, east_asia_hint=False):
    """Fonts, size and character spacing on an rPr (of a run or a style)."""
    _set_fonts(rpr, font, east_asia_hint=east_asia_hint)
    if char_spacing is not None:
        _child(rpr, "w:spacing", _RPR_ORDER).set(qn("w:val"), str(char_spacing))
    if size_pt is not None:
        half_points = str(round(size_pt * 2))
        _child(rpr, "w:sz", _RPR_ORDER).set(qn("w:val"), half_points)
        _child(rpr, "w:szCs", _RPR_ORDER).set(qn("w:val"), half_points)


def _set_indent(
    ppr,
    *,
    first_line_chars: float = 0,
    left_chars: float = 0,
    right_chars: float = 0,
    size_pt: float = BODY_SIZE_PT,
) -> None:
    """Indents in characters of the paragraph's ``size_pt`` (w:*Chars, what Word uses) plus twips."""
    ind = _child(ppr, "w:ind", _PPR_ORDER)
    ind.attrib.pop(qn("w:hanging"), None)
    ind.attrib.pop(qn("w:hangingChars"), None)
    # Explicit zeros matter: a style inherits Normal's firstLineChars unless it overrides it.
    for name, chars in (("firstLine", first_line_chars), ("left", left_chars), ("right", right_chars)):
        ind.set(qn(f"w:{name}Chars"), str(round(chars * 100)))
        ind.set(qn(f"w:{name}"), str(round(chars * size_pt * 20)))


def _set_snap_to_grid(ppr, snap: bool) -> None:
    """Whether the paragraph's characters and lines snap to the document grid."""
    _child(ppr, "w:snapToGrid", _PPR_ORDER).set(qn("w:val"), "1" if snap else "0")


class OfficialDocument:
    """A 公文 under construction: add headings, paragraphs, tables, images, then save."""

    def __init__(self, *, title: str, issuer: str | None = None, doc_number: str | None = None) -> None:
        """Start a document; ``issuer`` (发文机关标志) and ``doc_number`` (发文字号) form the red 版头."""
        self._doc = Document()
        self._counters = [0, 0, 0, 0]
        self._styles: dict[str, Any] = {}
        self._setup_styles()
        self._setup_page()
        self._setup_page_numbers()
        self._register_font_fallbacks()
        core = self._doc.core_properties
        core.title = clean_text(title)
        core.author = clean_text(issuer or "")
        core.last_modified_by = ""
        core.comments = ""
        core.language = "zh-CN"
        if issuer or doc_number:
            self._masthead(issuer, doc_number)
        if title:
            self._add_text_paragraph(
                self._styles["title"], clean_text(title), FONT_TITLE, TITLE_SIZE_PT, None
            )
            self._blank_line()

    # -- setup ---------------------------------------------------------------------------------

    def _setup_styles(self) -> None:
        """Document defaults, Normal and the 公文 paragraph styles."""
        styles = self._doc.styles
        defaults = styles.element.find(qn("w:docDefaults"))
        rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
        _set_run_props(rpr, font=FONT_BODY, size_pt=BODY_SIZE_PT, char_spacing=None)
        lang = _child(rpr, "w:lang", _RPR_ORDER)
        lang.set(qn("w:val"), "en-US")
        lang.set(qn("w:eastAsia"), "zh-CN")
        ppr_default = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
        spacing = _child(ppr_default, "w:spacing", _PPR_ORDER)
        spacing.attrib.clear()
        spacing.set(qn("w:after"), "0")
        spacing.set(qn("w:line"), "240")
        spacing.set(qn("w:lineRule"), "auto")

        normal = styles["Normal"]
        self._styles["normal"] = normal
        self._format_style(
            normal, font=FONT_BODY, size_pt=BODY_SIZE_PT, char_spacing=CHAR_SPACING_TWENTIETHS,
            first_line_chars=2, grid=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY,
        )  # fmt: skip

        def add(key, name, style_id, **props):
            """Create one 公文 paragraph style based on Normal."""
            style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            style.element.set(qn("w:styleId"), style_id)
            style.base_style = normal
            style.next_paragraph_style = normal
            style.quick_style = True
            self._format_style(style, **props)
            self._styles[key] = style

        body = {"font": FONT_BODY, "size_pt": BODY_SIZE_PT, "char_spacing": CHAR_SPACING_TWENTIETHS}
        centred = {"first_line_chars": 0, "align": WD_ALIGN_PARAGRAPH.CENTER}
        loose = {"grid": False, "line_twips": None}
        add(
            "title",
            "公文标题",
            "GwTitle",
            font=FONT_TITLE,
            size_pt=TITLE_SIZE_PT,
            char_spacing=0,
            grid=False,
            **centred,
        )
        add("h1", "一级标题", "GwHeading1", **{**body, "font": FONT_HEITI}, outline=0, keep_next=True)
        add("h2", "二级标题", "GwHeading2", **{**body, "font": FONT_KAITI}, outline=1, keep_next=True)
        add("h3", "三级标题", "GwHeading3", **body, bold=True, outline=2, keep_next=True)
        add("h4", "四级标题", "GwHeading4", **body, outline=3, keep_next=True)
        add(
            "issuer",
            "发文机关标志",
            "GwIssuer",
            font=FONT_TITLE,
            size_pt=None,
            char_spacing=0,
            **centred,
            **loose,
        )
        add("doc_number", "发文字号", "GwDocNumber", **body, **centred, **loose)
        add("signature", "落款", "GwSignature", **body, first_line_chars=0, align=WD_ALIGN_PARAGRAPH.RIGHT)
        add("table", "表格文字", "GwTableText", font=FONT_BODY, size_pt=TABLE_SIZE_PT, char_spacing=0,
            first_line_chars=0, align=WD_ALIGN_PARAGRAPH.LEFT, **loose)  # fmt: skip
        add("table_header", "表格标题行", "GwTableHeader", font=FONT_HEITI, size_pt=TABLE_SIZE_PT, char_spacing=0,
            **centred, **loose)  # fmt: skip
        add("figure", "图片", "GwFigure", font=FONT_BODY, size_pt=None, char_spacing=0, keep_next=True,
            **centred, **loose)  # fmt: skip
        add("caption", "图注", "GwCaption", font=FONT_BODY, size_pt=CAPTION_SIZE_PT, char_spacing=0,
            **centred, **loose)  # fmt: skip
        add("page_number", "页码", "GwPageNumber", font=FONT_SONGTI, size_pt=PAGE_NUMBER_SIZE_PT, char_spacing=0,
            first_line_chars=0, grid=False, line_twips=PAGE_NUMBER_SIZE_PT * 20)  # fmt: skip

    def _format_style(
        self,
        style,
        *,
        font: str,
        size_pt: float | None,
        char_spacing: int | None,
        first_line_chars: float = 2,
        grid: bool = True,
        line_twips: int | None = LINE_PITCH_TWIPS,
        align=None,
        bold: bool = False,
        outline: int | None = None,
        keep_next: bool = False,
    ) -> None:
        """Apply 公文 formatting to one paragraph style (fonts always in all four rFonts slots)."""
        element = style.element
        _set_run_props(element.get_or_add_rPr(), font=font, size_pt=size_pt, char_spacing=char_spacing)
        if bold:
            style.font.bold = True
        fmt = style.paragraph_format
        fmt.space_before = Pt(0)
        fmt.space_after = Pt(0)
        fmt.line_spacing = Twips(line_twips) if line_twips else 1.0
        if align is not None:
            fmt.alignment = align
        if keep_next:
            fmt.keep_with_next = True
        ppr = element.get_or_add_pPr()
        _set_indent(ppr, first_line_chars=first_line_chars)
        _set_snap_to_grid(ppr, grid)
        if outline is not None:
            _child(ppr, "w:outlineLvl", _PPR_ORDER).set(qn("w:val"), str(outline))

    def _setup_page(self) -> None:
        """A4, GB/T 9704 margins and the 22 × 28 document grid."""
        section = self._doc.sections[0]
        section.page_width = Twips(mm_to_twips(PAGE_WIDTH_MM))
        section.page_height = Twips(mm_to_twips(PAGE_HEIGHT_MM))
        section.top_margin = Twips(mm_to_twips(MARGIN_TOP_MM))
        section.bottom_margin = Twips(mm_to_twips(MARGIN_BOTTOM_MM))
        section.left_margin = Twips(mm_to_twips(MARGIN_LEFT_MM))
        section.right_margin = Twips(mm_to_twips(MARGIN_RIGHT_MM))
        section.gutter = Twips(0)
        section.header_distance = Mm(15)
        # The dash of "— 1 —" sits ~7 mm below the body (7.5): the 14 pt line's middle is 7 mm
        # under the body edge, so its bottom is 35 − 7 − 2.5 = 25.5 mm above the page edge.
        section.footer_distance = Mm(25.5)
        grid = _child(section._sectPr, "w:docGrid", ("w:docGrid", "w:printerSettings", "w:sectPrChange"))
        grid.attrib.clear()
        grid.set(qn("w:type"), "lines")
        grid.set(qn("w:linePitch"), str(LINE_PITCH_TWIPS))

    def _setup_page_numbers(self) -> None:
        """ "— 1 —" in 4号 宋体: odd pages right-aligned, even pages left, one character in."""
        self._doc.settings.odd_and_even_pages_header_footer = True
        section = self._doc.sections[0]
        for footer, align, indent in (
            (section.footer, WD_ALIGN_PARAGRAPH.RIGHT, {"right_chars": 1}),
            (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT, {"left_chars": 1}),
        ):
            footer.is_linked_to_previous = False
            paragraph = footer.paragraphs[0]
            paragraph.style = self._styles["page_number"]
            paragraph.alignment = align
            _set_indent(paragraph._p.get_or_add_pPr(), size_pt=PAGE_NUMBER_SIZE_PT, **indent)
            self._page_number_runs(paragraph)

    def _page_number_runs(self, paragraph) -> None:
        """Append "— {PAGE} —" as runs with a PAGE field."""

        def run(text: str = ""):
            """A 4号 宋体 run whose dashes use the East Asian (full-width) glyph."""
            r = paragraph.add_run(text)
            _set_run_props(r._r.get_or_add_rPr(), font=FONT_SONGTI, size_pt=PAGE_NUMBER_SIZE_PT, char_spacing=None,
                           east_asia_hint=True)  # fmt: skip
            return r

        def field_char(kind: str) -> None:
            """A run holding a field delimiter (begin / separate / end)."""
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
            run()._r.append(element)

        run("— ")
        field_char("begin")
        instruction = OxmlElement("w:instrText")
        instruction.set(qn("xml:space"), "preserve")
        instruction.text = " PAGE "
        run()._r.append(instruction)
        field_char("separate")
        run("1")
        field_char("end")
        run(" —")

    def _register_font_fallbacks(self) -> None:
        """Add the 公文 fonts to the font table with the names Windows ships as w:altName."""
        part = next(
            (p for p in self._doc.part.package.iter_parts() if str(p.partname) == "/word/fontTable.xml"), None
        )
        blob = getattr(part, "_blob", None)
        if part is None or not isinstance(blob, bytes) or b"</w:fonts>" not in blob:
            return
        entries = "".join(
            f"<w:font w:name={quoteattr(name)}><w:altName w:val={quoteattr(','.join(alt))}/>"
            '<w:charset w:val="86"/><w:family w:val="auto"/><w:pitch w:val="variable"/></w:font>'
            for name, alt in FONT_FALLBACKS.items()
        )
        # python-docx keeps parts it does not model (the font table among them) as raw bytes.
        part._blob = blob.replace(b"</w:fonts>", entries.encode() + b"</w:fonts>")

    def _masthead(self, issuer: str | None, doc_number: str | None) -> None:
        """版头: red 发文机关标志, 发文字号 two lines below it, then the red separator (7.2)."""
        last = None
        if issuer:
            issuer = clean_text(issuer)
            # As large as 小初 (36 pt) while the whole name still fits on one line.
            size = max(
                TITLE_SIZE_PT,
                min(36, math.floor(BODY_WIDTH_MM / 25.4 * 72 / max(text_width_chars(issuer), 1))),
            )
            last = self._add_text_paragraph(self._styles["issuer"], issuer, FONT_TITLE, size, None, color=RED)
            # 7.2.3: the issuer's top edge is 35 mm below the top of the body.
            last.paragraph_format.space_before = Mm(35)
        if doc_number:
            last = self._add_text_paragraph(
                self._styles["doc_number"],
                clean_text(doc_number),
                FONT_BODY,
                BODY_SIZE_PT,
                CHAR_SPACING_TWENTIETHS,
            )
            if issuer:
                last.paragraph_format.space_before = Twips(2 * LINE_PITCH_TWIPS)
        if last is None:
            return
        # 7.2.6: a red rule as wide as the body, 4 mm under the 发文字号.
        border = OxmlElement("w:bottom")
        for attr, value in (("val", "single"), ("sz", "12"), ("space", "11"), ("color", "FF0000")):
            border.set(qn(f"w:{attr}"), value)
        _child(last._p.get_or_add_pPr(), "w:pBdr", _PPR_ORDER).append(border)
        # 7.3.1: the title starts on the second line below the rule.
        self._blank_line()
        self._blank_line()

    # -- building blocks -----------------------------------------------------------------------

    def _blank_line(self):
        """An empty body line (the standard's 空一行)."""
        return self._doc.add_paragraph(style=self._styles["normal"])

    def _add_text_paragraph(self, style, text: str, font: str, size_pt: float | None, spacing, *, color=None):
        """One paragraph of ``style`` holding ``text`` in a single run with explicit fonts."""
        paragraph = self._doc.add_paragraph(style=style)
        self._add_run(paragraph, text, font, size_pt, spacing, color=color)
        return paragraph

    @staticmethod
    def _add_run(paragraph, text: str, font: str, size_pt: float | None, spacing, *, bold=None, color=None):
        """A run with fonts, size and spacing written on the run itself, not only in the style."""
        run = paragraph.add_run(text)
        _set_run_props(run._r.get_or_add_rPr(), font=font, size_pt=size_pt, char_spacing=spacing)
        if bold is not None:
            run.font.bold = bold
        if color is not None:
            run.font.color.rgb = color
        return run

    # -- public API ----------------------------------------------------------------------------

    def heading(self, text: str, *, level: int = 1, numbered: bool = True) -> None:
        """A 公文 heading: 1 "一、" 黑体, 2 "（一）" 楷体, 3 "1．" 仿宋 bold, 4 "（1）" 仿宋.

        The ordinal is added and counted automatically unless ``numbered`` is False or the text
        already starts with one (then it is kept as written, and the count still advances).
        """
        if level not in (1, 2, 3, 4):
            raise ValueError("标题层级只能是1、2、3或4。")
        self._counters[level - 1] += 1
        for deeper in range(level, 4):
            self._counters[deeper] = 0
        text = clean_text(text).strip()
        if numbered and not _ORDINAL_PREFIX.match(text):
            n = self._counters[level - 1]
            text = (f"{chinese_numeral(n)}、", f"（{chinese_numeral(n)}）", f"{n}．", f"（{n}）")[
                level - 1
            ] + text
        font = (FONT_HEITI, FONT_KAITI, FONT_BODY, FONT_BODY)[level - 1]
        paragraph = self._doc.add_paragraph(style=self._styles[f"h{level}"])
        self._add_run(
            paragraph, text, font, BODY_SIZE_PT, CHAR_SPACING_TWENTIETHS, bold=True if level == 3 else None
        )

    def paragraph(self, text: str, *, indent: bool = True) -> None:
        """Body text: each line becomes a paragraph, indented two characters unless ``indent`` is False."""
        for line in _LINE_BREAK.split(clean_text(text)):
            paragraph = self._doc.add_paragraph(style=self._styles["normal"])
            if indent:
                # Users often type their own "　　" indent; the style already indents.
                line = line.lstrip(" \t\u3000")
            else:
                _set_indent(paragraph._p.get_or_add_pPr(), first_line_chars=0)
            self._add_run(paragraph, line, FONT_BODY, BODY_SIZE_PT, CHAR_SPACING_TWENTIETHS)

    def table(
        self,
        headers: Sequence[Any],
        rows: Iterable[Sequence[Any]],
        *,
        col_widths_mm: Sequence[float] | None = None,
    ) -> None:
        """A bordered table in 小四 仿宋 with a 黑体 header row repeated on every page."""
        headers = list(headers)
        if not headers:
            raise ValueError("表格至少需要一列。")
        if col_widths_mm is None:
            col_widths_mm = [BODY_WIDTH_MM / len(headers)] * len(headers)
        elif len(col_widths_mm) != len(headers):
            raise ValueError("列宽的个数必须与表头的列数一致。")
        widths = [Mm(w) for w in col_widths_mm]

        table = self._doc.add_table(rows=1, cols=len(headers))
        table.style = self._doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        for column, width in zip(table.columns, widths, strict=True):
            column.width = width

        def fill(row, values, *, header: bool) -> None:
            """Write one row's cells; the header row repeats on every page."""
            tr_pr = row._tr.get_or_add_trPr()
            _child(tr_pr, "w:cantSplit", _TRPR_ORDER)
            if header:
                _child(tr_pr, "w:tblHeader", _TRPR_ORDER)
            for cell, width, value in zip(row.cells, widths, values, strict=True):
                cell.width = width
                cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
                paragraph = cell.paragraphs[0]
                paragraph.style = self._styles["table_header" if header else "table"]
                if not header and _is_number(value):
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
                font = FONT_HEITI if header else FONT_BODY
                self._add_run(paragraph, _cell_text(value), font, TABLE_SIZE_PT, None)

        fill(table.rows[0], headers, header=True)
        for number, values in enumerate(rows, start=1):
            values = list(values)
            if len(values) != len(headers):
                raise ValueError(f"表格第{number}行有{len(values)}列，与表头的{len(headers)}列不一致。")
            fill(table.add_row(), values, header=False)

    def image(
        self,
        png_bytes_or_path: bytes | str | PathLike | IO[bytes],
        *,
        width_mm: float = 150,
        caption: str | None = None,
    ) -> None:
        """A centred picture (PNG, JPEG, …) with an optional caption, fitted to the body width and grid."""
        source = png_bytes_or_path
        if isinstance(source, bytes | bytearray | memoryview):
            blob = bytes(source)
        elif isinstance(source, str | PathLike):
            blob = Path(source).read_bytes()
        else:
            blob = source.read()
        try:
            picture = Image.from_blob(blob)
        except UnrecognizedImageError as exc:
            raise ValueError("无法识别的图片格式，请使用PNG或JPEG图片。") from exc
        width, height = Mm(min(width_mm, BODY_WIDTH_MM)).emu, None
        if picture.px_width and picture.px_height:
            aspect = picture.px_height / picture.px_width
            # At most 200 mm tall (room for a caption), and a whole number of grid lines tall so
            # the text after the picture stays on the 22-line grid.
            line = Twips(LINE_PITCH_TWIPS).emu
            lines = max(1, math.floor(min(width * aspect, Mm(200).emu) / line))
            height = lines * line
            width = round(height / aspect)
        paragraph = self._doc.add_paragraph(style=self._styles["figure"])
        if not caption:
            paragraph.paragraph_format.keep_with_next = False
        paragraph.add_run().add_picture(
            io.BytesIO(blob), width=Emu(width), height=Emu(height) if height is not None else None
        )
        if caption:
            self._add_text_paragraph(
                self._styles["caption"], clean_text(caption), FONT_BODY, CAPTION_SIZE_PT, None
            )

    def signature(self, org_name: str, date: dt.date | str) -> None:
        """落款 without a seal (7.3.5.3): 发文机关署名 then 成文日期, one body line below the text."""
        org = clean_text(org_name).strip()
        date_text = chinese_date(date) if isinstance(date, dt.date) else clean_text(date).strip()
        org_width, date_width = text_width_chars(org), text_width_chars(date_text)
        date_right = max(2.0, org_width - date_width)
        org_right = date_right + date_width + 2 - org_width
        self._blank_line()
        for text, right in ((org, org_right), (date_text, date_right)):
            paragraph = self._doc.add_paragraph(style=self._styles["signature"])
            _set_indent(paragraph._p.get_or_add_pPr(), right_chars=right)
            self._add_run(paragraph, text, FONT_BODY, BODY_SIZE_PT, CHAR_SPACING_TWENTIETHS)

    def page_break(self) -> None:
        """Start a new page."""
        self._doc.add_page_break()

    def to_bytes(self) -> bytes:
        """The .docx file as bytes (may be called repeatedly)."""
        buffer = io.BytesIO()
        self._doc.save(buffer)
        return buffer.getvalue()

    def save(self, path: str | PathLike) -> None:
        """Write the .docx file to ``path``."""
        Path(path).write_bytes(self.to_bytes())


def _is_number(value: Any) -> bool:
    """True for int, float and Decimal, not for bool."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _cell_text(value: Any) -> str:
    """Text of a table cell: None empty, booleans 是/否, dates in Chinese, floats without noise."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.date):
        return chinese_date(value)
    if isinstance(value, float):
        return format(value, ".12g")
    return clean_text(value)


def docx_response(doc: OfficialDocument | bytes, filename: str):
    """A Django HttpResponse serving the document as an attachment (RFC 5987 name for Chinese)."""
    from django.http import HttpResponse
    from django.utils.http import content_disposition_header

    data = doc.to_bytes() if isinstance(doc, OfficialDocument) else doc
    filename = _FILENAME_ILLEGAL.sub("", filename).strip() or "公文"
    if not filename.lower().endswith(".docx"):
        filename += ".docx"
    response = HttpResponse(data, content_type=DOCX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response
