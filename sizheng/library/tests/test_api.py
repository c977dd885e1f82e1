"""The library API: scoped search and detail, creating articles (JSON) and files (multipart), the
workflow — 404 outside scope, 403 read-only, 409 stale, 422 bad input, and nothing changing then."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sizheng.core.models import StoredFile
from sizheng.library import services, targets
from sizheng.library.models import Material, MaterialState
from sizheng.library.tests.helpers import PDF, article, audited, document, topic
from sizheng.study import services as study

pytestmark = pytest.mark.django_db

URL = "/api/v1/library/materials"


def _post(client, user, url, data):
    client.force_login(user)
    return client.post(url, data, content_type="application/json")


def _payload(cast, **extra) -> dict:
    data = {
        "org_id": cast.branch_a1.pk,
        "title": "学习党章的体会",
        "published_on": "2026-11-01",
        "topic_ids": [topic("党史").pk],
        "audience_org_id": cast.branch_a1.pk,
        "body": "# 体会\n\n正文。",
        "publish": True,
    }
    data.update(extra)
    return data


def test_it_lists_and_searches_within_scope(client, cast):
    article(cast, title="遵义会议的伟大转折")
    article(cast, actor=cast.secretary_b, org=cast.branch_b1, title="教育局的材料", topics=("法治",))
    document(cast, actor=cast.committee_admin, org=cast.root, title="宪法学习要点", topics=("法治",))
    client.force_login(cast.member)
    body = client.get(URL).json()
    assert body["count"] == 2 and {i["title"] for i in body["items"]} == {
        "遵义会议的伟大转折",
        "宪法学习要点",
    }
    assert "body" not in body["items"][0]
    assert [i["title"] for i in client.get(URL, {"q": "法治"}).json()["items"]] == ["宪法学习要点"]
    assert client.get(URL, {"topic_id": topic("党史").pk}).json()["count"] == 1
    assert client.get(URL, {"kind": "document"}).json()["items"][0]["file"]["url"].endswith("/download/")
    assert client.get(URL, {"org_id": cast.branch_b1.pk}).json()["count"] == 0
    assert client.get(URL, {"year": 2025}).json()["count"] == 0
    client.force_login(cast.outsider)
    assert [i["title"] for i in client.get(URL).json()["items"]] == ["宪法学习要点"]


def test_it_keeps_the_list_query_count_flat(client, cast):
    client.force_login(cast.member)
    article(cast, title="第1篇")
    client.get(URL)
    with CaptureQueriesContext(connection) as one:
        assert client.get(URL).status_code == 200
    for i in range(2, 12):
        document(cast, title=f"第{i}篇", topics=("党史", "法治"))
    with CaptureQueriesContext(connection) as many:
        assert client.get(URL).json()["count"] == 11
    assert len(many.captured_queries) == len(one.captured_queries)


def test_it_creates_an_article_for_a_manager_with_audit(client, cast):
    response = _post(client, cast.secretary_a, URL, _payload(cast))
    assert response.status_code == 201, response.content
    body = response.json()
    material = Material.objects.get()
    assert body["id"] == material.pk and body["state"] == "published" and body["body"] == material.body
    assert body["topics"] == ["党史"] and body["kind"] == "article"
    assert audited("library_material_create", material)
    client.force_login(cast.member)
    assert client.get(f"{URL}/{material.pk}").json()["title"] == "学习党章的体会"


def test_it_uploads_a_file_by_multipart_and_refuses_an_exe(client, cast):
    client.force_login(cast.secretary_a)
    data = _payload(cast, body="")
    data["topic_ids"] = str(topic("党史").pk)
    data.pop("publish")
    response = client.post(f"{URL}/upload", {**data, "file": SimpleUploadedFile("党史读本.pdf", PDF)})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "document" and body["state"] == "draft" and body["file"]["name"] == "党史读本.pdf"
    bad = client.post(f"{URL}/upload", {**data, "file": SimpleUploadedFile("病毒.exe", b"MZ\x90\x00")})
    assert bad.status_code == 422
    assert any("不支持上传 .exe 文件" in e["message"] for e in bad.json()["errors"])
    assert Material.objects.count() == 1 and StoredFile.objects.count() == 1


def test_it_answers_403_404_and_422_with_nothing_created(client, cast):
    assert _post(client, cast.member, URL, _payload(cast)).status_code == 403
    assert (
        _post(client, cast.secretary_b, URL, _payload(cast)).status_code == 404
    )  # branch A1 is not in scope
    response = _post(client, cast.secretary_a, URL, _payload(cast, topic_ids=[]))
    assert response.status_code == 422 and "请至少选择一个主题" in str(response.json())
    response = _post(client, cast.secretary_a, URL, _payload(cast, audience_org_id=None))
    assert response.status_code == 422 and "只能由机关工委发布" in str(response.json())
    assert _post(client, cast.secretary_a, URL, _payload(cast, title="")).status_code == 422
    assert not Material.objects.exists()
    material = article(cast)
    client.force_login(cast.outsider)
    assert client.get(f"{URL}/{material.pk}").status_code == 404
    assert client.get(f"{URL}/999999").status_code == 404


def test_it_runs_the_workflow_with_409_on_stale_versions(client, cast):
    material = article(cast, publish=False)
    url = f"{URL}/{material.pk}/transition"
    assert _post(client, cast.member, url, {"action": "publish", "version": 1}).status_code == 404  # a draft
    response = _post(client, cast.secretary_a, url, {"action": "publish", "version": 1})
    assert response.status_code == 200 and response.json() == {"state": "published", "version": 2}
    assert _post(client, cast.secretary_a, url, {"action": "withdraw", "version": 1}).status_code == 409
    assert _post(client, cast.member, url, {"action": "withdraw", "version": 2}).status_code == 403
    assert _post(client, cast.secretary_a, url, {"action": "unknown", "version": 2}).status_code == 422
    material.refresh_from_db()
    assert material.state == MaterialState.PUBLISHED and material.version == 2


def test_it_lists_where_a_material_is_used_only_for_visible_targets(client, cast):
    from datetime import date

    from sizheng.study.tests.helpers import lecture

    material = document(cast, actor=cast.committee_admin, org=cast.root)
    meeting = lecture(cast, date(2026, 11, 10))
    session = study.session_link(actor=cast.secretary_a, meeting=meeting)
    services.attachment_add(
        actor=cast.secretary_a,
        material=material,
        target=targets.get("study_session", session.pk, cast.secretary_a),
    )
    client.force_login(cast.member)
    uses = client.get(f"{URL}/{material.pk}").json()["uses"]
    assert [(u["target_kind"], u["target_id"]) for u in uses] == [("study_session", session.pk)]
    client.force_login(cast.outsider)
    assert client.get(f"{URL}/{material.pk}").json()["uses"] == []


def test_it_lists_the_topics(client, cast):
    client.force_login(cast.member)
    names = [t["name"] for t in client.get("/api/v1/library/topics").json()]
    assert names[:4] == ["党史", "新中国史", "改革开放史", "社会主义发展史"] and "法治" in names
