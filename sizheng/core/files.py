"""Uploads: size and type limits checked by content, kept in the media storage (the filesystem outside
the static root, or an S3-compatible store such as MinIO: ``sizheng.core.storage``), served only through
a permission-checked view. Nothing here reads a ``MEDIA_ROOT`` path: every byte goes through the storage.

An app that attaches files registers who may read them for its owner kind:
``register_access("duty", lambda user, owner_id: ...)``. Files of an unregistered kind are
served to nobody but their uploader.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import mimetypes
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.utils import timezone

from sizheng.core import audit
from sizheng.core.models import StoredFile
from sizheng.core.storage import is_local, is_s3_backend, media_storage

log = logging.getLogger(__name__)
# Bytes read from the object store per chunk of a streamed download.
S3_CHUNK = 64 * 1024

# Allowed kinds: extension → the MIME types content sniffing may report for it.
ALLOWED: dict[str, tuple[str, ...]] = {
    "pdf": ("application/pdf",),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/zip"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/zip"),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "application/zip"),
    "doc": ("application/x-ole-storage", "application/msword"),
    "xls": ("application/x-ole-storage", "application/vnd.ms-excel"),
    "ppt": ("application/x-ole-storage", "application/vnd.ms-powerpoint"),
    "wps": ("application/x-ole-storage",),
    "ofd": ("application/zip",),
    "png": ("image/png",),
    "jpg": ("image/jpeg",),
    "jpeg": ("image/jpeg",),
    "mp3": ("audio/mpeg",),
    "mp4": ("video/mp4",),
    "txt": ("text/plain",),
    "zip": ("application/zip",),
}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_ACCESS: dict[str, Callable[[object, int | None], bool]] = {}


def register_access(owner_kind: str, check: Callable[[object, int | None], bool]) -> None:
    """Say who may download files attached to objects of ``owner_kind``."""
    _ACCESS[owner_kind] = check


def _sniff(head: bytes) -> str | None:
    if head.startswith(_OLE_MAGIC):
        return "application/x-ole-storage"
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    try:
        # Not final: a multi-byte character cut at the end of the sample (1 to 3 of its bytes) is still
        # text. (Dropping three bytes, as before, failed for two cut bytes in three: most Chinese texts.)
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    if b"\x00" in head:
        return None
    return "text/plain"


def validate_upload(upload, *, allowed: tuple[str, ...] | None = None) -> tuple[str, str]:
    """Check an upload's size, extension and content; returns (extension, content type)."""
    name = Path(upload.name or "").name
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    kinds = allowed or tuple(ALLOWED)
    if ext not in kinds or ext not in ALLOWED:
        raise ValidationError(f"不支持上传 .{ext or '（无扩展名）'} 文件，允许的类型为：{'、'.join(kinds)}。")
    if upload.size > settings.UPLOAD_MAX_BYTES:
        limit = settings.UPLOAD_MAX_BYTES // (1024 * 1024)
        raise ValidationError(f"文件“{name}”超过 {limit} MB 的大小限制，请压缩或拆分后再上传。")
    if upload.size == 0:
        raise ValidationError(f"文件“{name}”是空文件，请检查后重新上传。")
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    sniffed = _sniff(head)
    if sniffed not in ALLOWED[ext]:
        raise ValidationError(f"文件“{name}”的内容与扩展名 .{ext} 不符，已拒绝上传。")
    content_type = mimetypes.guess_type(name)[0] or sniffed or "application/octet-stream"
    return ext, content_type


def store_upload(
    upload, *, actor, owner_kind: str, owner_id: int | None, allowed: tuple[str, ...] | None = None
) -> StoredFile:
    """Validate and keep an uploaded file in the media storage; writes the audit row."""
    ext, content_type = validate_upload(upload, allowed=allowed)
    uid = uuid.uuid4()
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    display_name, size = Path(upload.name).name[:255], upload.size
    storage = media_storage()
    # The storage may change the name (never on a fresh uuid); the row keeps the one it returns. On the
    # filesystem the file gets 0640 when nginx sends downloads (X-Accel-Redirect), else 0600 (MediaStorage).
    name = storage.save(f"{timezone.localdate():%Y/%m}/{uid.hex}.{ext}", upload)
    try:
        with transaction.atomic():
            stored = StoredFile.objects.create(
                uid=uid,
                name=display_name,
                content_type=content_type,
                size=size,
                sha256=digest.hexdigest(),
                path=name,
                owner_kind=owner_kind,
                owner_id=owner_id,
                uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            audit.record(actor, "file_upload", stored, {"owner_kind": owner_kind, "owner_id": owner_id})
    except Exception:
        try:
            storage.delete(name)
        except Exception as cleanup:  # the row's error is the one to report, not the cleanup's
            # The storage and the error's type only: a name or message could say what was uploaded.
            log.error(
                "upload cleanup failed: %s could not delete the stored file (%s); it is left orphaned",
                type(storage).__name__,
                type(cleanup).__name__,
            )
        raise
    return stored


def may_read(user, stored: StoredFile) -> bool:
    """The owner kind's access rule; the uploader may always read their own file."""
    if stored.uploaded_by_id is not None and stored.uploaded_by_id == user.pk:
        return True
    check = _ACCESS.get(stored.owner_kind)
    return bool(check and check(user, stored.owner_id))


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """RFC 6266/5987 header value that carries a Chinese file name safely."""
    ascii_name = filename.encode("ascii", "ignore").decode() or "download"
    ascii_name = ascii_name.replace('"', "").replace("\\", "")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def file_response(user, uid, *, request=None) -> HttpResponse:
    """Serve a stored file to a user who may read it; 404 otherwise (existence never leaks).

    On the filesystem with ``MEDIA_ACCEL_REDIRECT`` nginx sends the bytes; otherwise (always on object
    storage) the worker streams them from the storage, so the check and the audit stay here either way.
    On S3 the object's body is sent in 64 KB chunks as it is read (``_s3_object``), never spooled first.
    """
    stored = StoredFile.objects.filter(uid=uid).first()
    if stored is None or not may_read(user, stored):
        raise Http404("未找到该文件。")
    storage = media_storage()
    if settings.MEDIA_ACCEL_REDIRECT and is_local(storage):
        if not storage.exists(stored.path):
            raise Http404("文件已不存在。")
        audit.record(user, "file_download", stored, request=request)
        # nginx serves the bytes from its internal location (docs/deploy.md); the check and the audit
        # row above stay here, so a worker is not tied up by a large download.
        response = HttpResponse(content_type=stored.content_type)
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_REDIRECT.rstrip("/") + "/" + quote(stored.path)
    elif is_s3_backend(type(storage)):
        body, length = _s3_object(storage, stored.path)
        audit.record(user, "file_download", stored, request=request)
        response = StreamingHttpResponse(_Chunks(body), content_type=stored.content_type)
        response["Content-Length"] = str(length)
    else:
        try:
            fh = storage.open(stored.path, "rb")
        except (FileNotFoundError, IsADirectoryError):
            raise Http404("文件已不存在。") from None
        audit.record(user, "file_download", stored, request=request)
        response = FileResponse(fh, content_type=stored.content_type)
    response["Content-Disposition"] = content_disposition(stored.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _s3_object(storage, name: str):
    """The object's body stream and length; 404 when it is gone from the bucket.

    ``storage.open`` would give django-storages' ``S3File``, which reads the whole object (in memory up
    to 5 MB, then into a temporary file) before the first byte could be sent; the body of a plain GET
    is read as it is sent instead.
    """
    from botocore.exceptions import ClientError
    from storages.utils import clean_name

    key = storage._normalize_name(clean_name(name))  # as S3Storage itself names the object
    try:
        obj = storage.bucket.Object(key).get()
    except ClientError as err:
        if err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
            raise Http404("文件已不存在。") from None
        raise
    return obj["Body"], obj["ContentLength"]


class _Chunks:
    """An object body as the response's content; Django closes it (and the connection) when done."""

    def __init__(self, body) -> None:
        self.body = body

    def __iter__(self):
        return self.body.iter_chunks(S3_CHUNK)

    def close(self) -> None:
        self.body.close()
