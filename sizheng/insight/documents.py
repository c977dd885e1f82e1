"""The 分析研判报告 as a 公文 Word file (GB/T 9704 via ``core.docx``) with its charts (``core.charts``).

Layout: the title (the org's name on its own line), then the four sections as 一、二、三、四
headings — 总体情况 / 主要表现 / 原因分析 / 对策建议 (rules.md §5) — with the charts under 主要表现
(a bar chart of the dimension indices and one of the shares of the main concerns), the adopted
measures as a table under 对策建议, and the 落款 (the org and the date). The charts are drawn from
the same suppressed aggregates the draft was written from; a report whose group was suppressed
gets no chart rather than an empty one.
"""

from __future__ import annotations

from django.utils import timezone

from sizheng.core import charts
from sizheng.core.docx import OfficialDocument
from sizheng.insight.models import InsightReport, ReportState
from sizheng.insight.reports import SECTIONS, ReportFacts, parse_period, report_facts

MAX_THEMES_CHARTED = 8
CHARTS = {"dimensions": "各维度指数", "themes": "主要关注问题占比"}


def facts_of(report: InsightReport, *, actor=None) -> ReportFacts:
    """The facts behind a report's charts (no talk tags: the charts do not show them)."""
    waves = list(report.waves.select_related("survey", "survey__owner_org"))
    return report_facts(report.org, parse_period(report.period), waves, actor=actor, with_tags=False)


def chart_names(facts: ReportFacts) -> list[tuple[str, str]]:
    """(name, caption) of the charts the report has data for, without drawing them."""
    main = facts.main
    if main is None:
        return []
    has = {"dimensions": bool(main.dimensions), "themes": bool(main.themes)}
    return [(name, caption) for name, caption in CHARTS.items() if has[name]]


def chart_png(facts: ReportFacts, name: str) -> bytes | None:
    """One chart of the report as PNG bytes (None when there is nothing published to draw)."""
    main = facts.main
    if main is None:
        return None
    if name == "dimensions" and main.dimensions:
        return charts.bar_chart(
            [d.name for d in main.dimensions],
            [d.index for d in main.dimensions],
            title=f"各维度指数（{main.wave.label}）",
            ylabel="指数（满分 100）",
        )
    if name == "themes" and main.themes:
        top = main.themes[:MAX_THEMES_CHARTED]
        return charts.bar_chart(
            [t.theme for t in top],
            [t.share for t in top],
            title=f"主要关注问题占填写意见人数的比例（{main.wave.label}）",
            ylabel="占比（%）",
        )
    return None


def report_charts(facts: ReportFacts) -> list[tuple[str, str, bytes]]:
    """(name, caption, PNG) of every chart the report has."""
    out = []
    for name, caption in CHARTS.items():
        png = chart_png(facts, name)
        if png is not None:
            out.append((name, caption, png))
    return out


def _title(report: InsightReport) -> str:
    # The org's name on its own line keeps long names from breaking mid-word (GB/T 9704 7.3.1).
    name = report.org.name
    if report.title.startswith(name) and len(report.title) > len(name):
        return f"{name}\n{report.title[len(name) :]}"
    return report.title


def report_docx(report: InsightReport, *, actor=None) -> bytes:
    """The report as a 公文 .docx: title, the four sections with charts, measures, 落款."""
    facts = facts_of(report, actor=actor)
    figures = report_charts(facts)
    doc = OfficialDocument(title=_title(report))
    figure_no = 0
    for name, label in SECTIONS:
        doc.heading(label)
        doc.paragraph(getattr(report, name) or "（未填写）")
        if name == "performance":
            for _key, caption, png in figures:
                figure_no += 1
                doc.image(png, width_mm=150, caption=f"图{figure_no}　{caption}")
        if name == "measures":
            recs = list(report.recommendations.order_by("pk"))
            if recs:
                doc.table(
                    ["序号", "干部职工反映的问题", "我们的措施", "落实情况"],
                    [
                        [i, r.concern, r.action, (f"已完成：{r.outcome}" if r.done_on else "正在落实")]
                        for i, r in enumerate(recs, start=1)
                    ],
                    col_widths_mm=[14, 48, 48, 46],
                )
    day = report.submitted_at or timezone.now()
    doc.signature(report.org.full_name, timezone.localtime(day).date())
    return doc.to_bytes()


def docx_filename(report: InsightReport) -> str:
    suffix = "" if report.state != ReportState.DRAFT else "（草稿）"
    return f"{report.title}{suffix}.docx"
