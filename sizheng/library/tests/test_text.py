"""Article rendering: the markdown-ish conventions, and every input character escaped (property tests)."""

from __future__ import annotations

import html

from hypothesis import given
from hypothesis import strategies as st

from sizheng.library import text


def test_it_renders_headings_paragraphs_lists_and_bold():
    body = "导语第一行\n导语第二行\n\n# 一、标题\n## 小标题\n\n- 甲\n- 乙\n\n1. 一\n2、二\n\n**重点**内容"
    out = text.render(body)
    assert out.split("\n") == [
        "<p>导语第一行<br>导语第二行</p>",
        "<h3>一、标题</h3>",
        "<h4>小标题</h4>",
        "<ul><li>甲</li><li>乙</li></ul>",
        "<ol><li>一</li><li>二</li></ol>",
        "<p><strong>重点</strong>内容</p>",
    ]


def test_it_escapes_html_and_attributes():
    out = text.render('<img src=x onerror="alert(1)"> & <a href="javascript:x">链接</a>')
    assert "<img" not in out and "<a " not in out
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp;" in out


def test_it_makes_a_plain_excerpt():
    assert text.excerpt("# 标题\n\n- **要点**一", limit=6) == "标题 要点一"
    assert text.excerpt("一二三四五六七八", limit=4) == "一二三四…"


_ALLOWED_TAGS = ("<p>", "</p>", "<br>", "<h3>", "</h3>", "<h4>", "</h4>", "<h5>", "</h5>", "<ul>", "</ul>",
                 "<ol>", "</ol>", "<li>", "</li>", "<strong>", "</strong>")  # fmt: skip


@given(st.text(max_size=300))
def test_it_never_lets_markup_through(body):
    out = text.render(body)
    stripped = out
    for tag in _ALLOWED_TAGS:
        stripped = stripped.replace(tag, "")
    assert "<" not in stripped and ">" not in stripped.replace("&gt;", "")
    # Nothing is lost: the text content is the input's non-blank characters, escaped.
    for ch in body:
        if ch in "<>&\"'":
            assert html.escape(ch, quote=True) in out


_WORDS = st.text(alphabet="学习党史法治<>&\"' ，。\n", max_size=200)


@given(_WORDS)
def test_it_keeps_all_text_without_markers(body):
    """Without marker characters, the visible text is exactly the input's (whitespace aside)."""
    out = text.render(body)
    for tag in _ALLOWED_TAGS:
        out = out.replace(tag, "")
    assert "".join(html.unescape(out).split()) == "".join(body.split())
