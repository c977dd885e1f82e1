"""The report as a 公文 Word file: the title, the four sections as 一、二、三、四 headings, the charts
embedded as pictures, the adopted measures, and no chart for a suppressed group."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, timedelta

import pytest
import time_machine

from sizheng.insight import reports
from sizheng.insight.documents import chart_names, chart_png, facts_of, report_docx
from sizheng.insight.tests.test_reports import NOW, draft, finalize, two_waves

pytestmark = pytest.mark.django_db
HEADINGS = ("一、总体情况", "二、主要表现", "三、原因分析", "四、对策建议")


def _unzip(data: bytes) -> tuple[str, list[str]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = z.read("word/document.xml").decode("utf-8")
        media = [n for n in z.namelist() if n.startswith("word/media/")]
    return xml, media


def _text(xml: str) -> str:
    return "".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", xml))


@time_machine.travel(NOW, tick=False)
def test_it_writes_the_four_sections_and_the_charts_into_the_word_file(cast):
    _survey, _first, second = two_waves(cast)
    report = finalize(draft(cast, org=cast.branch_a1, waves=[second]), cast.secretary_a)
    reports.recommendation_add(actor=cast.secretary_a, report=report, concern="加班较多", action="精简会议文件",
                               due_on=NOW + timedelta(days=20))  # fmt: skip
    xml, media = _unzip(report_docx(report))
    text = _text(xml)
    positions = [text.find(h) for h in HEADINGS]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)
    assert "市财政局机关第一支部委员会" in text and "思想动态分析研判报告" in text
    assert "本期共有 40 人参与" in text
    assert "图1　各维度指数" in text and "图2　主要关注问题占比" in text
    assert len([m for m in media if m.endswith(".png")]) == 2
    assert "精简会议文件" in text and "正在落实" in text
    assert "中共市财政局机关第一支部委员会" in text and "2026年7月15日" in text  # 落款


@time_machine.travel(NOW, tick=False)
def test_it_draws_the_dimension_and_theme_charts_as_png(cast):
    _survey, _first, second = two_waves(cast)
    report = draft(cast, org=cast.branch_a1, waves=[second])
    facts = facts_of(report)
    assert [name for name, _ in chart_names(facts)] == ["dimensions", "themes"]
    for name in ("dimensions", "themes"):
        assert chart_png(facts, name).startswith(b"\x89PNG")
    assert chart_png(facts, "nothing") is None


@time_machine.travel(NOW, tick=False)
def test_it_adds_no_chart_when_the_group_is_suppressed(cast):
    _survey, _first, second = two_waves(cast, a2_now=3)
    report = draft(cast, org=cast.branch_a2, waves=[second])
    assert chart_names(facts_of(report)) == []
    xml, media = _unzip(report_docx(report))
    assert media == []
    assert all(h in _text(xml) for h in HEADINGS)


def test_it_writes_a_report_without_survey_data(cast):
    report = draft(cast, org=cast.branch_c, period="2026-Q1")
    xml, media = _unzip(report_docx(report))
    text = _text(xml)
    assert all(h in text for h in HEADINGS) and media == []
    assert "没有已结束的问卷调查" in text
    assert report.created_at.date() <= date.today()
