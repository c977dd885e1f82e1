"""The roster import's staged upload goes through the media storage, so preview and confirmation may run on
different web machines: nothing under VAR_DIR or MEDIA_ROOT on the in-memory storage, the uploads'
permissions on the filesystem, a real S3 round trip on moto's server, the binding to the uploader, and the
cleanup of abandoned previews.
"""

from __future__ import annotations

import io
import stat
from datetime import date, timedelta

import pytest
import time_machine
from django.core.files.storage import InMemoryStorage
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sizheng.core import backup, crypto
from sizheng.core.models import AuditEvent
from sizheng.core.storage import media_storage
from sizheng.core.tests import s3
from sizheng.org import importer, jobs
from sizheng.org.models import Person
from sizheng.org.tests.test_roster_import import CONFIRM, member, new_id, sheet

pytestmark = pytest.mark.django_db

ZHANG = [member("张三", date(1985, 6, 1), 1)]


@pytest.fixture
def nowhere(settings, tmp_path):
    """Neither MEDIA_ROOT nor VAR_DIR exists; a test asserts they still do not at the end."""
    settings.MEDIA_ROOT = tmp_path / "no-media-here"
    settings.VAR_DIR = tmp_path / "no-var-here"
    return tmp_path


@pytest.fixture
def in_memory(settings, nowhere):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    assert isinstance(media_storage(), InMemoryStorage)


@pytest.fixture(scope="module")
def endpoint():
    with s3.s3_server() as url:
        yield url


@pytest.fixture
def bucket(endpoint, settings, nowhere, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    name = s3.new_bucket(endpoint)
    settings.STORAGES = s3.s3_storages(endpoint, name)
    return name


def _upload(client, data: bytes, name: str = "名册.xlsx"):
    file = io.BytesIO(data)
    file.name = name
    return client.post(reverse("org:roster_import"), {"file": file})


def _staged() -> list[str]:
    try:
        return sorted(media_storage().listdir(importer.UPLOAD_PREFIX)[1])
    except FileNotFoundError:
        return []


def _stage(client, user, data: bytes = b"") -> str:
    """``user`` previews a clean roster; returns the token in their session."""
    client.force_login(user)
    response = _upload(client, data or sheet(ZHANG))
    assert response.status_code == 200 and "确认导入" in response.content.decode()
    return client.session["roster_import"]["token"]


def test_it_stages_the_upload_in_the_storage_and_imports_it_on_confirmation(client, cast, in_memory, nowhere):
    data = sheet(ZHANG)  # once: the workbook's properties carry the time it was written
    token = _stage(client, cast.org_admin, data)
    name = f"{importer.UPLOAD_PREFIX}/{token}.u{cast.org_admin.pk}.xlsx"
    assert _staged() == [name.split("/")[1]]
    stored = media_storage().open(name).read()
    assert stored != data and b"PK" not in stored[:64]  # at rest encrypted with the data key
    assert crypto.decrypt_bytes(stored) == data
    assert not Person.objects.filter(name="张三").exists()

    response = client.post(CONFIRM, {"token": token})
    assert response.status_code == 200 and "导入完成" in response.content.decode()
    assert Person.objects.get(name="张三").id_number == new_id(date(1985, 6, 1), 1)
    assert AuditEvent.objects.get(action="roster_import").actor == cast.org_admin
    assert _staged() == []
    assert "roster_import" not in client.session
    assert client.post(CONFIRM, {"token": token}).status_code == 409
    assert not any(nowhere.iterdir())  # neither MEDIA_ROOT nor VAR_DIR/imports was touched


def test_a_preview_with_errors_stages_nothing(client, cast, in_memory):
    client.force_login(cast.org_admin)
    response = _upload(client, sheet([member("张三", date(1985, 6, 1), 1, 单位="不存在的单位")]))
    assert response.status_code == 422
    assert _staged() == [] and "roster_import" not in client.session


def test_two_users_cannot_confirm_each_others_staged_file(client, cast, in_memory):
    token = _stage(client, cast.org_admin)
    staged = _staged()

    # Another importer posts the token: it is not the one in their session.
    other = Client()
    other.force_login(cast.committee_admin)
    response = other.post(CONFIRM, {"token": token})
    assert response.status_code == 409 and "请重新上传" in response.content.decode()
    # Even with the token planted in their own session, the name carries the uploader's id.
    session = other.session
    session["roster_import"] = {"token": token, "ext": ".xlsx", "org": None, "name": "名册.xlsx"}
    session.save()
    assert other.post(CONFIRM, {"token": token}).status_code == 409
    assert importer.read_upload(token, ".xlsx", cast.committee_admin) is None
    assert not Person.objects.filter(name="张三").exists()
    assert not AuditEvent.objects.filter(action="roster_import").exists()
    assert _staged() == staged  # the other user's attempts do not delete the uploader's file

    assert client.post(CONFIRM, {"token": token}).status_code == 200  # the uploader still can
    assert Person.objects.filter(name="张三").count() == 1 and _staged() == []


def test_it_refuses_malformed_tokens_and_extensions(cast, in_memory):
    token = importer.store_upload(b"PK\x03\x04", ".xlsx", owner=cast.org_admin)
    assert importer.read_upload(token, ".xlsx", cast.org_admin) == b"PK\x03\x04"
    for bad in ("../../etc/passwd", f"../{token}", "甲" * 8, "", "x" * 65):
        assert importer.read_upload(bad, ".xlsx", cast.org_admin) is None
    assert importer.read_upload(token, ".exe", cast.org_admin) is None
    assert importer.read_upload(token, ".xlsx", None) is None
    with pytest.raises(ValueError, match="必须有上传人"):
        importer.store_upload(b"PK\x03\x04", ".xlsx", owner=None)


def test_it_refuses_and_deletes_an_upload_older_than_an_hour(client, cast, in_memory, monkeypatch):
    token = _stage(client, cast.org_admin)
    # Travelling an hour ahead would also end the session (idle timeout): the limit moves instead.
    monkeypatch.setattr(importer, "UPLOAD_MAX_AGE", -1)
    response = client.post(CONFIRM, {"token": token})
    assert response.status_code == 409 and "已过期" in response.content.decode()
    assert _staged() == [] and not Person.objects.filter(name="张三").exists()


def test_the_cleanup_deletes_stale_staged_uploads_only(cast, in_memory):
    assert jobs.purge_roster_uploads() == 0  # nothing staged yet: no imports/ directory at all
    with time_machine.travel(timezone.now() - timedelta(minutes=10), tick=False):
        fresh = importer.store_upload(b"PK\x03\x04new", ".xls", owner=cast.committee_admin)
    # Staged "yesterday" after the fresh one, so its own sweep (every upload sweeps) leaves the fresh one.
    with time_machine.travel(timezone.now() - timedelta(days=1), tick=False):
        stale = importer.store_upload(b"PK\x03\x04old", ".xlsx", owner=cast.org_admin)
    assert len(_staged()) == 2
    assert jobs.purge_roster_uploads() == 1  # the hourly job, through the storage's listdir
    assert importer.read_upload(stale, ".xlsx", cast.org_admin) is None
    assert importer.read_upload(fresh, ".xls", cast.committee_admin) == b"PK\x03\x04new"
    # A new upload also sweeps abandoned previews, so a site without the scheduler keeps none for long.
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        importer.store_upload(b"PK\x03\x04", ".xlsx", owner=cast.org_admin)
        assert len(_staged()) == 1


@pytest.mark.parametrize(("accel", "mode"), [("", 0o600), ("/_protected/", 0o640)])
def test_on_the_filesystem_it_is_kept_under_media_root_like_every_upload(
    client, cast, settings, tmp_path, accel, mode
):
    settings.MEDIA_ROOT, settings.VAR_DIR = tmp_path / "media", tmp_path / "var"
    settings.MEDIA_ACCEL_REDIRECT = accel
    token = _stage(client, cast.org_admin)
    path = tmp_path / "media" / importer.UPLOAD_PREFIX / f"{token}.u{cast.org_admin.pk}.xlsx"
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert not (tmp_path / "var" / "imports").exists()
    # A backup of MEDIA_ROOT leaves the plaintext roster out (and a restore leaves it alone).
    (tmp_path / "media" / "2026").mkdir()
    (tmp_path / "media" / "2026" / "a.txt").write_bytes(b"x")
    assert list(backup.media_digests(tmp_path / "media", connection.settings_dict)) == ["2026/a.txt"]
    assert client.post(CONFIRM, {"token": token}).status_code == 200
    assert not path.exists() and Person.objects.filter(name="张三").exists()


def test_it_round_trips_preview_and_confirmation_through_s3(client, cast, endpoint, bucket, nowhere):
    data = sheet(ZHANG)
    token = _stage(client, cast.org_admin, data)
    key = f"{importer.UPLOAD_PREFIX}/{token}.u{cast.org_admin.pk}.xlsx"
    assert s3.keys_in(endpoint, bucket) == [key]
    stored = s3.client(endpoint).get_object(Bucket=bucket, Key=key)["Body"].read()
    assert stored != data and crypto.decrypt_bytes(stored) == data  # the bucket never holds a readable roster

    # The confirmation reads the object back, whichever machine it reaches, then deletes it.
    response = client.post(CONFIRM, {"token": token})
    assert response.status_code == 200 and "导入完成" in response.content.decode()
    assert Person.objects.filter(name="张三").exists()
    assert s3.keys_in(endpoint, bucket) == []

    # An abandoned preview is found by listing the prefix and goes once it is stale.
    importer.store_upload(b"PK\x03\x04", ".xlsx", owner=cast.org_admin)
    assert importer.purge_stale_uploads() == 0 and len(s3.keys_in(endpoint, bucket)) == 1
    assert importer.purge_stale_uploads(max_age=-60) == 1  # a cutoff after its time: it counts as stale
    assert s3.keys_in(endpoint, bucket) == []
    assert not any(nowhere.iterdir())


def test_a_staged_roster_from_before_the_upgrade_is_purged_from_the_old_folder(settings, tmp_path):
    from sizheng.org import importer

    settings.VAR_DIR = tmp_path
    old = tmp_path / "imports"
    old.mkdir()
    (old / "abc.xlsx").write_bytes(b"PK plaintext roster")
    importer.purge_stale_uploads()
    assert not any(old.iterdir())


def test_a_file_that_does_not_decrypt_is_refused_and_deleted(cast, settings):
    from django.core.files.base import ContentFile

    from sizheng.org import importer

    user = cast.committee_admin
    name = importer._upload_name("tok_en", ".xlsx", user)
    media_storage().save(name, ContentFile(b"PK\x03\x04 plaintext"))
    assert importer.read_upload("tok_en", ".xlsx", user) is None
    assert not media_storage().exists(name)
