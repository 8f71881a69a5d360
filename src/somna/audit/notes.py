"""What a request leaves for the audit log, and the rows it becomes.

The recorder takes a ``RequestNote`` off the request: values read from the ASGI scope, nothing
parsed or derived, so that recording a read costs the request an object and a list append.
Everything else (the route's resource and action, the person, the row fields) is derived in
``RequestNote.drafts``, which the buffered writer calls when it flushes, off the request path;
a write derives its rows at once, since they join the request's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import parse_qsl

from somna.audit.chain import AuditDraft
from somna.auth.principal import Principal

API_PREFIX = "/api/v1"
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


class Draftable(Protocol):
    """Anything the writer can buffer: it becomes audit rows when the writer flushes."""

    def drafts(self) -> list[AuditDraft]: ...


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


def route_template(route: object, path: str, path_params: Mapping[str, Any]) -> str:
    """The full path template of the matched route. An included router's route knows its path
    without the prefixes it was mounted under, so they are taken back from the real path."""
    template: str | None = getattr(route, "path_format", None)
    if template is None:
        return path
    try:
        suffix = template.format_map(path_params)
    except (KeyError, ValueError, IndexError):
        return template
    return path[: len(path) - len(suffix)] + template if path.endswith(suffix) else template


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _person(
    shape: RouteShape, path: Mapping[str, Any], query_string: bytes, principal: Principal
) -> uuid.UUID | None:
    for name in PERSON_PARAMETERS:
        if name in path:
            return _uuid(path[name])
    if shape.resource_type == "person" and shape.id_parameter is not None:
        return _uuid(path.get(shape.id_parameter))
    if query_string:
        query = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
        for name in PERSON_PARAMETERS:
            if name in query:
                return _uuid(query[name])
    # A member account reaches only its own person: whatever it touched is about them.
    return principal.person_id


@dataclass(frozen=True, slots=True)
class RequestNote:
    """One recorded request, as read off its scope. ``people`` are the persons whose data an
    organisation-wide answer held (``somna.kit.access.note_people``): one row each."""

    principal: Principal
    channel: str
    outcome: str
    status_code: int | None
    method: str
    route: object
    path: str
    path_params: Mapping[str, Any]
    query_string: bytes
    client_address: str
    request_id: str | None
    occurred_at: datetime
    people: tuple[uuid.UUID, ...] | None = None

    def drafts(self) -> list[AuditDraft]:
        template = route_template(self.route, self.path, self.path_params)
        shape = route_shape(self.method, template)
        resource_id = self.path_params.get(shape.id_parameter) if shape.id_parameter else None
        principal = self.principal
        draft = AuditDraft(
            organization_id=principal.organization_id,
            actor_type=principal.kind,
            actor_id=principal.api_key_id or principal.account_id,
            channel=self.channel,
            action=shape.action,
            outcome=self.outcome,
            route=f"{self.method} {template}"[:200],
            resource_type=shape.resource_type,
            resource_id=str(resource_id)[:200] if resource_id is not None else None,
            person_id=_person(shape, self.path_params, self.query_string, principal),
            client_address=self.client_address[:64],
            request_id=self.request_id,
            status_code=self.status_code,
            occurred_at=self.occurred_at,
        )
        if not self.people or draft.person_id is not None:
            return [draft]
        return [_with_person(draft, person_id) for person_id in dict.fromkeys(self.people)]


def _with_person(draft: AuditDraft, person_id: uuid.UUID) -> AuditDraft:
    # dataclasses.replace, without its per-call introspection (a page of people is many rows).
    return AuditDraft(
        draft.organization_id, draft.actor_type, draft.actor_id, draft.channel, draft.action,
        draft.outcome, draft.route, draft.resource_type, draft.resource_id, person_id,
        draft.client_address, draft.request_id, draft.status_code, draft.occurred_at,
    )  # fmt: skip
