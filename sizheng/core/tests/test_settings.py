"""Settings from the environment: production refuses missing or demo keys; the anonymity floor holds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sizheng.core import keys

ROOT = Path(__file__).resolve().parents[3]
GOOD = keys.new_key_material()


def _boot(env: dict, tmp_path, *, full: bool = False) -> subprocess.CompletedProcess:
    """Load the settings (``full``: set up Django) in a fresh interpreter with these variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SIZHENG_", "DATABASE_URL"))}
    clean.update({"SIZHENG_VAR_DIR": str(tmp_path / "var"), "PYTHONPATH": str(ROOT)}, **env)
    code = "import sizheng.settings; print('ok')"
    if full:
        code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='sizheng.settings'; django.setup(); print('ok')"
    return subprocess.run([sys.executable, "-c", code], env=clean, capture_output=True, text=True, cwd=ROOT)


def _prod(**overrides) -> dict:
    env = {
        "SIZHENG_MODE": "production",
        "SIZHENG_SECRET_KEY": GOOD,
        "SIZHENG_DATA_KEY": f"k1:{GOOD}",
        "SIZHENG_INDEX_KEY": keys.new_key_material(),
        "SIZHENG_ALLOWED_HOSTS": "sizheng.example.gov.cn",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def test_it_starts_in_production_with_real_keys(tmp_path):
    result = _boot(_prod(), tmp_path, full=True)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "var" / "keys").exists()  # production never writes demo keys


@pytest.mark.parametrize("missing", ["SIZHENG_SECRET_KEY", "SIZHENG_DATA_KEY", "SIZHENG_INDEX_KEY"])
def test_it_refuses_to_start_in_production_without_a_key(tmp_path, missing):
    result = _boot(_prod(**{missing: None}), tmp_path)
    assert result.returncode != 0
    assert f"生产模式必须设置 {missing}" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SIZHENG_SECRET_KEY", keys.DEMO_PREFIX + GOOD),
        ("SIZHENG_INDEX_KEY", keys.DEMO_PREFIX + GOOD),
        ("SIZHENG_DATA_KEY", f"{keys.DEMO_PREFIX}1:{GOOD}"),
    ],
    ids=["secret", "index", "data"],  # fixed ids: the values are random, and xdist needs equal ids
)
def test_it_refuses_demo_keys_in_production(tmp_path, name, value):
    result = _boot(_prod(**{name: value}), tmp_path)
    assert result.returncode != 0
    assert "演示密钥" in result.stderr


def test_it_refuses_the_keys_a_demo_install_generated(tmp_path):
    demo = _boot({"SIZHENG_MODE": "demo"}, tmp_path)
    assert demo.returncode == 0, demo.stderr
    key_dir = tmp_path / "var" / "keys"
    secret = (key_dir / "sizheng_secret_key.key").read_text().strip()
    assert oct((key_dir / "sizheng_data_key.key").stat().st_mode & 0o777) == "0o600"
    result = _boot(_prod(SIZHENG_SECRET_KEY=secret), tmp_path)
    assert result.returncode != 0 and "演示密钥" in result.stderr


def test_it_refuses_an_anonymity_threshold_below_three(tmp_path):
    result = _boot({"SIZHENG_ANONYMITY_MIN_GROUP": "2"}, tmp_path)
    assert result.returncode != 0 and "不得小于 3" in result.stderr


def test_it_uses_chinese_and_shanghai_time(settings):
    assert settings.LANGUAGE_CODE == "zh-hans" and settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.ANONYMITY_MIN_GROUP >= 3


def test_it_parses_a_keyring_with_the_current_key_first():
    ring = keys.parse_keyring(f"new:{GOOD},old:{keys.new_key_material()}")
    assert list(ring) == ["new", "old"] and len(ring["new"]) == 32


@pytest.mark.parametrize("cache", ["", "file", "db", "locmem"], ids=["unset", "file", "db", "locmem"])
def test_sessions_stay_in_the_database_whatever_the_cache(tmp_path, cache):
    """A session read from a per-machine cache would outlive a logout made on another machine."""
    env = {"SIZHENG_MODE": "demo", **({"SIZHENG_CACHE": cache} if cache else {})}
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SIZHENG_", "DATABASE_URL"))}
    clean.update({"SIZHENG_VAR_DIR": str(tmp_path / "var"), "PYTHONPATH": str(ROOT)}, **env)
    code = "import os; os.environ['DJANGO_SETTINGS_MODULE']='sizheng.settings'; from django.conf import settings; print(settings.SESSION_ENGINE)"
    result = subprocess.run([sys.executable, "-c", code], env=clean, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "django.contrib.sessions.backends.db"
