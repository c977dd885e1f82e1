"""``python -m sizheng genkey [--data]``: print a fresh random key and how to install it."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from sizheng.core import keys

SECRET_HELP = """\
上面是一个新的随机密钥（256 位）。请把它设置为 SIZHENG_SECRET_KEY 或 SIZHENG_INDEX_KEY
（或写入 SIZHENG_SECRET_KEY_FILE / SIZHENG_INDEX_KEY_FILE 指向的文件），不要存进数据库或代码仓库。
注意：更换 SIZHENG_INDEX_KEY 会使全部盲索引失效，必须重新计算；数据加密密钥请用 --data 生成。"""

DATA_HELP = """\
上面是一个新的数据加密密钥，编号为 {key_id}。更换数据密钥的步骤：
1. 把它加到 SIZHENG_DATA_KEY 的最前面，用英文逗号与旧密钥隔开，例如：
   SIZHENG_DATA_KEY="{key_id}:…新密钥…,旧编号:…旧密钥…"
2. 重启全部服务进程，使其用新密钥加密、仍能用旧密钥解密。
3. 运行 `python -m sizheng rotate_data_key`，把已有的加密数据改用新密钥（可先加 --dry-run 查看）。
4. 只有在第 3 步成功（没有报告无法解密的行）之后，才能从 SIZHENG_DATA_KEY 中删除旧密钥。"""


def default_key_id() -> str:
    """A data key id like ``k20261129`` (a label only, so the UTC date is good enough)."""
    return f"k{datetime.now(UTC):%Y%m%d}"


def generate(*, data: bool, key_id: str | None = None) -> tuple[str, str]:
    """``(line to install, Chinese explanation)``; needs no settings, so it works before keys exist."""
    material = keys.new_key_material()
    if not data:
        return material, SECRET_HELP
    key_id = key_id or default_key_id()
    return f"{key_id}:{material}", DATA_HELP.format(key_id=key_id)


def _check_key_id(key_id: str | None) -> str | None:
    """A Chinese complaint if a key id would break the ``id:key,id:key`` format, else None."""
    if key_id is not None and (not key_id or any(c in key_id for c in ":, ")):
        return "密钥编号不能为空，也不能含有冒号、逗号或空格。"
    return None


def main(argv: list[str] | None = None) -> int:
    """The command without Django settings: production must be able to make its first keys."""
    parser = argparse.ArgumentParser(prog="python -m sizheng genkey", description=Command.help)
    parser.add_argument("--data", action="store_true")
    parser.add_argument("--id", dest="key_id")
    options = parser.parse_args(argv)
    problem = _check_key_id(options.key_id)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    line, explanation = generate(data=options.data, key_id=options.key_id)
    print(line)
    print(explanation, file=sys.stderr)
    return 0


class Command(BaseCommand):
    """Print a new key on stdout (so it can be redirected to a file) and the explanation on stderr."""

    help = "生成一个新的随机密钥；--data 生成带编号的数据加密密钥。"
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        """``--data`` and ``--id``."""
        parser.add_argument("--data", action="store_true", help="生成数据加密密钥，输出“编号:密钥”。")
        parser.add_argument(
            "--id", dest="key_id", help="数据密钥编号（默认为 k 加今天的日期，如 k20261129）。"
        )

    def handle(self, *args, data=False, key_id=None, **options):
        """Print the key, then the explanation."""
        problem = _check_key_id(key_id)
        if problem:
            raise CommandError(problem)
        line, explanation = generate(data=data, key_id=key_id)
        self.stdout.write(line)
        self.stderr.write(explanation, style_func=lambda s: s)
