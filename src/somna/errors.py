"""The one error root and the handlers that render every error in one shape:
``{"error": "<code>", "detail": <sentence or list>, ...extra fields}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger(__name__)


class SomnaError(Exception):
    """Base of every error that maps to an HTTP answer."""

    status_code: int = 500
    error_code: str = "internal_error"

    def __init__(
        self,
        detail: str,
        *,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"error": self.error_code, "detail": self.detail, **self.extra}


class BadRequest(SomnaError):
    status_code, error_code = 400, "bad_request"


class Unauthorized(SomnaError):
    status_code, error_code = 401, "authentication_failed"


class Forbidden(SomnaError):
    status_code, error_code = 403, "forbidden"


class NotFound(SomnaError):
    status_code, error_code = 404, "not_found"


class Conflict(SomnaError):
    status_code, error_code = 409, "conflict"


class Unprocessable(SomnaError):
    status_code, error_code = 422, "validation_error"


class ServiceUnavailable(SomnaError):
    status_code, error_code = 503, "service_unavailable"


_STATUS_CODES = {
    400: "bad_request",
    401: "authentication_failed",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_response(
    status_code: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(status_code=status_code, content=body, headers=dict(headers or {}))


def validation_errors(errors: Any) -> list[dict[str, Any]]:
    """FastAPI's list shape without ``input``, which may echo a password or key back."""
    cleaned = []
    for item in errors:
        entry = {"type": item["type"], "loc": list(item["loc"]), "msg": item["msg"]}
        ctx = item.get("ctx")
        if ctx:
            entry["ctx"] = {key: str(value) for key, value in ctx.items()}
        cleaned.append(entry)
    return cleaned


async def _somna_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SomnaError)
    return error_response(exc.status_code, exc.body(), exc.headers)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "http_error")
    detail = exc.detail if exc.status_code != 404 else "No such resource or route."
    return error_response(exc.status_code, {"error": code, "detail": detail}, exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    body = {"error": "validation_error", "detail": validation_errors(exc.errors())}
    return error_response(422, body)


async def _unhandled_error(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("request.unhandled_error", error_type=type(exc).__name__)
    body = {"error": "internal_error", "detail": "An unexpected error occurred; it was logged."}
    return error_response(500, body)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SomnaError, _somna_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unhandled_error)
