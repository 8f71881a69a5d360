"""Checks every ``/api/v1`` route runs before its own parameters: a body must be JSON (415
otherwise) and every query parameter must be one the route knows (422 naming the others)."""

from __future__ import annotations

import email.message
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from somna.errors import Unprocessable, UnsupportedMediaType, field_error

_known_parameters: dict[int, frozenset[str]] = {}
_OPEN_QUERY = "__somna_open_query__"
EndpointT = TypeVar("EndpointT", bound=Callable[..., Any])


def accepts_any_query(endpoint: EndpointT) -> EndpointT:
    """Mark a route whose caller is not ours (an OAuth redirect): parameters it does not
    know are ignored, not refused, since providers add their own."""
    setattr(endpoint, _OPEN_QUERY, True)
    return endpoint


def known_query_parameters(route: APIRoute) -> frozenset[str]:
    cached = _known_parameters.get(id(route))
    if cached is None:
        cached = frozenset(_query_aliases(route.dependant))
        _known_parameters[id(route)] = cached
    return cached


def _query_aliases(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for child in dependant.dependencies:
        names |= _query_aliases(child)
    return names


def is_json(content_type: str) -> bool:
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


async def check_request_shape(request: Request) -> None:
    """415 for a body that is not JSON; 422 for query parameters the route does not take."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    if route.body_field is not None and await request.body():
        content_type = request.headers.get("content-type", "")
        if not is_json(content_type):
            sent = f"`{content_type}`" if content_type else "no content type"
            raise UnsupportedMediaType(
                f"The body must be JSON sent as `application/json`; this request sent {sent}."
            )
    unknown = sorted(set(request.query_params) - known_query_parameters(route))
    if unknown and not getattr(route.endpoint, _OPEN_QUERY, False):
        message = "This route takes no such query parameter."
        entries = [field_error(name, "query", message, "unknown_parameter") for name in unknown]
        raise Unprocessable(entries=entries)
