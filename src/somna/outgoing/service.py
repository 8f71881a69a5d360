"""Outgoing webhooks: endpoints (CRUD, secrets), events recorded in the caller's transaction,
and the delivery log with its replays. Sending an attempt is ``somna.outgoing.delivery``."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from somna.auth.principal import Principal
from somna.config import Settings
from somna.jobs import outbox
from somna.jobs.port import JobQueue, JobRequest
from somna.kit.crypto import SecretBox
from somna.kit.time import utc_now
from somna.models import OutgoingEvent, WebhookDelivery, WebhookEndpoint
from somna.outgoing import signing
from somna.outgoing.catalog import ALL, EVENT_TYPES, EXHAUSTED, PING, subscribes
from somna.outgoing.exceptions import (
    UnknownEventType,
    WebhookDeliveryNotFound,
    WebhookEndpointDisabled,
    WebhookEndpointNotFound,
)
from somna.outgoing.repository import DeliveryRepository, EndpointRepository, EventRepository
from somna.outgoing.schemas import (
    AttemptRead,
    DeliveryRead,
    EndpointCreate,
    EndpointRead,
    EndpointUpdate,
)
from somna.outgoing.urls import check_url

log = structlog.get_logger(__name__)

DELIVER_TASK = "outgoing.deliver"
# Infrastructure failures only (the database); failed HTTP attempts are retried on the
# webhook schedule by queueing a new job, not by the queue's own backoff.
DELIVER_MAX_ATTEMPTS = 3
SECRET_PURPOSE = "somna.webhook-secrets.v1"
RECOVER_LIMIT = 1000


def secret_box(settings: Settings) -> SecretBox:
    return settings.secret_box(SECRET_PURPOSE)


# --- events --------------------------------------------------------------------------------


def person_of(data: Mapping[str, Any]) -> uuid.UUID | None:
    """The one person an event's data is about, if any."""
    value = data.get("person_id")
    if value is None:
        user_ids = data.get("user_ids")
        if isinstance(user_ids, list) and len(user_ids) == 1:
            value = user_ids[0]
    try:
        return uuid.UUID(str(value)) if value is not None else None
    except ValueError:
        return None


async def record_event(
    session: AsyncSession,
    queue: JobQueue | None,
    organization_id: uuid.UUID,
    event_type: str,
    data: Mapping[str, Any],
    *,
    person_id: uuid.UUID | None = None,
    endpoint_id: uuid.UUID | None = None,
    keep: bool = False,
    exclude: uuid.UUID | None = None,
    tie_to_person: bool = True,
) -> list[WebhookDelivery]:
    """Write an event and one delivery per subscribed endpoint in ``session``'s transaction,
    with their jobs in the outbox: a rollback drops all of it, a commit sends it.

    An event about a person (``person_id``) carries that person's next ``sequence`` number;
    others carry ``null``. ``endpoint_id`` sends to that endpoint only, whatever it subscribes
    to (``ping``). An event nobody subscribes to is not stored unless ``keep``. An event about
    one person (its data's ``person_id``, or a single ``user_ids`` entry) is tied to them and
    goes when they are deleted, unless not ``tie_to_person`` (``person.deleted``, which
    outlives them).
    """
    endpoints = await EndpointRepository(session).enabled_in_organization(organization_id)
    if endpoint_id is not None:
        targets = [endpoint for endpoint in endpoints if endpoint.id == endpoint_id]
    else:
        targets = [e for e in endpoints if subscribes(e.events, event_type) and e.id != exclude]
    if not targets and not keep:
        return []
    events = EventRepository(session)
    # Taken last in the change's transaction, so the lock on the person's counter is held
    # briefly; and only for stored events, so numbers are skipped only by subscriptions.
    sequence = await events.next_sequence(person_id) if person_id is not None else None
    now = utc_now()
    event_id = uuid.uuid4()
    payload = {
        "id": str(event_id),
        "type": event_type,
        "created_at": now.isoformat(),
        "organization_id": str(organization_id),
        "sequence": sequence,
        "data": dict(data),
    }
    await events.add(
        OutgoingEvent(
            id=event_id,
            organization_id=organization_id,
            event_type=event_type,
            person_id=person_of(data) if tie_to_person else None,
            payload=payload,
            created_at=now,
        ),
        flush=False,
    )
    deliveries = [
        WebhookDelivery(
            id=uuid.uuid4(),
            organization_id=organization_id,
            endpoint_id=endpoint.id,
            event_id=event_id,
            event_type=event_type,
            status="pending",
            attempts=[],
            round_attempts=0,
            created_at=now,
            updated_at=now,
        )
        for endpoint in targets
    ]
    session.add_all(deliveries)
    await session.flush()
    for delivery in deliveries:
        await schedule(session, queue, delivery, delay=0.0)
    log.info("outgoing.event_recorded", event_type=event_type, deliveries=len(deliveries))
    return deliveries


async def schedule(
    session: AsyncSession, queue: JobQueue | None, delivery: WebhookDelivery, *, delay: float
) -> None:
    """Queue the next attempt of ``delivery`` in ``delay`` seconds, in the caller's transaction.

    Without a queue (code that runs outside the API and the worker) the job waits in the
    outbox for the periodic relay, a minute at most.
    """
    token = uuid.uuid4().hex
    run_at = utc_now() + timedelta(seconds=delay)
    delivery.status, delivery.job_token, delivery.next_attempt_at = "pending", token, run_at
    args = {"delivery_id": str(delivery.id), "token": token}
    # One attempt at a time per endpoint: deliveries reach it in the order they were queued,
    # as far as retries allow (docs/webhooks.md, "Ordering").
    lock_key = f"webhook-endpoint:{delivery.endpoint_id}"
    when = run_at if delay > 0 else None
    if queue is not None:
        await queue.enqueue(
            session, DELIVER_TASK, args, lock_key=lock_key, run_at=when,
            max_attempts=DELIVER_MAX_ATTEMPTS,
        )  # fmt: skip
        return
    request = JobRequest(
        task=DELIVER_TASK, args=args, lock_key=lock_key, dedup_key=None, priority=0,
        run_at=when, max_attempts=DELIVER_MAX_ATTEMPTS,
    )  # fmt: skip
    await outbox.stage(session, request)


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
    await session.delete(endpoint)
    await session.flush()
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


__all__ = ["DELIVER_TASK", "EXHAUSTED", "record_event", "schedule"]
