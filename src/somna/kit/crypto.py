"""Hashes, random tokens and symmetric encryption for secrets at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def sha256_hex(value: str | bytes) -> str:
    data = value.encode() if isinstance(value, str) else value
    return hashlib.sha256(data).hexdigest()


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def constant_time_equal(left: str | bytes, right: str | bytes) -> bool:
    a = left.encode() if isinstance(left, str) else left
    b = right.encode() if isinstance(right, str) else right
    return hmac.compare_digest(a, b)


def derive_key(secret_key: str, purpose: str) -> bytes:
    """A 32-byte key for one purpose, so that no two uses share key material."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
    return hkdf.derive(secret_key.encode())


class DecryptionError(ValueError):
    """The ciphertext was not made with this key (or was tampered with)."""


def _fernet(secret_key: str, purpose: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(derive_key(secret_key, purpose)))


class SecretBox:
    """Authenticated encryption (Fernet: AES-128-CBC + HMAC-SHA256) for provider tokens and
    signing secrets, keyed from the settings' secret key.

    ``fallbacks`` are earlier secret keys: what they encrypted still decrypts, while every new
    value is encrypted under ``secret_key``, so keys can be rotated without losing data.
    """

    def __init__(
        self,
        secret_key: str,
        purpose: str = "somna.secrets.v1",
        *,
        fallbacks: Sequence[str] = (),
    ) -> None:
        self._current = _fernet(secret_key, purpose)
        self._any = MultiFernet([self._current, *(_fernet(key, purpose) for key in fallbacks)])

    def encrypt(self, plaintext: str) -> str:
        return self._current.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._any.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise DecryptionError("secret could not be decrypted with any configured key") from exc

    def is_current(self, ciphertext: str) -> bool:
        """Whether ``ciphertext`` was made under the current key (nothing to re-encrypt)."""
        try:
            self._current.decrypt(ciphertext.encode())
        except InvalidToken:
            return False
        return True

    def reencrypt(self, ciphertext: str) -> str | None:
        """``ciphertext`` under the current key, or ``None`` when it already is; raises
        ``DecryptionError`` when no key can read it."""
        if self.is_current(ciphertext):
            return None
        return self.encrypt(self.decrypt(ciphertext))
