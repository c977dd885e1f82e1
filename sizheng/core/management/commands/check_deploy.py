"""``python -m sizheng check-deploy``: is this configuration fit for production?

Prints each of our checks with 通过/警告/错误 and what to do, then Django's own deployment
checks that ours do not cover; exits non-zero when anything is an error.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from sizheng.core import deploychecks
from sizheng.core.deploychecks import ERROR, LABELS, OK, WARNING


class Command(BaseCommand):
    """Our production checks plus Django's ``check --deploy``, in Chinese."""

    help = "检查生产部署配置（本平台的检查加上 Django 的部署检查），逐项显示通过/警告/错误及处理办法；有错误时以非零状态退出。"
    requires_system_checks: list[str] = []  # we run them ourselves, deploy checks included

    def handle(self, *args, **options):
        """Print every finding and a summary; fail on errors."""
        styles = {OK: self.style.SUCCESS, WARNING: self.style.WARNING, ERROR: self.style.ERROR}
        counts = {OK: 0, WARNING: 0, ERROR: 0}
        self.stdout.write("本平台的部署检查：")
        for finding in deploychecks.evaluate():
            counts[finding.level] += 1
            ident = f"[{finding.id}] " if finding.level != OK else ""
            self.stdout.write(f"  {styles[finding.level](LABELS[finding.level])}  {ident}{finding.text()}")
        others = deploychecks.django_findings()
        self.stdout.write("Django 的系统检查和部署检查（与上面重复的已合并）：")
        if not others:
            counts[OK] += 1
            self.stdout.write(f"  {styles[OK](LABELS[OK])}  没有其他问题。")
        for level, ident, text in others:
            counts[level] += 1
            self.stdout.write(f"  {styles[level](LABELS[level])}  [{ident}] {text}")
        self.stdout.write(f"合计：通过 {counts[OK]} 项，警告 {counts[WARNING]} 项，错误 {counts[ERROR]} 项。")
        if counts[ERROR]:
            raise CommandError(
                f"有 {counts[ERROR]} 项错误，不能用于生产；请按上面的提示修正后重新运行 `python -m sizheng check-deploy`。"
            )
        self.stdout.write(
            self.style.SUCCESS(
                "没有错误，可以用于生产。" if not counts[WARNING] else "没有错误；请逐项评估上面的警告。"
            )
        )
