"""Authentication and authorisation errors, each with its documented ``error`` code."""

from __future__ import annotations

from collections.abc import Iterable

from somna.errors import Forbidden, Unauthorized


class AuthenticationFailed(Unauthorized):
    """401 with a ``WWW-Authenticate`` challenge, as RFC 6750 asks of bearer APIs."""

    error_code = "authentication_failed"

    def __init__(self, detail: str) -> None:
        challenge = f'Bearer realm="somna", error="{self._oauth_error()}"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})

    def _oauth_error(self) -> str:
        return "invalid_token" if self.error_code != "invalid_credentials" else "invalid_request"


class TokenExpired(AuthenticationFailed):
    error_code = "token_expired"


class InvalidToken(AuthenticationFailed):
    error_code = "invalid_token"


class InvalidApiKey(AuthenticationFailed):
    error_code = "invalid_api_key"


class InvalidCredentials(AuthenticationFailed):
    error_code = "invalid_credentials"


class InvalidSignature(AuthenticationFailed):
    error_code = "invalid_signature"


class SigningSecretUnreadable(InvalidSignature):
    """The key's signing secret was encrypted under a secret key the server no longer has."""

    error_code = "signing_secret_unreadable"


class SignatureExpired(AuthenticationFailed):
    error_code = "signature_expired"


class SignatureReplayed(AuthenticationFailed):
    error_code = "signature_replayed"


class InsufficientPermissions(Forbidden):
    error_code = "insufficient_permissions"

    def __init__(
        self,
        required: Iterable[str],
        *,
        detail: str | None = None,
        required_roles: Iterable[str] | None = None,
    ) -> None:
        scopes = sorted(required)
        extra: dict[str, object] = {"required_scopes": scopes}
        if required_roles is not None:
            extra["required_roles"] = list(required_roles)
        super().__init__(
            detail or f"This needs the grants: {', '.join(scopes) or 'none'}.", extra=extra
        )


class IpBlocked(Forbidden):
    error_code = "ip_blocked"
