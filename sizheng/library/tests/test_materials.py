"""Materials: upload through the form, stored outside static, downloaded only by the audience; search
and filters; editing with a version; the publishing workflow; access (404 / 403 / 405 / 422)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from sizheng.core.models import StoredFile
from sizheng.library.models import Material, MaterialKind, MaterialState
from sizheng.library.tests.helpers import PDF, TXT, article, audited, document, pdf_upload, topic, txt_upload

pytestmark = pytest.mark.django_db


def _form(cast, **extra) -> dict:
    data = {
        "org": cast.branch_a1.pk,
        "title": "《中国共产党简史》导读",
        "topics": [topic("党史").pk, topic("理论学习").pk],
        "summary": "学习辅导材料。",
        "source": "学习出版社",
        "published_on": "2026-11-01",
        "audience_org": cast.branch_a1.pk,
        "intent": "publish",
    }
    data.update(extra)
    return data


# --- upload and download -------------------------------------------------------------------------


def test_it_uploads_a_pdf_through_the_form_stores_it_outside_static_and_audits(client, cast, media):
    client.force_login(cast.secretary_a)
    assert client.get(reverse("library:material_create")).status_code == 200
    response = client.post(reverse("library:material_create"), _form(cast, upload=pdf_upload()))
    material = Material.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("library:material_detail", args=[material.pk])
    assert material.kind == MaterialKind.DOCUMENT and material.state == MaterialState.PUBLISHED
    assert material.published_at is not None and material.org == cast.branch_a1
    assert {t.name for t in material.topics.all()} == {"党史", "理论学习"}
    stored = material.file
    assert stored.owner_kind == "library_material" and stored.owner_id == material.pk
    path = Path(media) / stored.path
    assert path.read_bytes() == PDF
    assert not str(path.resolve()).startswith(str(Path(settings.STATIC_ROOT).resolve()))
    assert audited("library_material_create", material) and audited("file_upload", stored)


def test_it_serves_the_file_to_the_audience_only_and_404s_everyone_else(client, cast):
    material = document(cast, upload=txt_upload())  # audience: branch A1's subtree
    url = reverse("library:material_download", args=[material.pk])
    core_url = reverse("core:file", args=[material.file.uid])
    for user in (cast.member, cast.org_admin, cast.committee_admin):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, user
        assert b"".join(response.streaming_content) == TXT
        assert "attachment" in response["Content-Disposition"]
    for user in (cast.outsider, cast.secretary_b, cast.sysadmin):
        client.force_login(user)
        assert client.get(url).status_code == 404, user
        assert client.get(core_url).status_code == 404, user
        assert client.get(reverse("library:material_detail", args=[material.pk])).status_code == 404
    assert audited("file_download", material.file)


def test_it_lets_everyone_read_what_the_committee_publishes_for_everyone(client, cast):
    material = document(cast, actor=cast.committee_admin, org=cast.root)
    assert material.audience_org is None
    client.force_login(cast.outsider)
    assert client.get(reverse("library:material_download", args=[material.pk])).status_code == 200
    client.force_login(cast.auditor)  # the system accounts (三员) read no content
    assert client.get(reverse("library:material_detail", args=[material.pk])).status_code == 404


def test_it_hides_drafts_from_readers_and_shows_them_to_editors(client, cast):
    draft = article(cast, publish=False, title="草稿文章")
    client.force_login(cast.member)
    assert client.get(reverse("library:material_detail", args=[draft.pk])).status_code == 404
    client.force_login(cast.org_admin)
    assert client.get(reverse("library:material_detail", args=[draft.pk])).status_code == 200


def test_it_refuses_an_exe_with_a_chinese_message_and_stores_nothing(client, cast):
    client.force_login(cast.secretary_a)
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("病毒.exe", b"MZ\x90\x00" + b"\x00" * 64)
    response = client.post(reverse("library:material_create"), _form(cast, upload=bad))
    assert response.status_code == 422
    assert "不支持上传 .exe 文件" in response.content.decode()
    assert not Material.objects.exists() and not StoredFile.objects.exists()
    assert client.post(reverse("library:material_create"), _form(cast, title="")).status_code == 422
    response = client.post(reverse("library:material_create"), _form(cast, topics=[]))
    assert response.status_code == 422
    body = response.content.decode()
    assert "请至少选择一个主题" in body and "请上传资料文件，或在线撰写文章正文" in body


def test_it_refuses_everyone_as_audience_below_the_committee(client, cast):
    client.force_login(cast.secretary_a)
    response = client.post(
        reverse("library:material_create"), _form(cast, audience_org="", upload=pdf_upload())
    )
    assert response.status_code == 422
    assert "面向全体人员的资料只能由机关工委发布" in response.content.decode()


def test_it_forbids_creating_to_members_and_answers_405_to_wrong_methods(client, cast):
    client.force_login(cast.member)
    assert client.get(reverse("library:material_create")).status_code == 403
    material = article(cast)
    client.force_login(cast.secretary_a)
    assert client.get(reverse("library:material_transition", args=[material.pk])).status_code == 405
    assert client.post(reverse("library:materials")).status_code == 405
    assert client.put(reverse("library:material_create")).status_code == 405


def test_it_writes_an_article_in_the_browser_and_renders_it_escaped(client, cast):
    client.force_login(cast.secretary_a)
    body = "# 一、学习体会\n\n<script>alert(1)</script> **重点**\n\n- 第一点\n- 第二点"
    response = client.post(reverse("library:material_create"), _form(cast, body=body))
    material = Material.objects.get()
    assert response.status_code == 302 and material.kind == MaterialKind.ARTICLE and material.file is None
    page = client.get(reverse("library:material_detail", args=[material.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<h3>一、学习体会</h3>" in page and "<strong>重点</strong>" in page and "<li>第二点</li>" in page


# --- editing and the workflow --------------------------------------------------------------------


def test_it_edits_with_the_version_and_answers_409_when_stale(client, cast):
    material = document(cast)
    client.force_login(cast.secretary_a)
    url = reverse("library:material_edit", args=[material.pk])
    assert client.get(url).status_code == 200
    data = _form(cast, title="新标题", version=material.version)
    data.pop("org")
    response = client.post(url, data)
    assert response.status_code == 302
    material.refresh_from_db()
    assert material.title == "新标题" and material.version == 2
    assert audited("library_material_update", material)
    stale = client.post(url, {**data, "title": "过时的标题"})
    assert stale.status_code == 409 and "已被他人修改" in stale.content.decode()
    material.refresh_from_db()
    assert material.title == "新标题"
    client.force_login(cast.member)
    assert client.get(url).status_code == 403
    client.force_login(cast.outsider)
    assert client.get(url).status_code == 404


def test_it_replaces_the_file_only_with_the_same_kind(client, cast, media):
    material = document(cast)
    client.force_login(cast.secretary_a)
    data = _form(cast, version=material.version, upload=txt_upload("修订版.txt"))
    data.pop("org")
    response = client.post(reverse("library:material_edit", args=[material.pk]), data)
    assert response.status_code == 302
    material.refresh_from_db()
    assert material.file.name == "修订版.txt" and (Path(media) / material.file.path).read_bytes() == TXT


def test_it_withdraws_only_with_confirmation_and_hides_the_item(client, cast):
    material = document(cast)
    url = reverse("library:material_transition", args=[material.pk])
    client.force_login(cast.org_admin)
    response = client.post(url, {"action": "withdraw", "version": material.version})
    assert response.status_code == 422 and "请先勾选确认" in response.content.decode()
    response = client.post(url, {"action": "withdraw", "version": material.version, "confirm": "on"})
    assert response.status_code == 302
    material.refresh_from_db()
    assert material.state == MaterialState.WITHDRAWN and audited("library_material_withdraw", material)
    again = client.post(url, {"action": "withdraw", "version": material.version, "confirm": "on"})
    assert again.status_code == 409
    client.force_login(cast.member)
    assert client.get(reverse("library:material_download", args=[material.pk])).status_code == 404
    assert client.post(url, {"action": "redraft", "version": material.version}).status_code == 404


def test_it_refuses_to_publish_an_empty_item_and_a_stale_version(client, cast):
    draft = article(cast, publish=False)
    Material.objects.filter(pk=draft.pk).update(body="")
    client.force_login(cast.secretary_a)
    url = reverse("library:material_transition", args=[draft.pk])
    response = client.post(url, {"action": "publish", "version": draft.version})
    assert response.status_code == 422 and "文章还没有正文" in response.content.decode()
    Material.objects.filter(pk=draft.pk).update(body="正文")
    assert client.post(url, {"action": "publish", "version": draft.version + 5}).status_code == 409
    assert client.post(url, {"action": "publish", "version": draft.version}).status_code == 302
    draft.refresh_from_db()
    assert draft.state == MaterialState.PUBLISHED and audited("library_material_publish", draft)
    client.force_login(cast.member)
    assert (
        client.post(url, {"action": "withdraw", "version": draft.version, "confirm": "on"}).status_code == 403
    )


# --- search, filters, ledger ---------------------------------------------------------------------


def test_it_searches_by_title_summary_and_topic_and_filters(client, cast):
    article(cast, title="遵义会议的伟大转折", topics=("党史",))
    article(cast, title="民法典读本", topics=("法治",))
    document(cast, actor=cast.committee_admin, org=cast.root, title="宪法学习要点", topics=("法治",))
    article(cast, actor=cast.secretary_b, org=cast.branch_b1, title="教育局的材料", topics=("法治",))
    client.force_login(cast.member)
    url = reverse("library:materials")

    def titles(**params) -> set[str]:
        response = client.get(url, params)
        assert response.status_code == 200
        page = response.context["page"]
        return {m.title for m in page.object_list}

    assert titles() == {"遵义会议的伟大转折", "民法典读本", "宪法学习要点"}
    assert titles(q="遵义") == {"遵义会议的伟大转折"}
    assert titles(q="法治") == {"民法典读本", "宪法学习要点"}  # topic name
    assert titles(topic=topic("党史").pk) == {"遵义会议的伟大转折"}
    assert titles(kind="document") == {"宪法学习要点"}
    assert titles(org=cast.root.pk) == {"遵义会议的伟大转折", "民法典读本", "宪法学习要点"}
    assert titles(year=2025) == set()
    assert titles(q="没有这个词") == set()
    assert "没有符合条件的学习资料" in client.get(url, {"q": "没有这个词"}).content.decode()


def test_it_exports_the_filtered_list_as_a_ledger(client, cast):
    article(cast, title="遵义会议的伟大转折")
    client.force_login(cast.secretary_a)
    response = client.get(reverse("library:materials_ledger"), {"q": "遵义"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    assert audited("library_ledger_export")


@pytest.mark.parametrize("path", ["library:materials", "library:materials_ledger"])
def test_it_keeps_the_list_queries_flat_as_rows_grow(client, cast, path, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(cast.member)
    article(cast, title="第1篇")
    client.get(reverse(path))  # warm the session and the caches
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse(path)).status_code == 200
    for i in range(2, 12):
        article(cast, title=f"第{i}篇", topics=("党史", "法治"))
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse(path)).status_code == 200
    assert len(many.captured_queries) == len(one.captured_queries)
