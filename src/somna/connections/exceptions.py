from __future__ import annotations

from somna.errors import Conflict, NotFound, ServiceUnavailable, SomnaError, Unprocessable


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
