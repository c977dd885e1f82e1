"""Results on a round computed by the real engine and published through ``rounds.publish``: the
record renders, rectification opens, the pages, the documents and the API agree."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from docx import Document

from sizheng.assess import documents, engine, results, rounds
from sizheng.assess.models import Assessment, ResultLine, RoundState
from sizheng.assess.tests.test_engine import quarterly, scenario  # noqa: F401 (fixtures)
from sizheng.duties.models import Duty, SourceKind

pytestmark = pytest.mark.django_db


def test_an_engine_round_published_end_to_end(client, ac, scenario):  # noqa: F811
    assessment, a, b, c = scenario
    engine.compute_round(assessment, actor=ac.committee_admin, samples=200)
    assessment = Assessment.objects.get(pk=assessment.pk)
    client.force_login(ac.committee_admin)
    page = client.get(reverse("assess:results", args=[assessment.pk])).content.decode()
    assert "计算方法与参数" in page and "加权求和" in page and "模拟次数：200" in page
    assert "尚未发布" in page and "名次区间" in page

    rounds.publish(assessment, actor=ac.committee_admin, version=assessment.version)
    assessment = Assessment.objects.get(pk=assessment.pk)
    assert assessment.state == RoundState.PUBLISHED
    below = ResultLine.objects.filter(
        target__assessment=assessment,
        status="ok",
        indicator__kind="scored",
        score__lt=assessment.rectify_below,
    )
    duties = Duty.objects.filter(source_kind=SourceKind.INDICATOR)
    assert duties.count() == below.count() and set(below.values_list("duty", flat=True)) == set(
        duties.values_list("pk", flat=True)
    )
    assert results.open_rectification(assessment, actor=ac.committee_admin) == []

    for target in (a, b, c):
        response = client.get(reverse("assess:result", args=[target.pk]))
        assert response.status_code == 200
        body = "\n".join(p.text for p in Document(io.BytesIO(documents.feedback_docx(target))).paragraphs)
        assert "结果的反馈" in body
    assert "结果的通报" in "\n".join(
        p.text for p in Document(io.BytesIO(documents.bulletin_docx(assessment))).paragraphs
    )
    api = client.get(f"/api/v1/assess/rounds/{assessment.pk}/targets/{b.pk}").json()
    assert api["total"] == pytest.approx(b.__class__.objects.get(pk=b.pk).total)
