"""Typed errors of provider clients, OAuth and webhooks. All are ``SomnaError`` subclasses, so
one that escapes to a request renders as a proper error body rather than a 500."""

from __future__ import annotations

from somna.errors import SomnaError


class ProviderError(SomnaError):
    """A provider call failed; ``provider`` and ``status`` say which and how."""

    status_code, error_code = 502, "provider_error"
    retryable: bool = False

    def __init__(self, provider: str, detail: str, *, status: int | None = None) -> None:
        super().__init__(detail, extra={"provider": provider})
        self.provider = provider
        self.status = status


class ProviderUnavailable(ProviderError):
    """5xx after every retry, a timeout or a network failure: worth trying again later."""

    status_code, error_code = 503, "provider_unavailable"
    retryable = True


class ProviderRateLimited(ProviderError):
    """The provider refused for pace (WHOOP 429, Asleep 403 "Rate limit exceeded")."""

    status_code, error_code = 503, "provider_rate_limited"
    retryable = True

    def __init__(
        self, provider: str, detail: str, *, status: int | None = None, retry_after: float
    ) -> None:
        super().__init__(provider, detail, status=status)
        self.retry_after = retry_after
        self.extra["retry_after"] = round(retry_after, 3)


class ProviderQuotaExceeded(ProviderError):
    """A quota or plan limit (Asleep 403 "Quota exceeded" / "Plan is expired"): retrying soon
    will not help."""

    status_code, error_code = 503, "provider_quota_exceeded"


class ProviderUnauthorized(ProviderError):
    """The provider refused the credentials (401, or Asleep's 401 on a bad key or user)."""

    status_code, error_code = 502, "provider_unauthorized"


class ReauthorizationRequired(ProviderUnauthorized):
    """The refresh token was refused: the person must connect again. Mark the connection
    ``reauthorization_required``."""

    error_code = "reauthorization_required"


class ProviderForbidden(ProviderError):
    status_code, error_code = 502, "provider_forbidden"


class ProviderNotFound(ProviderError):
    """The provider has no such record (or user)."""

    status_code, error_code = 404, "provider_not_found"


class ProviderBadRequest(ProviderError):
    """The provider refused our request as malformed: a bug on our side, not retryable."""

    status_code, error_code = 502, "provider_bad_request"


class ProviderResponseError(ProviderError):
    """The provider answered 2xx with a body we cannot read (not JSON, wrong shape)."""

    status_code, error_code = 502, "provider_bad_response"
    retryable = True


class InvalidWebhook(SomnaError):
    """A webhook whose signature, key or timestamp does not check out."""

    status_code, error_code = 401, "invalid_webhook_signature"


class InvalidOAuthState(SomnaError):
    """The OAuth ``state`` is unknown, already used, expired or for another provider."""

    status_code, error_code = 400, "invalid_state"


class OAuthError(SomnaError):
    """The authorization server refused a code exchange (``invalid_grant`` and the like)."""

    status_code, error_code = 400, "oauth_error"

    def __init__(self, provider: str, oauth_error: str, detail: str) -> None:
        super().__init__(detail, extra={"provider": provider, "oauth_error": oauth_error})
        self.provider = provider
        self.oauth_error = oauth_error


class UnknownProvider(SomnaError):
    status_code, error_code = 404, "unknown_provider"


class UnsupportedOperation(SomnaError):
    """The provider does not offer this operation (see its capabilities)."""

    status_code, error_code = 400, "unsupported_operation"


class MappingError(ProviderResponseError):
    """A vendor record lacks a field the canonical record needs, or has one of the wrong type."""

    error_code = "provider_bad_record"


def error_for_status(status: int) -> type[ProviderError]:
    """The typed error an HTTP error status usually means; clients check their vendor's
    exceptions to this first."""
    if status == 400:
        return ProviderBadRequest
    if status == 401:
        return ProviderUnauthorized
    if status == 403:
        return ProviderForbidden
    if status == 404:
        return ProviderNotFound
    if status >= 500:
        return ProviderUnavailable
    return ProviderError
