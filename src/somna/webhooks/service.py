"""Receiving webhooks (verify, store once, enqueue) and acting on them (fetch or delete the one
record the event names)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from somna.config import Settings
from somna.connections.clients import ConnectionRef, open_provider
from somna.connections.repository import ConnectionRepository
from somna.errors import describe
from somna.jobs.port import JobQueue, RetryLater
from somna.kit.time import utc_now
from somna.models import Connection, Person, WebhookEvent
from somna.outgoing import emit
from somna.pacing import PacedTransport
from somna.people.repository import PersonRepository
from somna.providers.base import Collection, WebhookNotification
from somna.providers.exceptions import ProviderError, ProviderRateLimited
from somna.providers.registry import get_provider
from somna.records.canonical import AnyRecord
from somna.records.repository import COLLECTION_MODELS, RecordRepository
from somna.sync.engine import PERSON_HIDDEN, SyncServices
from somna.webhooks.repository import WebhookEventRepository, delete_recoveries

log = structlog.get_logger(__name__)

PROCESS_TASK = "webhooks.process"
REDRIVE_TASK = "webhooks.redrive"
REDRIVE_BATCH = 500
REDRIVE_HORIZON = timedelta(days=1)


@dataclass(frozen=True)
class Receipt:
    received: int
    duplicates: int
    queued: int


async def receive(
    session: AsyncSession,
    settings: Settings,
    queue: JobQueue,
    provider: str,
    headers: Mapping[str, str],
    body: bytes,
) -> Receipt:
    """Check authenticity over the raw body first (``InvalidWebhook`` otherwise), then store
    each event once and queue one fetch per connection of the vendor account."""
    notifications = get_provider(provider).verify_webhook(settings, headers, body)
    duplicates = queued = 0
    inbox = WebhookEventRepository(session)
    for notification in notifications:
        event_id = await inbox.insert_new(_row(notification))
        if event_id is None:
            duplicates += 1
            continue
        connections = await _connections(session, notification)
        if not connections:
            await inbox.mark_processed(event_id, "no active connection for this provider user")
            continue
        queued += await _enqueue_processing(session, queue, event_id, connections)
    log.info(
        "webhook.received",
        provider=provider,
        events=len(notifications),
        duplicates=duplicates,
        queued=queued,
    )
    return Receipt(len(notifications), duplicates, queued)


async def _enqueue_processing(
    session: AsyncSession, queue: JobQueue, event_id: uuid.UUID, connections: list[Connection]
) -> int:
    for connection in connections:
        args = {"event_id": str(event_id), "connection_id": str(connection.id)}
        await queue.enqueue(session, PROCESS_TASK, args)
    return len(connections)


async def redrive(
    sessionmaker: async_sessionmaker[AsyncSession], queue: JobQueue, settings: Settings
) -> int:
    """Queue again the events still unhandled ``SOMNA_REDRIVE_AFTER_MINUTES`` after they
    arrived (their job was lost or failed for good); events a day old are given up, the
    scheduled sync covers what they named. Returns how many jobs were queued."""
    now = utc_now()
    queued = 0
    async with sessionmaker() as session, session.begin():
        inbox = WebhookEventRepository(session)
        given_up = await inbox.give_up(now - REDRIVE_HORIZON, "not processed within a day")
        stale = await inbox.unprocessed(
            now - REDRIVE_HORIZON,
            now - timedelta(minutes=settings.redrive_after_minutes),
            REDRIVE_BATCH,
        )
        for event in stale:
            notification_user = event.provider_user_id
            active = (
                await ConnectionRepository(session).syncable_for_provider_user(
                    event.provider, notification_user
                )
                if notification_user
                else []
            )
            if not active:
                await inbox.mark_processed(event.id, "no active connection for this provider user")
                continue
            queued += await _enqueue_processing(session, queue, event.id, active)
    if queued or given_up:
        log.warning("webhook.redriven", jobs=queued, given_up=given_up)
    return queued


def _row(notification: WebhookNotification) -> dict[str, object]:
    return {
        "provider": notification.provider,
        "event_id": notification.event_id[:200],
        "event_type": notification.event_type[:100],
        "provider_user_id": notification.provider_user_id,
        "record_id": notification.record_id,
        "collection": notification.collection,
        "payload": dict(notification.payload),
    }


async def _connections(
    session: AsyncSession, notification: WebhookNotification
) -> list[Connection]:
    if notification.provider_user_id is None:
        return []
    return await ConnectionRepository(session).syncable_for_provider_user(
        notification.provider, notification.provider_user_id
    )


# --- processing ---------------------------------------------------------------------------


async def process(
    services: SyncServices,
    event_id: uuid.UUID,
    connection_id: uuid.UUID,
    *,
    last_attempt: bool,
) -> None:
    """Fetch (or delete) the record an inbox event names, for one connection."""
    async with services.sessionmaker() as session:
        event = await WebhookEventRepository(session).get_unscoped(event_id)
        connection = await ConnectionRepository(session).get_unscoped(connection_id)
        people = PersonRepository(session)
        person = await people.get_unscoped(connection.person_id) if connection else None
    if event is None:
        return
    problem = _unworkable(event, connection, person)
    if problem is not None or connection is None:
        await _done(services, event_id, problem)
        return
    collection: Collection = event.collection  # type: ignore[assignment]  # checked above
    record_id = str(event.record_id)
    if event.event_type.endswith(".deleted"):
        await _store(services, event_id, connection, collection, record_id, None)
        return
    fetched, record = await _fetch(
        services, event_id, connection, person, collection, record_id, last_attempt
    )
    if fetched:
        await _store(services, event_id, connection, collection, record_id, record)


def _unworkable(
    event: WebhookEvent, connection: Connection | None, person: Person | None
) -> str | None:
    if connection is None or connection.status != "active":
        return "the connection is no longer active"
    if person is not None and person.delete_after is not None:
        # Paused: a restore syncs the connection, which fetches what this event named.
        return PERSON_HIDDEN
    if event.collection not in COLLECTION_MODELS or not event.record_id:
        return f"nothing to fetch for {event.event_type}"
    return None


async def _fetch(
    services: SyncServices,
    event_id: uuid.UUID,
    connection: Connection,
    person: Person | None,
    collection: Collection,
    record_id: str,
    last_attempt: bool,
) -> tuple[bool, AnyRecord | None]:
    """``(True, record)`` (None: the provider no longer has it); ``(False, None)``: given up."""
    ref = ConnectionRef(
        connection.id,
        connection.provider,
        connection.provider_user_id,
        person.timezone if person else None,
    )
    transport = PacedTransport(
        services.pacer, connection.provider, str(connection.id), services.transport
    )
    provider = open_provider(
        services.settings, services.sessionmaker, services.engine, ref, transport=transport
    )
    try:
        return True, await provider.fetch_record(collection, record_id)
    except ProviderRateLimited as exc:
        raise RetryLater(exc.retry_after, "provider rate limit") from exc
    except ProviderError as exc:
        if exc.retryable and not last_attempt:
            raise
        await _done(services, event_id, describe(exc))
        return False, None
    finally:
        await provider.aclose()


async def _store(
    services: SyncServices,
    event_id: uuid.UUID,
    connection: Connection,
    collection: Collection,
    record_id: str,
    record: AnyRecord | None,
) -> None:
    async with services.sessionmaker() as session, session.begin():
        if await ConnectionRepository(session).get_unscoped(connection.id) is None:
            await WebhookEventRepository(session).mark_processed(event_id, "connection deleted")
            return
        records = RecordRepository(session)
        changes: dict[str, dict[str, Any]] = {}
        if record is not None:
            result = await records.upsert(connection.id, connection.person_id, [record])
            changes[collection] = {
                "created": result.inserted_rows,
                "updated": result.updated_rows,
            }
        elif collection == "recovery":
            removed = await delete_recoveries(session, connection.id, [record_id])
            changes["recovery"] = {"deleted": removed}
        else:
            changes[collection] = {
                "deleted": await records.delete_rows(connection.id, collection, [record_id])
            }
            if collection == "sleep":
                removed = await delete_recoveries(session, connection.id, [record_id])
                changes["recovery"] = {"deleted": removed}
        for changed, rows in changes.items():
            # In the store's transaction, like a sync page's: a rollback announces nothing.
            await emit.records_changed(
                session, services.queue, connection.organization_id,
                person_id=connection.person_id, connection_id=connection.id,
                provider=connection.provider, collection=changed, **rows,
            )  # fmt: skip
        await WebhookEventRepository(session).mark_processed(event_id)


async def _done(services: SyncServices, event_id: uuid.UUID, error: str | None) -> None:
    async with services.sessionmaker() as session, session.begin():
        await WebhookEventRepository(session).mark_processed(event_id, error)
