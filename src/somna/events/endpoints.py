"""The Klyne-compatible ingestion routes (``/api/analytics``, outside ``/api/v1``) and the
publisher's usage report (``/api/v1/analytics/packages/{package_name}/usage``)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from somna.auth.dependencies import RequireScopes
from somna.auth.principal import Principal
from somna.db import SessionDep, ping
from somna.events.dependencies import (
    MAX_BATCH_BYTES,
    MAX_EVENT_BYTES,
    EventSender,
    charge_events,
    parse_json,
    read_body,
)
from somna.events.exceptions import AnalyticsValidationError
from somna.events.schemas import (
    AnalyticsHealth,
    BatchEnvelope,
    BatchResult,
    DetailBody,
    EventAccepted,
    EventIn,
    FailedEvent,
    GroupBy,
    RateLimitBody,
    UsageReport,
    ValidationBody,
    ValidBatch,
    iso_z,
    parse_bound,
)
from somna.events.service import (
    error_items,
    record_batch,
    record_event,
    report_window,
    usage_report,
    validate_batch,
    validate_event,
)
from somna.kit.time import utc_now
from somna.state import EngineDep

HEALTH_TIMEOUT_SECONDS = 3.0


def _event_schema() -> dict[str, Any]:
    schema = EventIn.model_json_schema()
    schema["properties"]["event_timestamp"]["format"] = "date-time"
    return schema


_EVENT_SCHEMA = _event_schema()
_BATCH_SCHEMA = {
    "type": "object",
    "required": ["events"],
    "properties": {
        "events": {"type": "array", "minItems": 1, "maxItems": 100, "items": _EVENT_SCHEMA}
    },
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": DetailBody, "description": "Missing or unknown API key."},
    403: {"model": DetailBody, "description": "The key is for another package (or no package)."},
    413: {"model": DetailBody, "description": "Body too large."},
    422: {"model": ValidationBody, "description": "Invalid event, or no event of a batch valid."},
    429: {"model": RateLimitBody, "description": "The key's events per hour are spent."},
}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    }


router = APIRouter(prefix="/api/analytics", tags=["usage analytics (Klyne-compatible)"])


@router.get(
    "/health",
    response_model=AnalyticsHealth,
    responses={503: {"model": AnalyticsHealth, "description": "The database does not answer."}},
)
async def analytics_health(engine: EngineDep) -> JSONResponse:
    """Report whether the ingestion service can store events; no authentication."""
    try:
        await asyncio.wait_for(ping(engine), HEALTH_TIMEOUT_SECONDS)
        healthy = True
    except Exception:  # any failure to answer means unhealthy, whatever the driver raised
        healthy = False
    body = AnalyticsHealth(status="healthy" if healthy else "unhealthy", timestamp=iso_z(utc_now()))
    return JSONResponse(body.model_dump(), status_code=200 if healthy else 503)


@router.post("", responses=_ERRORS, openapi_extra=_body(_EVENT_SCHEMA))
async def submit_event(request: Request, sender: EventSender, session: SessionDep) -> EventAccepted:
    """Record one usage event for the key's package."""
    raw = parse_json(await read_body(request, MAX_EVENT_BYTES))
    await charge_events(request, sender, 1)
    event = validate_event(raw)
    return await record_event(session, sender, event)


@router.post("/batch", responses=_ERRORS, openapi_extra=_body(_BATCH_SCHEMA))
async def submit_batch(request: Request, sender: EventSender, session: SessionDep) -> BatchResult:
    """Record 1 to 100 usage events; each invalid event fails alone and the rest are stored."""
    body = await read_body(request, MAX_BATCH_BYTES)
    try:  # the common case, every event valid: one pass from JSON bytes to models
        events = ValidBatch.model_validate_json(body).events
        valid, failed = list(enumerate(events)), list[FailedEvent]()
    except ValidationError:
        try:
            envelope = BatchEnvelope.model_validate(parse_json(body))
        except ValidationError as exc:
            raise AnalyticsValidationError(error_items(exc)) from None
        valid, failed = validate_batch(envelope.events)
    await charge_events(request, sender, len(valid) + len(failed))
    return await record_batch(session, sender, valid, failed)


usage_router = APIRouter(prefix="/analytics", tags=["usage analytics"])
EventsReader = Annotated[Principal, Depends(RequireScopes("events:read"))]


@usage_router.get("/packages/{package_name}/usage")
async def package_usage(
    package_name: str,
    principal: EventsReader,
    session: SessionDep,
    start: Annotated[
        str | None, Query(description="ISO 8601 date or date-time; default: end minus 30 days.")
    ] = None,
    end: Annotated[
        str | None,
        Query(description="Exclusive date-time, or a date whose whole day counts; default: now."),
    ] = None,
    group_by: GroupBy = "day",
) -> UsageReport:
    """Event counts and distinct sessions of one of the organisation's packages, grouped."""
    window = report_window(parse_bound(start, "start"), parse_bound(end, "end"))
    return await usage_report(session, principal, package_name, window, group_by)
