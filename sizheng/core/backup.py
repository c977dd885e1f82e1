"""Backup and restore of one installation: the database, the uploaded files and a manifest.

Archive ``sizheng-backup-<UTC time>.tar.gz`` (mode 0600, in a 0700 directory)::

    database.sqlite3 | database.pgdump   SQLite online-backup copy (journal_mode=DELETE) or pg_dump -Fc
    media/<path>                          every regular file under the local MEDIA_ROOT (none when the
                                          uploads are on object storage: the manifest names the bucket
                                          and says in Chinese to back it up with ``mc mirror``)
    manifest.json                         written last: it holds the checksums of everything before it

The manifest records when and by which version the backup was made, the migration state, the database
vendor, per table the row count and a SHA-256 over a canonical dump of its rows in primary-key order,
and the SHA-256 and size of every member. **No key is ever in the archive**: key files (the demo keys
under ``VAR_DIR/keys`` and any ``SIZHENG_*_KEY_FILE``) are skipped even when they sit under MEDIA_ROOT;
the manifest holds only domain-separated SHA-256 fingerprints of the keys (256-bit random keys, so a
fingerprint cannot be turned back into a key), so a restore can warn when the running keys differ.

Consistency. SQLite: ``sqlite3.Connection.backup`` in one step (a consistent snapshot while the site
keeps writing), then the checksums are computed on that copy. PostgreSQL: a REPEATABLE READ, READ ONLY
transaction exports its snapshot and ``pg_dump --snapshot`` dumps exactly the rows the checksums read.

Restore extracts every member into a staging directory (names checked, only regular files, nothing is
extracted by ``tarfile`` itself), checks every checksum before touching anything, then replaces the
database (SQLite: ``os.replace`` of the file; PostgreSQL: ``pg_restore --clean --if-exists``) and the
media files, and finally recomputes the table checksums and the media checksums and compares them with
the manifest. Stop the web, worker and scheduler processes before restoring.
"""

from __future__ import annotations

import contextlib
import copy
import errno
import hashlib
import io
import json
import logging
import os
import platform
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

import django
from django.conf import settings

logger = logging.getLogger("sizheng.backup")

FORMAT = "sizheng-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DB_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
MEDIA_DIR = "media"
VENDOR_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
KEY_ENV_NAMES = ("SIZHENG_SECRET_KEY", "SIZHENG_DATA_KEY", "SIZHENG_INDEX_KEY")
FETCH_ROWS = 2000
MAX_MANIFEST_BYTES = 256 * 1024 * 1024
STAGING_PREFIX = ".sizheng-"


class BackupError(Exception):
    """A backup or restore cannot go on; the (Chinese) message says what to do."""


@dataclass
class RestoreReport:
    """What a restore found after putting the data back."""

    manifest: dict
    warnings: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    media_removed: int = 0


Log = Callable[[str], Any]


def _quiet(_message: str) -> None:
    """The default progress logger: say nothing."""


# --- the database --------------------------------------------------------------------------


def vendor(settings_dict: dict) -> str:
    """``"sqlite"`` or ``"postgresql"`` for a DATABASES entry; anything else cannot be backed up."""
    engine = str(settings_dict.get("ENGINE", ""))
    if engine.endswith("sqlite3"):
        return "sqlite"
    if "postgresql" in engine or "postgis" in engine:
        return "postgresql"
    raise BackupError(f"不支持备份这种数据库（{engine}）：本命令只支持 SQLite 和 PostgreSQL。")


def describe_database(settings_dict: dict) -> str:
    """A one-line description of the database a command acts on (never the password)."""
    kind = vendor(settings_dict)
    if kind == "sqlite":
        return f"SQLite 数据库文件 {settings_dict.get('NAME')}"
    host = settings_dict.get("HOST") or "本机"
    port = settings_dict.get("PORT") or "5432"
    return f"PostgreSQL 数据库 {settings_dict.get('NAME')}（{host}:{port}）"


def _sqlite_path(settings_dict: dict) -> Path:
    """The database file; an in-memory database has none."""
    name = settings_dict.get("NAME")
    if not name or (isinstance(name, str) and (name == ":memory:" or "mode=memory" in name)):
        raise BackupError(
            "当前数据库是内存数据库，无法备份或恢复；请配置数据库文件（SIZHENG_VAR_DIR 或 DATABASE_URL）。"
        )
    return Path(name)


def _quote(name: str) -> str:
    """A quoted SQL identifier (SQLite and PostgreSQL spell it the same way)."""
    return '"' + name.replace('"', '""') + '"'


def _jsonable(value: Any) -> Any:
    """Database values JSON cannot write, in a stable spelling."""
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": bytes(value).hex()}
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return {"$seconds": value.total_seconds()}
    return str(value)  # Decimal (keeps its scale), UUID, network addresses, ranges


def _line(values: Iterable[Any]) -> bytes:
    """One row of the canonical dump: a JSON array on its own line."""
    text = json.dumps(
        list(values), default=_jsonable, ensure_ascii=False, separators=(",", ":"), sort_keys=True
    )
    return text.encode() + b"\n"


def _digest_rows(columns: list[str], rows: Iterable[Iterable[Any]]) -> dict:
    """Row count and SHA-256 of the canonical dump: the column names, then each row in key order."""
    hasher = hashlib.sha256(_line(columns))
    count = 0
    for row in rows:
        hasher.update(_line(row))
        count += 1
    return {"rows": count, "sha256": hasher.hexdigest()}


def _select_sql(table: str, columns: list[str], order: list[str]) -> str:
    """``SELECT`` every column in primary-key order (every column when the table has no key)."""
    cols = ", ".join(_quote(c) for c in columns)
    keys = ", ".join(_quote(c) for c in order or columns)
    # Identifiers come from the database's own catalogue and are quoted: not user input.
    return f"SELECT {cols} FROM {_quote(table)} ORDER BY {keys}"  # noqa: S608


def _sqlite_digests(conn: sqlite3.Connection) -> dict[str, dict]:
    """Per-table digests of an open SQLite database."""
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    digests = {}
    for table in sorted(n for n in names if not n.startswith("sqlite_")):
        info = conn.execute(f"PRAGMA table_info({_quote(table)})").fetchall()
        columns = [r[1] for r in info]
        primary = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
        digests[table] = _digest_rows(columns, conn.execute(_select_sql(table, columns, primary)))
    return digests


def _migrations_from(rows: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """``{app: [migration names]}`` from rows of django_migrations."""
    state: dict[str, list[str]] = {}
    for app, name in rows:
        state.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(state.items())}


def _sqlite_migrations(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """The applied migrations recorded in a SQLite database (none if it was never migrated)."""
    try:
        return _migrations_from(conn.execute("SELECT app, name FROM django_migrations"))
    except sqlite3.OperationalError:
        return {}


def _pg_wrapper(settings_dict: dict):
    """A private Django connection to the same PostgreSQL database (its own session and transaction)."""
    from django.db.utils import load_backend

    backend = load_backend(settings_dict["ENGINE"])
    return backend.DatabaseWrapper(copy.deepcopy(settings_dict), "sizheng_backup")


@contextlib.contextmanager
def _pg_snapshot(settings_dict: dict) -> Iterator[tuple[Any, Any]]:
    """A REPEATABLE READ, READ ONLY transaction on a private connection: ``(wrapper, cursor)``."""
    wrapper = _pg_wrapper(settings_dict)
    try:
        wrapper.ensure_connection()
        with wrapper.cursor() as cursor:
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            try:
                yield wrapper, cursor
            finally:
                cursor.execute("ROLLBACK")  # it only read
    finally:
        wrapper.close()


def _pg_digests(wrapper, cursor) -> dict[str, dict]:
    """Per-table digests inside the snapshot; rows stream through a server-side cursor."""
    introspection = wrapper.introspection
    digests = {}
    for table in introspection.table_names(cursor):
        columns = [c.name for c in introspection.get_table_description(cursor, table)]
        primary = introspection.get_primary_key_columns(cursor, table) or []
        with wrapper.connection.cursor(name="sizheng_backup_rows") as rows:
            rows.itersize = FETCH_ROWS
            rows.execute(_select_sql(table, columns, primary))
            digests[table] = _digest_rows(columns, rows)
    return digests


def _pg_migrations(cursor) -> dict[str, list[str]]:
    """The applied migrations recorded in the snapshot."""
    cursor.execute("SELECT to_regclass('django_migrations') IS NOT NULL")
    if not cursor.fetchone()[0]:
        return {}
    cursor.execute("SELECT app, name FROM django_migrations")
    return _migrations_from(cursor.fetchall())


def database_digests(settings_dict: dict) -> dict[str, dict]:
    """``{table: {"rows": n, "sha256": hex}}`` of the database as it is now."""
    if vendor(settings_dict) == "sqlite":
        path = _sqlite_path(settings_dict)
        if not path.exists():
            raise BackupError(f"找不到数据库文件 {path}。")
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as conn:
            return _sqlite_digests(conn)
    with _pg_snapshot(settings_dict) as (wrapper, cursor):
        return _pg_digests(wrapper, cursor)


def _pg_tool(name: str) -> str:
    """The path of pg_dump / pg_restore, or the Chinese explanation of how to get it."""
    bindir = os.environ.get("SIZHENG_PG_BINDIR", "").strip()
    found = shutil.which(name, path=bindir) if bindir else shutil.which(name)
    if not found:
        raise BackupError(
            f"找不到 {name}：请在本机安装 PostgreSQL 客户端程序（Debian/Ubuntu：apt-get install postgresql-client，"
            f"版本不得低于数据库服务器），或用环境变量 SIZHENG_PG_BINDIR 指明 {name} 所在的目录。"
        )
    return found


def _pg_env(settings_dict: dict) -> dict[str, str]:
    """libpq environment for the configured database (the password never goes on a command line)."""
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if settings_dict.get(key):
            env[var] = str(settings_dict[key])
    options = settings_dict.get("OPTIONS") or {}
    for key, var in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
        ("passfile", "PGPASSFILE"),
        ("service", "PGSERVICE"),
        ("options", "PGOPTIONS"),
    ):
        if options.get(key):
            env[var] = str(options[key])
    return env


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    """Run a PostgreSQL client program; its own error text goes into ours."""
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    except OSError as exc:
        raise BackupError(f"无法运行 {cmd[0]}：{exc}") from exc
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout or "").strip()[-2000:]
        raise BackupError(f"{what}失败（退出码 {proc.returncode}）：{detail}")


def _sqlite_backup(settings_dict: dict, target: Path) -> dict:
    """Copy the live SQLite database with the online backup API; digests come from the copy."""
    source = _sqlite_path(settings_dict)
    if not source.exists():
        raise BackupError(
            f"找不到数据库文件 {source}；请先运行 `python -m sizheng migrate`，或检查 SIZHENG_VAR_DIR / DATABASE_URL。"
        )
    with (
        contextlib.closing(sqlite3.connect(source, timeout=30)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)  # one step (pages=-1): a consistent snapshot even while the site writes
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    version = sqlite3.sqlite_version
    with contextlib.closing(sqlite3.connect(target)) as copy_conn:
        return {
            "server_version": version,
            "tables": _sqlite_digests(copy_conn),
            "migrations": _sqlite_migrations(copy_conn),
        }


def _pg_backup(settings_dict: dict, target: Path) -> dict:
    """pg_dump of the exported snapshot the digests read, so dump and manifest agree."""
    tool = _pg_tool("pg_dump")
    with _pg_snapshot(settings_dict) as (wrapper, cursor):
        cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
        snapshot, server_version = cursor.fetchone()
        _run(
            [
                tool,
                "--format=custom",
                f"--snapshot={snapshot}",
                "--no-password",
                f"--file={target}",
                f"--dbname={settings_dict['NAME']}",
            ],
            _pg_env(settings_dict),
            "pg_dump 导出数据库",
        )
        return {
            "server_version": server_version,
            "tables": _pg_digests(wrapper, cursor),
            "migrations": _pg_migrations(cursor),
        }


# --- keys --------------------------------------------------------------------------------------


def fingerprint(label: str, material: bytes | str) -> str:
    """A domain-separated SHA-256 of a key (128 bits shown): tells keys apart, reveals nothing."""
    raw = material.encode() if isinstance(material, str) else bytes(material)
    return hashlib.sha256(b"sizheng-key-fingerprint\x00" + label.encode() + b"\x00" + raw).hexdigest()[:32]


def key_fingerprints() -> dict:
    """Fingerprints of the running data keyring (by key id) and of the blind-index key."""
    ring = settings.DATA_KEYS
    return {
        "data_key_id": next(iter(ring)),
        "data_keys": {key_id: fingerprint("data", material) for key_id, material in ring.items()},
        "index_key": fingerprint("index", settings.INDEX_KEY),
    }


def key_file_paths() -> list[Path]:
    """Files that hold keys: the demo key directory and any ``SIZHENG_*_KEY_FILE``."""
    paths = [Path(settings.VAR_DIR) / "keys"]
    for name in KEY_ENV_NAMES:
        value = os.environ.get(f"{name}_FILE", "").strip()
        if value:
            paths.append(Path(value))
    return paths


def key_warnings(recorded: dict) -> list[str]:
    """Chinese warnings when the running keys are not the keys the backup's data needs."""
    if not recorded:
        return ["备份清单中没有密钥指纹，无法确认当前密钥能否解密备份中的加密字段。"]
    running = key_fingerprints()
    warnings = []
    backup_ring = recorded.get("data_keys", {})
    # Tokens name their key id, so a key must come back under the same id with the same material.
    missing = [key_id for key_id, fp in backup_ring.items() if running["data_keys"].get(key_id) != fp]
    current = recorded.get("data_key_id")
    if current in missing:
        warnings.append(
            f"备份时的当前数据密钥 {current} 不在正在使用的 SIZHENG_DATA_KEY 中（或同一编号对应的密钥不同）："
            "恢复后身份证号、谈话内容等加密字段将无法解密。请把备份时的数据密钥按原编号加回 SIZHENG_DATA_KEY"
            "（可放在当前密钥之后）并重启服务。"
        )
    elif missing:
        warnings.append(
            f"备份时密钥环中的旧数据密钥 {'、'.join(missing)} 不在当前 SIZHENG_DATA_KEY 中；如果备份里还有用它们加密、"
            "尚未轮换的数据，这些数据将无法解密。请把这些密钥加回 SIZHENG_DATA_KEY。"
        )
    elif current != running["data_key_id"]:
        warnings.append(
            f"当前数据密钥（{running['data_key_id']}）与备份时（{current}）不同，但密钥环中仍有备份时的密钥，可以解密；"
            "恢复后可运行 `python -m sizheng rotate_data_key` 把数据改用当前密钥。"
        )
    if recorded.get("index_key") != running["index_key"]:
        warnings.append(
            "盲索引密钥 SIZHENG_INDEX_KEY 与备份时不同：恢复后按身份证号查找、去重将找不到已有人员。"
            "请换回备份时的 SIZHENG_INDEX_KEY 并重启服务。"
        )
    return warnings


# --- media --------------------------------------------------------------------------------------


def local_media_root() -> Path | None:
    """MEDIA_ROOT when uploads are on the local (or a shared) filesystem; None for object storage."""
    from django.core.files.storage import FileSystemStorage

    from sizheng.core.storage import configured_backend

    backend = configured_backend()
    if backend is None or not issubclass(backend, FileSystemStorage):
        return None
    default = settings.STORAGES.get("default", {})
    return Path(default.get("OPTIONS", {}).get("location") or settings.MEDIA_ROOT)


def external_media() -> dict:
    """Where the uploads are when they are not on a filesystem (the manifest's record), with the Chinese note
    a backup without them carries: the bucket must be backed up by the object store's own tools."""
    default = settings.STORAGES.get("default", {})
    options = default.get("OPTIONS", {})
    backend = default.get("BACKEND", "")
    if backend.startswith("storages.backends.s3"):
        bucket, endpoint = options.get("bucket_name") or "", options.get("endpoint_url") or ""
        where = "S3 兼容对象存储" + (f" {endpoint} " if endpoint else "") + f"的存储桶 {bucket}"
        record = {"backend": backend, "endpoint": endpoint, "bucket": bucket}
    else:
        where = f"存储后端 {backend}"
        record = {"backend": backend}
    note = (
        f"上传文件存放在{where}中，本备份不含上传文件；请用 MinIO 客户端另行备份该存储桶"
        "（如 mc mirror --overwrite <别名>/<存储桶> /srv/backup/sizheng-media，见 docs/deploy.md 第 12 节）。"
    )
    return {**record, "note": note}


def _inside(path: Path, roots: Iterable[Path]) -> bool:
    """Whether ``path`` is one of ``roots`` or lies under one."""
    return any(path == root or root in path.parents for root in roots)


def _protected(settings_dict: dict, extra: Iterable[Path] = ()) -> list[Path]:
    """Paths a media walk must never take in or delete: keys, the database, backups, static files, staging."""
    paths = [*key_file_paths(), Path(settings.VAR_DIR) / "backups", Path(settings.STATIC_ROOT), *extra]
    if vendor(settings_dict) == "sqlite":
        with contextlib.suppress(BackupError):
            db = _sqlite_path(settings_dict)
            paths += [db, *(db.with_name(db.name + s) for s in ("-wal", "-shm", "-journal"))]
    return [Path(os.path.abspath(p)) for p in paths]


def _media_files(media_root: Path | None, protected: list[Path]) -> list[tuple[str, Path]]:
    """``(posix path under MEDIA_ROOT, absolute path)`` of every regular file, sorted."""
    if media_root is None or not media_root.is_dir():
        return []
    root = Path(os.path.abspath(media_root))
    found = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames if not _inside(here / d, protected) and not d.startswith(STAGING_PREFIX)
        )
        for name in sorted(filenames):
            path = here / name
            if _inside(path, protected) or name.startswith(STAGING_PREFIX) or path.is_symlink():
                continue
            if path.is_file():
                found.append((path.relative_to(root).as_posix(), path))
    return found


def _file_digest(path: Path) -> dict:
    """SHA-256 and size of a file."""
    hasher = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            hasher.update(chunk)
            size += len(chunk)
    return {"sha256": hasher.hexdigest(), "size": size}


def media_digests(media_root: Path | None, settings_dict: dict) -> dict[str, dict]:
    """``{path: {"sha256", "size"}}`` of the media files as they are now."""
    return {rel: _file_digest(path) for rel, path in _media_files(media_root, _protected(settings_dict))}


# --- the archive -----------------------------------------------------------------------------------


class _HashingReader:
    """Reads a file for tarfile while hashing exactly the bytes that go into the archive."""

    def __init__(self, fh):
        self._fh = fh
        self.hasher = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._fh.read(size)
        self.hasher.update(data)
        self.size += len(data)
        return data


def _add_file(tar: tarfile.TarFile, name: str, path: Path) -> dict:
    """Add one file; return the SHA-256 and size of what was written."""
    with path.open("rb") as fh:
        info = tarfile.TarInfo(name)
        stat = os.fstat(fh.fileno())
        info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o600
        reader = _HashingReader(fh)
        tar.addfile(info, reader)  # raises if the file shrank meanwhile; growth is not read
    return {"sha256": reader.hasher.hexdigest(), "size": reader.size}


def _app_version() -> str:
    """The installed version of the platform."""
    try:
        return metadata.version("sizheng")
    except metadata.PackageNotFoundError:
        return "unknown"


def _archive_path(output_dir: Path, now: datetime) -> Path:
    """A new archive name in ``output_dir`` (never overwrites)."""
    stem = f"sizheng-backup-{now:%Y%m%dT%H%M%SZ}"
    path = output_dir / f"{stem}.tar.gz"
    number = 1
    while path.exists():
        number += 1
        path = output_dir / f"{stem}-{number}.tar.gz"
    return path


def create_backup(
    *, settings_dict: dict, media_root: Path | None, output_dir: Path, log: Log = _quiet
) -> tuple[Path, dict]:
    """Write one archive of the database and media into ``output_dir``; return its path and manifest."""
    kind = vendor(settings_dict)
    output_dir = Path(os.path.abspath(output_dir))
    output_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = datetime.now(UTC).replace(microsecond=0)
    archive = _archive_path(output_dir, now)
    partial = archive.with_name(archive.name + ".partial")
    with tempfile.TemporaryDirectory(prefix=STAGING_PREFIX + "backup-", dir=output_dir) as work:
        db_file = Path(work) / DB_MEMBERS[kind]
        log(f"正在导出数据库（{VENDOR_NAMES[kind]}）……")
        dumped = (
            _sqlite_backup(settings_dict, db_file) if kind == "sqlite" else _pg_backup(settings_dict, db_file)
        )
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": now.isoformat().replace("+00:00", "Z"),
            "app_version": _app_version(),
            "django_version": django.get_version(),
            "python_version": platform.python_version(),
            "mode": getattr(settings, "MODE", ""),
            "migrations": dumped["migrations"],
            "tables": dumped["tables"],
            "keys": key_fingerprints(),
        }
        protected = _protected(settings_dict, [output_dir])
        media_files = _media_files(media_root, protected)
        log(f"正在写入备份文件（{len(media_files)} 个上传文件）……")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                db_digest = _add_file(tar, DB_MEMBERS[kind], db_file)
                manifest["database"] = {
                    "vendor": kind,
                    "server_version": dumped["server_version"],
                    "member": DB_MEMBERS[kind],
                    **db_digest,
                }
                media = {rel: _add_file(tar, f"{MEDIA_DIR}/{rel}", path) for rel, path in media_files}
                manifest["media"] = {
                    "stored": "local" if media_root is not None else "external",
                    "files": media,
                    # Object storage: which bucket holds the uploads and how to back it up, in Chinese.
                    **({} if media_root is not None else external_media()),
                }
                data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o600
                tar.addfile(info, io.BytesIO(data))
            os.replace(partial, archive)
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
    logger.info("backup written: %s", archive.name)
    return archive, manifest


def _check_manifest(manifest: Any) -> dict:
    """A manifest this version can restore, or a Chinese error."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("这不是思政平台的备份文件（清单格式不对）。")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"备份文件格式版本 {manifest.get('format_version')} 与本程序（{FORMAT_VERSION}）不同，请用生成它的程序版本恢复。"
        )
    for key in ("database", "tables", "media"):
        if key not in manifest:
            raise BackupError(f"备份清单缺少 {key} 部分，文件可能不完整。")
    return manifest


def _open_archive(archive: Path) -> tarfile.TarFile:
    """Open a backup archive or say clearly why not."""
    if not archive.is_file():
        raise BackupError(f"找不到备份文件 {archive}。")
    try:
        return tarfile.open(archive, mode="r:gz")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"无法读取备份文件 {archive}（不是完整的 tar.gz 文件）：{exc}") from exc


def read_manifest(archive: Path) -> dict:
    """The manifest of an archive (reads through the archive to find it)."""
    with _open_archive(Path(archive)) as tar:
        try:
            member = tar.getmember(MANIFEST)
        except KeyError:
            raise BackupError("备份文件中没有 manifest.json，文件不完整或不是思政平台的备份。") from None
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise BackupError(f"备份文件已损坏：{exc}") from exc
        if not member.isfile() or member.size > MAX_MANIFEST_BYTES:
            raise BackupError("备份文件中的 manifest.json 无效。")
        fh = tar.extractfile(member)
        assert fh is not None
        try:
            return _check_manifest(json.loads(fh.read()))
        except ValueError as exc:
            raise BackupError(f"备份清单不是有效的 JSON：{exc}") from exc


def _member_target(name: str, staging: Path) -> Path:
    """Where a member goes in the staging directory; refuses any name that could escape it."""
    pure = PurePosixPath(name)
    allowed = name in DB_MEMBERS.values() or (len(pure.parts) > 1 and pure.parts[0] == MEDIA_DIR)
    if (
        not allowed
        or pure.is_absolute()
        or any(part in ("", ".", "..") for part in pure.parts)
        or "\\" in name
        or "\x00" in name
    ):
        raise BackupError(f"备份文件中有不应出现的条目 {name!r}，已停止，没有恢复任何数据。")
    return staging.joinpath(*pure.parts)


def _extract(archive: Path, staging: Path) -> tuple[dict, dict[str, dict]]:
    """Extract every member into ``staging`` while hashing it; return the manifest and what was found."""
    found: dict[str, dict] = {}
    manifest = None
    try:
        with _open_archive(archive) as tar:
            for member in tar:
                if not member.isfile():
                    raise BackupError(
                        f"备份文件中有不允许的条目 {member.name!r}（只能是普通文件），已停止，没有恢复任何数据。"
                    )
                if member.name in found or (member.name == MANIFEST and manifest is not None):
                    raise BackupError(f"备份文件中的条目 {member.name} 重复出现，已停止，没有恢复任何数据。")
                fh = tar.extractfile(member)
                assert fh is not None
                if member.name == MANIFEST:
                    if member.size > MAX_MANIFEST_BYTES:
                        raise BackupError("备份文件中的 manifest.json 过大，文件无效。")
                    try:
                        manifest = json.loads(fh.read())
                    except ValueError as exc:
                        raise BackupError(f"备份清单不是有效的 JSON：{exc}") from exc
                    continue
                target = _member_target(member.name, staging)
                target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                hasher = hashlib.sha256()
                size = 0
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as out:
                    while chunk := fh.read(1 << 20):
                        hasher.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                os.utime(target, (member.mtime, member.mtime))
                found[member.name] = {"sha256": hasher.hexdigest(), "size": size}
    except (tarfile.TarError, EOFError, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EACCES):
            raise BackupError(f"无法解开备份文件（{exc}）：请检查磁盘空间和目录权限。") from exc
        raise BackupError(f"备份文件已损坏，无法读完：{exc}") from exc
    if manifest is None:
        raise BackupError("备份文件中没有 manifest.json，文件不完整或不是思政平台的备份。")
    return _check_manifest(manifest), found


def verify_members(manifest: dict, found: dict[str, dict]) -> list[str]:
    """Every member the manifest lists is present with its checksum, and nothing else is."""
    expected = {manifest["database"]["member"]: manifest["database"]}
    expected.update({f"{MEDIA_DIR}/{rel}": v for rel, v in manifest["media"].get("files", {}).items()})
    problems = []
    for name, want in sorted(expected.items()):
        got = found.get(name)
        if got is None:
            problems.append(f"缺少 {name}")
        elif got["sha256"] != want.get("sha256") or got["size"] != want.get("size"):
            problems.append(f"{name} 的校验和与清单不符（文件损坏或被改动）")
    problems += [f"{name} 不在清单中" for name in sorted(set(found) - set(expected))]
    return problems


# --- restore ----------------------------------------------------------------------------------------


def migration_warnings(manifest: dict) -> list[str]:
    """Warnings when the backup's schema is newer or older than this program's migrations."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    on_disk = set(loader.disk_migrations)
    known_apps = {app for app, _name in on_disk}
    recorded = {(app, name) for app, names in manifest.get("migrations", {}).items() for name in names}
    warnings = []
    newer = sorted(k for k in recorded - on_disk if k[0] in known_apps)
    if newer:
        app, name = newer[0]
        warnings.append(
            f"备份中有 {len(newer)} 个本程序没有的数据库迁移（如 {app}.{name}），备份来自更新的程序版本"
            f"（{manifest.get('app_version')}）；请先把程序升级到该版本再恢复，否则网站可能无法正常运行。"
        )
    older = [
        k
        for k in on_disk - recorded
        if not (k in loader.replacements and all(r in recorded for r in loader.replacements[k].replaces))
    ]
    if older:
        warnings.append(
            f"本程序有 {len(older)} 个备份中没有的数据库迁移；恢复后请运行 `python -m sizheng migrate`。"
        )
    return warnings


def check_compatible(manifest: dict, settings_dict: dict) -> None:
    """Refuse an archive of another database vendor before anything is touched."""
    kind = vendor(settings_dict)
    backup_kind = manifest["database"].get("vendor")
    if backup_kind != kind:
        raise BackupError(
            f"备份来自 {VENDOR_NAMES.get(backup_kind, backup_kind)}，而当前配置的是 {VENDOR_NAMES[kind]}："
            "只能恢复到同一种数据库。请按备份时的 DATABASE_URL 配置后再恢复。"
        )


def preflight(manifest: dict, settings_dict: dict) -> list[str]:
    """Warnings to show before asking for confirmation (raises when the archive cannot be restored here)."""
    check_compatible(manifest, settings_dict)
    warnings = key_warnings(manifest.get("keys", {}))
    warnings += migration_warnings(manifest)
    if manifest.get("app_version") != _app_version():
        warnings.append(f"备份由程序版本 {manifest.get('app_version')} 生成，当前版本是 {_app_version()}。")
    return warnings


def _sqlite_restore(staged: Path, target: Path) -> None:
    """Check the staged copy, close Django's connections and swap the file in atomically."""
    from django.db import connections

    with contextlib.closing(sqlite3.connect(staged)) as conn:
        result = conn.execute("PRAGMA quick_check").fetchone()[0]
    if result != "ok":
        raise BackupError(f"备份中的数据库文件未通过 SQLite 完整性检查（{result}），没有恢复任何数据。")
    connections.close_all()
    target.parent.mkdir(parents=True, exist_ok=True)
    # Keep the service user's ownership when an administrator restores as root.
    _own_like(staged, target if target.exists() else target.parent, mode=0o600)
    # A -wal left beside the new file would be replayed into it: remove the old one first.
    for suffix in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            target.with_name(target.name + suffix).unlink()
    os.replace(staged, target)


def _pg_restore(settings_dict: dict, staged: Path) -> None:
    """pg_restore into the configured database, replacing the objects the dump holds, in one transaction."""
    from django.db import connections

    tool = _pg_tool("pg_restore")
    connections.close_all()  # our own idle sessions would otherwise hold locks --clean must take
    _run(
        [
            tool,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={settings_dict['NAME']}",
            str(staged),
        ],
        _pg_env(settings_dict),
        "pg_restore 恢复数据库",
    )


def _own_like(path: Path, like: Path, *, mode: int | None = None) -> None:
    """Give ``path`` the owner (and optionally the mode) of ``like``; needs root to change the owner."""
    stat = like.stat()
    if mode is not None:
        os.chmod(path, stat.st_mode & 0o777 if like.is_file() else mode)
    if (stat.st_uid, stat.st_gid) != (os.geteuid(), os.getegid()):
        with contextlib.suppress(PermissionError):
            os.chown(path, stat.st_uid, stat.st_gid)


def _place(src: Path, dst: Path) -> None:
    """Move a staged file into place atomically (copy first when MEDIA_ROOT is another filesystem)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.is_dir() and not dst.is_symlink():
        shutil.rmtree(dst)
    try:
        os.replace(src, dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        tmp = dst.with_name(f"{STAGING_PREFIX}{dst.name}.restoring")
        shutil.copy2(src, tmp)
        os.replace(tmp, dst)
    os.chmod(dst, 0o600)


def _media_restore(staged: Path, media_root: Path, files: dict, protected: list[Path]) -> int:
    """Put every backed-up file in place; delete files the backup does not have. Returns the deletions."""
    media_root.mkdir(parents=True, exist_ok=True)
    for rel in sorted(files):
        dst = media_root.joinpath(*PurePosixPath(rel).parts)
        _place(staged.joinpath(*PurePosixPath(rel).parts), dst)
        for path in [dst, *dst.relative_to(media_root).parents[:-1]]:
            _own_like(path if path.is_absolute() else media_root / path, media_root)
    removed = 0
    for rel, path in _media_files(media_root, protected):
        if rel not in files:
            path.unlink()
            removed += 1
    return removed


def compare_tables(expected: dict[str, dict], actual: dict[str, dict]) -> list[str]:
    """One Chinese line per table whose row count or checksum differs from the manifest."""
    problems = []
    for table, want in sorted(expected.items()):
        got = actual.get(table)
        if got is None:
            problems.append(f"表 {table}：恢复后不存在。")
        elif got["rows"] != want["rows"]:
            problems.append(f"表 {table}：恢复后有 {got['rows']} 行，备份清单记录的是 {want['rows']} 行。")
        elif got["sha256"] != want["sha256"]:
            problems.append(f"表 {table}：行数相同（{got['rows']} 行），但内容校验和与备份清单不符。")
    return problems


def compare_media(expected: dict[str, dict], actual: dict[str, dict]) -> list[str]:
    """One Chinese line per media file that is missing, different or extra after the restore."""
    problems = []
    for rel, want in sorted(expected.items()):
        got = actual.get(rel)
        if got is None:
            problems.append(f"上传文件 {rel}：恢复后不存在。")
        elif got["sha256"] != want["sha256"]:
            problems.append(f"上传文件 {rel}：内容与备份清单不符。")
    problems += [
        f"上传文件 {rel}：备份中没有，恢复后却仍存在。" for rel in sorted(set(actual) - set(expected))
    ]
    return problems


def restore_backup(
    archive: Path, *, settings_dict: dict, media_root: Path | None, log: Log = _quiet
) -> RestoreReport:
    """Verify the archive, put the database and media back, then check them against the manifest."""
    kind = vendor(settings_dict)
    archive = Path(os.path.abspath(archive))
    if kind == "sqlite":
        target = _sqlite_path(settings_dict)
        staging_parent = Path(os.path.abspath(target)).parent  # same filesystem: os.replace is atomic
    else:
        staging_parent = Path(settings.VAR_DIR)
    staging_parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=STAGING_PREFIX + "restore-", dir=staging_parent) as work:
        staging = Path(work)
        log("正在解开并校验备份文件……")
        manifest, found = _extract(archive, staging)
        problems = verify_members(manifest, found)
        if problems:
            raise BackupError("备份文件校验失败，没有恢复任何数据：" + "；".join(problems[:20]) + "。")
        check_compatible(manifest, settings_dict)
        report = RestoreReport(manifest=manifest)
        staged_db = staging / manifest["database"]["member"]
        log("正在恢复数据库……")
        if kind == "sqlite":
            _sqlite_restore(staged_db, target)
        else:
            _pg_restore(settings_dict, staged_db)
        media_files = manifest["media"].get("files", {})
        protected = _protected(settings_dict, [staging, archive])
        backed_up_media = manifest["media"].get("stored", "local") == "local"
        if media_root is None:
            if media_files:
                report.warnings.append(
                    "当前上传文件存放在对象存储中，本命令没有恢复备份中的上传文件；请解开备份文件，"
                    "用 mc mirror media/ <别名>/<存储桶> 把 media/ 目录上传到存储桶。"
                )
        elif not backed_up_media:
            # A backup made on object storage holds no uploads: the local directory is left as it is
            # (restoring "nothing" must not delete every file in it).
            report.warnings.append(
                "备份时上传文件存放在对象存储中，备份不含上传文件；本机的上传文件目录保持原样，"
                "请用 mc mirror 从存储桶的备份取回上传文件。"
            )
        else:
            log(f"正在恢复上传文件（{len(media_files)} 个）……")
            report.media_removed = _media_restore(staging / MEDIA_DIR, media_root, media_files, protected)
    log("正在核对恢复后的数据……")
    actual = database_digests(settings_dict)
    report.mismatches += compare_tables(manifest["tables"], actual)
    extra = sorted(set(actual) - set(manifest["tables"]))
    if extra:
        report.warnings.append(
            f"数据库中有 {len(extra)} 张备份中没有的表（如 {extra[0]}），可能来自更新的迁移；它们保持原样。"
        )
    if media_root is not None and backed_up_media:
        report.mismatches += compare_media(media_files, media_digests(media_root, settings_dict))
    logger.info("restore from %s: %d mismatches", archive.name, len(report.mismatches))
    return report
