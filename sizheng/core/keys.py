"""Loading the platform's keys from the environment (production) or from ``var/`` (demo).

Imported by settings, so it uses nothing from Django but its exception type.
Demo keys carry a recognisable prefix (``demo-``) so that production mode can refuse them.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

DEMO_PREFIX = "demo-"
MIN_KEY_CHARS = 32


def new_key_material() -> str:
    """A fresh 256-bit key, urlsafe base64."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def _write_private(path: Path, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")


def _demo_file(name: str, var_dir: Path) -> Path:
    return var_dir / "keys" / f"{name.lower()}.key"


def read_env_or_file(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    if value:
        return value
    file_name = os.environ.get(f"{name}_FILE", "").strip()
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"无法读取密钥文件 {file_name}（{name}_FILE）：{exc}") from exc
    return None


def _demo_value(name: str, var_dir: Path, make) -> str:
    path = _demo_file(name, var_dir)
    if not path.exists():
        # Another process may create it first; then we read theirs.
        with contextlib.suppress(FileExistsError):
            _write_private(path, make())
    return path.read_text().strip()


def load(name: str, var_dir: Path, *, demo: bool) -> str:
    """A single secret: the environment (or ``NAME_FILE``), else a generated demo key."""
    value = read_env_or_file(name)
    if value is None:
        if not demo:
            raise ImproperlyConfigured(
                f"生产模式必须设置 {name}（或 {name}_FILE），请用 `python -m sizheng genkey` 生成。"
            )
        return _demo_value(name, var_dir, lambda: DEMO_PREFIX + new_key_material())
    if not demo:
        if value.startswith(DEMO_PREFIX):
            raise ImproperlyConfigured(f"{name} 是演示密钥，生产模式拒绝使用，请生成新的密钥。")
        if len(value) < MIN_KEY_CHARS:
            raise ImproperlyConfigured(f"{name} 太短（至少 {MIN_KEY_CHARS} 个字符）。")
    return value


def parse_keyring(value: str) -> dict[str, bytes]:
    """``"id2:key2,id1:key1"`` → ordered {id: 32 bytes}; the first entry is the current key."""
    ring: dict[str, bytes] = {}
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        key_id, sep, material = part.partition(":")
        if not sep or not key_id or not material:
            raise ImproperlyConfigured("数据密钥格式应为 “编号:密钥,编号:密钥”，第一个为当前密钥。")
        try:
            raw = base64.urlsafe_b64decode(material + "=" * (-len(material) % 4))
        except ValueError as exc:
            raise ImproperlyConfigured(f"数据密钥 {key_id} 不是有效的 base64。") from exc
        if len(raw) != 32:
            raise ImproperlyConfigured(f"数据密钥 {key_id} 必须是 32 字节（256 位）。")
        if key_id in ring:
            raise ImproperlyConfigured(f"数据密钥编号 {key_id} 重复。")
        ring[key_id] = raw
    if not ring:
        raise ImproperlyConfigured("数据密钥为空。")
    return ring


def load_keyring(name: str, var_dir: Path, *, demo: bool) -> dict[str, bytes]:
    """The data-encryption keyring (current key first), from the environment or the demo file."""
    value = read_env_or_file(name)
    if value is None:
        if not demo:
            raise ImproperlyConfigured(
                f"生产模式必须设置 {name}（或 {name}_FILE），请用 `python -m sizheng genkey --data` 生成。"
            )
        value = _demo_value(name, var_dir, lambda: f"{DEMO_PREFIX}1:{new_key_material()}")
    ring = parse_keyring(value)
    if not demo and any(k.startswith(DEMO_PREFIX) for k in ring):
        raise ImproperlyConfigured(f"{name} 含有演示密钥，生产模式拒绝使用，请生成新的密钥。")
    return ring


def demo_keyring_path(var_dir: Path) -> Path:
    return _demo_file("SIZHENG_DATA_KEY", var_dir)
