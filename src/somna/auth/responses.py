"""OpenAPI entries for the errors of authenticated routes, to spread into ``responses=``."""

from __future__ import annotations

from typing import Any

from somna.errors import ErrorOut


def error_response(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: error_response("Missing, invalid or expired credentials."),
    403: error_response(
        "A grant is missing (`insufficient_permissions`, with `required_scopes`) or the "
        "address is not allowed for the key (`ip_blocked`)."
    ),
    429: error_response("Rate limit exceeded; retry after `Retry-After` seconds."),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: error_response("No such resource in the caller's organisation.")
}
