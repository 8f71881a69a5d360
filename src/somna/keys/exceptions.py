"""Errors of API keys and request signatures, each with its documented ``error`` code."""

from __future__ import annotations

from somna.auth.exceptions import AuthenticationFailed
from somna.errors import Conflict, Forbidden


class InvalidApiKey(AuthenticationFailed):
    error_code = "invalid_api_key"


class InvalidSignature(AuthenticationFailed):
    error_code = "invalid_signature"


class SigningSecretUnreadable(InvalidSignature):
    """The key's signing secret was encrypted under a secret key the server no longer has."""

    error_code = "signing_secret_unreadable"


class SignatureExpired(AuthenticationFailed):
    error_code = "signature_expired"


class SignatureReplayed(AuthenticationFailed):
    error_code = "signature_replayed"


class IpBlocked(Forbidden):
    error_code = "ip_blocked"


class KeyInactive(Conflict):
    error_code = "key_inactive"
