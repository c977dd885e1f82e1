"""In-house articles: plain text with a few markdown-ish conventions, rendered to safe HTML.

Pure (no Django imports). Every character of the input is HTML-escaped before any markup is added,
so no raw HTML, no attribute, no script and no link ever comes from an author. Supported:

- paragraphs separated by a blank line; a single line break inside a paragraph stays a line break;
- ``# 标题`` / ``## 标题`` / ``### 标题`` at the start of a line → a heading (h3 / h4 / h5, below the
  page's own title);
- lines starting with ``- `` / ``* `` / ``• `` → a bulleted list; ``1. `` / ``1、`` → a numbered list;
- ``**加粗**`` inside a line → bold.
"""

from __future__ import annotations

import html
import re

_HEADING = re.compile(r"^(#{1,3})\s+(.+)$")
_BULLET = re.compile(r"^\s*[-*•]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d{1,3}[.、．)]\s*(.*)$")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_HEADING_TAG = {1: "h3", 2: "h4", 3: "h5"}


def _inline(line: str) -> str:
    """One line escaped, then ``**…**`` turned into bold (the markers are ASCII, never escaped)."""
    return _BOLD.sub(r"<strong>\1</strong>", html.escape(line, quote=True))


def _blocks(body: str) -> list[list[str]]:
    """Groups of non-blank lines; a heading line is always a block of its own."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for raw in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.rstrip()
        if not line.strip():
            if current:
                blocks.append(current)
                current = []
            continue
        if _HEADING.match(line.strip()):
            if current:
                blocks.append(current)
                current = []
            blocks.append([line.strip()])
            continue
        current.append(line)
    if current:
        blocks.append(current)
    return blocks


def _render_block(lines: list[str]) -> str:
    first = lines[0].strip()
    heading = _HEADING.match(first) if len(lines) == 1 else None
    if heading:
        tag = _HEADING_TAG[len(heading.group(1))]
        return f"<{tag}>{_inline(heading.group(2).strip())}</{tag}>"
    if all(_BULLET.match(line) for line in lines):
        items = "".join(f"<li>{_inline(_BULLET.match(line).group(1))}</li>" for line in lines)  # type: ignore[union-attr]
        return f"<ul>{items}</ul>"
    if all(_NUMBERED.match(line) for line in lines):
        items = "".join(f"<li>{_inline(_NUMBERED.match(line).group(1))}</li>" for line in lines)  # type: ignore[union-attr]
        return f"<ol>{items}</ol>"
    return "<p>" + "<br>".join(_inline(line.strip()) for line in lines) + "</p>"


def render(body: str) -> str:
    """The article as HTML; safe to mark safe because every input character was escaped."""
    return "\n".join(_render_block(b) for b in _blocks(body or ""))


def excerpt(body: str, limit: int = 120) -> str:
    """The first ``limit`` characters of the article's text, markers removed (for lists; plain text)."""
    plain = " ".join(
        _BOLD.sub(r"\1", re.sub(r"^(#{1,3}\s+|\s*[-*•]\s+)", "", line.strip()))
        for line in (body or "").splitlines()
        if line.strip()
    )
    return plain if len(plain) <= limit else plain[:limit].rstrip() + "…"
