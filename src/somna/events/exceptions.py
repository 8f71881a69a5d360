"""Errors of the Klyne-compatible routes, rendered in the document's bodies.

They subclass ``SomnaError`` so that the one handler renders them, but override ``body()``:
clients written against the Klyne document read FastAPI's ``{"detail": ...}`` and the 429
fields, not Somna's ``{"error", "detail"}``.
"""

from __future__ import annotations

from typing import Any

from somna.errors import SomnaError
from somna.ratelimit.base import RateLimitResult
from somna.ratelimit.http import iso_instant, rate_limit_headers

MISSING_KEY_DETAIL = "API key required. Include 'Authorization: Bearer <api_key>' header."
INVALID_KEY_DETAIL = "Invalid API key"


def package_mismatch_detail(requested: str, bound: str) -> str:
    """The document's 403 sentence, naming both packages."""
    return f"API key is not authorized for package '{requested}'. This key is for package '{bound}'"


class AnalyticsError(SomnaError):
    """A Klyne-route error: the body is ``{"detail": ...}`` and nothing else."""

    def __init__(self, detail: Any, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(str(detail), headers=headers)
        self.detail_value = detail

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail_value}


class AnalyticsUnauthorized(AnalyticsError):
    status_code, error_code = 401, "authentication_failed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="somna"'})


class AnalyticsForbidden(AnalyticsError):
    status_code, error_code = 403, "forbidden"


class AnalyticsValidationError(AnalyticsError):
    """422 with FastAPI's list of ``{"loc", "msg", "type"}``."""

    status_code, error_code = 422, "validation_error"

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)


class AnalyticsPayloadTooLarge(AnalyticsError):
    status_code, error_code = 413, "payload_too_large"


class AnalyticsRateLimited(SomnaError):
    """429 with the document's body; the headers carry the limit, remaining and reset."""

    status_code, error_code = 429, "Rate limit exceeded"

    def __init__(self, result: RateLimitResult, attempted: int) -> None:
        super().__init__("Rate limit exceeded", headers=rate_limit_headers(result))
        self.result = result
        self.attempted = attempted

    def body(self) -> dict[str, Any]:
        return {
            "error": "Rate limit exceeded",
            "limit": self.result.limit,
            "window_seconds": self.result.window_seconds,
            "reset_time": iso_instant(self.result.reset),
            # As in the document's example (1001 against 1000): the usage this request would
            # have reached. Nothing of it was counted.
            "current_usage": self.result.current_usage + self.attempted,
        }
