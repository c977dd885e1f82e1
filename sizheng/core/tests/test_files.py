"""Uploads are checked by content, kept outside the static root, served only with permission."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sizheng.core import files
from sizheng.core.models import AuditEvent, StoredFile
from sizheng.core.testing import make_user

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5f3a4a90000000049454e44ae426082"
)


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_it_stores_a_pdf_outside_the_static_root_and_audits_it(media, settings):
    user = make_user("alice")
    stored = files.store_upload(
        SimpleUploadedFile("材料.pdf", PDF), actor=user, owner_kind="test", owner_id=1
    )
    path = Path(media) / stored.path
    assert path.read_bytes() == PDF
    assert not str(path).startswith(str(settings.STATIC_ROOT))
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert AuditEvent.objects.filter(action="file_upload", object_id=str(stored.pk)).exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("evil.exe", b"MZ\x90\x00", "不支持上传"),
        ("fake.pdf", b"MZ\x90\x00binary", "内容与扩展名"),
        ("photo.png", PDF, "内容与扩展名"),
        ("empty.pdf", b"", "空文件"),
        ("noext", PDF, "不支持上传"),
    ],
)
def test_it_rejects_bad_uploads_with_a_chinese_message(name, content, message):
    with pytest.raises(ValidationError, match=message):
        files.store_upload(SimpleUploadedFile(name, content), actor=None, owner_kind="test", owner_id=1)
    assert not StoredFile.objects.exists()


def test_it_rejects_files_over_the_size_limit(settings):
    settings.UPLOAD_MAX_BYTES = 10
    with pytest.raises(ValidationError, match="大小限制"):
        files.store_upload(SimpleUploadedFile("a.pdf", PDF), actor=None, owner_kind="test", owner_id=1)


def test_it_serves_a_file_only_to_those_allowed(client):
    owner = make_user("owner")
    reader = make_user("reader")
    outsider = make_user("outsider")
    files.register_access("test", lambda user, owner_id: user.username == "reader")
    stored = files.store_upload(
        SimpleUploadedFile("通知.png", PNG), actor=owner, owner_kind="test", owner_id=7
    )
    url = reverse("core:file", args=[stored.uid])

    client.force_login(outsider)
    assert client.get(url).status_code == 404

    client.force_login(reader)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E9%80%9A%E7%9F%A5.png" in response["Content-Disposition"]
    assert AuditEvent.objects.filter(actor=reader, action="file_download").exists()

    client.force_login(owner)
    assert client.get(url).status_code == 200


def test_it_accepts_utf8_text_and_rejects_binary_named_txt():
    files.store_upload(
        SimpleUploadedFile("说明.txt", "学习心得".encode()), actor=None, owner_kind="t", owner_id=1
    )
    with pytest.raises(ValidationError):
        files.store_upload(
            SimpleUploadedFile("x.txt", b"\x00\x01\x02\xff"), actor=None, owner_kind="t", owner_id=1
        )


def test_behind_nginx_the_download_is_an_accel_redirect_after_the_check(cast, settings, tmp_path):
    """With SIZHENG_MEDIA_ACCEL_REDIRECT the view checks and audits, then hands the path to nginx."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from sizheng.core.files import file_response, store_upload
    from sizheng.core.models import AuditEvent

    settings.MEDIA_ROOT = tmp_path
    settings.MEDIA_ACCEL_REDIRECT = "/_protected/"
    upload = SimpleUploadedFile("说明.txt", "会议通知".encode(), content_type="text/plain")
    stored = store_upload(upload, actor=cast.committee_admin, owner_kind="test", owner_id=None)
    assert (tmp_path / stored.path).stat().st_mode & 0o777 == 0o640
    response = file_response(cast.committee_admin, stored.uid)
    assert response["X-Accel-Redirect"] == f"/_protected/{stored.path}"
    assert "attachment" in response["Content-Disposition"] and response.content == b""
    assert AuditEvent.objects.filter(action="file_download").count() == 1
