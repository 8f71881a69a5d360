"""The audit log: ``GET /api/v1/audit-events`` and its export."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime

from somna.audit import service
from somna.audit.repository import AuditFilter
from somna.audit.schemas import AuditEventRead
from somna.auth.dependencies import RequireScopes
from somna.auth.principal import Principal
from somna.auth.responses import AUTH_RESPONSES, error_response
from somna.db import SessionDep
from somna.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from somna.state import app_state

router = APIRouter(tags=["audit"])

AuditRead = Annotated[Principal, Depends(RequireScopes("audit:read"))]
RESPONSES: dict[int | str, dict[str, Any]] = {
    **AUTH_RESPONSES,
    400: error_response("`invalid_cursor`: the cursor is not one this API issued."),
    422: error_response("`validation_error`, e.g. `reversed_period` when `until` <= `since`."),
}
EXPORT_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv"}


def _filter(
    principal: Principal,
    person_id: uuid.UUID | None,
    actor_id: uuid.UUID | None,
    action: str | None,
    since: AwareDatetime | None,
    until: AwareDatetime | None,
) -> AuditFilter:
    return AuditFilter(principal.organization_id, person_id, actor_id, action, since, until)


PersonQuery = Annotated[uuid.UUID | None, Query(description="Events about this person.")]
ActorQuery = Annotated[uuid.UUID | None, Query(description="Events by this account or key.")]
ActionQuery = Annotated[str | None, Query(max_length=80, description="E.g. `sleep.read`.")]
SinceQuery = Annotated[AwareDatetime | None, Query(description="Events at or after this.")]
UntilQuery = Annotated[AwareDatetime | None, Query(description="Events before this.")]


@router.get("/audit-events", responses=RESPONSES)
async def list_audit_events(
    principal: AuditRead,
    session: SessionDep,
    person_id: PersonQuery = None,
    actor_id: ActorQuery = None,
    action: ActionQuery = None,
    since: SinceQuery = None,
    until: UntilQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[AuditEventRead]:
    """The organisation's audit trail, newest first (owners, admins, keys with `audit:read`)."""
    where = _filter(principal, person_id, actor_id, action, since, until)
    rows, next_cursor = await service.list_events(session, where, limit=limit, cursor=cursor)
    return Page(data=[AuditEventRead.of(row) for row in rows], next_cursor=next_cursor)


@router.get(
    "/audit-events/export",
    response_class=StreamingResponse,
    responses={
        **RESPONSES,
        200: {
            "description": "Every matching event, oldest first: NDJSON (one `AuditEvent` per "
            "line) or CSV with a header row.",
            "content": {media: {"schema": {"type": "string"}} for media in EXPORT_TYPES.values()},
        },
    },
)
async def export_audit_events(
    request: Request,
    principal: AuditRead,
    person_id: PersonQuery = None,
    actor_id: ActorQuery = None,
    action: ActionQuery = None,
    since: SinceQuery = None,
    until: UntilQuery = None,
    format: Annotated[
        service.ExportFormat, Query(description="`ndjson` (default) or `csv`.")
    ] = "ndjson",
) -> StreamingResponse:
    """Stream the whole matching trail, oldest first, as NDJSON or CSV."""
    where = _filter(principal, person_id, actor_id, action, since, until)
    service.check_period(where)
    lines = service.export_lines(app_state(request).sessionmaker, where, format)
    filename = f"audit-events.{format}"
    return StreamingResponse(
        lines,
        media_type=EXPORT_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
