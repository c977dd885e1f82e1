"""A real S3 API on loopback for the storage tests: moto's server in a thread, no network, no account.

``s3_server()`` yields the endpoint; ``s3_storages(endpoint, bucket)`` is ``settings.STORAGES`` with the
uploads on that bucket and the options settings.py uses for ``SIZHENG_MEDIA_STORAGE=s3`` (a test in
test_storage_s3.py checks they are the same).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

ACCESS_KEY = "sizheng-test-access"
SECRET_KEY = "sizheng-test-secret-key-0123456789"


@contextmanager
def s3_server() -> Iterator[str]:
    """moto's S3 server on a free loopback port; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def s3_options(endpoint: str, bucket: str) -> dict:
    """The S3Storage options of settings.py for this endpoint and bucket."""
    return {
        "endpoint_url": endpoint,
        "bucket_name": bucket,
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
        "region_name": "us-east-1",
        "addressing_style": "path",
        "signature_version": "s3v4",
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 300,
        "file_overwrite": False,
        "max_memory_size": 5 * 1024 * 1024,
        "verify": None,
    }


def s3_storages(endpoint: str, bucket: str) -> dict:
    """``STORAGES`` with the uploads on the bucket (static files unchanged)."""
    return {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3_options(endpoint, bucket)},
    }


def client(endpoint: str):
    """A plain boto3 client of the server, to look at the bucket behind the platform's back."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}),
    )


def new_bucket(endpoint: str) -> str:
    """A fresh, private bucket (one per test keeps the tests apart)."""
    name = f"sizheng-{uuid.uuid4().hex[:12]}"
    client(endpoint).create_bucket(Bucket=name)
    return name


def keys_in(endpoint: str, bucket: str) -> list[str]:
    """The object keys in the bucket."""
    listing = client(endpoint).list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in listing.get("Contents", []))
