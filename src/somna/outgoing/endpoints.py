"""Outgoing webhooks: ``/api/v1/webhook-endpoints`` and ``/api/v1/webhook-deliveries``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response, status
from pydantic import AwareDatetime

from somna.auth.dependencies import RequireScopes, RequireSensitive
from somna.auth.principal import Principal
from somna.auth.responses import AUTH_RESPONSES, NOT_FOUND, error_response
from somna.config import Settings
from somna.db import SessionDep
from somna.jobs.dependencies import JobQueueDep
from somna.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from somna.outgoing import service
from somna.outgoing.schemas import (
    DeliveryRead,
    EndpointCreate,
    EndpointCreated,
    EndpointRead,
    EndpointUpdate,
    RecoverRead,
    SecretRotate,
)
from somna.state import app_state

router = APIRouter(tags=["webhook-endpoints"])

WebhooksRead = Annotated[Principal, Depends(RequireScopes("webhooks:read"))]
WebhooksWrite = Annotated[Principal, Depends(RequireScopes("webhooks:write"))]
WebhooksSensitive = Annotated[Principal, Depends(RequireSensitive("webhooks:write"))]

FOUND: dict[int | str, dict[str, Any]] = {**AUTH_RESPONSES, **NOT_FOUND}
INVALID: dict[int | str, dict[str, Any]] = {
    422: error_response(
        "`validation_error`; an entry of type `invalid_webhook_url` (not https, or not a "
        "public address) or `unknown_event_type`."
    )
}
SIGNED: dict[int | str, dict[str, Any]] = {
    **FOUND,
    401: error_response(
        "Invalid credentials, or with a key: `invalid_signature`, `signature_expired`, "
        "`signature_replayed`."
    ),
}
ENDPOINTS = "/webhook-endpoints"
ONE = ENDPOINTS + "/{endpoint_id}"


def _settings(request: Request) -> Settings:
    return app_state(request).settings


def _created(endpoint: Any, secret: str) -> EndpointCreated:
    return EndpointCreated(**service.endpoint_read(endpoint).model_dump(), secret=secret)


@router.post(
    ENDPOINTS,
    status_code=status.HTTP_201_CREATED,
    responses={**AUTH_RESPONSES, **INVALID},
)
async def create_endpoint(
    body: EndpointCreate, request: Request, principal: WebhooksWrite, session: SessionDep
) -> EndpointCreated:
    """Register a webhook endpoint; its signing secret is shown only in this answer."""
    endpoint, secret = await service.create_endpoint(session, _settings(request), principal, body)
    return _created(endpoint, secret)


@router.get(ENDPOINTS, responses=AUTH_RESPONSES)
async def list_endpoints(
    principal: WebhooksRead,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[EndpointRead]:
    """The organisation's webhook endpoints, newest first, without secrets."""
    rows, next_cursor = await service.list_endpoints(session, principal, limit=limit, cursor=cursor)
    return Page(data=[service.endpoint_read(row) for row in rows], next_cursor=next_cursor)


@router.get(ONE, responses=FOUND)
async def get_endpoint(
    endpoint_id: uuid.UUID, principal: WebhooksRead, session: SessionDep
) -> EndpointRead:
    """One webhook endpoint and its status (`disabled_reason`, `failing_since`)."""
    return service.endpoint_read(await service.get_endpoint(session, principal, endpoint_id))


@router.patch(ONE, responses={**FOUND, **INVALID})
async def update_endpoint(
    endpoint_id: uuid.UUID,
    request: Request,
    principal: WebhooksWrite,
    session: SessionDep,
    body: Annotated[EndpointUpdate | None, Body()] = None,
) -> EndpointRead:
    """Change an endpoint's URL, events, description or whether it is enabled."""
    # The body is optional so that an unknown id is a 404 whatever was sent.
    endpoint = await service.update_endpoint(
        session, _settings(request), principal, endpoint_id, body or EndpointUpdate()
    )
    return service.endpoint_read(endpoint)


@router.delete(ONE, status_code=status.HTTP_204_NO_CONTENT, responses=FOUND)
async def delete_endpoint(
    endpoint_id: uuid.UUID, principal: WebhooksWrite, session: SessionDep
) -> Response:
    """Delete an endpoint and its delivery log; nothing more is sent to it."""
    await service.delete_endpoint(session, principal, endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(ONE + "/rotate-secret", responses=SIGNED)
async def rotate_secret(
    endpoint_id: uuid.UUID,
    request: Request,
    principal: WebhooksSensitive,
    session: SessionDep,
    body: Annotated[SecretRotate | None, Body()] = None,
) -> EndpointCreated:
    """A new signing secret (shown once); the old one also signs through the grace period."""
    grace = (body or SecretRotate()).grace_seconds
    endpoint, secret = await service.rotate_secret(
        session, _settings(request), principal, endpoint_id, grace
    )
    return _created(endpoint, secret)


@router.post(
    ONE + "/test",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**FOUND, 409: error_response("`webhook_endpoint_disabled`: enable it first.")},
)
async def send_test(
    endpoint_id: uuid.UUID, principal: WebhooksWrite, session: SessionDep, queue: JobQueueDep
) -> DeliveryRead:
    """Send a `ping` event to this endpoint, with the usual signatures and retries."""
    delivery = await service.send_test(session, queue, principal, endpoint_id)
    return service.delivery_read(delivery)


@router.get(ONE + "/deliveries", responses=FOUND)
async def list_deliveries(
    endpoint_id: uuid.UUID,
    principal: WebhooksRead,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[DeliveryRead]:
    """The endpoint's delivery log, newest first: one row per message, with every attempt."""
    rows, next_cursor = await service.list_deliveries(
        session, principal, endpoint_id, limit=limit, cursor=cursor
    )
    return Page(data=[service.delivery_read(row) for row in rows], next_cursor=next_cursor)


@router.post(ONE + "/recover", status_code=status.HTTP_202_ACCEPTED, responses=FOUND)
async def recover(
    endpoint_id: uuid.UUID,
    principal: WebhooksWrite,
    session: SessionDep,
    queue: JobQueueDep,
    since: Annotated[
        AwareDatetime | None,
        Query(description="Replay failures created since then; omitted: every failure."),
    ] = None,
) -> RecoverRead:
    """Replay the endpoint's failed deliveries created since `since` (up to 1000 at a time)."""
    start = since or datetime(1970, 1, 1, tzinfo=UTC)
    replayed = await service.recover(session, queue, principal, endpoint_id, start)
    return RecoverRead(replayed=replayed)


@router.post(
    "/webhook-deliveries/{delivery_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    responses=FOUND,
)
async def retry_delivery(
    delivery_id: uuid.UUID, principal: WebhooksWrite, session: SessionDep, queue: JobQueueDep
) -> DeliveryRead:
    """Send one message again now, with the same `webhook-id` and a fresh retry schedule."""
    delivery = await service.retry_delivery(session, queue, principal, delivery_id)
    return service.delivery_read(delivery)
