"""What connecting any provider shares: provider calls inside a request, storing the link,
and announcing the change.

Provider calls happen before the request's own writes: a token refresh commits through its
own session (so other workers see the rotated token at once), and it must never wait for a row
the request has locked.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import TypeVar

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from somna.connections.exceptions import ProviderBusy
from somna.connections.ports import ConnectionServices
from somna.connections.repository import ConnectionRepository
from somna.jobs.port import JobQueue, RetryLater
from somna.models import Connection, Person
from somna.outgoing import emit

log = structlog.get_logger(__name__)
T = TypeVar("T")


def paced(
    services: ConnectionServices, provider: str, person_id: uuid.UUID
) -> httpx.AsyncBaseTransport:
    """Connect-time calls spend the provider's budget like syncs do, under the person's key."""
    return services.paced_transport(provider, f"connect:{person_id}")


async def call_provider(awaitable: Awaitable[T]) -> T:
    """A provider call inside a request: a budget wait becomes a 503, never a 500."""
    try:
        return await awaitable
    except RetryLater as later:
        raise ProviderBusy(
            "The provider's request budget is spent for now; try again shortly.",
            extra={"retry_after": round(later.seconds, 1)},
            headers={"Retry-After": str(max(1, int(later.seconds)))},
        ) from later


async def store_link(
    session: AsyncSession,
    services: ConnectionServices,
    person: Person,
    provider: str,
    provider_user_id: str,
    values: dict[str, object],
) -> Connection:
    """Create the person's connection to ``provider``, or bring a previous one back to life."""
    repository = ConnectionRepository(session)
    connection = await repository.for_person(person.id, provider)
    if connection is None:
        connection = await repository.add(
            Connection(
                organization_id=person.organization_id, person_id=person.id, provider=provider
            ),
            flush=False,
        )
    elif connection.provider_user_id not in (None, provider_user_id):
        # Another vendor account: backfill it.
        await services.forget_progress(session, connection.id)
    connection.provider_user_id = provider_user_id
    connection.status = "active"
    connection.last_error = None
    connection.next_sync_at = None
    for name, value in values.items():
        setattr(connection, name, value)
    await session.flush()
    return connection


async def connected(
    session: AsyncSession, services: ConnectionServices, queue: JobQueue, connection: Connection
) -> None:
    """A link just stored: queue its backfill and announce it, in the caller's transaction."""
    await services.request_backfill(session, queue, connection)
    await announce(session, queue, connection, "connection.connected")
    log.info("connection.connected", provider=connection.provider, connection_id=str(connection.id))


async def announce(
    session: AsyncSession,
    queue: JobQueue | None,
    connection: Connection,
    event_type: str,
    status: str | None = None,
) -> None:
    """The outgoing-webhook event of a connection change, in the caller's transaction."""
    await emit.connection_changed(
        session, queue, connection.organization_id, event_type,
        person_id=connection.person_id, connection_id=connection.id,
        provider=connection.provider, status=status or connection.status,
    )  # fmt: skip
