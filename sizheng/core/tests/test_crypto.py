"""Field encryption, key rotation, blind index and masks (ARCHITECTURE §5)."""

from __future__ import annotations

import base64
import os
import stat
from io import StringIO

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.apps import apps
from django.conf import settings as django_settings
from django.core.exceptions import FieldError, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models
from django.test import override_settings
from django.utils.module_loading import import_string
from hypothesis import given
from hypothesis import strategies as st

from sizheng.core import crypto, keys
from sizheng.core.crypto import (
    CryptoError,
    EncryptedCharField,
    EncryptedTextField,
    blind_index,
    decrypt,
    encrypt,
    mask,
    token_info,
)
from sizheng.core.management.commands import genkey, rotate_data_key

K1 = bytes(range(32))
K2 = bytes(range(100, 132))
AES, SM4 = "aes-256-gcm", "sm4-gcm"
CIPHERS = [AES, SM4]


def _b64(raw: bytes) -> str:
    """Unpadded urlsafe base64, as key material is written."""
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _flip(token: str, at: int) -> str:
    """The token with one payload character (counted from the payload start) replaced."""
    head, payload = token.rsplit(":", 1)
    char = "A" if payload[at] != "A" else "B"
    return f"{head}:{payload[:at]}{char}{payload[at + 1 :]}"


# --- tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize("cipher", CIPHERS)
@pytest.mark.parametrize(
    "text", ["", "谈心谈话：思想稳定，工作积极。", "身份证号 11010519491231002X", "🙂" * 500]
)
def test_it_round_trips_text_under_both_ciphers(settings, cipher, text):
    settings.DATA_KEYS = {"k1": K1}
    settings.DATA_CIPHER = cipher
    token = encrypt(text)
    assert token.startswith(f"v1:{cipher}:k1:")
    assert token_info(token) == (cipher, "k1")
    assert decrypt(token) == text


@pytest.mark.parametrize("cipher", CIPHERS)
def test_it_writes_the_documented_format(settings, cipher):
    """nonce(12) || ciphertext || tag(16), HKDF-derived key, the header as associated data."""
    settings.DATA_KEYS = {"k1": K1}
    settings.DATA_CIPHER = cipher
    token = encrypt("测试")
    header, payload = token.rsplit(":", 1)
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    nonce, sealed = raw[:12], raw[12:]
    if cipher == AES:
        key = HKDF(hashes.SHA256(), 32, salt=None, info=b"sizheng-aes-256-gcm").derive(K1)
        plain = AESGCM(key).decrypt(nonce, sealed, header.encode())
    else:
        key = HKDF(hashes.SHA256(), 16, salt=None, info=b"sizheng-sm4").derive(K1)
        dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, sealed[-16:])).decryptor()
        dec.authenticate_additional_data(header.encode())
        plain = dec.update(sealed[:-16]) + dec.finalize()
    assert plain.decode() == "测试"


def test_it_decrypts_tokens_of_an_old_key_and_the_other_cipher(settings):
    settings.DATA_KEYS = {"old": K1}
    settings.DATA_CIPHER = AES
    old_token = encrypt("旧数据")
    settings.DATA_KEYS = {"new": K2, "old": K1}
    settings.DATA_CIPHER = SM4
    new_token = encrypt("新数据")
    assert token_info(new_token) == (SM4, "new")
    assert decrypt(old_token) == "旧数据"
    assert decrypt(new_token) == "新数据"


def test_it_names_the_missing_key_in_chinese(settings):
    settings.DATA_KEYS = {"k1": K1}
    token = encrypt("机密")
    settings.DATA_KEYS = {"k2": K2}
    with pytest.raises(CryptoError) as err:
        decrypt(token)
    assert str(err.value) == "找不到编号为 k1 的数据密钥，无法解密；请检查 SIZHENG_DATA_KEY。"


@pytest.mark.parametrize("cipher", CIPHERS)
@pytest.mark.parametrize("at", [0, 5, 14, 20])
def test_it_rejects_a_tampered_payload(settings, cipher, at):
    settings.DATA_KEYS = {"k1": K1}
    settings.DATA_CIPHER = cipher
    token = encrypt("原始内容，不可篡改")
    with pytest.raises(CryptoError, match="校验失败"):
        decrypt(_flip(token, at))


def test_it_rejects_a_relabelled_header(settings):
    """The header is associated data: even a second id for the same material does not open it."""
    settings.DATA_KEYS = {"k1": K1, "k2": K1}
    token = encrypt("内容")
    with pytest.raises(CryptoError):
        decrypt(token.replace(":k1:", ":k2:", 1))
    with pytest.raises(CryptoError):
        decrypt(token.replace(f":{AES}:", f":{SM4}:", 1))


@pytest.mark.parametrize(
    "bad",
    ["", "明文", "v1:aes-256-gcm:k1", "v2:aes-256-gcm:k1:AAAA", "v1:des:k1:AAAA", "v1:aes-256-gcm::AAAA",
     "v1:aes-256-gcm:k1:AAAA", "v1:aes-256-gcm:k1:A", "v1:aes-256-gcm:k1:AA+/AA", "v1:aes-256-gcm:k1:" + "A" * 41],
)  # fmt: skip
def test_it_refuses_malformed_tokens_with_crypto_error(settings, bad):
    settings.DATA_KEYS = {"k1": K1}
    with pytest.raises(CryptoError):
        decrypt(bad)


@given(text=st.text(), cipher=st.sampled_from(CIPHERS))
def test_it_round_trips_any_text_and_never_repeats_a_token(text, cipher):
    with override_settings(DATA_KEYS={"k1": K1}, DATA_CIPHER=cipher):
        first, second = encrypt(text), encrypt(text)
        assert decrypt(first) == text
        assert decrypt(second) == text
        assert first != second


@given(text=st.text(min_size=1), at=st.integers(min_value=0, max_value=27))
def test_it_never_opens_a_changed_token(text, at):
    with override_settings(DATA_KEYS={"k1": K1}, DATA_CIPHER=AES):
        token = encrypt(text)
        with pytest.raises(CryptoError):
            decrypt(_flip(token, at))


# --- model fields ----------------------------------------------------------------------


@pytest.fixture
def probe_model(transactional_db, settings):
    """A model with encrypted columns, registered in ``core`` and given a table for one test only."""
    settings.DATA_KEYS = {"k1": K1}
    settings.DATA_CIPHER = AES
    attrs = {
        "__module__": __name__,
        "note": EncryptedTextField(null=True, blank=True),
        "code": EncryptedCharField(max_length=18, blank=True, default=""),
        "Meta": type("Meta", (), {"app_label": "core"}),
    }
    model = type("CryptoProbe", (models.Model,), attrs)
    with connection.schema_editor() as editor:
        editor.create_model(model)
    try:
        yield model
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(model)
        # Unregister so no later test (or makemigrations --check) ever sees it.
        del apps.all_models["core"]["cryptoprobe"]
        apps.clear_cache()


def _raw(model) -> dict[int, tuple[str | None, str | None]]:
    """The stored columns, read with SQL so no field decrypts them."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, note, code FROM {table} ORDER BY id")
        return {pk: (note, code) for pk, note, code in cursor.fetchall()}


def test_it_keeps_no_plaintext_in_encrypted_columns(probe_model):
    full = probe_model.objects.create(note="与张三谈心：家庭困难", code="11010519491231002X")
    blank = probe_model.objects.create(note=None, code="")
    raw = _raw(probe_model)
    note, code = raw[full.pk]
    assert note.startswith("v1:aes-256-gcm:k1:")
    assert code.startswith("v1:aes-256-gcm:k1:")
    assert "张三" not in note and "家庭" not in note
    assert "1101" not in code and "002X" not in code
    assert raw[blank.pk] == (None, "")
    again = probe_model.objects.get(pk=full.pk)
    assert (again.note, again.code) == ("与张三谈心：家庭困难", "11010519491231002X")
    assert list(probe_model.objects.order_by("pk").values_list("code", flat=True)) == [
        "11010519491231002X",
        "",
    ]
    assert probe_model.objects.get(pk=blank.pk).note is None


def test_it_refuses_lookups_by_value_but_allows_isnull(probe_model):
    probe_model.objects.create(note="秘密", code="")
    probe_model.objects.create(note=None, code="")
    assert probe_model.objects.filter(note__isnull=True).count() == 1
    assert probe_model.objects.filter(note__isnull=False).count() == 1
    for lookup in ({"note": "秘密"}, {"code__icontains": "秘"}, {"note__in": ["秘密"]}, {"code__lower": "x"}):
        with pytest.raises(FieldError, match="盲索引"):
            probe_model.objects.filter(**lookup).count()


def test_it_encrypts_through_update_and_bulk_update(probe_model):
    row = probe_model.objects.create(note="一", code="")
    probe_model.objects.filter(pk=row.pk).update(note="二")
    assert _raw(probe_model)[row.pk][0].startswith("v1:")
    row.refresh_from_db()
    assert row.note == "二"
    row.note = "三"
    probe_model.objects.bulk_update([row], ["note"])
    row.refresh_from_db()
    assert row.note == "三"
    assert "三" not in _raw(probe_model)[row.pk][0]


@pytest.mark.parametrize("field_class", [EncryptedTextField, EncryptedCharField])
def test_it_deconstructs_for_migrations(field_class):
    field = field_class("备注", max_length=18, blank=True)
    field.set_attributes_from_name("secret")
    name, path, args, kwargs = field.deconstruct()
    assert path == f"sizheng.core.crypto.{field_class.__name__}"
    rebuilt = import_string(path)(*args, **kwargs)
    assert rebuilt.deconstruct()[1:] == (path, args, kwargs)
    assert field.db_type(connection) == models.TextField().db_type(connection)


def test_it_validates_the_plaintext_length_of_a_char_field():
    field = EncryptedCharField(max_length=18)
    field.clean("1" * 18, None)
    with pytest.raises(ValidationError):
        field.clean("1" * 19, None)


# --- rotation -------------------------------------------------------------------------------


def _make_rows(model, count):
    """``count`` rows; returns {pk: (note, code)} for comparison after rotation."""
    return {
        model.objects.create(note=f"谈话记录{i}", code=f"ID{i:04d}").pk: (f"谈话记录{i}", f"ID{i:04d}")
        for i in range(count)
    }


def test_it_finds_encrypted_fields_in_the_app_registry(probe_model):
    found = dict(rotate_data_key.encrypted_fields())
    assert [f.name for f in found[probe_model]] == ["note", "code"]


def test_it_rotates_every_row_to_the_new_key(probe_model, settings, monkeypatch):
    monkeypatch.setattr(rotate_data_key, "BATCH_SIZE", 2)  # several batches with few rows
    settings.DATA_KEYS = {"old": K1}
    expected = _make_rows(probe_model, 5)
    empty = probe_model.objects.create(note=None, code="")
    settings.DATA_KEYS = {"new": K2, "old": K1}
    out = StringIO()
    call_command("rotate_data_key", stdout=out)
    assert "core.CryptoProbe：检查 6 行，已重新加密 5 行。" in out.getvalue()
    settings.DATA_KEYS = {"new": K2}
    raw = _raw(probe_model)
    assert raw.pop(empty.pk) == (None, "")
    assert all(token_info(t) == (AES, "new") for pair in raw.values() for t in pair)
    assert {r.pk: (r.note, r.code) for r in probe_model.objects.exclude(pk=empty.pk)} == expected
    out = StringIO()
    call_command("rotate_data_key", stdout=out)
    assert "已重新加密 0 行" in out.getvalue()


def test_it_rotates_from_aes_to_sm4(probe_model, settings):
    expected = _make_rows(probe_model, 3)
    settings.DATA_CIPHER = SM4
    call_command("rotate_data_key", stdout=StringIO())
    assert all(token_info(t) == (SM4, "k1") for pair in _raw(probe_model).values() for t in pair)
    assert {r.pk: (r.note, r.code) for r in probe_model.objects.all()} == expected


def test_it_only_counts_on_a_dry_run(probe_model, settings):
    _make_rows(probe_model, 3)
    before = _raw(probe_model)
    settings.DATA_KEYS = {"new": K2, "k1": K1}
    out = StringIO()
    call_command("rotate_data_key", "--dry-run", stdout=out)
    assert "检查 3 行，需要重新加密 3 行" in out.getvalue()
    assert _raw(probe_model) == before


def test_it_fails_loudly_but_rotates_the_rest_when_a_key_is_missing(probe_model, settings):
    settings.DATA_KEYS = {"lost": K2}
    lost = probe_model.objects.create(note="丢失密钥的内容", code="")
    settings.DATA_KEYS = {"old": K1}
    kept = probe_model.objects.create(note="可以轮换", code="")
    settings.DATA_KEYS = {"new": K2, "old": K1}
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 行无法解密"):
        call_command("rotate_data_key", stdout=out, stderr=err)
    assert f"core.CryptoProbe #{lost.pk} 字段 note：找不到编号为 lost 的数据密钥" in err.getvalue()
    assert "丢失" not in err.getvalue() + out.getvalue()
    raw = _raw(probe_model)
    assert token_info(raw[lost.pk][0]) == (AES, "lost")
    assert token_info(raw[kept.pk][0]) == (AES, "new")


def test_it_adds_a_demo_key_then_rotates_to_it(probe_model, settings, tmp_path, monkeypatch):
    monkeypatch.delenv("SIZHENG_DATA_KEY", raising=False)
    monkeypatch.delenv("SIZHENG_DATA_KEY_FILE", raising=False)
    settings.DEMO = True
    settings.VAR_DIR = tmp_path
    path = keys.demo_keyring_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(f"demo-1:{_b64(K1)}\n")
    settings.DATA_KEYS = keys.parse_keyring(path.read_text())
    row = probe_model.objects.create(note="演示数据", code="")
    call_command("rotate_data_key", "--new-demo-key", stdout=StringIO())
    ring = keys.parse_keyring(path.read_text().strip())
    assert list(ring) == ["demo-2", "demo-1"]
    assert ring["demo-1"] == K1
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert ring == django_settings.DATA_KEYS
    assert token_info(_raw(probe_model)[row.pk][0]) == (AES, "demo-2")
    assert probe_model.objects.get(pk=row.pk).note == "演示数据"


def test_it_refuses_a_new_demo_key_in_production(settings, db):
    settings.DEMO = False
    with pytest.raises(CommandError, match="演示模式"):
        call_command("rotate_data_key", "--new-demo-key", stdout=StringIO())


# --- genkey ---------------------------------------------------------------------------------


def test_it_prints_a_fresh_secret_key():
    outs = []
    for _ in range(2):
        out, err = StringIO(), StringIO()
        call_command("genkey", stdout=out, stderr=err)
        outs.append(out.getvalue().strip())
        assert "SIZHENG_INDEX_KEY" in err.getvalue()
    assert outs[0] != outs[1]
    assert len(base64.urlsafe_b64decode(outs[0] + "=")) == 32


def test_it_prints_a_data_key_with_an_id_and_the_rotation_steps():
    out, err = StringIO(), StringIO()
    call_command("genkey", "--data", stdout=out, stderr=err)
    ring = keys.parse_keyring(out.getvalue().strip())
    (key_id,) = ring
    assert key_id == genkey.default_key_id()
    assert key_id.startswith("k") and len(key_id) == 9 and key_id[1:].isdigit()
    assert "rotate_data_key" in err.getvalue() and key_id in err.getvalue()
    out = StringIO()
    call_command("genkey", "--data", "--id", "k2026a", stdout=out, stderr=StringIO())
    assert out.getvalue().startswith("k2026a:")
    with pytest.raises(CommandError):
        call_command("genkey", "--data", "--id", "a:b", stdout=StringIO(), stderr=StringIO())


def test_it_generates_keys_without_django_settings(capsys):
    """``genkey.main`` is what a fresh production host (no keys, so no settings) can run."""
    assert genkey.main(["--data", "--id", "k1"]) == 0
    captured = capsys.readouterr()
    assert list(keys.parse_keyring(captured.out.strip())) == ["k1"]
    assert "rotate_data_key" in captured.err
    assert genkey.main(["--data", "--id", "a,b"]) == 2


# --- blind index -------------------------------------------------------------------------------


def test_it_indexes_id_numbers_regardless_of_width_case_and_spaces(settings):
    settings.INDEX_KEY = "test-index-key-0123456789abcdefghij"
    plain = blind_index("11010519491231002X", purpose="person.id_number")
    assert len(plain) == 64 and int(plain, 16) >= 0
    assert blind_index("１１０１０５１９４９１２３１００２ｘ", purpose="person.id_number") == plain
    assert blind_index("  11010519491231002x\u3000", purpose="person.id_number") == plain
    assert blind_index("11010519491231002Y", purpose="person.id_number") != plain


def test_it_separates_purposes_and_keys(settings):
    settings.INDEX_KEY = "test-index-key-0123456789abcdefghij"
    first = blind_index("13812345678", purpose="person.phone")
    assert blind_index("13812345678", purpose="person.id_number") != first
    settings.INDEX_KEY = "another-index-key-0123456789abcdefgh"
    assert blind_index("13812345678", purpose="person.phone") != first
    with pytest.raises(ValueError):
        blind_index("13812345678", purpose="")


def test_it_uses_the_callers_normalizer(settings):
    settings.INDEX_KEY = "test-index-key-0123456789abcdefghij"
    assert blind_index("ab", purpose="p", normalizer=None) != blind_index("AB", purpose="p", normalizer=None)
    digits = blind_index("138-1234-5678", purpose="p", normalizer=lambda v: v.replace("-", ""))
    assert digits == blind_index("13812345678", purpose="p", normalizer=None)


@given(value=st.text(alphabet="0123456789xX", max_size=20))
def test_it_gives_one_index_per_normalised_id_number(value):
    with override_settings(INDEX_KEY="test-index-key-0123456789abcdefghij"):
        assert blind_index(value.lower(), purpose="id") == blind_index(value.upper(), purpose="id")


# --- masks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "shown"),
    [
        ("11010519491231002X", "id_card", "110***********002X"),
        ("110105491231002", "id_card", "110********1002"),
        (" 11010519491231002X ", "id_card", "110***********002X"),
        ("1234567", "id_card", "*******"),
        ("13812345678", "phone", "138****5678"),
        ("1381234567", "phone", "**********"),
        ("+8613812345678", "phone", "+86*******5678"),
        ("张三", "name", "张*"),
        ("欧阳娜娜", "name", "欧***"),
        ("李", "name", "*"),
        ("", "id_card", ""),
        (None, "phone", ""),
        (None, "name", ""),
    ],
)
def test_it_masks_values_for_display(value, kind, shown):
    assert mask(value, kind) == shown


def test_it_refuses_an_unknown_mask_kind():
    with pytest.raises(ValueError, match="脱敏类型"):
        mask("x", "email")


@given(value=st.one_of(st.none(), st.text()), kind=st.sampled_from(["id_card", "phone", "name"]))
def test_it_never_reveals_more_than_the_pattern(value, kind):
    shown = mask(value, kind)
    original = (value or "").strip()
    assert len(shown) == len(original)
    assert all(c in ("*", original[i]) for i, c in enumerate(shown))
    visible = sum(1 for i, c in enumerate(shown) if c != "*")
    if kind == "name":
        assert visible <= 1
    else:
        assert visible <= 7
        if visible:
            assert shown.count("*") >= (8 if kind == "id_card" else 4)


def test_it_reads_keys_at_call_time_not_import_time(settings):
    settings.DATA_KEYS = {"fresh": K2}
    assert crypto.current_key_id() == "fresh"
    assert token_info(encrypt("x")) == (AES, "fresh")


def test_file_bytes_round_trip_and_are_not_text_tokens():
    from sizheng.core.crypto import CryptoError, decrypt, decrypt_bytes, encrypt, encrypt_bytes

    data = bytes(range(256)) * 10
    sealed = encrypt_bytes(data)
    assert data not in sealed and decrypt_bytes(sealed) == data
    with pytest.raises(CryptoError):
        decrypt_bytes(sealed[:-1] + bytes([sealed[-1] ^ 1]))  # tampered
    with pytest.raises(CryptoError):
        decrypt_bytes(encrypt("文本").encode())  # a text token is not a file
    with pytest.raises(CryptoError):
        decrypt(sealed.split(b"\n", 1)[0].decode() + ":AAAA")  # nor a file header a text token
