"""Every error the SDK raises. ``SomnaError`` is the root; HTTP answers become
``APIStatusError`` subclasses that carry the server's error code."""

from __future__ import annotations

from typing import Any

import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "SigningSecretRequired",
    "SomnaError",
    "UnprocessableEntityError",
    "WaitTimeoutError",
]


class SomnaError(Exception):
    """The root of every error raised by ``somna_client``."""


class SigningSecretRequired(SomnaError):
    """A sensitive operation was called with an API key but without its signing secret;
    raised before anything is sent."""


class APIError(SomnaError):
    """Something went wrong talking to the server."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request


class APIConnectionError(APIError):
    """The server could not be reached, or the connection broke."""

    def __init__(self, message: str = "Could not reach the Somna server.", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class APITimeoutError(APIConnectionError):
    """The request timed out."""

    def __init__(self, message: str = "The request to the Somna server timed out.", **kwargs: Any):
        super().__init__(message, **kwargs)


class APIStatusError(APIError):
    """The server answered with an error status; ``code`` is its machine-readable error."""

    def __init__(self, response: httpx.Response, body: Any) -> None:
        self.response = response
        self.status_code = response.status_code
        self.body = body
        fields = body if isinstance(body, dict) else {}
        self.code: str = str(fields.get("error") or _default_code(response.status_code))
        detail = fields.get("detail")
        if detail is None:
            detail = response.reason_phrase or f"HTTP {response.status_code}"
        self.detail: str = detail if isinstance(detail, str) else _describe(detail)
        self.request_id: str | None = response.headers.get("x-request-id")
        super().__init__(f"{self.status_code} {self.code}: {self.detail}", request=response.request)


class BadRequestError(APIStatusError):
    """400."""


class AuthenticationError(APIStatusError):
    """401: missing, wrong or expired credentials, or a bad signature."""


class PermissionDeniedError(APIStatusError):
    """403: the credentials lack a scope or role; ``required_scopes`` names them."""

    def __init__(self, response: httpx.Response, body: Any) -> None:
        super().__init__(response, body)
        scopes = body.get("required_scopes") if isinstance(body, dict) else None
        self.required_scopes: list[str] = [str(item) for item in scopes or []]


class NotFoundError(APIStatusError):
    """404: no such resource in the caller's organisation."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the current state (e.g. ``idempotency_key_reused``)."""


class UnprocessableEntityError(APIStatusError):
    """422: the input was invalid; ``errors`` lists ``{"field", "location", "message"}``."""

    def __init__(self, response: httpx.Response, body: Any) -> None:
        super().__init__(response, body)
        self.errors: list[dict[str, Any]] = _field_errors(body)


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` is the wait in seconds the server asked for."""

    def __init__(self, response: httpx.Response, body: Any) -> None:
        super().__init__(response, body)
        self.retry_after: float | None = retry_after_seconds(response.headers)
        if self.retry_after is None and isinstance(body, dict):
            value = body.get("retry_after")
            self.retry_after = float(value) if isinstance(value, int | float) else None


class InternalServerError(APIStatusError):
    """5xx."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error(response: httpx.Response, body: Any) -> APIStatusError:
    """The typed error for an error answer."""
    if response.status_code >= 500:
        return InternalServerError(response, body)
    return _BY_STATUS.get(response.status_code, APIStatusError)(response, body)


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """``Retry-After`` or ``X-RateLimit-Retry-After`` in seconds (HTTP dates too)."""
    for name in ("retry-after", "x-ratelimit-retry-after"):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            from datetime import UTC, datetime
            from email.utils import parsedate_to_datetime

            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            continue
    return None


def _default_code(status: int) -> str:
    return "server_error" if status >= 500 else f"http_{status}"


def _field_errors(body: Any) -> list[dict[str, Any]]:
    """The server's ``errors`` list; older servers put FastAPI's list under ``detail``."""
    if not isinstance(body, dict):
        return []
    listed = body.get("errors")
    if isinstance(listed, list):
        return [item for item in listed if isinstance(item, dict)]
    legacy = body.get("detail")
    if not isinstance(legacy, list):
        return []
    converted = []
    for item in legacy:
        if isinstance(item, dict):
            location = [str(part) for part in item.get("loc", [])]
            converted.append(
                {
                    "field": ".".join(location[1:]) or None,
                    "location": location[0] if location else None,
                    "message": item.get("msg"),
                }
            )
    return converted


def _describe(detail: Any) -> str:
    if isinstance(detail, list):
        messages = [
            str(item.get("msg", item)) if isinstance(item, dict) else str(item) for item in detail
        ]
        return "; ".join(messages) or "Invalid request."
    return str(detail)


class WaitTimeoutError(SomnaError):
    """``wait()`` gave up before the run or export finished; the last state is ``last``."""

    def __init__(self, message: str, last: Any) -> None:
        super().__init__(message)
        self.last = last
