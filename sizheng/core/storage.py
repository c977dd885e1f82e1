"""Where uploaded files live: the local (or a shared) filesystem, or an S3-compatible object store.

Every read and write of an uploaded file goes through the ``default`` storage of ``settings.STORAGES``
(``media_storage()``), never through a ``MEDIA_ROOT`` path, so ``SIZHENG_MEDIA_STORAGE=s3`` moves
uploads to MinIO without another change. Only the filesystem storage can hand a download to nginx
(X-Accel-Redirect): nginx reads the file from disk.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import DEFAULT_STORAGE_ALIAS, FileSystemStorage, Storage, storages
from django.utils.module_loading import import_string


class MediaStorage(FileSystemStorage):
    """Uploads on the filesystem: 0640 when nginx (in the service group) sends them, else owner only."""

    @property
    def file_permissions_mode(self) -> int:
        """An explicit ``file_permissions_mode`` option wins; else it follows ``MEDIA_ACCEL_REDIRECT``."""
        if self._file_permissions_mode is not None:
            return self._file_permissions_mode
        return 0o640 if settings.MEDIA_ACCEL_REDIRECT else 0o600


def media_storage() -> Storage:
    """The storage of uploaded files (``STORAGES["default"]``; a test's override takes effect at once)."""
    return storages[DEFAULT_STORAGE_ALIAS]


def is_local(storage: Storage | None = None) -> bool:
    """Whether uploads sit on a filesystem this machine (and nginx) can read."""
    return isinstance(storage if storage is not None else media_storage(), FileSystemStorage)


def configured_backend() -> type | None:
    """The class ``STORAGES["default"]`` names, without instantiating it; None when it cannot be imported
    (``SIZHENG_MEDIA_STORAGE=s3`` without ``pip install 'sizheng[s3]'``)."""
    path = settings.STORAGES.get(DEFAULT_STORAGE_ALIAS, {}).get("BACKEND", "")
    try:
        return import_string(path)
    except ImportError:
        return None


def is_s3_backend(backend: type | None) -> bool:
    """Whether the class is django-storages' S3 storage (or a subclass), checked by name: the import is optional."""
    return backend is not None and any(
        f"{c.__module__}.{c.__qualname__}" == "storages.backends.s3.S3Storage" for c in backend.__mro__
    )
