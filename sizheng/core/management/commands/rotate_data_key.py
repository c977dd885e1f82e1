"""``python -m sizheng rotate_data_key``: re-encrypt every encrypted column under the current key.

Walks every ``EncryptedTextField`` / ``EncryptedCharField`` of every installed, managed, non-proxy
model; rows whose token names another key or cipher are decrypted (with any key still in
``settings.DATA_KEYS``) and written back under the current key and cipher, 500 rows per
transaction in primary-key order. Rows that cannot be decrypted are left as they are, listed
(model, id, field: never a value) and make the command exit non-zero.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction

from sizheng.core import keys
from sizheng.core.crypto import (
    ENCRYPTED_FIELD_CLASSES,
    CryptoError,
    current_cipher,
    current_key_id,
    decrypt,
    is_current,
)

BATCH_SIZE = 500
MAX_LISTED_FAILURES = 20


def encrypted_fields() -> list[tuple[type[models.Model], list[models.Field]]]:
    """Every managed concrete model with its own encrypted columns."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        # local fields only: an inherited column lives in (and is rotated with) the parent's table
        fields = [f for f in model._meta.local_concrete_fields if isinstance(f, ENCRYPTED_FIELD_CLASSES)]
        if fields:
            found.append((model, fields))
    return found


def _write_private(path: Path, text: str) -> None:
    """Replace a key file atomically, readable by its owner only."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text + "\n")
    os.replace(tmp, path)  # never leave a half-written keyring behind


def add_demo_key() -> str:
    """Prepend a new key to the demo keyring file and to ``settings.DATA_KEYS``; return its id."""
    if not settings.DEMO:
        raise CommandError(
            "--new-demo-key 只能在演示模式下使用；生产环境请用 `python -m sizheng genkey --data` 生成新密钥，"
            "手动加到 SIZHENG_DATA_KEY 最前面并重启服务后，再运行本命令。"
        )
    if os.environ.get("SIZHENG_DATA_KEY", "").strip() or os.environ.get("SIZHENG_DATA_KEY_FILE", "").strip():
        raise CommandError(
            "数据密钥来自环境变量 SIZHENG_DATA_KEY（或 SIZHENG_DATA_KEY_FILE），本命令不能改写；请手动轮换。"
        )
    path = keys.demo_keyring_path(Path(settings.VAR_DIR))
    try:
        current = path.read_text().strip()
    except OSError as exc:
        raise CommandError(f"无法读取演示数据密钥文件 {path}：{exc}") from exc
    ring = keys.parse_keyring(current)
    number = len(ring) + 1
    while f"{keys.DEMO_PREFIX}{number}" in ring:
        number += 1
    key_id = f"{keys.DEMO_PREFIX}{number}"
    value = f"{key_id}:{keys.new_key_material()},{current}"
    new_ring = keys.parse_keyring(value)
    _write_private(path, value)
    # Settings were loaded before the file changed: this process must see the new key too.
    settings.DATA_KEYS = new_ring
    return key_id


class Command(BaseCommand):
    """Re-encrypt stale tokens under the current data key and cipher."""

    help = "把所有加密字段中仍使用旧密钥或旧算法的数据，改用当前数据密钥和算法重新加密。"

    def add_arguments(self, parser):
        """``--dry-run`` and ``--new-demo-key``."""
        parser.add_argument(
            "--dry-run", action="store_true", help="只检查并统计需要重新加密的行，不写数据库。"
        )
        parser.add_argument(
            "--new-demo-key",
            action="store_true",
            help="（仅演示模式）先在演示密钥文件最前面加一个新密钥，再轮换。",
        )

    def handle(self, *args, dry_run=False, new_demo_key=False, **options):
        """Rotate every model, print a summary, fail if any row could not be decrypted."""
        if new_demo_key:
            if dry_run:
                raise CommandError("--new-demo-key 不能与 --dry-run 同时使用。")
            key_id = add_demo_key()
            self.stdout.write(f"已在演示密钥文件中加入新密钥 {key_id}；正在运行的服务需重启后才能读到它。")
        try:
            key_id, cipher = current_key_id(), current_cipher()
        except CryptoError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"当前数据密钥：{key_id}，算法：{cipher}。" + ("（试运行，不写数据库）" if dry_run else "")
        )

        failures: list[str] = []
        total = 0
        targets = encrypted_fields()
        if not targets:
            self.stdout.write("没有找到加密字段，无需轮换。")
            return
        for model, fields in targets:
            checked, changed = self._rotate_model(model, fields, dry_run, failures)
            total += changed
            verb = "需要重新加密" if dry_run else "已重新加密"
            self.stdout.write(f"{model._meta.label}：检查 {checked} 行，{verb} {changed} 行。")
        verb = "共需要重新加密" if dry_run else "完成，共重新加密"
        self.stdout.write(f"{verb} {total} 行。")
        if failures:
            for line in failures[:MAX_LISTED_FAILURES]:
                self.stderr.write(line)
            if len(failures) > MAX_LISTED_FAILURES:
                self.stderr.write(f"……另有 {len(failures) - MAX_LISTED_FAILURES} 行未列出。")
            raise CommandError(
                f"有 {len(failures)} 行无法解密，已原样保留；请把缺少的旧密钥加回 SIZHENG_DATA_KEY 后重新运行，"
                "在此之前不要删除任何旧密钥。"
            )

    def _rotate_model(self, model, fields, dry_run: bool, failures: list[str]) -> tuple[int, int]:
        """Walk one model by primary key in batches; return (rows checked, rows re-encrypted)."""
        # The raw column, typed as plain text so the field does not decrypt it on the way out.
        raw = [models.ExpressionWrapper(models.F(f.attname), output_field=models.TextField()) for f in fields]
        checked = changed = 0
        last_pk = None
        while True:
            with transaction.atomic():
                qs = model._base_manager.order_by("pk")
                if last_pk is not None:
                    qs = qs.filter(pk__gt=last_pk)
                if not dry_run:
                    qs = qs.select_for_update()
                rows = list(qs.values_list("pk", *raw)[:BATCH_SIZE])
                updates = []
                for pk, *tokens in rows:
                    obj = self._reencrypted(model, fields, pk, tokens, failures)
                    if obj is not None:
                        updates.append(obj)
                if updates and not dry_run:
                    # bulk_update writes the plaintext through the field, which encrypts it afresh.
                    model._base_manager.bulk_update(updates, [f.name for f in fields])
            checked += len(rows)
            changed += len(updates)
            if len(rows) < BATCH_SIZE:
                return checked, changed
            last_pk = rows[-1][0]

    def _reencrypted(self, model, fields, pk, tokens, failures: list[str]):
        """An unsaved instance carrying the row's plaintexts if any token is stale, else None."""
        if all(t in (None, "") or _is_current(t) for t in tokens):
            return None
        obj = model(pk=pk)
        for field, token in zip(fields, tokens, strict=True):
            try:
                setattr(obj, field.attname, token if token in (None, "") else decrypt(token))
            except CryptoError as exc:
                failures.append(f"{model._meta.label} #{pk} 字段 {field.name}：{exc}")
                return None
        return obj


def _is_current(token: str) -> bool:
    """Like ``crypto.is_current``, but a malformed token counts as stale so decrypting reports it."""
    try:
        return is_current(token)
    except CryptoError:
        return False
