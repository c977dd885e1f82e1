"""``python -m sizheng import_roster FILE [--org CODE] [--dry-run] [--json]``: import a roster spreadsheet."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand

from sizheng.org.importer import roster_import


class Command(BaseCommand):
    """Import people from an .xlsx/.xls roster, all-or-nothing; exit status 1 when the file has errors."""

    help = "从 Excel 名册（.xlsx / .xls）导入人员：按身份证号新增或更新，全部通过校验才写入。"

    def add_arguments(self, parser) -> None:
        """FILE, --org, --dry-run, --json."""
        parser.add_argument("file", help="名册文件路径（.xlsx 或 .xls）")
        parser.add_argument("--org", default=None, help="表中未填写所在党组织的党员归入的党组织代码")
        parser.add_argument("--dry-run", action="store_true", help="只检查并统计，不写入任何数据")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果")

    def handle(self, *args, **options) -> None:
        """Run the import as the system (actor None) and print the result."""
        result = roster_import(
            actor=None, source=Path(options["file"]), default_org=options["org"], dry_run=options["dry_run"]
        )
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
        else:
            self._summary(result)
        if result.errors:
            raise SystemExit(1)

    def _summary(self, result) -> None:
        """A readable Chinese summary: the counts, then every error with its row and column."""
        for w in result.warnings:
            self.stderr.write(f"提示：{_where(w)}{w['message']}")
        if result.errors:
            for e in result.errors:
                self.stderr.write(f"错误：{_where(e)}{e['message']}")
            self.stderr.write(f"共发现 {len(result.errors)} 处错误，未写入任何数据。请修改名册后重新导入。")
            return
        counts = f"新增 {result.created} 人，更新 {result.updated} 人，无变化 {result.unchanged} 人。"
        if result.dry_run:
            self.stdout.write(f"试导入完成（未写入）：将{counts}")
        else:
            self.stdout.write(self.style.SUCCESS(f"导入完成：{counts}"))


def _where(item: dict) -> str:
    """“第 5 行“出生日期”列：” for a cell, “第 5 行：” for a row, nothing for the whole file."""
    if item["row"] is None:
        return ""
    if item["column"]:
        return f"第 {item['row']} 行“{item['column']}”列："
    return f"第 {item['row']} 行："
