"""The key format: ``somna_live_`` + 32 random base62 characters + a 6-character CRC32
checksum, so that scanners and Somna itself can reject look-alikes without a lookup."""

from __future__ import annotations

import secrets
import string
import zlib

KEY_PREFIX = "somna_live_"
SIGNING_SECRET_PREFIX = "somna_sig_"
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
RANDOM_LENGTH = 32  # 32 x log2(62) = 190 bits
CHECKSUM_LENGTH = 6
KEY_LENGTH = len(KEY_PREFIX) + RANDOM_LENGTH + CHECKSUM_LENGTH
DISPLAY_RANDOM_CHARS = 4


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 62)
        digits.append(BASE62[remainder])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), CHECKSUM_LENGTH)


def _random(length: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def generate_key() -> str:
    body = _random(RANDOM_LENGTH)
    return f"{KEY_PREFIX}{body}{_checksum(body)}"


def generate_signing_secret() -> str:
    return f"{SIGNING_SECRET_PREFIX}{_random(43)}"


def looks_like_key(token: str) -> bool:
    """True for anything meant as a Somna key (even a malformed one): not a JWT."""
    return token.startswith(KEY_PREFIX)


def is_well_formed(token: str) -> bool:
    if len(token) != KEY_LENGTH or not token.startswith(KEY_PREFIX):
        return False
    rest = token[len(KEY_PREFIX) :]
    if any(char not in BASE62 for char in rest):
        return False
    body, checksum = rest[:RANDOM_LENGTH], rest[RANDOM_LENGTH:]
    return secrets.compare_digest(_checksum(body), checksum)


def display_prefix(key: str) -> str:
    return key[: len(KEY_PREFIX) + DISPLAY_RANDOM_CHARS]


def last4(key: str) -> str:
    return key[-4:]
