"""``python -m sizheng restore ARCHIVE [--yes]``: put a backup back and prove it came back whole.

Stop the web, worker and scheduler processes first: the database file (SQLite) or the tables
(PostgreSQL) are replaced underneath them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from sizheng.core import backup

CONFIRM_WORDS = {"yes", "y", "是", "确认"}


class Command(BaseCommand):
    """Verify the archive, restore the database and media, then compare with the manifest."""

    help = (
        "从备份文件恢复数据库和上传文件（会覆盖当前数据）：先校验备份文件，恢复后逐表核对行数和校验和。"
        "恢复前请先停止网站、任务进程和调度器。"
    )

    # An operational tool: it must run even when a system check would fail (and start fast).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        """The archive and ``--yes``."""
        parser.add_argument("archive", type=Path, help="backup 命令生成的 .tar.gz 文件")
        parser.add_argument("--yes", action="store_true", help="不再询问，直接恢复（非交互运行时必须加）。")

    def handle(self, *args, archive: Path, yes=False, **options):
        """Show what will be replaced, confirm, restore, verify."""
        settings_dict = connections[DEFAULT_DB_ALIAS].settings_dict
        media_root = backup.local_media_root()
        try:
            manifest = backup.read_manifest(archive)
            warnings = backup.preflight(manifest, settings_dict)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(t["rows"] for t in manifest["tables"].values())
        self.stdout.write(
            f"备份文件：{archive}，创建于 {manifest['created_at']}（程序版本 {manifest.get('app_version')}），"
            f"{len(manifest['tables'])} 张表、{rows} 行，{len(manifest['media'].get('files', {}))} 个上传文件。"
        )
        target = backup.describe_database(settings_dict)
        media_text = (
            f"上传文件目录 {media_root}" if media_root is not None else "（上传文件在对象存储中，不恢复）"
        )
        self.stdout.write(f"将被覆盖：{target}；{media_text}。")
        for warning in warnings:
            self.stderr.write(self.style.WARNING(f"警告：{warning}"))
        if not yes:
            self._confirm()
        try:
            report = backup.restore_backup(
                archive, settings_dict=settings_dict, media_root=media_root, log=self.stdout.write
            )
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(f"警告：{warning}"))
        # Cached values (analyses, the sentiment word list, dashboard figures) describe the data that
        # was replaced; the file cache survives restarts, so it is emptied here.
        cache.clear()
        if report.media_removed:
            self.stdout.write(f"已删除 {report.media_removed} 个备份中没有的上传文件。")
        if report.mismatches:
            raise CommandError(
                "恢复后的数据与备份清单不一致：\n"
                + "\n".join(report.mismatches)
                + "\n请不要启动服务；检查磁盘和数据库日志后重新恢复，或改用另一份备份。"
            )
        files = len(manifest["media"].get("files", {})) if media_root is not None else 0
        media_text = f"、{files} 个上传文件" if media_root is not None else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"恢复完成：{len(manifest['tables'])} 张表的行数和校验和{media_text}均与备份一致。"
                "现在可以启动服务。"
            )
        )

    def _confirm(self) -> None:
        """Ask on a terminal; refuse without one."""
        try:
            interactive = sys.stdin.isatty()
        except (AttributeError, ValueError):
            interactive = False
        if not interactive:
            raise CommandError(
                "恢复会用备份覆盖当前的数据库和上传文件，且不能撤销。确认无误后请加 --yes 重新运行"
                "（非交互方式运行时必须加 --yes）。建议先用 `python -m sizheng backup` 备份当前数据。"
            )
        self.stdout.write(
            "恢复会覆盖当前的全部数据，且不能撤销。建议先用 `python -m sizheng backup` 备份当前数据。"
        )
        try:
            answer = input("确认恢复请输入 yes：")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in CONFIRM_WORDS:
            raise CommandError("已取消恢复，没有做任何更改。")
