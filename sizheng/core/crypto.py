"""Field encryption, blind indexes and display masks for T1–T3 data (ARCHITECTURE §5).

Tokens
    ``encrypt`` returns ``v1:<cipher>:<key_id>:<b64>`` where ``<b64>`` is unpadded urlsafe base64 of
    ``nonce(12) || ciphertext || tag(16)``. The header is authenticated as associated data, so a
    token cannot be relabelled to another key or cipher. Any key in ``settings.DATA_KEYS`` decrypts;
    new tokens always use the first (current) key and ``settings.DATA_CIPHER``. Both settings are
    read at call time, so ``override_settings`` and in-process rotation work.

Keys
    The cipher key is derived from the 32-byte key material with HKDF-SHA256 (no salt):
    ``info=b"sizheng-aes-256-gcm"`` → 32 bytes for AES-256-GCM, ``info=b"sizheng-sm4"`` → 16 bytes
    for SM4-GCM. Deriving per cipher means one key material never serves two algorithms.
    Nothing is ever derived from ``SECRET_KEY``.

Model fields
    ``EncryptedTextField`` / ``EncryptedCharField`` store the token in a text column and hand the
    plaintext to Python. ``None`` and ``""`` are stored as they are. Only ``__isnull`` lookups work;
    find rows by value through a blind index. Never write them with ``update(field=Value(...))``
    (that bypasses the field); ``dumpdata`` exports plaintext. Rotate keys with
    ``python -m sizheng rotate_data_key``.

Blind index (lookups and uniqueness on encrypted values)::

    id_number = EncryptedCharField("身份证号", max_length=18, blank=True)
    id_number_index = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)

    def save(self, *args, **kwargs):
        self.id_number_index = blind_index(self.id_number, purpose="person.id_number") if self.id_number else None
        super().save(*args, **kwargs)

    Person.objects.filter(id_number_index=blind_index(typed, purpose="person.id_number"))

    Store ``None`` (not the index of ``""``) for blank values so unique constraints allow many blanks.
    Changing ``SIZHENG_INDEX_KEY`` invalidates every stored index: they must be recomputed.

Masks
    ``mask(value, "id_card" | "phone" | "name")`` for display; pure functions.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import FieldError
from django.db import models

VERSION = "v1"
AES = "aes-256-gcm"
SM4 = "sm4-gcm"
CIPHERS = (AES, SM4)
NONCE_BYTES = 12
TAG_BYTES = 16
_B64 = re.compile(r"[A-Za-z0-9_-]+")
_KDF_INFO = {AES: (b"sizheng-aes-256-gcm", 32), SM4: (b"sizheng-sm4", 16)}


class CryptoError(Exception):
    """A token cannot be produced or opened (bad format, unknown key, tampering)."""


# --- keys -------------------------------------------------------------------------


def current_key_id() -> str:
    """The id of the key new tokens are written with (the first in ``settings.DATA_KEYS``)."""
    ring = settings.DATA_KEYS
    if not ring:
        raise CryptoError("没有配置数据密钥，无法加密；请检查 SIZHENG_DATA_KEY。")
    return next(iter(ring))


def current_cipher() -> str:
    """The cipher new tokens are written with (``settings.DATA_CIPHER``)."""
    cipher = getattr(settings, "DATA_CIPHER", AES)
    if cipher not in CIPHERS:
        raise CryptoError(f"不支持的加密算法 {cipher}；只能是 aes-256-gcm 或 sm4-gcm。")
    return cipher


@functools.lru_cache(maxsize=64)
def _derive(cipher: str, material: bytes) -> bytes:
    """The cipher key for one key material (HKDF-SHA256, per-cipher info)."""
    info, length = _KDF_INFO[cipher]
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(material)


def _material(key_id: str) -> bytes:
    """The raw material of a key id, or the Chinese error naming the missing key."""
    try:
        return settings.DATA_KEYS[key_id]
    except KeyError:
        raise CryptoError(f"找不到编号为 {key_id} 的数据密钥，无法解密；请检查 SIZHENG_DATA_KEY。") from None


# --- tokens -------------------------------------------------------------------------


def _header(cipher: str, key_id: str) -> str:
    """The token prefix, also the associated data."""
    return f"{VERSION}:{cipher}:{key_id}"


def _seal(cipher: str, key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    """``ciphertext || tag`` under AES-GCM or SM4-GCM."""
    if cipher == AES:
        return AESGCM(key).encrypt(nonce, data, aad)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    return encryptor.update(data) + encryptor.finalize() + encryptor.tag


def _open(cipher: str, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    """The plaintext of ``ciphertext || tag``; raises InvalidTag when anything was changed."""
    if cipher == AES:
        return AESGCM(key).decrypt(nonce, sealed, aad)
    body, tag = sealed[:-TAG_BYTES], sealed[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(aad)
    return decryptor.update(body) + decryptor.finalize()


def _parse(token: str) -> tuple[str, str, str]:
    """``(cipher, key_id, payload)`` of a well-formed token, else CryptoError."""
    parts = token.split(":", 3) if isinstance(token, str) else []
    if len(parts) != 4 or parts[0] != VERSION or not parts[2]:
        raise CryptoError("数据不是有效的密文（格式应为 v1:算法:密钥编号:数据），无法解密。")
    if parts[1] not in CIPHERS:
        raise CryptoError(f"密文使用了不支持的加密算法 {parts[1]}，无法解密。")
    if not _B64.fullmatch(parts[3]):
        raise CryptoError("密文数据部分不是有效的 base64，无法解密。")
    return parts[1], parts[2], parts[3]


def token_info(token: str) -> tuple[str, str]:
    """``(cipher, key_id)`` named in a token's header, without decrypting it."""
    cipher, key_id, _payload = _parse(token)
    return cipher, key_id


def is_current(token: str) -> bool:
    """Whether a token is already under the current key and cipher (nothing to rotate)."""
    return token_info(token) == (current_cipher(), current_key_id())


def encrypt(plaintext: str) -> str:
    """Encrypt text under the current key and cipher into a self-describing token."""
    if not isinstance(plaintext, str):
        raise TypeError("encrypt() 只接受 str。")
    cipher, key_id = current_cipher(), current_key_id()
    header = _header(cipher, key_id)
    nonce = os.urandom(NONCE_BYTES)
    sealed = _seal(cipher, _derive(cipher, _material(key_id)), nonce, plaintext.encode(), header.encode())
    return f"{header}:{base64.urlsafe_b64encode(nonce + sealed).decode().rstrip('=')}"


def decrypt(token: str) -> str:
    """Decrypt a token written by ``encrypt`` under any key still in ``settings.DATA_KEYS``."""
    cipher, key_id, payload = _parse(token)
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    except ValueError:  # binascii.Error: a length no base64 string can have
        raise CryptoError("密文数据部分不是有效的 base64，无法解密。") from None
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise CryptoError("密文长度不足，数据可能已损坏，无法解密。")
    key = _derive(cipher, _material(key_id))
    try:
        data = _open(cipher, key, raw[:NONCE_BYTES], raw[NONCE_BYTES:], _header(cipher, key_id).encode())
    except InvalidTag:
        raise CryptoError(f"密文校验失败（数据被改动，或密钥 {key_id} 与加密时不同），无法解密。") from None
    return data.decode()


def encrypt_bytes(data: bytes) -> bytes:
    """Encrypt a file's bytes: ``<header>\n`` then ``nonce || ciphertext || tag`` (binary, no base64).

    For files that must rest encrypted in the media storage (a staged roster holds 身份证号). The
    header names cipher and key as in ``encrypt`` and is authenticated with a ``:bytes`` suffix, so a
    file cannot be passed off as a text token or the other way round.
    """
    cipher, key_id = current_cipher(), current_key_id()
    header = _header(cipher, key_id)
    nonce = os.urandom(NONCE_BYTES)
    sealed = _seal(cipher, _derive(cipher, _material(key_id)), nonce, data, f"{header}:bytes".encode())
    return header.encode() + b"\n" + nonce + sealed


def decrypt_bytes(blob: bytes) -> bytes:
    """The bytes ``encrypt_bytes`` sealed, under any key still in ``settings.DATA_KEYS``."""
    head, _sep, raw = blob.partition(b"\n")
    parts = head.decode("ascii", errors="replace").split(":")
    if len(parts) != 3 or parts[0] != VERSION or parts[1] not in CIPHERS or not parts[2]:
        raise CryptoError("文件不是有效的加密文件，无法解密。")
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise CryptoError("加密文件长度不足，可能已损坏，无法解密。")
    cipher, key_id = parts[1], parts[2]
    header = _header(cipher, key_id)
    try:
        return _open(cipher, _derive(cipher, _material(key_id)), raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                     f"{header}:bytes".encode())  # fmt: skip
    except InvalidTag:
        raise CryptoError(f"文件校验失败（被改动，或密钥 {key_id} 与加密时不同），无法解密。") from None


# --- model fields -----------------------------------------------------------------------


class _EncryptedMixin:
    """Encrypt on the way to the database, decrypt on the way back; refuse value lookups."""

    def get_internal_type(self) -> str:
        """A text column whatever the base class: the token outgrows ``max_length``."""
        return "TextField"

    def from_db_value(self, value, expression, connection):
        """Decrypt a token read from the database; None and "" pass through."""
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        """Encrypt a value on its way to the database; None and "" pass through."""
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def _no_lookup(self, lookup_name: str):
        """Raise the Chinese error for a lookup an encrypted column cannot answer."""
        name = getattr(self, "name", "?")
        raise FieldError(
            f"加密字段 {name} 不能按内容查询（__{lookup_name}）；只支持 __isnull，按值查找请使用盲索引字段。"
        )

    def get_lookup(self, lookup_name):
        """Only ``isnull``: ciphertexts of equal values differ, so value lookups could never match."""
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        return self._no_lookup(lookup_name)

    def get_transform(self, lookup_name):
        """No transforms (``__lower``, ``__len``…) on ciphertext."""
        return self._no_lookup(lookup_name)


class EncryptedTextField(_EncryptedMixin, models.TextField):
    """A text field stored encrypted (AES-256-GCM or SM4-GCM token)."""

    description = "加密文本"


class EncryptedCharField(_EncryptedMixin, models.CharField):
    """A single-line field stored encrypted; ``max_length`` limits the plaintext, the column is text."""

    description = "加密字符串"


ENCRYPTED_FIELD_CLASSES = (EncryptedTextField, EncryptedCharField)


# --- blind index ------------------------------------------------------------------------


def normalize(value: str) -> str:
    """Default blind-index normalisation: NFKC (full-width digits), strip, upper-case (x → X)."""
    return unicodedata.normalize("NFKC", value).strip().upper()


def blind_index(value: str, *, purpose: str, normalizer: Callable[[str], str] | None = normalize) -> str:
    """Keyed HMAC-SHA256 (hex, 64 chars) of a normalised value, separated by ``purpose``."""
    if not purpose:
        raise ValueError("blind_index() 需要非空的 purpose。")
    index_key = settings.INDEX_KEY
    if not index_key:
        raise CryptoError("没有配置盲索引密钥，请检查 SIZHENG_INDEX_KEY。")
    # A per-purpose subkey: equal values under two purposes give unrelated indexes.
    subkey = hmac.new(
        index_key.encode(), b"sizheng-blind-index\x00" + purpose.encode(), hashlib.sha256
    ).digest()
    text = normalizer(value) if normalizer else value
    return hmac.new(subkey, text.encode(), hashlib.sha256).hexdigest()


# --- masks -----------------------------------------------------------------------------


def _keep_ends(value: str, head: int, tail: int, min_hidden: int) -> str:
    """Show ``head`` and ``tail`` characters only if at least ``min_hidden`` stay masked."""
    if len(value) - head - tail < min_hidden:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail :]


def mask_id_card(value: str | None) -> str:
    """身份证号 → ``110***********1234`` (length kept); anything shorter than 15 is fully masked."""
    return _keep_ends((value or "").strip(), 3, 4, 8)


def mask_phone(value: str | None) -> str:
    """Phone → ``138****5678``; anything shorter than 11 characters is fully masked."""
    return _keep_ends((value or "").strip(), 3, 4, 4)


def mask_name(value: str | None) -> str:
    """Name → first character and one star per other character (``张**``); one character → ``*``."""
    value = (value or "").strip()
    if len(value) < 2:
        return "*" * len(value)
    return value[0] + "*" * (len(value) - 1)


_MASKS = {"id_card": mask_id_card, "phone": mask_phone, "name": mask_name}


def mask(value: str | None, kind: str) -> str:
    """Mask a value for display; ``kind`` is ``id_card``, ``phone`` or ``name``."""
    try:
        masker = _MASKS[kind]
    except KeyError:
        raise ValueError(f"未知的脱敏类型 {kind}，只能是 {', '.join(_MASKS)}。") from None
    return masker(value)
