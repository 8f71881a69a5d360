from __future__ import annotations

from somna.errors import Conflict, NotFound, ServiceUnavailable, SomnaError, Unprocessable
from somna.providers.exceptions import ReauthorizationRequired


class ConnectionNotFound(NotFound):
    error_code = "connection_not_found"


class ProviderNotConfigured(Conflict):
    """The deployment has no credentials for this provider (client id, API key): a state of
    this server the caller can do nothing about but report, so not a 5xx."""

    error_code = "provider_not_configured"


class ProviderBusy(ServiceUnavailable):
    """The provider budget has no slot soon enough to answer within a request."""

    error_code = "provider_busy"


class ReturnToNotAllowed(Unprocessable):
    kind = "return_to_not_allowed"


class AuthorizationDenied(SomnaError):
    """The person declined (or the provider refused) the consent."""

    status_code, error_code = 400, "authorization_denied"


class AlreadyConnected(Conflict):
    error_code = "already_connected"


class ProviderAccountInUse(Conflict):
    """The provider account is already linked to another person of the organisation."""

    error_code = "provider_account_in_use"


class TokenUnreadable(ReauthorizationRequired):
    """No configured secret key decrypts the connection's stored tokens (the key changed
    without ``SOMNA_SECRET_KEY_FALLBACKS``): retrying cannot help, the person connects again."""

    error_code = "token_unreadable"

    def __init__(self, provider: str) -> None:
        super().__init__(
            provider,
            "token_unreadable: no configured secret key decrypts the stored tokens; "
            "the person must connect again",
        )
