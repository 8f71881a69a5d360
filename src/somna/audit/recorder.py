"""The one place requests are recorded: a dependency on every API route and dashboard page.

It runs around the endpoint, reads the route's path template and parameters to know the
resource and the person, and the principal the endpoint authenticated (left in the request
scope by ``get_principal`` or the dashboard's session check):

- a write that succeeded is chained in the request's own session, just before the request
  commits: the change and its audit row commit together or not at all;
- a read that succeeded, and any request refused with 403 or 404 (recorded ``denied``; the
  request's transaction rolls back), goes to the buffered ``AuditWriter``;
- requests that never authenticated (401: no organisation to chain to), and other failures
  (422, 409, 429, 5xx: nothing was read or changed), stay in the request log only.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import structlog
from fastapi import Request

from somna.audit.chain import AuditDraft
from somna.audit.repository import AuditRepository
from somna.audit.writer import AuditWriter
from somna.auth.dependencies import PRINCIPAL_SCOPE_KEY
from somna.auth.principal import Principal
from somna.db import SessionDep
from somna.errors import SomnaError
from somna.ratelimit.http import client_address
from somna.state import app_state

API_PREFIX = "/api/v1"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DENIED_STATUSES = frozenset({403, 404})
VERBS = {"GET": "read", "HEAD": "read", "POST": "create", "PUT": "update", "PATCH": "update"}
# Last path segments that name what is done to the resource before them, not a resource.
ACTION_SEGMENTS = frozenset(
    {
        "data-export",
        "disconnect",
        "download",
        "export",
        "logout",
        "recover",
        "refresh",
        "restore",
        "retry",
        "revoke",
        "rotate",
        "rotate-secret",
        "status",
        "table",
        "test",
    }
)
# Path segments that stand for a person, and the parameters that hold one's id.
PERSON_SEGMENTS = frozenset({"users", "people", "me", "user"})
PERSON_PARAMETERS = ("user_id", "person_id")


@dataclass(frozen=True, slots=True)
class RouteShape:
    """What a route template says about the requests it serves."""

    resource_type: str | None
    action: str
    id_parameter: str | None


@lru_cache(maxsize=512)
def route_shape(method: str, template: str) -> RouteShape:
    """``GET /api/v1/users/{user_id}/sleep/{session_id}`` is ``sleep.read`` of ``sleep``
    ``session_id``; ``POST .../users/{user_id}/restore`` is ``person.restore``."""
    segments = [part for part in template.removeprefix(API_PREFIX).split("/") if part]
    resource: str | None = None
    id_parameter: str | None = None
    verb = "delete" if method == "DELETE" else VERBS.get(method, method.lower())
    for index, segment in enumerate(segments):
        if segment.startswith("{"):
            continue
        if segment in ACTION_SEGMENTS and index == len(segments) - 1:
            verb = segment
            continue
        resource = "person" if segment in PERSON_SEGMENTS else segment
        following = segments[index + 1] if index + 1 < len(segments) else ""
        id_parameter = following[1:-1] if following.startswith("{") else None
    resource = (resource or "root").replace("-", "_")
    return RouteShape(resource, f"{resource}.{verb.replace('-', '_')}", id_parameter)


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _person(
    shape: RouteShape, path: Mapping[str, str], query: Mapping[str, str], principal: Principal
) -> uuid.UUID | None:
    for name in PERSON_PARAMETERS:
        if name in path:
            return _uuid(path[name])
    if shape.resource_type == "person" and shape.id_parameter is not None:
        return _uuid(path.get(shape.id_parameter))
    for name in PERSON_PARAMETERS:
        if name in query:
            return _uuid(query[name])
    # A member account reaches only its own person: whatever it touched is about them.
    return principal.person_id


def route_template(request: Request) -> str:
    """The full path template of the matched route. An included router's route knows its path
    without the prefixes it was mounted under, so they are taken back from the real path."""
    route = request.scope.get("route")
    template: str | None = getattr(route, "path_format", None)
    if template is None:
        return request.url.path
    path = request.url.path
    try:
        suffix = template.format_map(request.path_params)
    except (KeyError, ValueError, IndexError):
        return template
    return path[: len(path) - len(suffix)] + template if path.endswith(suffix) else template


def draft_for(
    request: Request, principal: Principal, *, channel: str, outcome: str, status_code: int | None
) -> AuditDraft:
    template = route_template(request)
    shape = route_shape(request.method, template)
    path: Mapping[str, str] = request.path_params
    resource_id = path.get(shape.id_parameter) if shape.id_parameter else None
    return AuditDraft(
        organization_id=principal.organization_id,
        actor_type=principal.kind,
        actor_id=principal.api_key_id or principal.account_id,
        channel=channel,
        action=shape.action,
        outcome=outcome,
        route=f"{request.method} {template}"[:200],
        resource_type=shape.resource_type,
        resource_id=str(resource_id)[:200] if resource_id is not None else None,
        person_id=_person(shape, path, request.query_params, principal),
        client_address=client_address(request.scope)[:64],
        request_id=structlog.contextvars.get_contextvars().get("request_id"),
        status_code=status_code,
    )


PrincipalOf = Callable[[Request], Principal | None]


def api_principal(request: Request) -> Principal | None:
    principal: Principal | None = request.scope.get(PRINCIPAL_SCOPE_KEY)
    return principal


class RecordAccess:
    """The audit dependency; ``channel`` is ``api`` or ``web``, ``principal_of`` finds who the
    endpoint authenticated (the dashboard keeps it elsewhere than the API)."""

    def __init__(self, channel: str, principal_of: PrincipalOf = api_principal) -> None:
        self.channel = channel
        self.principal_of = principal_of

    async def __call__(self, request: Request, session: SessionDep) -> AsyncIterator[None]:
        settings = app_state(request).settings
        if not settings.audit_enabled:
            yield
            return
        try:
            yield
        except SomnaError as exc:
            principal = self.principal_of(request)
            if principal is not None and exc.status_code in DENIED_STATUSES:
                writer(request).record(
                    draft_for(
                        request,
                        principal,
                        channel=self.channel,
                        outcome="denied",
                        status_code=exc.status_code,
                    )
                )
            raise
        principal = self.principal_of(request)
        if principal is None:
            return
        draft = draft_for(
            request, principal, channel=self.channel, outcome="allowed", status_code=None
        )
        if request.method in SAFE_METHODS:
            writer(request).record(draft)
        else:
            await AuditRepository(session).append([draft])


def writer(request: Request) -> AuditWriter:
    return app_state(request).service("audit_writer", AuditWriter)


record_api_access = RecordAccess("api")
