"""The Word documents of a round: the per-unit feedback report and the bulletin (通报), generated and
read back with python-docx — the facts are there, in 公文 order, and nothing beyond T0 is."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.urls import reverse
from docx import Document

from sizheng.assess import documents, results
from sizheng.assess.models import RoundState
from sizheng.assess.tests.conftest import build_small_system
from sizheng.assess.tests.test_results import SECRET_NOTE, _close, target_of, three
from sizheng.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def text_of(data: bytes) -> tuple[str, list[list[list[str]]]]:
    doc = Document(io.BytesIO(data))
    body = "\n".join(p.text for p in doc.paragraphs)
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    return body, tables


def test_feedback_report(ac, small_system):
    first = three(ac, small_system, state=RoundState.PUBLISHED, start=date(2025, 1, 1), end=date(2025, 12, 31),
                  title="2025年度测试考核")  # fmt: skip
    opened = results.open_rectification(first, actor=ac.committee_admin)
    _close(next(d for d in opened if d.assignee_org_id == ac.committee_a.pk), ac)
    second = three(ac, build_small_system(year=2027), state=RoundState.PUBLISHED)
    results.open_rectification(second, actor=ac.committee_admin)

    body, tables = text_of(documents.feedback_docx(target_of(second, ac.committee_a)))
    assert "关于2026年度测试考核\n结果的反馈" in body
    assert f"{ac.committee_a.full_name}：" in body
    assert (
        "总分 79.60 分" in body and "等次为“一般”" in body and "在 3 个参加考核的党组织中排名第 2 位" in body
    )
    assert "名次在第 1 位至第 3 位之间" in body
    for heading in ("一、考核结果", "二、指标得分情况", "三、整改要求", "四、上一轮整改情况"):
        assert heading in body
    subtotals, compared, duties, previous = tables
    assert subtotals[0] == ["一级指标", "权重", "本单位得分", "平均得分"] and subtotals[1][:3] == [
        "1 党建责任",
        "60.0%",
        "42.00",
    ]
    assert compared[0] == ["类别", "指标", "本单位得分", "平均得分", "差值"]
    assert [row[:2] for row in compared[1:]] == [["较好", "1.1 责任清单完成"], ["较好", "2.1 满意率"],
                                                 ["较弱", "1.2 组织生活"], ["相对较弱", "2.2 违纪事项"]]  # fmt: skip
    assert compared[3][2:] == ["50.0", "78.3", "-28.3"]
    assert duties[1][1] == "整改：组织生活" and "年" in duties[1][3]  # the due date, in Chinese
    assert "“2025年度测试考核”向你单位下发整改事项 1 项，已销号 1 项。" in body
    assert previous[1][1:3] == ["整改：组织生活", "已销号"]
    assert SECRET_NOTE not in body and all(SECRET_NOTE not in c for t in tables for r in t for c in r)
    assert body.rstrip().endswith("日") and ac.root.full_name in body  # 落款

    body, _ = text_of(documents.feedback_docx(target_of(second, ac.leading_a)))
    assert "2.1 满意率（无数据，权重已按比例分配给同级指标）" in body
    assert "已销号 0 项。未销号的事项请抓紧落实。" in body
    body, _ = text_of(documents.feedback_docx(target_of(second, ac.general_b)))
    assert (
        "加分 2.00 分" in body
        and "未下发整改事项" in body
        and "上一轮同类考核没有向你单位下发整改事项" in body
    )


def test_bulletin(ac, small_system):
    a = three(ac, small_system, state=RoundState.PUBLISHED, use_topsis=True)
    body, tables = text_of(documents.bulletin_docx(a))
    assert "关于2026年度测试考核\n结果的通报" in body and "各基层党组织：" in body
    assert "共有 3 个党组织参加考核" in body and "中位数 79.60 分" in body
    assert tables[0][0] == ["等次", "分数段", "单位数", "占比"]
    assert tables[0][2] == ["较好", "80—90 分（不含 90）", "1", "33.3%"]
    assert f"（二）较好（1个）\n{ac.general_b.name}。" in body
    assert f"（四）较差（1个）\n{ac.leading_a.name}。" in body and "（一）好（0个）\n无。" in body
    assert "四、考核方法" in body and "TOPSIS" in body and "1000 次随机扰动" in body
    assert "五、下一步工作" in body and "低于 60 分的指标" in body
    assert SECRET_NOTE not in body


def test_download_views(client, ac, small_system):
    a = three(ac, small_system, state=RoundState.PUBLISHED)
    own = target_of(a, ac.committee_a)
    body, _ = text_of(documents.feedback_docx(own))  # published, rectification not yet opened
    assert "你单位得分低于 60 分的指标有：1.2 组织生活（50.0 分）。" in body
    client.force_login(ac.committee_admin)
    response = client.get(reverse("assess:bulletin_docx", args=[a.pk]))
    assert response.status_code == 200 and "wordprocessingml" in response["Content-Type"]
    assert "attachment" in response["Content-Disposition"]
    assert "结果的通报" in text_of(response.content)[0]
    assert AuditEvent.objects.filter(action="assess_bulletin_download", object_id=str(a.pk)).exists()
    client.force_login(ac.unit_boss)
    response = client.get(reverse("assess:feedback_docx", args=[own.pk]))
    assert response.status_code == 200 and "结果的反馈" in text_of(response.content)[0]
    assert AuditEvent.objects.filter(action="assess_feedback_download", object_id=str(own.pk)).exists()
    assert (
        client.get(reverse("assess:feedback_docx", args=[target_of(a, ac.general_b).pk])).status_code == 404
    )
    client.force_login(ac.outsider)
    assert client.get(reverse("assess:feedback_docx", args=[own.pk])).status_code == 404
