"""Authentication and authorisation errors, each with its documented ``error`` code."""

from __future__ import annotations

from collections.abc import Iterable

from somna.errors import Conflict, Forbidden, Unauthorized


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


class InvalidCredentials(AuthenticationFailed):
    error_code = "invalid_credentials"


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


class EmailTaken(Conflict):
    """Account emails are unique across organisations: they are how people sign in."""

    error_code = "email_taken"
