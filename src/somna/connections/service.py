"""A person's connections as the API and the dashboard show them, and the one place their
callers import connect and disconnect from (each job lives in a module of its own)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from somna.connections.asleep_connect import connect_asleep
from somna.connections.disconnect import disconnect, revoke_at_provider
from somna.connections.repository import ConnectionRepository
from somna.connections.return_to import check_return_to, with_query
from somna.connections.schemas import ConnectionRead, LastSync
from somna.connections.whoop_connect import (
    CALLBACK_PATH,
    CallbackResult,
    complete_whoop,
    start_whoop,
    whoop_redirect_uri,
)
from somna.models import Connection, Person, SyncRun

__all__ = [
    "CALLBACK_PATH",
    "CallbackResult",
    "check_return_to",
    "complete_whoop",
    "connect_asleep",
    "connection_read",
    "disconnect",
    "get_connection_read",
    "list_connections",
    "organization_status_counts",
    "revoke_at_provider",
    "start_whoop",
    "whoop_redirect_uri",
    "with_query",
]


def _last_sync(run: SyncRun | None) -> LastSync | None:
    if run is None:
        return None
    return LastSync(
        id=run.id,
        status=run.status,
        trigger=run.trigger,
        created_at=run.created_at,
        finished_at=run.finished_at,
        error=run.latest_error,
    )


def connection_read(connection: Connection, last: SyncRun | None) -> ConnectionRead:
    return ConnectionRead(
        id=connection.id,
        user_id=connection.person_id,
        provider=connection.provider,
        provider_user_id=connection.provider_user_id,
        status=connection.status,
        scopes=list(connection.scopes or []),
        connected_at=connection.created_at,
        token_expires_at=connection.token_expires_at,
        last_sync_at=connection.last_sync_at,
        next_sync_at=connection.next_sync_at,
        last_error=connection.last_error,
        last_sync=_last_sync(last),
    )


async def list_connections(session: AsyncSession, person: Person) -> list[ConnectionRead]:
    repository = ConnectionRepository(session)
    connections = await repository.list_for_person(person.id)
    latest = await repository.latest_runs([c.id for c in connections])
    return [connection_read(c, latest.get(c.id)) for c in connections]


async def organization_status_counts(
    session: AsyncSession, organization_id: uuid.UUID
) -> dict[tuple[str, str], int]:
    """Connections of the organisation per (provider, status), for its overview."""
    return await ConnectionRepository(session).status_counts(organization_id)


async def get_connection_read(session: AsyncSession, connection: Connection) -> ConnectionRead:
    latest = await ConnectionRepository(session).latest_runs([connection.id])
    return connection_read(connection, latest.get(connection.id))
