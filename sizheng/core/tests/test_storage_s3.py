"""Uploads on an S3-compatible store (issue 10: several web machines, files on MinIO through django-storages).

The tests run the real flows — a duty's evidence uploaded through its view, downloaded through the protected
view, the yearly study archive zipped from the stored files — against moto's S3 server on loopback, and
once more on Django's in-memory storage with MEDIA_ROOT pointing nowhere: no code path may touch a
``MEDIA_ROOT`` path. Also: the settings ``SIZHENG_MEDIA_STORAGE=s3`` builds, the deployment check of the
S3 settings, and the backup's note that the bucket is backed up on its own.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.files.storage import InMemoryStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import FileResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from sizheng.core import audit, backup, deploychecks, files
from sizheng.core.models import AuditEvent, StoredFile
from sizheng.core.storage import media_storage
from sizheng.core.tests import s3

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
EVIDENCE = "支部已于3月5日召开党员大会，会议记录见附件。".encode()
PAPER = "学习党的创新理论的体会。".encode()
MINUTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def endpoint():
    with s3.s3_server() as url:
        yield url


@pytest.fixture
def nowhere(settings, tmp_path):
    """MEDIA_ROOT names a directory that does not exist; a test asserts it still does not at the end."""
    settings.MEDIA_ROOT = tmp_path / "no-media-here"
    return settings.MEDIA_ROOT


@pytest.fixture
def bucket(endpoint, settings, nowhere, monkeypatch):
    """Uploads go to a fresh bucket on the loopback server (a proxy in the environment is bypassed)."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    name = s3.new_bucket(endpoint)
    settings.STORAGES = s3.s3_storages(endpoint, name)
    return name


@pytest.fixture
def in_memory(settings, nowhere):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    assert isinstance(media_storage(), InMemoryStorage)


def _duty(cast):
    from sizheng.duties import services

    due = timezone.localdate() + timedelta(days=30)
    return services.duty_open(org=cast.branch_a1, title="组织开展主题党日活动", due_on=due,
                              actor=cast.committee_admin, assigning_org=cast.root)  # fmt: skip


def _upload_evidence(client, cast) -> StoredFile:
    duty = _duty(cast)
    client.force_login(cast.secretary_a)
    response = client.post(
        reverse("duties:upload", args=[duty.pk]),
        {"file": SimpleUploadedFile("落实情况.txt", EVIDENCE, content_type="text/plain")},
    )
    assert response.status_code == 302
    return StoredFile.objects.get(owner_kind="duty", owner_id=duty.pk)


def _download(client, user, stored):
    client.force_login(user)
    return client.get(reverse("core:file", args=[stored.uid]))


def _study_archive(client, cast) -> dict[str, bytes]:
    """A member's paper through the papers page and a meeting's minutes; the secretary's archive zip."""
    from sizheng.study.tests.helpers import lecture

    with time_machine.travel(date(2026, 11, 20), tick=False):
        client.force_login(cast.member)
        data = {"person": cast.person(cast.member).pk, "year": 2026, "kind": "paper", "title": "全会精神学习体会",
                "text": "", "on": "2026-11-19", "upload": SimpleUploadedFile("心得.txt", PAPER)}  # fmt: skip
        assert client.post(reverse("study:papers"), data).status_code == 302
        meeting = lecture(cast, date(2026, 8, 5))
        files.store_upload(SimpleUploadedFile("会议记录.pdf", MINUTES), actor=cast.secretary_a,
                           owner_kind="meeting", owner_id=meeting.pk)  # fmt: skip
        client.force_login(cast.secretary_a)
        response = client.get(reverse("study:archive_zip", args=[cast.branch_a1.pk, 2026]))
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


# --- on S3 (moto's server) -----------------------------------------------------------------------


def test_it_keeps_duty_evidence_in_the_bucket_and_serves_it_only_to_those_who_see_the_duty(
    client, cast, endpoint, bucket, nowhere, settings
):
    stored = _upload_evidence(client, cast)
    assert s3.keys_in(endpoint, bucket) == [stored.path]
    body = s3.client(endpoint).get_object(Bucket=bucket, Key=stored.path)["Body"].read()
    assert body == EVIDENCE and stored.sha256 == hashlib.sha256(EVIDENCE).hexdigest()
    assert stored.size == len(EVIDENCE) and stored.name == "落实情况.txt"
    assert AuditEvent.objects.filter(action="file_upload", object_id=str(stored.pk)).exists()

    # X-Accel-Redirect is for files nginx can read from disk: on object storage the worker streams them.
    settings.MEDIA_ACCEL_REDIRECT = "/_protected/"
    response = _download(client, cast.member, stored)
    assert response.status_code == 200 and b"".join(response.streaming_content) == EVIDENCE
    assert "X-Accel-Redirect" not in response
    assert response["Content-Length"] == str(len(EVIDENCE))
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
    assert AuditEvent.objects.filter(action="file_download", actor=cast.member).count() == 1
    for user in (cast.secretary_b, cast.outsider):
        assert _download(client, user, stored).status_code == 404
    assert AuditEvent.objects.filter(action="file_download").count() == 1
    assert not nowhere.exists()


def test_it_answers_404_when_the_object_is_gone_from_the_bucket(client, cast, endpoint, bucket):
    stored = _upload_evidence(client, cast)
    s3.client(endpoint).delete_object(Bucket=bucket, Key=stored.path)
    response = _download(client, cast.member, stored)
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="file_download").exists()


def test_it_deletes_the_object_when_the_row_cannot_be_written(cast, endpoint, bucket, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("审计写入失败")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        files.store_upload(
            SimpleUploadedFile("a.txt", EVIDENCE), actor=cast.secretary_a, owner_kind="t", owner_id=1
        )
    assert s3.keys_in(endpoint, bucket) == []
    assert not StoredFile.objects.exists()


def test_it_builds_the_study_archive_zip_from_the_bucket(client, cast, endpoint, bucket, nowhere):
    zipped = _study_archive(client, cast)
    assert sorted(zipped.values()) == sorted([PAPER, MINUTES])
    assert any(name.startswith("文章") and name.endswith("心得.txt") for name in zipped)
    assert len(s3.keys_in(endpoint, bucket)) == 2
    # A file gone from the bucket is left out; the archive still builds.
    gone = StoredFile.objects.get(owner_kind="meeting")
    s3.client(endpoint).delete_object(Bucket=bucket, Key=gone.path)
    from sizheng.study import archive

    names = zipfile.ZipFile(io.BytesIO(archive.build_zip(cast.branch_a1, 2026))).namelist()
    assert len(names) == 1 and names[0].endswith("心得.txt")
    assert not nowhere.exists()


# --- on the in-memory storage: nothing reaches MEDIA_ROOT -------------------------------------------


def test_no_code_path_touches_media_root(client, cast, in_memory, nowhere):
    stored = _upload_evidence(client, cast)
    assert media_storage().open(stored.path).read() == EVIDENCE
    response = _download(client, cast.member, stored)
    assert b"".join(response.streaming_content) == EVIDENCE
    assert _download(client, cast.outsider, stored).status_code == 404
    assert sorted(_study_archive(client, cast).values()) == sorted([PAPER, MINUTES])
    assert not nowhere.exists()


# --- settings, deployment check, backup -------------------------------------------------------------


def _settings_in_a_fresh_interpreter(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SIZHENG_", "DATABASE_URL"))}
    clean.update({"SIZHENG_VAR_DIR": str(tmp_path / "var"), "PYTHONPATH": str(ROOT)}, **env)
    code = "import json, sizheng.settings as s; print(json.dumps(s.STORAGES['default'], default=str))"
    return subprocess.run([sys.executable, "-c", code], env=clean, capture_output=True, text=True, cwd=ROOT)


def test_the_settings_select_s3_with_keys_from_files_and_import_nothing_otherwise(tmp_path):
    secret = tmp_path / "s3-secret.key"
    secret.write_text(s3.SECRET_KEY + "\n")
    result = _settings_in_a_fresh_interpreter(
        tmp_path,
        SIZHENG_MEDIA_STORAGE="s3",
        SIZHENG_S3_ENDPOINT_URL="http://127.0.0.1:9000",
        SIZHENG_S3_BUCKET="sizheng-media",
        SIZHENG_S3_ACCESS_KEY=s3.ACCESS_KEY,
        SIZHENG_S3_SECRET_KEY_FILE=str(secret),
    )
    assert result.returncode == 0, result.stderr
    default = json.loads(result.stdout)
    assert default["BACKEND"] == "storages.backends.s3.S3Storage"
    # The tests' S3 options (tests/s3.py) are exactly what production gets.
    assert default["OPTIONS"] == s3.s3_options("http://127.0.0.1:9000", "sizheng-media")

    plain = _settings_in_a_fresh_interpreter(tmp_path)
    assert json.loads(plain.stdout) == {"BACKEND": "sizheng.core.storage.MediaStorage"}
    wrong = _settings_in_a_fresh_interpreter(tmp_path, SIZHENG_MEDIA_STORAGE="nfs")
    assert wrong.returncode != 0 and "SIZHENG_MEDIA_STORAGE 只能是 file" in wrong.stderr


def test_the_deploy_check_passes_a_complete_private_reachable_bucket(endpoint, bucket):
    finding = deploychecks.check_media_root()
    assert finding.level == deploychecks.OK, finding.text()
    assert bucket in finding.message


def test_the_deploy_check_names_what_is_missing_or_wrong(endpoint, bucket, settings):
    options = settings.STORAGES["default"]["OPTIONS"]

    def check(**changes):
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {**settings.STORAGES["default"], "OPTIONS": {**options, **changes}},
        }
        return deploychecks.check_media_root()

    missing = check(bucket_name="", secret_key=None)
    assert missing.level == deploychecks.ERROR
    assert "SIZHENG_S3_BUCKET、SIZHENG_S3_SECRET_KEY" in missing.message and "_FILE" in missing.hint
    absent = check(bucket_name="sizheng-no-such-bucket")
    assert absent.level == deploychecks.ERROR and "不存在" in absent.message
    assert check(default_acl="public-read").level == deploychecks.ERROR

    public = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": ["s3:GetObject"],
         "Resource": [f"arn:aws:s3:::{bucket}/*"]}]}  # fmt: skip
    s3.client(endpoint).put_bucket_policy(Bucket=bucket, Policy=json.dumps(public))
    anonymous = check()
    assert anonymous.level == deploychecks.ERROR and "匿名访问" in anonymous.message
    s3.client(endpoint).delete_bucket_policy(Bucket=bucket)

    settings.MEDIA_ACCEL_REDIRECT = "/_protected/"
    accel = check()
    assert accel.level == deploychecks.WARNING and "SIZHENG_MEDIA_ACCEL_REDIRECT" in accel.hint

    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.gone.S3Storage"}}
    not_installed = deploychecks.check_media_root()
    assert not_installed.level == deploychecks.ERROR and "pip install 'sizheng[s3]'" in not_installed.hint


def test_the_backup_says_the_bucket_is_backed_up_on_its_own(endpoint, bucket, tmp_path):
    """In a fresh interpreter, as an operator runs it: database only, and the manifest and output say why."""
    var = tmp_path / "var"
    var.mkdir()
    with sqlite3.connect(var / "sizheng.sqlite3") as conn:
        conn.execute(
            "CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app TEXT, name TEXT, applied TEXT)"
        )
    conn.close()
    s3.client(endpoint).put_object(Bucket=bucket, Key="2026/11/a.txt", Body=EVIDENCE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIZHENG_", "DATABASE_URL"))}
    env.update(
        PYTHONPATH=str(ROOT),
        SIZHENG_VAR_DIR=str(var),
        SIZHENG_MEDIA_STORAGE="s3",
        SIZHENG_S3_ENDPOINT_URL=endpoint,
        SIZHENG_S3_BUCKET=bucket,
        SIZHENG_S3_ACCESS_KEY=s3.ACCESS_KEY,
        SIZHENG_S3_SECRET_KEY=s3.SECRET_KEY,
    )
    out = tmp_path / "out"
    made = subprocess.run(
        [sys.executable, "-m", "sizheng", "backup", "--output", str(out)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    (archive,) = out.glob("sizheng-backup-*.tar.gz")
    media = backup.read_manifest(archive)["media"]
    assert media["note"] in made.stderr  # the command says what the manifest says: the bucket, mc mirror
    assert media["stored"] == "external" and media["files"] == {} and media["bucket"] == bucket
    assert f"存储桶 {bucket}" in media["note"] and "mc mirror" in media["note"]
    assert "本备份不含上传文件" in media["note"]


def test_backup_still_takes_the_uploads_from_the_filesystem_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    assert backup.local_media_root() == tmp_path / "media"


def test_restoring_a_backup_made_on_object_storage_leaves_local_uploads_alone(tmp_path, settings):
    db = tmp_path / "site.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app TEXT, name TEXT, applied TEXT)"
        )
    conn.close()
    settings_dict = {"ENGINE": "django.db.backends.sqlite3", "NAME": db}
    archive, manifest = backup.create_backup(
        settings_dict=settings_dict, media_root=None, output_dir=tmp_path / "out"
    )
    assert manifest["media"]["stored"] == "external" and "本备份不含上传文件" in manifest["media"]["note"]
    media = tmp_path / "media"
    (media / "2026" / "11").mkdir(parents=True)
    (media / "2026" / "11" / "a.txt").write_bytes(EVIDENCE)
    report = backup.restore_backup(archive, settings_dict=settings_dict, media_root=media)
    assert (media / "2026" / "11" / "a.txt").read_bytes() == EVIDENCE
    assert report.media_removed == 0 and report.mismatches == []
    assert any("本机的上传文件目录保持原样" in w for w in report.warnings)


# --- streamed downloads, and a failed cleanup after a failed upload ---------------------------------

BIG = ("第一党支部学习记录。" * 9000).encode()  # about 270 KB: several 64 KB chunks, not a multiple of one


def _big_download(client, cast):
    stored = files.store_upload(
        SimpleUploadedFile("学习记录.txt", BIG), actor=cast.secretary_a, owner_kind="t", owner_id=1
    )
    client.force_login(cast.secretary_a)  # the uploader may read their own file
    return stored, client.get(reverse("core:file", args=[stored.uid]))


def test_it_streams_a_download_from_the_bucket_in_chunks_and_closes_the_body(
    client, cast, endpoint, bucket, monkeypatch
):
    opened = []

    class Seen(files._Chunks):
        def __init__(self, body) -> None:
            super().__init__(body)
            opened.append(body)

    monkeypatch.setattr(files, "_Chunks", Seen)
    monkeypatch.setattr(
        type(media_storage()), "open", lambda *a, **k: pytest.fail("S3File spools the object")
    )
    stored, response = _big_download(client, cast)
    assert response.status_code == 200 and type(response) is StreamingHttpResponse
    chunks = list(response.streaming_content)
    assert b"".join(chunks) == BIG and len(chunks) == -(-len(BIG) // files.S3_CHUNK)
    assert all(len(c) <= files.S3_CHUNK for c in chunks)
    assert response["Content-Length"] == str(len(BIG))
    assert len(opened) == 1 and opened[0]._raw_stream.closed  # closed once the response was sent
    event = AuditEvent.objects.get(action="file_download", object_id=str(stored.pk))
    assert event.actor == cast.secretary_a


def test_it_sends_the_same_headers_from_the_bucket_as_from_the_filesystem(
    client, cast, endpoint, bucket, settings, tmp_path
):
    _, from_bucket = _big_download(client, cast)
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "sizheng.core.storage.MediaStorage"}}
    settings.MEDIA_ROOT, settings.MEDIA_ACCEL_REDIRECT = tmp_path / "media", ""
    _, from_disk = _big_download(client, cast)
    assert type(from_disk) is FileResponse
    assert b"".join(from_disk.streaming_content) == b"".join(from_bucket.streaming_content) == BIG
    headers = dict(from_bucket.headers)
    assert headers == dict(from_disk.headers)
    assert headers["Content-Type"] == "text/plain" and headers["Content-Length"] == str(len(BIG))
    assert (
        headers["Content-Disposition"].startswith("attachment;")
        and "filename*=UTF-8''" in headers["Content-Disposition"]
    )
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Cache-Control"] == "private, no-store"


def test_it_reports_the_rows_error_when_the_cleanup_delete_fails_too(
    cast, endpoint, bucket, monkeypatch, caplog
):
    from botocore.exceptions import EndpointConnectionError

    def broken_audit(*args, **kwargs):
        raise RuntimeError("审计写入失败")

    def broken_delete(self, name):
        raise EndpointConnectionError(endpoint_url=f"{endpoint}/{bucket}/{name}")

    monkeypatch.setattr(audit, "record", broken_audit)
    monkeypatch.setattr(type(media_storage()), "delete", broken_delete)
    with pytest.raises(RuntimeError, match="审计写入失败"):
        files.store_upload(
            SimpleUploadedFile("谈话提纲.txt", EVIDENCE), actor=cast.secretary_a, owner_kind="t", owner_id=1
        )
    assert not StoredFile.objects.exists()
    (orphan,) = s3.keys_in(endpoint, bucket)  # left behind: the log says so
    (record,) = [r for r in caplog.records if r.name == "sizheng.core.files"]
    text = record.getMessage()
    assert record.levelname == "ERROR" and "S3Storage" in text and "EndpointConnectionError" in text
    assert orphan not in text and "谈话提纲" not in text and endpoint not in text


def test_it_takes_a_chinese_text_whose_sample_cuts_a_character_for_text():
    text = ("第一党支部学习记录。" * 900).encode()
    for cut in (8190, 8191, 8192):  # the sample's end falls on each byte of a three-byte character
        assert files._sniff(text[:cut]) == "text/plain"
    assert files._sniff(b"abc\xff\xfe") is None
