"""Events recorded in the caller's transaction, one delivery per subscribed endpoint, and
the job of each attempt queued with them (the outbox): a rollback drops all of it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from somna.jobs import outbox
from somna.jobs.port import JobQueue, JobRequest
from somna.kit.time import utc_now
from somna.models import OutgoingEvent, WebhookDelivery, WebhookEndpoint
from somna.outgoing.catalog import subscribes
from somna.outgoing.repository import DeliveryRepository, EndpointRepository, EventRepository

log = structlog.get_logger(__name__)

DELIVER_TASK = "outgoing.deliver"
# Infrastructure failures only (the database); failed HTTP attempts are retried on the
# webhook schedule by queueing a new job, not by the queue's own backoff.
DELIVER_MAX_ATTEMPTS = 3


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
    targets = await _targets(session, organization_id, event_type, endpoint_id, exclude)
    if not targets and not keep:
        return []
    events = EventRepository(session)
    # Taken last in the change's transaction, so the lock on the person's counter is held
    # briefly; and only for stored events, so numbers are skipped only by subscriptions.
    sequence = await events.next_sequence(person_id) if person_id is not None else None
    now = utc_now()
    event = _event(organization_id, event_type, data, sequence, now, tie_to_person)
    await events.add(event, flush=False)
    deliveries = [_delivery(event, endpoint, now) for endpoint in targets]
    await DeliveryRepository(session).add_all(deliveries)
    for delivery in deliveries:
        await schedule(session, queue, delivery, delay=0.0)
    log.info("outgoing.event_recorded", event_type=event_type, deliveries=len(deliveries))
    return deliveries


async def _targets(
    session: AsyncSession,
    organization_id: uuid.UUID,
    event_type: str,
    endpoint_id: uuid.UUID | None,
    exclude: uuid.UUID | None,
) -> list[WebhookEndpoint]:
    endpoints = await EndpointRepository(session).enabled_in_organization(organization_id)
    if endpoint_id is not None:
        return [endpoint for endpoint in endpoints if endpoint.id == endpoint_id]
    return [e for e in endpoints if subscribes(e.events, event_type) and e.id != exclude]


def _event(
    organization_id: uuid.UUID,
    event_type: str,
    data: Mapping[str, Any],
    sequence: int | None,
    now: datetime,
    tie_to_person: bool,
) -> OutgoingEvent:
    event_id = uuid.uuid4()
    payload = {
        "id": str(event_id),
        "type": event_type,
        "created_at": now.isoformat(),
        "organization_id": str(organization_id),
        "sequence": sequence,
        "data": dict(data),
    }
    return OutgoingEvent(
        id=event_id,
        organization_id=organization_id,
        event_type=event_type,
        person_id=person_of(data) if tie_to_person else None,
        payload=payload,
        created_at=now,
    )


def _delivery(event: OutgoingEvent, endpoint: WebhookEndpoint, now: datetime) -> WebhookDelivery:
    return WebhookDelivery(
        id=uuid.uuid4(),
        organization_id=event.organization_id,
        endpoint_id=endpoint.id,
        event_id=event.id,
        event_type=event.event_type,
        status="pending",
        attempts=[],
        round_attempts=0,
        created_at=now,
        updated_at=now,
    )


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
