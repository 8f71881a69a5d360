"""The one error root and the handlers that render every error in one shape:
``{"error": "<code>", "detail": "<sentence>", ...extra fields}``.

Validation problems, whether FastAPI found them or a domain check did, are 422 with
``error: "validation_error"``, a sentence in ``detail`` and
``errors: [{"field", "location", "message", "type"}]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger(__name__)

Location = Literal["body", "query", "path", "header", "cookie"]


class FieldError(BaseModel):
    """One problem with one input."""

    field: str = Field(description="Dotted name of the input (`end_date`, `events.0.name`).")
    location: str = Field(description="Where the input was: `body`, `query`, `path`, `header`.")
    message: str = Field(description="What is wrong with it, for people.")
    type: str = Field(description="A stable code for programs (`missing`, `reversed_period`).")


class ErrorOut(BaseModel):
    """Every error: a code, a sentence, and sometimes more fields (`required_scopes`, ...)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})

    error: str = Field(description="A lowercase code, e.g. `not_found`.")
    detail: str = Field(description="What went wrong, for people.")


class ValidationErrorOut(ErrorOut):
    """422: what was wrong with the request, input by input."""

    error: Literal["validation_error"] = "validation_error"
    errors: list[FieldError]


class RateLimitedOut(ErrorOut):
    """429: the limit that was reached and when to retry."""

    error: Literal["rate_limited"] = "rate_limited"
    limit: int
    window_seconds: int
    reset_time: str = Field(description="ISO 8601 instant (UTC) when the window ends.")
    current_usage: int
    retry_after: int = Field(description="Seconds to wait before retrying.")


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

    def body_for(self, path: str) -> dict[str, Any]:
        """The body on ``path``; a few routes keep the bodies of a document they follow."""
        return self.body()


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
    """A domain check refused an input: the validation shape, naming the field.

    ``kind`` is the ``type`` of the entry in ``errors`` (``reversed_period``,
    ``period_too_long``, ...); ``extra`` adds top-level fields (``max_days``)."""

    status_code, error_code = 422, "validation_error"
    kind: str = "invalid_value"

    def __init__(
        self,
        detail: str = "",
        *,
        field: str | None = None,
        location: Location = "body",
        kind: str | None = None,
        entries: Sequence[Mapping[str, str]] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        if entries is None:
            entries = [field_error(field or "", location, detail, kind or self.kind)]
        detail = detail or validation_detail(entries)
        super().__init__(detail, extra={**(extra or {}), "errors": list(entries)})


class UnsupportedMediaType(SomnaError):
    status_code, error_code = 415, "unsupported_media_type"


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


def field_error(field: str, location: str, message: str, kind: str) -> dict[str, str]:
    return {"field": field, "location": location, "message": message, "type": kind}


def _entry(item: Mapping[str, Any]) -> dict[str, str]:
    """FastAPI's ``{"loc", "msg", "type"}`` as ours, without ``input``, which may echo a
    password or key back."""
    loc = [str(part) for part in item.get("loc", ())]
    if item["type"] == "json_invalid":
        reason = (item.get("ctx") or {}).get("error", "invalid JSON")
        position = loc[1] if len(loc) > 1 else "?"
        message = f"The body is not valid JSON: {reason} at character {position}."
        return field_error("", "body", message, "json_invalid")
    location, names = (loc[0], loc[1:]) if loc and loc[0] in _LOCATIONS else ("body", loc)
    return field_error(".".join(names), location, str(item["msg"]), str(item["type"]))


_LOCATIONS = {"body", "query", "path", "header", "cookie"}


def validation_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    return [_entry(item) for item in errors]


def validation_detail(entries: Sequence[Mapping[str, str]]) -> str:
    """One sentence naming every input at fault."""
    parts = []
    for entry in entries:
        name = f"`{entry['field']}`" if entry["field"] else "the body"
        parts.append(f"{name} ({entry['location']}): {entry['message']}")
    return "Invalid request: " + "; ".join(parts) + "."


def validation_body(entries: Sequence[Mapping[str, str]]) -> dict[str, Any]:
    return {"error": "validation_error", "detail": validation_detail(entries), "errors": entries}


async def _somna_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SomnaError)
    return error_response(exc.status_code, exc.body_for(request.url.path), exc.headers)


# FastAPI's words when a JSON body cannot be decoded at all (bytes that are not UTF-8).
_UNPARSABLE_BODY = "There was an error parsing the body"


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == _UNPARSABLE_BODY:
        message = "The body is not valid JSON text (UTF-8 expected)."
        return error_response(
            422, validation_body([field_error("", "body", message, "json_invalid")])
        )
    code = _STATUS_CODES.get(exc.status_code, "http_error")
    detail = exc.detail if exc.status_code != 404 else "No such resource or route."
    return error_response(exc.status_code, {"error": code, "detail": str(detail)}, exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, validation_body(validation_errors(exc.errors())))


async def _unhandled_error(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("request.unhandled_error", error_type=type(exc).__name__)
    body = {"error": "internal_error", "detail": "An unexpected error occurred; it was logged."}
    return error_response(500, body)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SomnaError, _somna_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unhandled_error)


def describe(exc: BaseException) -> str:
    """An exception in one line, for logs and stored errors: its type and its detail (a Somna
    or provider error's ``detail``, else its message), at most 1,000 characters."""
    detail = getattr(exc, "detail", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {detail}"[:1000]
