"""Outgoing webhooks: endpoints (CRUD, secrets) and the delivery log with its replays.
Recording events is ``outgoing.recording``; sending an attempt, ``outgoing.delivery``."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from somna.auth.principal import Principal
from somna.config import Settings
from somna.jobs.port import JobQueue
from somna.kit.crypto import SecretBox
from somna.kit.time import utc_now
from somna.models import WebhookDelivery, WebhookEndpoint
from somna.outgoing import signing
from somna.outgoing.catalog import ALL, EVENT_TYPES, PING
from somna.outgoing.exceptions import (
    UnknownEventType,
    WebhookDeliveryNotFound,
    WebhookEndpointDisabled,
    WebhookEndpointNotFound,
)
from somna.outgoing.recording import record_event, schedule
from somna.outgoing.repository import DeliveryRepository, EndpointRepository
from somna.outgoing.schemas import (
    AttemptRead,
    DeliveryRead,
    EndpointCreate,
    EndpointRead,
    EndpointUpdate,
)
from somna.outgoing.urls import check_url

log = structlog.get_logger(__name__)

SECRET_PURPOSE = "somna.webhook-secrets.v1"
RECOVER_LIMIT = 1000


def secret_box(settings: Settings) -> SecretBox:
    return settings.secret_box(SECRET_PURPOSE)


# --- endpoints -----------------------------------------------------------------------------


def normalise_events(events: list[str] | None) -> list[str]:
    """``None`` or anything with ``*`` is every type; otherwise known types, once each."""
    if events is None or ALL in events:
        return [ALL]
    unknown = [item for item in events if item not in EVENT_TYPES]
    if unknown:
        raise UnknownEventType(
            f"Unknown event type {unknown[0]!r}.",
            extra={"unknown": unknown, "known": [ALL, *EVENT_TYPES]},
        )
    return list(dict.fromkeys(events))


def endpoint_read(endpoint: WebhookEndpoint, *, now: datetime | None = None) -> EndpointRead:
    moment = now or utc_now()
    expires = endpoint.previous_secret_expires_at
    return EndpointRead(
        id=endpoint.id,
        url=endpoint.url,
        events=endpoint.events,
        description=endpoint.description,
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason,
        failing_since=endpoint.failing_since,
        secret_rotated_until=expires if expires is not None and expires > moment else None,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


async def create_endpoint(
    session: AsyncSession, settings: Settings, principal: Principal, body: EndpointCreate
) -> tuple[WebhookEndpoint, str]:
    """The new endpoint and its signing secret (returned once, stored encrypted)."""
    await check_url(body.url, allow_private=settings.webhooks_allow_private)
    secret = signing.new_secret()
    now = utc_now()
    endpoint = await EndpointRepository(session).add(
        WebhookEndpoint(
            organization_id=principal.organization_id,
            url=body.url,
            description=body.description,
            events=normalise_events(body.events),
            enabled=body.enabled,
            secret_encrypted=secret_box(settings).encrypt(secret),
            created_at=now,
            updated_at=now,
        )
    )
    log.info("outgoing.endpoint_created", endpoint_id=str(endpoint.id))
    return endpoint, secret


async def get_endpoint(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    endpoint = await EndpointRepository(session).get_in_organization(
        principal.organization_id, endpoint_id
    )
    if endpoint is None:
        raise WebhookEndpointNotFound(f"No webhook endpoint with id {endpoint_id}.")
    return endpoint


async def list_endpoints(
    session: AsyncSession, principal: Principal, *, limit: int, cursor: str | None
) -> tuple[list[WebhookEndpoint], str | None]:
    return await EndpointRepository(session).page(
        principal.organization_id, limit=limit, cursor=cursor
    )


async def update_endpoint(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    endpoint_id: uuid.UUID,
    body: EndpointUpdate,
) -> WebhookEndpoint:
    endpoint = await get_endpoint(session, principal, endpoint_id)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("url") is not None:
        await check_url(changes["url"], allow_private=settings.webhooks_allow_private)
        endpoint.url = changes["url"]
    if "events" in changes:
        endpoint.events = normalise_events(changes["events"])
    if changes.get("description") is not None:
        endpoint.description = changes["description"]
    if changes.get("enabled") is not None:
        endpoint.enabled = changes["enabled"]
        if endpoint.enabled:
            endpoint.disabled_reason = endpoint.failing_since = None
    endpoint.updated_at = utc_now()
    await session.flush()
    return endpoint


async def delete_endpoint(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID
) -> None:
    """Delete the endpoint with its delivery log; queued attempts find nothing and stop."""
    endpoint = await get_endpoint(session, principal, endpoint_id)
    await EndpointRepository(session).remove(endpoint)
    log.info("outgoing.endpoint_deleted", endpoint_id=str(endpoint_id))


async def rotate_secret(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    endpoint_id: uuid.UUID,
    grace_seconds: int,
) -> tuple[WebhookEndpoint, str]:
    """A new signing secret; the current one keeps signing too for ``grace_seconds``."""
    endpoint = await get_endpoint(session, principal, endpoint_id)
    secret = signing.new_secret()
    now = utc_now()
    if grace_seconds > 0:
        endpoint.previous_secret_encrypted = endpoint.secret_encrypted
        endpoint.previous_secret_expires_at = now + timedelta(seconds=grace_seconds)
    else:
        endpoint.previous_secret_encrypted = endpoint.previous_secret_expires_at = None
    endpoint.secret_encrypted = secret_box(settings).encrypt(secret)
    endpoint.updated_at = now
    await session.flush()
    log.info("outgoing.secret_rotated", endpoint_id=str(endpoint_id), grace=grace_seconds)
    return endpoint, secret


def signing_secrets(settings: Settings, endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign an attempt now: the current one, and the previous one during a
    rotation's grace period."""
    box = secret_box(settings)
    found = [box.decrypt(endpoint.secret_encrypted)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_encrypted and expires is not None and expires > now:
        found.append(box.decrypt(endpoint.previous_secret_encrypted))
    return found


async def send_test(
    session: AsyncSession, queue: JobQueue, principal: Principal, endpoint_id: uuid.UUID
) -> WebhookDelivery:
    """A ``ping`` to this endpoint whatever its subscription, through the usual delivery."""
    endpoint = await get_endpoint(session, principal, endpoint_id)
    data = {"endpoint_id": str(endpoint.id), "message": "Test delivery from Somna."}
    deliveries = await record_event(
        session, queue, principal.organization_id, PING, data, endpoint_id=endpoint.id
    )
    if not deliveries:  # disabled: record_event only targets enabled endpoints
        raise WebhookEndpointDisabled(
            "This webhook endpoint is disabled; enable it to send a test.",
            extra={"endpoint_id": str(endpoint_id)},
        )
    return deliveries[0]


# --- the delivery log ----------------------------------------------------------------------


def delivery_read(delivery: WebhookDelivery) -> DeliveryRead:
    return DeliveryRead(
        id=delivery.id,
        endpoint_id=delivery.endpoint_id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        webhook_id=delivery.webhook_id,
        status=delivery.status,
        attempts=[AttemptRead.model_validate(item) for item in delivery.attempts],
        next_attempt_at=delivery.next_attempt_at if delivery.status == "pending" else None,
        created_at=delivery.created_at,
        updated_at=delivery.updated_at,
    )


async def list_deliveries(
    session: AsyncSession,
    principal: Principal,
    endpoint_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[WebhookDelivery], str | None]:
    endpoint = await get_endpoint(session, principal, endpoint_id)
    return await DeliveryRepository(session).page_for_endpoint(
        endpoint.id, limit=limit, cursor=cursor
    )


async def retry_delivery(
    session: AsyncSession, queue: JobQueue, principal: Principal, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """Send one message again now, with a fresh retry schedule and the same ``webhook-id``."""
    delivery = await DeliveryRepository(session).get_in_organization(
        principal.organization_id, delivery_id
    )
    if delivery is None:
        raise WebhookDeliveryNotFound(f"No webhook delivery with id {delivery_id}.")
    await _replay(session, queue, delivery)
    return delivery


async def recover(
    session: AsyncSession,
    queue: JobQueue,
    principal: Principal,
    endpoint_id: uuid.UUID,
    since: datetime,
) -> int:
    """Replay the endpoint's failed deliveries created since ``since``; returns how many."""
    endpoint = await get_endpoint(session, principal, endpoint_id)
    failed = await DeliveryRepository(session).failed_since(endpoint.id, since, limit=RECOVER_LIMIT)
    for delivery in failed:
        await _replay(session, queue, delivery)
    log.info("outgoing.recovered", endpoint_id=str(endpoint_id), deliveries=len(failed))
    return len(failed)


async def _replay(session: AsyncSession, queue: JobQueue, delivery: WebhookDelivery) -> None:
    delivery.round_attempts = 0
    delivery.updated_at = utc_now()
    # A new token: a job still queued for the old schedule finds it stale and does nothing.
    await schedule(session, queue, delivery, delay=0.0)
    await session.flush()
