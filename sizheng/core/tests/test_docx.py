"""Tests for the 公文 writer (sizheng.core.docx): the layout is checked in the OOXML itself."""

import datetime as dt
import io
import re
import zipfile
from urllib.parse import unquote

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from sizheng.core import charts
from sizheng.core.docx import (
    DOCX_CONTENT_TYPE,
    OfficialDocument,
    chinese_date,
    chinese_numeral,
    docx_response,
    text_width_chars,
)

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W, "a": "http://schemas.openxmlformats.org/drawingml/2006/main"}


def w(name: str) -> str:
    """Clark name of a WordprocessingML element or attribute."""
    return f"{{{W}}}{name}"


def twips(mm: float) -> float:
    """Exact twips for a length in millimetres."""
    return mm * 1440 / 25.4


class Parts:
    """The XML parts of a built .docx."""

    def __init__(self, data: bytes):
        """Parse document, styles and settings."""
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        self.document = etree.fromstring(self.zip.read("word/document.xml"))
        self.styles = etree.fromstring(self.zip.read("word/styles.xml"))
        self.settings = etree.fromstring(self.zip.read("word/settings.xml"))

    def xml(self, name: str):
        """Parse any part by its zip name."""
        return etree.fromstring(self.zip.read(name))

    def style(self, style_id: str):
        """The w:style element with this id."""
        found = self.styles.xpath(f"w:style[@w:styleId='{style_id}']", namespaces=NS)
        assert found, f"style {style_id} missing"
        return found[0]

    def paragraphs_with_style(self, style_id: str):
        """Body paragraphs using this paragraph style."""
        return self.document.xpath(f"//w:p[w:pPr/w:pStyle/@w:val='{style_id}']", namespaces=NS)

    def paragraph_reading(self, text: str):
        """The first paragraph whose whole text is ``text``."""
        for p in self.document.iter(w("p")):
            if "".join(p.itertext()) == text:
                return p
        raise AssertionError(f"no paragraph reads {text!r}")

    def paragraph_containing(self, text: str):
        """The first paragraph whose text contains ``text``."""
        for p in self.document.iter(w("p")):
            if text in "".join(p.itertext()):
                return p
        raise AssertionError(f"no paragraph contains {text!r}")


def east_asia_font(element) -> str | None:
    """The w:eastAsia font named in an element's rPr."""
    fonts = element.find(f"{w('rPr')}/{w('rFonts')}")
    return None if fonts is None else fonts.get(w("eastAsia"))


def first_run(paragraph):
    """The first w:r of a paragraph."""
    return paragraph.find(w("r"))


def _sample_document() -> OfficialDocument:
    """A document using every builder method."""
    doc = OfficialDocument(
        title="关于开展机关思想政治工作情况调研的通知",
        issuer="中共某某局机关委员会文件",
        doc_number="某机党〔2026〕12号",
    )
    doc.paragraph("各党支部：", indent=False)
    doc.paragraph("　　为深入贯彻落实有关部署要求，现将有关事项通知如下。")
    doc.heading("调研内容")
    doc.heading("思想动态", level=2)
    doc.heading("覆盖情况", level=3)
    doc.heading("个别谈话", level=4)
    doc.table(["支部", "党员数", "覆盖率"], [["第一党支部", 32, 0.9375], ["第二党支部", 25, None]])
    doc.image(charts.bar_chart(["甲", "乙"], [1, 2]), width_mm=150, caption="图1 谈话人次")
    doc.heading("二、时间安排")
    doc.signature("中共某某局机关委员会", dt.date(2026, 11, 29))
    doc.page_break()
    doc.paragraph("附件正文。")
    return doc


@pytest.fixture(scope="module")
def parts() -> Parts:
    """The parsed sample document, built once for the module."""
    return Parts(_sample_document().to_bytes())


def test_it_sets_a4_and_the_gb9704_margins(parts):
    sect = parts.document.find(f"{w('body')}/{w('sectPr')}")
    size = sect.find(w("pgSz"))
    assert (size.get(w("w")), size.get(w("h"))) == ("11906", "16838")
    margins = sect.find(w("pgMar"))
    for side, mm in (("top", 37), ("bottom", 35), ("left", 28), ("right", 26)):
        assert abs(int(margins.get(w(side))) - twips(mm)) <= 1, side
    assert margins.get(w("gutter")) == "0"


def test_it_lays_the_body_on_a_22_by_28_grid(parts):
    grid = parts.document.find(f"{w('body')}/{w('sectPr')}/{w('docGrid')}")
    assert grid.get(w("type")) == "lines"
    assert grid.get(w("linePitch")) == "579"
    # 28 characters come from 3号 with −0.25 pt spacing: 28 fit on the 156 mm line, 29 do not.
    pitch_pt = 16 - 0.25
    body_pt = 156 / 25.4 * 72
    assert 28 * pitch_pt <= body_pt < 29 * pitch_pt
    spacing = parts.style("Normal").find(f"{w('pPr')}/{w('spacing')}")
    assert (spacing.get(w("line")), spacing.get(w("lineRule"))) == ("579", "exact")
    body_height_pt = 225 / 25.4 * 72
    assert 22 * 579 / 20 <= body_height_pt < 23 * 579 / 20


def test_it_names_the_gongwen_fonts_with_east_asia_in_styles_and_runs(parts):
    normal = parts.style("Normal")
    fonts = normal.find(f"{w('rPr')}/{w('rFonts')}")
    assert fonts.get(w("eastAsia")) == "仿宋_GB2312"
    assert fonts.get(w("ascii")) == fonts.get(w("hAnsi")) == "仿宋_GB2312"
    assert fonts.get(w("eastAsiaTheme")) is None
    assert normal.find(f"{w('rPr')}/{w('sz')}").get(w("val")) == "32"
    defaults = parts.styles.find(f"{w('docDefaults')}/{w('rPrDefault')}/{w('rPr')}/{w('rFonts')}")
    assert defaults.get(w("eastAsia")) == "仿宋_GB2312" and defaults.get(w("eastAsiaTheme")) is None

    (title,) = parts.paragraphs_with_style("GwTitle")
    assert east_asia_font(first_run(title)) == "方正小标宋简体"
    assert first_run(title).find(f"{w('rPr')}/{w('sz')}").get(w("val")) == "44"
    assert title.xpath("string(.)") == "关于开展机关思想政治工作情况调研的通知"
    assert east_asia_font(parts.style("GwTitle")) == "方正小标宋简体"

    h1 = parts.paragraph_containing("一、调研内容")
    assert east_asia_font(first_run(h1)) == "黑体"
    assert east_asia_font(parts.style("GwHeading1")) == "黑体"
    h2 = parts.paragraph_containing("（一）思想动态")
    assert east_asia_font(first_run(h2)) == "楷体_GB2312"
    h3 = parts.paragraph_containing("1．覆盖情况")
    assert east_asia_font(first_run(h3)) == "仿宋_GB2312"
    assert first_run(h3).find(f"{w('rPr')}/{w('b')}") is not None


def test_it_tightens_body_runs_by_a_quarter_point(parts):
    body = parts.paragraph_containing("为深入贯彻落实")
    run = first_run(body)
    assert run.find(f"{w('rPr')}/{w('spacing')}").get(w("val")) == "-5"
    assert east_asia_font(run) == "仿宋_GB2312"
    assert parts.style("Normal").find(f"{w('rPr')}/{w('spacing')}").get(w("val")) == "-5"


def test_it_indents_body_paragraphs_two_characters_and_strips_typed_indents(parts):
    ind = parts.style("Normal").find(f"{w('pPr')}/{w('ind')}")
    assert (ind.get(w("firstLineChars")), ind.get(w("firstLine"))) == ("200", "640")
    body = parts.paragraph_containing("为深入贯彻落实")
    assert "".join(body.itertext()).startswith("为深入")
    addressee = parts.paragraph_containing("各党支部：")
    assert addressee.find(f"{w('pPr')}/{w('ind')}").get(w("firstLineChars")) == "0"
    title_ind = parts.style("GwTitle").find(f"{w('pPr')}/{w('ind')}")
    assert title_ind.get(w("firstLineChars")) == "0"


def test_it_numbers_headings_in_the_gongwen_hierarchy(parts):
    for text, level in (("一、调研内容", 0), ("（一）思想动态", 1), ("1．覆盖情况", 2), ("（1）个别谈话", 3)):
        paragraph = parts.paragraph_containing(text)
        style_id = paragraph.find(f"{w('pPr')}/{w('pStyle')}").get(w("val"))
        assert parts.style(style_id).find(f"{w('pPr')}/{w('outlineLvl')}").get(w("val")) == str(level)
    # A heading typed with its own ordinal is not numbered twice.
    assert "".join(parts.paragraph_containing("时间安排").itertext()) == "二、时间安排"


def test_it_restarts_lower_heading_numbers_under_a_new_heading():
    doc = OfficialDocument(title="t")
    doc.heading("甲")
    doc.heading("子一", level=2)
    doc.heading("子二", level=2)
    doc.heading("乙")
    doc.heading("子一", level=2)
    doc.heading("不编号", level=2, numbered=False)
    texts = ["".join(p.itertext()) for p in Parts(doc.to_bytes()).document.iter(w("p"))]
    assert [t for t in texts if t and t != "t"] == [
        "一、甲",
        "（一）子一",
        "（二）子二",
        "二、乙",
        "（一）子一",
        "不编号",
    ]


def test_it_writes_a_table_with_a_repeating_header_row(parts):
    (table,) = parts.document.iter(w("tbl"))
    rows = table.findall(w("tr"))
    assert len(rows) == 3
    assert rows[0].find(f"{w('trPr')}/{w('tblHeader')}") is not None
    assert rows[1].find(f"{w('trPr')}/{w('tblHeader')}") is None
    assert ["".join(c.itertext()) for c in rows[1].findall(w("tc"))] == ["第一党支部", "32", "0.9375"]
    assert ["".join(c.itertext()) for c in rows[2].findall(w("tc"))] == ["第二党支部", "25", ""]
    assert east_asia_font(rows[0].find(f".//{w('r')}")) == "黑体"
    assert east_asia_font(rows[1].find(f".//{w('r')}")) == "仿宋_GB2312"
    grid = [int(c.get(w("w"))) for c in table.find(w("tblGrid"))]
    assert abs(sum(grid) - twips(156)) <= 3


def test_it_embeds_the_image_within_the_body_width_with_its_caption(parts):
    blips = parts.document.xpath("//a:blip", namespaces=NS)
    assert len(blips) == 1
    assert any(name.startswith("word/media/") for name in parts.zip.namelist())
    extent = parts.document.xpath("//w:drawing//*[local-name()='extent']", namespaces=NS)[0]
    assert int(extent.get("cx")) <= 156 * 36000
    # A whole number of 28.95 pt grid lines tall, so following text stays on the grid.
    assert int(extent.get("cy")) % (579 * 635) == 0
    caption = parts.paragraph_containing("图1 谈话人次")
    assert caption.find(f"{w('pPr')}/{w('pStyle')}").get(w("val")) == "GwCaption"


def test_it_signs_with_the_date_two_characters_right_of_the_issuer(parts):
    org = parts.paragraph_reading("中共某某局机关委员会")
    date = parts.paragraph_reading("2026年11月29日")
    org_ind, date_ind = (p.find(f"{w('pPr')}/{w('ind')}") for p in (org, date))
    assert org_ind.get(w("rightChars")) == "200"
    assert date_ind.get(w("rightChars")) == "300"
    # First character of the date sits two characters right of the issuer's first character.
    org_start = 28 - 2 - text_width_chars("中共某某局机关委员会")
    date_start = 28 - 3 - text_width_chars("2026年11月29日")
    assert date_start - org_start == 2
    assert parts.style("GwSignature").find(f"{w('pPr')}/{w('jc')}").get(w("val")) == "right"


def test_it_keeps_a_long_date_two_characters_from_the_right():
    doc = OfficialDocument(title="t")
    doc.signature("某局", dt.date(2026, 1, 1))
    parts = Parts(doc.to_bytes())
    org = parts.paragraph_containing("某局").find(f"{w('pPr')}/{w('ind')}")
    date = parts.paragraph_containing("2026年1月1日").find(f"{w('pPr')}/{w('ind')}")
    assert date.get(w("rightChars")) == "200"
    # The name starts two characters left of the date and is two wide: it ends where the date starts.
    assert org.get(w("rightChars")) == "800"


def test_it_prints_the_red_masthead(parts):
    (issuer,) = parts.paragraphs_with_style("GwIssuer")
    run = first_run(issuer)
    assert run.find(f"{w('rPr')}/{w('color')}").get(w("val")) == "FF0000"
    assert east_asia_font(run) == "方正小标宋简体"
    (number,) = parts.paragraphs_with_style("GwDocNumber")
    rule = number.find(f"{w('pPr')}/{w('pBdr')}/{w('bottom')}")
    assert rule.get(w("color")) == "FF0000"
    assert "".join(number.itertext()) == "某机党〔2026〕12号"


def test_it_numbers_pages_with_dashes_on_the_outer_side(parts):
    assert parts.settings.find(w("evenAndOddHeaders")) is not None
    sect = parts.document.find(f"{w('body')}/{w('sectPr')}")
    rels = etree.fromstring(parts.zip.read("word/_rels/document.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels}
    alignments = {}
    for ref in sect.findall(w("footerReference")):
        footer = parts.xml(
            "word/"
            + targets[ref.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")]
        )
        (paragraph,) = footer.findall(w("p"))
        instruction = "".join(paragraph.xpath(".//w:instrText/text()", namespaces=NS))
        assert instruction.strip() == "PAGE"
        assert "".join(paragraph.xpath(".//w:t/text()", namespaces=NS)) == "— 1 —"
        assert east_asia_font(first_run(paragraph)) == "宋体"
        assert first_run(paragraph).find(f"{w('rPr')}/{w('sz')}").get(w("val")) == "28"
        alignments[ref.get(w("type"))] = paragraph.find(f"{w('pPr')}/{w('jc')}").get(w("val"))
    assert alignments == {"default": "right", "even": "left"}


def test_it_offers_modern_font_names_as_fallbacks(parts):
    fonts = parts.xml("word/fontTable.xml")
    alt = fonts.xpath("w:font[@w:name='仿宋_GB2312']/w:altName/@w:val", namespaces=NS)
    assert alt and "仿宋" in alt[0].split(",")


def test_it_reopens_in_python_docx_and_starts_pages_on_break(parts):
    data = _sample_document().to_bytes()
    reopened = docx.Document(io.BytesIO(data))
    assert any("附件正文" in p.text for p in reopened.paragraphs)
    assert b'w:type="page"' in zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml")


def test_it_rejects_bad_input_with_chinese_messages():
    doc = OfficialDocument(title="t")
    with pytest.raises(ValueError, match="标题层级"):
        doc.heading("x", level=5)
    with pytest.raises(ValueError, match="第2行"):
        doc.table(["a", "b"], [[1, 2], [1]])
    with pytest.raises(ValueError, match="列宽"):
        doc.table(["a", "b"], [], col_widths_mm=[10])
    with pytest.raises(ValueError, match="图片格式"):
        doc.image(b"not an image")


def test_it_accepts_an_image_path(tmp_path):
    path = tmp_path / "chart.png"
    path.write_bytes(charts.pie_chart(["甲", "乙"], [1, 1]))
    doc = OfficialDocument(title="t")
    doc.image(path, width_mm=400)
    extent = Parts(doc.to_bytes()).document.xpath("//*[local-name()='extent']")[0]
    assert int(extent.get("cx")) <= 156 * 36000


def test_it_saves_to_a_path(tmp_path):
    target = tmp_path / "公文.docx"
    OfficialDocument(title="标题").save(target)
    assert zipfile.is_zipfile(target)


def test_it_serves_the_document_as_a_chinese_named_attachment():
    response = docx_response(OfficialDocument(title="通知"), "关于调研的通知")
    assert response["Content-Type"] == DOCX_CONTENT_TYPE
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    _, _, encoded = disposition.partition("filename*=")
    assert encoded.lower().startswith("utf-8''")
    assert unquote(encoded[len("utf-8''") :]) == "关于调研的通知.docx"
    assert zipfile.is_zipfile(io.BytesIO(response.content))


def test_it_formats_dates_and_numerals_the_gongwen_way():
    assert chinese_date(dt.date(2026, 11, 9)) == "2026年11月9日"
    aware = dt.datetime(2026, 11, 28, 20, 0, tzinfo=dt.UTC)
    assert chinese_date(aware) == "2026年11月29日"
    assert [chinese_numeral(n) for n in (1, 10, 11, 20, 21, 99)] == [
        "一",
        "十",
        "十一",
        "二十",
        "二十一",
        "九十九",
    ]


@given(st.integers(min_value=1, max_value=99))
def test_it_spells_every_heading_ordinal_uniquely(n):
    spelled = chinese_numeral(n)
    assert re.fullmatch("[一二三四五六七八九十]+", spelled)
    assert all(chinese_numeral(m) != spelled for m in range(1, 100) if m != n)


# Chinese text, XML metacharacters, control characters, lone surrogates and noncharacters.
HOSTILE_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.sampled_from("&<>\"'；，。　\t\r\n\x00\x01\x08\x0b\x0c\x1f\x7f\ufffe\uffff\ud800]]>"),
        st.characters(codec="utf-8"),
    ),
    max_size=30,
)


@settings(max_examples=15, deadline=None)
@given(title=HOSTILE_TEXT, body=HOSTILE_TEXT, cell=HOSTILE_TEXT)
def test_it_survives_hostile_text_everywhere(title, body, cell):
    doc = OfficialDocument(title=title, issuer=body, doc_number=cell)
    doc.heading(body)
    doc.paragraph(body)
    doc.table([cell], [[body]])
    doc.image(_tiny_png(), caption=cell)
    doc.signature(cell, body)
    data = doc.to_bytes()
    parts = Parts(data)  # every part parses as XML
    text = "".join(parts.document.itertext())
    legal = re.sub("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", "", body)
    for line in re.split(r"\r\n|\r|\n", legal):
        assert line.lstrip(" \t\u3000").replace("\t", "") in text.replace("\t", "")
    assert docx.Document(io.BytesIO(data)).core_properties.title is not None


_PNG_CACHE: list[bytes] = []


def _tiny_png() -> bytes:
    """A small chart PNG, rendered once."""
    if not _PNG_CACHE:
        _PNG_CACHE.append(charts.bar_chart(["甲"], [1]))
    return _PNG_CACHE[0]
