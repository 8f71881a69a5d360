"""The OpenAPI document: stable, readable operation ids and the errors every route can answer,
declared with the one error schema (FastAPI's ``HTTPValidationError`` is replaced)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from somna.errors import ErrorOut, FieldError, RateLimitedOut, ValidationErrorOut

API_PREFIX = "/api/v1"
# Routes that keep the bodies of the document they follow; their errors are declared by hand.
KLYNE_PREFIX = "/api/analytics"
_REF = "#/components/schemas/{model}"
_MODELS = (ErrorOut, FieldError, ValidationErrorOut, RateLimitedOut)

_DESCRIPTIONS = {
    400: "A malformed request: `invalid_cursor` for a cursor this API did not issue.",
    401: "Missing, invalid or expired credentials (`authentication_failed`, `invalid_token`, "
    "`token_expired`, `invalid_api_key`, `invalid_signature`, ...).",
    403: "A grant or role is missing (`insufficient_permissions`, with `required_scopes`), "
    "or the key may not be used from this address (`ip_blocked`).",
    404: "No such resource in the caller's organisation.",
    409: "The request conflicts with the resource's state.",
    415: "The body is not JSON (`unsupported_media_type`).",
    422: "An input is invalid, missing or unknown: `validation_error`, with `errors` naming "
    "each field and where it was.",
    429: "A rate limit was reached (`rate_limited`); retry after `retry_after` seconds.",
}


def operation_id(route: APIRoute) -> str:
    """The function's name, ``me_`` first for the member routes: stable across releases and
    readable in generated clients (``get_person``, ``me_list_sleep``)."""
    name = route.name
    if re.match(rf"^{API_PREFIX}/me(/|$)", route.path_format):
        name = "me_" + name.replace("my_", "").removeprefix("me_")
    return name


def _content(model: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": _REF.format(model=model)}}}


def _error_entry(status: int, description: str | None = None) -> dict[str, Any]:
    model = {422: "ValidationErrorOut", 429: "RateLimitedOut"}.get(status, "ErrorOut")
    return {"description": description or _DESCRIPTIONS[status], "content": _content(model)}


def _statuses(path: str, operation: dict[str, Any]) -> set[int]:
    """The errors a route can answer, from what it takes and whether it needs credentials."""
    statuses = {422, 429}
    parameters = operation.get("parameters", [])
    if operation.get("security"):
        statuses |= {401, 403}
    if any(param["in"] == "path" for param in parameters) or re.match(r"^/api/v1/me(/|$)", path):
        statuses.add(404)  # an unknown id, or a /me route called by an account with no person
    if "requestBody" in operation:
        statuses.add(415)
    if any(param["in"] == "query" and param["name"] == "cursor" for param in parameters):
        statuses.add(400)
    if not path.startswith(API_PREFIX):
        statuses -= {415, 422}  # only /api/v1 checks bodies and unknown parameters centrally
        statuses |= {422} if parameters or "requestBody" in operation else set()
    return statuses


def declare_errors(schema: dict[str, Any]) -> None:
    """Add the error responses to every operation and the error models to the components."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in _MODELS:
        components[model.__name__] = model.model_json_schema(ref_template=_REF)
        components[model.__name__].pop("$defs", None)
    for path, item in schema.get("paths", {}).items():
        if path.startswith(KLYNE_PREFIX):
            continue
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            for code in list(responses):
                if code.isdigit() and int(code) >= 400:
                    responses[code] = _error_entry(int(code), responses[code].get("description"))
            for status in _statuses(path, operation):
                responses.setdefault(str(status), _error_entry(status))
            if "422" in responses:
                responses["422"] = _error_entry(422)
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)


def install_openapi(app: FastAPI) -> None:
    """Build the document once, with the errors declared."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            declare_errors(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
