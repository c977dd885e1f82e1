"""``python -m sizheng backup [--output DIR]``: the database and uploaded files in one archive.

The data key and key files are never put into the archive (see ``sizheng.core.backup``).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from sizheng.core import backup


class Command(BaseCommand):
    """Write ``sizheng-backup-<time>.tar.gz`` with a manifest of per-table and per-file checksums."""

    help = (
        "备份数据库（SQLite 在线备份或 pg_dump）和上传文件到一个 tar.gz 文件，附带逐表校验和清单；"
        "备份中不含任何密钥。"
    )

    # An operational tool: it must run even when a system check would fail (and start fast).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        """``--output``."""
        parser.add_argument(
            "--output",
            type=Path,
            default=None,
            help="备份文件存放目录（默认 var/backups；目录权限 0700，文件权限 0600）。",
        )

    def handle(self, *args, output=None, **options):
        """Write the archive and say where it is and what it holds."""
        output_dir = output or Path(settings.VAR_DIR) / "backups"
        settings_dict = connections[DEFAULT_DB_ALIAS].settings_dict
        media_root = backup.local_media_root()
        self.stdout.write(f"备份 {backup.describe_database(settings_dict)}。")
        try:
            archive, manifest = backup.create_backup(
                settings_dict=settings_dict,
                media_root=media_root,
                output_dir=output_dir,
                log=self.stdout.write,
            )
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(t["rows"] for t in manifest["tables"].values())
        files = manifest["media"]["files"]
        size_mb = archive.stat().st_size / 1024 / 1024
        self.stdout.write(
            f"共 {len(manifest['tables'])} 张表、{rows} 行，{len(files)} 个上传文件"
            f"（{sum(f['size'] for f in files.values()) / 1024 / 1024:.1f} MB），备份文件 {size_mb:.1f} MB。"
        )
        if media_root is None:
            self.stderr.write(
                self.style.WARNING(
                    manifest["media"].get("note")
                    or "上传文件存放在对象存储中，本备份不含上传文件；请用对象存储自身的版本或复制功能备份它们。"
                )
            )
        self.stdout.write(
            "备份中没有任何密钥：请另行妥善保存 SIZHENG_DATA_KEY 和 SIZHENG_INDEX_KEY，恢复时需要同样的密钥才能读出加密数据。"
            "备份文件含有敏感数据（附件为原文），请按敏感数据保管。"
        )
        self.stdout.write(self.style.SUCCESS(f"备份已完成：{archive}"))
