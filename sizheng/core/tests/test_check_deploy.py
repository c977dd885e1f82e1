"""``check-deploy``: a development configuration fails with the right errors; a production one passes."""

from __future__ import annotations

import io
import os

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.test import override_settings

from sizheng.core import deploychecks, keys
from sizheng.core.deploychecks import ERROR, OK, WARNING


@pytest.fixture
def production(tmp_path, monkeypatch):
    """Settings as a correct production install has them (PostgreSQL, shared cache, HTTPS behind nginx)."""
    monkeypatch.setattr(deploychecks, "_database_vendor", lambda: "postgresql")
    monkeypatch.delenv("SIZHENG_WEB_WORKERS", raising=False)
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)  # set for the test run only (async.E001)
    media = tmp_path / "media"
    media.mkdir()
    from django.conf import settings

    overrides = override_settings(
        MODE="production",
        DEMO=False,
        TESTING=False,
        DEBUG=False,
        SECRET_KEY=keys.new_key_material(),
        DATA_KEYS={"k20261129": os.urandom(32)},
        INDEX_KEY=keys.new_key_material(),
        ALLOWED_HOSTS=["sizheng.example.gov.cn"],
        EMAIL_HOST="mail.example.gov.cn",
        ANONYMITY_MIN_GROUP=5,
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
        SESSION_COOKIE_SECURE=True,
        CSRF_COOKIE_SECURE=True,
        SECURE_HSTS_SECONDS=31536000,
        SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
        CACHES={
            "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "sizheng_cache"}
        },
        PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"],
        OTP_REQUIRED_FOR_SYSTEM_ROLES=True,
        MEDIA_ROOT=media,
        STATIC_ROOT=tmp_path / "static",
        STORAGES={
            **settings.STORAGES,
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": media},
            },
        },
    )
    with overrides:
        yield media


def _levels() -> dict[str, str]:
    return {f.title: f.level for f in deploychecks.evaluate()}


def test_it_reports_demo_mode_demo_keys_and_debug_as_errors():
    with override_settings(DEBUG=True):
        findings = {f.id: f for f in deploychecks.evaluate()}
        out = io.StringIO()
        with pytest.raises(CommandError, match="项错误，不能用于生产"):
            call_command("check_deploy", stdout=out)
    for ident in ("sizheng.E001", "sizheng.E002", "sizheng.E003", "sizheng.E004", "sizheng.E005"):
        assert findings[ident].level == ERROR
    assert "演示密钥" in findings["sizheng.E002"].message
    text = out.getvalue()
    assert "错误  [sizheng.E005] 调试模式：DEBUG 已开启" in text
    assert "请设置 SIZHENG_MODE=production" in text
    assert "通过  匿名阈值" in text


def test_it_passes_a_production_configuration(production):
    findings = deploychecks.evaluate()
    assert [(f.title, f.message) for f in findings if f.level != OK] == []
    out = io.StringIO()
    call_command("check_deploy", stdout=out)
    text = out.getvalue()
    assert "错误 0 项" in text and "警告 0 项" in text
    assert "通过  运行模式：生产模式" in text
    assert "没有错误，可以用于生产" in text
    assert "security.W009" not in text  # 256-bit genkey keys are shorter than Django's heuristic: folded


def test_its_checks_run_as_django_system_checks_under_their_tag(production):
    call_command("check", deploy=True, tags=[deploychecks.TAG], stdout=io.StringIO())  # passes
    with override_settings(DEBUG=True), pytest.raises(SystemCheckError, match="sizheng.E005"):
        call_command(
            "check", deploy=True, tags=[deploychecks.TAG], stdout=io.StringIO(), stderr=io.StringIO()
        )


@pytest.mark.parametrize(
    ("overrides", "title", "level", "words"),
    [
        ({"ALLOWED_HOSTS": ["*"]}, "允许的主机名", ERROR, "含有 *"),
        ({"ALLOWED_HOSTS": []}, "允许的主机名", ERROR, "为空"),
        ({"EMAIL_HOST": ""}, "邮件通知", WARNING, "只在站内显示"),
        ({"ANONYMITY_MIN_GROUP": 2}, "匿名阈值", ERROR, "小于 3"),
        ({"SESSION_COOKIE_SECURE": False}, "Cookie", ERROR, "SESSION_COOKIE_SECURE"),
        ({"SECURE_PROXY_SSL_HEADER": None}, "HTTPS", WARNING, "SECURE_SSL_REDIRECT"),
        ({"SECURE_HSTS_SECONDS": 0}, "HSTS", WARNING, "没有开启 HSTS"),
        (
            {"CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}},
            "缓存",
            WARNING,
            "LocMemCache",
        ),
        ({"PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"]}, "密码保存", ERROR, "MD5"),
        ({"TESTING": True}, "运行模式", ERROR, "SIZHENG_TESTING"),
        ({"OTP_REQUIRED_FOR_SYSTEM_ROLES": False}, "动态验证码", WARNING, "动态验证码"),
    ],
    ids=lambda v: v if isinstance(v, str) and v.isascii() else None,
)
def test_it_flags_each_unsafe_setting(production, overrides, title, level, words):
    with override_settings(**overrides):
        (finding,) = [f for f in deploychecks.evaluate() if f.title == title]
        assert finding.level == level
        assert words in finding.message + finding.hint
        assert finding.hint.startswith("请") or "请" in finding.hint


def test_it_refuses_a_data_key_that_is_the_secret_key(production):
    from django.conf import settings

    with override_settings(DATA_KEYS={"k1": settings.SECRET_KEY.encode()}):
        assert _levels()["数据加密密钥"] == ERROR


def test_it_warns_about_sqlite_for_production(production, monkeypatch):
    monkeypatch.setattr(deploychecks, "_database_vendor", lambda: "sqlite")
    (finding,) = [f for f in deploychecks.evaluate() if f.title == "数据库"]
    assert finding.level == WARNING and "PostgreSQL" in finding.hint


def test_it_refuses_media_inside_the_static_root(production, tmp_path):
    with override_settings(STATIC_ROOT=tmp_path):
        (finding,) = [f for f in deploychecks.evaluate() if f.title == "上传文件目录"]
    assert finding.level == ERROR and "重叠" in finding.message


def test_it_refuses_a_key_file_inside_the_media_root(production, monkeypatch):
    key_file = production / "data.key"
    key_file.write_text("k1:" + keys.new_key_material())
    key_file.chmod(0o600)
    monkeypatch.delenv("SIZHENG_DATA_KEY", raising=False)
    monkeypatch.setenv("SIZHENG_DATA_KEY_FILE", str(key_file))
    (finding,) = [f for f in deploychecks.evaluate() if f.title == "密钥文件"]
    assert finding.level == ERROR and str(key_file) in finding.message
