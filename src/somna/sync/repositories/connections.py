"""SQL of the connections a sync reads and updates: which to sync, and a run's end on them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import case, literal, select, update

from somna.kit.repository import Repository
from somna.models import Connection, Person

# Not a stored status: what ``status_of`` says of a connection whose person is awaiting
# deletion (docs/privacy.md), whose syncs stop at their next page.
PAUSED = "paused"


class SyncConnectionRepository(Repository[Connection]):
    """The few connection reads and writes a sync makes inside its page transactions."""

    model = Connection

    async def with_person(
        self, connection_id: uuid.UUID | None, person_id: uuid.UUID | None = None
    ) -> tuple[Connection | None, Person | None]:
        """A connection (``None`` when it is gone or none is named) and a person: the one
        named, else the connection's."""
        connection = await self.get_unscoped(connection_id) if connection_id is not None else None
        if person_id is None and connection is not None:
            person_id = connection.person_id
        person = await self.session.get(Person, person_id) if person_id is not None else None
        return connection, person

    async def active_with_zones(
        self,
        organization_id: uuid.UUID,
        *,
        person_id: uuid.UUID | None = None,
        provider: str | None = None,
    ) -> list[tuple[Connection, str]]:
        """Active connections of an organisation (or one person) with each person's zone."""
        statement = (
            select(Connection, Person.timezone)
            .join(Person, Person.id == Connection.person_id)
            .where(
                Connection.organization_id == organization_id,
                Connection.status == "active",
                Person.delete_after.is_(None),  # paused while their deletion is scheduled
            )
            .order_by(Connection.created_at, Connection.id)
        )
        if person_id is not None:
            statement = statement.where(Connection.person_id == person_id)
        if provider is not None:
            statement = statement.where(Connection.provider == provider)
        return [(row[0], row[1]) for row in await self.session.execute(statement)]

    async def due(self, now: datetime, limit: int) -> list[Connection]:
        statement = (
            select(Connection)
            .join(Person, Person.id == Connection.person_id)
            .where(
                Connection.status == "active",
                Connection.next_sync_at <= now,
                Person.delete_after.is_(None),  # paused while their deletion is scheduled
            )
            .order_by(Connection.next_sync_at)
            .limit(limit)
        )
        return list(await self.session.scalars(statement))

    async def note_outcome(
        self,
        connection_id: uuid.UUID,
        *,
        error: str | None,
        synced_at: datetime | None,
        next_sync_at: datetime | None,
    ) -> bool | None:
        """A run's end on its connection, by one UPDATE: a connection a disconnect deleted
        meanwhile (on SQLite the transaction reads before it writes) is no row to update, not
        a stale ORM object whose flush fails the run. ``next_sync_at`` applies only while the
        connection is active. Whether the connection had never synced before, or None when
        it is gone."""
        before = await self.session.execute(
            select(Connection.last_sync_at).where(Connection.id == connection_id)
        )
        found = before.first()
        if found is None:
            return None
        values: dict[str, Any] = {"last_error": error}
        if synced_at is not None:
            values["last_sync_at"] = synced_at
        if next_sync_at is not None:
            values["next_sync_at"] = case(
                (
                    Connection.status == "active",
                    literal(next_sync_at, Connection.next_sync_at.type),
                ),
                else_=Connection.next_sync_at,
            )
        await self.session.execute(
            update(Connection)
            .where(Connection.id == connection_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return found[0] is None

    async def status_of(self, connection_id: uuid.UUID) -> str | None:
        """The connection's status, or ``PAUSED`` while its person's deletion is scheduled;
        unlocked: a page commit checks both again, holding the connection row, in its
        checkpoint statement (``CheckpointRepository.save``)."""
        statement = (
            select(Connection.status, Person.delete_after)
            .join(Person, Person.id == Connection.person_id)
            .where(Connection.id == connection_id)
        )
        row = (await self.session.execute(statement)).first()
        if row is None:
            return None
        return PAUSED if row.delete_after is not None else str(row.status)
