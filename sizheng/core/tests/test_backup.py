"""Backup and restore: identical data after backup → wipe → restore, and no key ever in the archive."""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.test import override_settings

from sizheng.core import backup, keys

ROOT = Path(__file__).resolve().parents[3]
SQLITE = "django.db.backends.sqlite3"
MEDIA = {
    "uploads/2026/11/a1b2c3.pdf": b"%PDF-1.7\n" + bytes(range(256)) * 40,
    "附件/会议记录.txt": "第一党支部主题党日会议记录。\n".encode(),
}


def _make_db(path: Path) -> None:
    """A small database: a migration table, a blob column, a table without a key, a composite key."""
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app TEXT, name TEXT, applied TEXT);
            INSERT INTO django_migrations (app, name, applied) VALUES ('core', '0001_initial', '2026-01-01');
            CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, photo BLOB, score REAL);
            CREATE TABLE tags (label TEXT, weight INTEGER);
            CREATE TABLE pairs (x INTEGER, y INTEGER, note TEXT, PRIMARY KEY (y, x));
            """
        )
        conn.executemany(
            "INSERT INTO people (id, name, photo, score) VALUES (?, ?, ?, ?)",
            [(i, f"党员{i}", bytes([i, 0, 255]), i / 3) for i in range(1, 30)],
        )
        conn.executemany("INSERT INTO tags VALUES (?, ?)", [("学习", 2), ("谈心", 1), ("学习", 2)])
        conn.executemany("INSERT INTO pairs VALUES (?, ?, ?)", [(2, 1, "b"), (1, 2, "a"), (1, 1, None)])
    conn.close()


def _write_media(root: Path) -> None:
    for rel, data in MEDIA.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _read_media(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _key_strings() -> list[bytes]:
    """Every form a running key could take inside an archive."""
    found = [settings.SECRET_KEY.encode(), settings.INDEX_KEY.encode()]
    for material in settings.DATA_KEYS.values():
        found += [material, base64.urlsafe_b64encode(material).rstrip(b"=")]
    return found


def _tar_bytes(archive: Path) -> bytes:
    """The uncompressed tar stream: key bytes would show there verbatim."""
    return gzip.decompress(archive.read_bytes())


def _rewrite(archive: Path, change) -> Path:
    """A copy of the archive with ``change(name, data) -> data`` applied to each member."""
    out = archive.with_name("changed-" + archive.name)
    with tarfile.open(archive, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        for member in src:
            data = change(member.name, src.extractfile(member).read())
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    return out


@pytest.fixture
def site(tmp_path, settings):
    """A standalone installation: var dir with key files, a SQLite file and media, all under one root."""
    var = tmp_path / "var"
    (var / "keys").mkdir(parents=True)
    settings.VAR_DIR = var
    # Key files where demo mode writes them, holding the running keys: they must stay out of the archive
    # even though the media root below is the whole var directory.
    (var / "keys" / "sizheng_secret_key.key").write_text(settings.SECRET_KEY + "\n")
    (var / "keys" / "sizheng_index_key.key").write_text(settings.INDEX_KEY + "\n")
    ring = ",".join(
        f"{k}:{base64.urlsafe_b64encode(m).decode().rstrip('=')}" for k, m in settings.DATA_KEYS.items()
    )
    (var / "keys" / "sizheng_data_key.key").write_text(ring + "\n")
    db = var / "sizheng.sqlite3"
    _make_db(db)
    _write_media(var / "media")
    return {
        "settings_dict": {"ENGINE": SQLITE, "NAME": db},
        "db": db,
        "media_root": var,
        "out": var / "backups",
    }


def _backup(site) -> tuple[Path, dict]:
    return backup.create_backup(
        settings_dict=site["settings_dict"], media_root=site["media_root"], output_dir=site["out"]
    )


def test_it_writes_one_archive_with_a_manifest_and_never_a_key(site):
    archive, manifest = _backup(site)

    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    with tarfile.open(archive, "r:gz") as tar:
        names = tar.getnames()
    assert names[-1] == "manifest.json" and names[0] == "database.sqlite3"
    assert sorted(names[1:-1]) == sorted(f"media/media/{rel}" for rel in MEDIA)  # no keys/, no database file
    raw = _tar_bytes(archive)
    for secret in _key_strings():
        assert secret not in raw
    assert backup.read_manifest(archive) == manifest
    assert manifest["database"]["vendor"] == "sqlite"
    assert manifest["migrations"] == {"core": ["0001_initial"]}
    assert manifest["tables"]["people"]["rows"] == 29 and manifest["tables"]["pairs"]["rows"] == 3
    assert manifest["tables"] == backup.database_digests(site["settings_dict"])
    pdf = "media/uploads/2026/11/a1b2c3.pdf"
    assert manifest["media"]["files"][pdf]["size"] == len(MEDIA["uploads/2026/11/a1b2c3.pdf"])
    assert manifest["keys"]["data_key_id"] == next(iter(settings.DATA_KEYS))
    assert manifest["keys"]["index_key"] == backup.fingerprint("index", settings.INDEX_KEY)
    assert manifest["created_at"].endswith("Z") and manifest["app_version"]


def test_it_changes_a_table_checksum_when_one_value_changes(site):
    before = backup.database_digests(site["settings_dict"])
    with sqlite3.connect(site["db"]) as conn:
        conn.execute("UPDATE people SET score = 0.5 WHERE id = 7")
    conn.close()
    after = backup.database_digests(site["settings_dict"])
    assert after["people"]["rows"] == before["people"]["rows"]
    assert after["people"]["sha256"] != before["people"]["sha256"]
    assert after["tags"] == before["tags"]


def test_it_restores_identical_data_and_media_after_a_wipe(site):
    before = backup.database_digests(site["settings_dict"])
    media_before = _read_media(site["media_root"] / "media")
    archive, _ = _backup(site)
    site["db"].unlink()
    shutil.rmtree(site["media_root"] / "media")
    (site["media_root"] / "media" / "后来上传.txt").parent.mkdir(parents=True)
    (site["media_root"] / "media" / "后来上传.txt").write_text("备份之后才上传的文件")

    report = backup.restore_backup(
        archive, settings_dict=site["settings_dict"], media_root=site["media_root"]
    )

    assert report.mismatches == []
    assert report.media_removed == 1
    assert backup.database_digests(site["settings_dict"]) == before
    assert _read_media(site["media_root"] / "media") == media_before
    assert (site["media_root"] / "keys" / "sizheng_data_key.key").exists()  # keys are never touched


def test_it_refuses_a_tampered_archive_and_changes_nothing(site):
    archive, _ = _backup(site)
    with sqlite3.connect(site["db"]) as conn:
        conn.execute("DELETE FROM tags")
    conn.close()
    current = backup.database_digests(site["settings_dict"])
    tampered = _rewrite(archive, lambda name, data: data + b"x" if name.endswith(".pdf") else data)

    with pytest.raises(
        backup.BackupError, match=r"media/media/uploads/2026/11/a1b2c3\.pdf 的校验和与清单不符"
    ):
        backup.restore_backup(tampered, settings_dict=site["settings_dict"], media_root=site["media_root"])
    assert backup.database_digests(site["settings_dict"]) == current


def test_it_names_the_table_that_does_not_match_after_restore(site):
    archive, _ = _backup(site)

    def wrong_count(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["tables"]["tags"]["rows"] = 4
        return json.dumps(manifest).encode()

    report = backup.restore_backup(
        _rewrite(archive, wrong_count), settings_dict=site["settings_dict"], media_root=site["media_root"]
    )
    assert report.mismatches == ["表 tags：恢复后有 3 行，备份清单记录的是 4 行。"]


@pytest.mark.parametrize("member", ["../evil.txt", "media/../../evil.txt", "keys/data.key"])
def test_it_refuses_members_outside_the_layout(site, member):
    archive = site["media_root"] / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo(member)
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
    with pytest.raises(backup.BackupError, match="不应出现的条目"):
        backup.restore_backup(archive, settings_dict=site["settings_dict"], media_root=site["media_root"])
    assert not (site["media_root"].parent / "evil.txt").exists()


def test_it_warns_when_the_running_keys_differ(site):
    _, manifest = _backup(site)
    recorded = manifest["keys"]
    assert backup.key_warnings(recorded) == []
    old_id, old = next(iter(settings.DATA_KEYS.items()))
    new = os.urandom(32)
    with override_settings(DATA_KEYS={"k2": new}):
        (warning,) = backup.key_warnings(recorded)
        assert f"备份时的当前数据密钥 {old_id}" in warning and "无法解密" in warning
    with override_settings(DATA_KEYS={"k2": new, old_id: old}):
        (warning,) = backup.key_warnings(recorded)
        assert "可以解密" in warning and "rotate_data_key" in warning
    with override_settings(INDEX_KEY=keys.new_key_material()):
        (warning,) = backup.key_warnings(recorded)
        assert "SIZHENG_INDEX_KEY 与备份时不同" in warning


def test_it_refuses_a_backup_of_another_database_vendor(site):
    archive, _ = _backup(site)
    manifest = backup.read_manifest(archive)
    with pytest.raises(backup.BackupError, match="备份来自 SQLite，而当前配置的是 PostgreSQL"):
        backup.check_compatible(manifest, {"ENGINE": "django.db.backends.postgresql", "NAME": "x"})


def test_it_explains_how_to_get_pg_dump_when_it_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("SIZHENG_PG_BINDIR", str(tmp_path))
    with pytest.raises(backup.BackupError, match="找不到 pg_dump：请在本机安装 PostgreSQL 客户端程序"):
        backup._pg_tool("pg_dump")


def test_the_restore_command_refuses_without_yes_when_not_interactive(site, monkeypatch):
    archive, _ = _backup(site)
    monkeypatch.setattr(backup, "preflight", lambda manifest, settings_dict: [])
    monkeypatch.setattr(backup, "restore_backup", lambda *a, **k: pytest.fail("restored without consent"))
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="请加 --yes 重新运行"):
        call_command("restore", str(archive), stdout=io.StringIO(), stderr=io.StringIO())


def test_the_restore_command_asks_on_a_terminal_and_stops_unless_told_yes(site, monkeypatch):
    archive, _ = _backup(site)

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(backup, "preflight", lambda manifest, settings_dict: [])
    monkeypatch.setattr(backup, "restore_backup", lambda *a, **k: pytest.fail("restored without consent"))
    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    out = io.StringIO()
    with pytest.raises(CommandError, match="已取消恢复，没有做任何更改"):
        call_command("restore", str(archive), stdout=out, stderr=io.StringIO())
    assert "将被覆盖" in out.getvalue()


# --- end to end: the real commands in a separate process, on the test database's vendor ----------


def _env(var: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIZHENG_", "DATABASE_URL", "PYTEST"))}
    ring = ",".join(
        f"{k}:{base64.urlsafe_b64encode(m).decode().rstrip('=')}" for k, m in settings.DATA_KEYS.items()
    )
    env.update(
        SIZHENG_VAR_DIR=str(var),
        SIZHENG_SECRET_KEY=settings.SECRET_KEY,
        SIZHENG_DATA_KEY=ring,  # the keys the rows were encrypted with
        SIZHENG_INDEX_KEY=settings.INDEX_KEY,
        PYTHONPATH=str(ROOT),
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _sizheng(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sizheng", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _pg_url(sd: dict) -> str:
    auth = quote(sd["USER"] or "", safe="") + (
        f":{quote(sd['PASSWORD'], safe='')}" if sd.get("PASSWORD") else ""
    )
    return f"postgres://{auth}@{quote(sd['HOST'] or '', safe='')}:{sd['PORT'] or 5432}/{quote(sd['NAME'], safe='')}"


def _wipe_postgres() -> None:
    tables = connection.introspection.table_names()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE "
            + ", ".join(connection.ops.quote_name(t) for t in tables)
            + " RESTART IDENTITY CASCADE"
        )


@pytest.mark.django_db(transaction=True)
def test_it_gives_back_identical_data_after_backup_wipe_and_restore(cast, tmp_path):
    """Acceptance (issue 10): row counts and checksums per table, and the media files, come back."""
    var = tmp_path / "var"
    media = var / "media"
    var.mkdir()
    if connection.vendor == "sqlite":
        # The installation's database: a file copy of the migrated test database holding the cast.
        target = var / "sizheng.sqlite3"
        connection.ensure_connection()
        with sqlite3.connect(target) as copy_conn:
            connection.connection.backup(copy_conn)
        copy_conn.close()
        sd = {"ENGINE": SQLITE, "NAME": target}
        env = _env(var, None)
    elif connection.vendor == "postgresql":
        sd = connection.settings_dict
        env = _env(var, _pg_url(sd))
    else:
        # The project runs on SQLite and PostgreSQL only (settings), so any other vendor is a failure.
        pytest.fail(f"备份只支持 SQLite 和 PostgreSQL，测试数据库是 {connection.vendor}。", pytrace=False)
    _write_media(media)
    before = backup.database_digests(sd)
    media_before = _read_media(media)
    assert before["org_person"]["rows"] >= 5 and before["core_user"]["rows"] >= 10
    connections.close_all()

    made = _sizheng(env, "backup", "--output", str(tmp_path / "out"))
    assert made.returncode == 0, made.stderr
    (archive,) = (tmp_path / "out").glob("sizheng-backup-*.tar.gz")
    assert backup.read_manifest(archive)["tables"] == before
    raw = _tar_bytes(archive)
    for secret in _key_strings():
        assert secret not in raw

    # Wipe: the database (file or every row) and the media.
    if connection.vendor == "sqlite":
        for path in var.glob("sizheng.sqlite3*"):
            path.unlink()
    else:
        _wipe_postgres()
        assert backup.database_digests(sd)["core_user"]["rows"] == 0
        connections.close_all()
    shutil.rmtree(media)

    restored = _sizheng(env, "restore", str(archive), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert "恢复完成" in restored.stdout
    assert backup.database_digests(sd) == before
    assert _read_media(media) == media_before

    # A manifest that disagrees with the data: non-zero exit naming the table.
    def wrong_checksum(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["tables"]["org_person"]["sha256"] = "0" * 64
        return json.dumps(manifest).encode()

    connections.close_all()
    mismatch = _sizheng(env, "restore", str(_rewrite(archive, wrong_checksum)), "--yes")
    assert mismatch.returncode != 0
    assert "表 org_person：行数相同" in mismatch.stderr
