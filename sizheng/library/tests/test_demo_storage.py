"""The library demo writes its files through the media storage: on S3 (moto's server on loopback) every
material's file is an object of the bucket with the recorded checksum, and nothing reaches MEDIA_ROOT."""

from __future__ import annotations

import hashlib

import pytest

from sizheng.core.models import StoredFile
from sizheng.core.storage import media_storage
from sizheng.core.tests import s3
from sizheng.library.tests.test_demo import _generate


@pytest.mark.django_db
def test_it_puts_the_demo_files_in_the_bucket(settings, tmp_path, monkeypatch):
    settings.DEMO = True
    settings.MEDIA_ROOT = tmp_path / "no-media-here"
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with s3.s3_server() as endpoint:
        bucket = s3.new_bucket(endpoint)
        settings.STORAGES = s3.s3_storages(endpoint, bucket)
        _generate()
        stored = list(StoredFile.objects.filter(owner_kind="library_material"))
        assert len(stored) > 30
        assert s3.keys_in(endpoint, bucket) == sorted(f.path for f in stored)
        storage = media_storage()
        for f in stored[:5]:
            with storage.open(f.path, "rb") as fh:
                assert hashlib.sha256(fh.read()).hexdigest() == f.sha256
    assert not settings.MEDIA_ROOT.exists()
