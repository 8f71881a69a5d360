"""SQL of sync: runs, checkpoints, and the reads of stored records a sync plans with."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, select, update

from somna.kit.pagination import keyset_page
from somna.kit.repository import Repository
from somna.kit.time import utc_now
from somna.models import Connection, Person, Recovery, SyncCheckpoint, SyncRun
from somna.records.repository import COLLECTION_MODELS

PENDING_STATUSES = ("queued", "running")
# The column a collection's records are placed in time by (what provider windows filter on).
TIME_COLUMNS = {
    "sleep": "start_at",
    "cycles": "start_at",
    "workouts": "start_at",
    "recovery": "recorded_at",
}
# Collections whose records have a start and an end, so a fully listed window proves that a
# stored record missing from the listing was deleted at the provider.
RECONCILABLE = ("sleep", "workouts", "cycles")


class SyncRunRepository(Repository[SyncRun]):
    model = SyncRun

    async def queued_incremental(self, connection_id: uuid.UUID) -> SyncRun | None:
        statement = select(SyncRun).where(
            SyncRun.connection_id == connection_id,
            SyncRun.status == "queued",
            SyncRun.window_start.is_(None),
        )
        return await self.session.scalar(statement.order_by(SyncRun.created_at).limit(1))

    async def next_for_connection(self, connection_id: uuid.UUID) -> SyncRun | None:
        """The run to work on: one a dead worker left running first, else the oldest queued."""
        statement = (
            select(SyncRun)
            .where(SyncRun.connection_id == connection_id, SyncRun.status.in_(PENDING_STATUSES))
            .order_by(case((SyncRun.status == "running", 0), else_=1), SyncRun.created_at)
            .limit(1)
        )
        return await self.session.scalar(statement)

    async def has_pending(self, connection_id: uuid.UUID) -> bool:
        statement = select(func.count()).where(
            SyncRun.connection_id == connection_id, SyncRun.status.in_(PENDING_STATUSES)
        )
        return bool(await self.session.scalar(statement))

    async def cancel_pending(self, connection_id: uuid.UUID, reason: str) -> int:
        now = utc_now()
        statement = (
            update(SyncRun)
            .where(SyncRun.connection_id == connection_id, SyncRun.status.in_(PENDING_STATUSES))
            .values(
                status="cancelled",
                finished_at=now,
                errors=[{"at": now.isoformat(), "collection": None, "error": reason}],
            )
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(statement)
        return int(getattr(result, "rowcount", 0) or 0)

    async def latest_for_connections(
        self, connection_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, SyncRun]:
        if not connection_ids:
            return {}
        newest = (
            select(SyncRun.connection_id, func.max(SyncRun.created_at).label("created_at"))
            .where(SyncRun.connection_id.in_(list(connection_ids)))
            .group_by(SyncRun.connection_id)
            .subquery()
        )
        statement = select(SyncRun).join(
            newest,
            (SyncRun.connection_id == newest.c.connection_id)
            & (SyncRun.created_at == newest.c.created_at),
        )
        return {run.connection_id: run for run in await self.session.scalars(statement)}  # type: ignore[misc]

    async def get_in_organization(
        self, organization_id: uuid.UUID, run_id: uuid.UUID
    ) -> SyncRun | None:
        statement = select(SyncRun).where(
            SyncRun.id == run_id, SyncRun.organization_id == organization_id
        )
        return await self.session.scalar(statement)

    async def page(
        self,
        organization_id: uuid.UUID,
        *,
        person_id: uuid.UUID | None,
        provider: str | None,
        status: str | None,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[Any], str | None]:
        statement = select(SyncRun).where(SyncRun.organization_id == organization_id)
        if person_id is not None:
            statement = statement.where(SyncRun.person_id == person_id)
        if provider is not None:
            statement = statement.where(SyncRun.provider == provider)
        if status is not None:
            statement = statement.where(SyncRun.status == status)
        keys = [SyncRun.created_at, SyncRun.id]
        return await keyset_page(self.session, statement, keys, limit=limit, cursor=cursor)


class CheckpointRepository(Repository[SyncCheckpoint]):
    model = SyncCheckpoint

    async def load(self, connection_id: uuid.UUID, collection: str) -> SyncCheckpoint:
        """The checkpoint row, added (unflushed) when the collection was never synced."""
        found = await self.session.get(SyncCheckpoint, (connection_id, collection))
        if found is None:
            found = SyncCheckpoint(connection_id=connection_id, collection=collection)
            self.session.add(found)
        return found

    async def delete_for_connection(self, connection_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(SyncCheckpoint).where(SyncCheckpoint.connection_id == connection_id)
        )


class SyncConnectionRepository(Repository[Connection]):
    """The few connection reads and writes a sync makes inside its page transactions."""

    model = Connection

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
            .where(Connection.organization_id == organization_id, Connection.status == "active")
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
            .where(Connection.status == "active", Connection.next_sync_at <= now)
            .order_by(Connection.next_sync_at)
            .limit(limit)
        )
        return list(await self.session.scalars(statement))

    async def status_of(self, connection_id: uuid.UUID) -> str | None:
        statement = select(Connection.status).where(Connection.id == connection_id)
        return await self.session.scalar(statement)


class StoredRecords:
    """Reads and deletes of stored records that planning and reconciliation need."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def oldest_pending(
        self, connection_id: uuid.UUID, collection: str, since: datetime
    ) -> datetime | None:
        column_name = TIME_COLUMNS.get(collection)
        if column_name is None:
            return None
        model = COLLECTION_MODELS[collection]
        column = getattr(model, column_name)
        statement = select(func.min(column)).where(
            model.connection_id == connection_id,
            model.score_state == "PENDING_SCORE",
            column >= since,
        )
        value: datetime | None = await self.session.scalar(statement)
        return value

    async def ids_within(
        self, connection_id: uuid.UUID, collection: str, start: datetime, end: datetime
    ) -> set[str]:
        """Ids of stored records lying wholly inside ``[start, end]``."""
        model = COLLECTION_MODELS[collection]
        statement = select(model.provider_record_id).where(
            model.connection_id == connection_id,
            model.start_at >= start,
            model.end_at.is_not(None),
            model.end_at <= end,
        )
        return set(await self.session.scalars(statement))

    async def delete_recoveries_of_sleeps(
        self, connection_id: uuid.UUID, sleep_ids: Sequence[str]
    ) -> int:
        """WHOOP names a recovery by its sleep; a deleted sleep takes its recovery along."""
        if not sleep_ids:
            return 0
        statement = (
            delete(Recovery)
            .where(
                Recovery.connection_id == connection_id,
                Recovery.sleep_record_id.in_(list(sleep_ids)),
            )
            .returning(Recovery.id)
        )
        return len(list(await self.session.scalars(statement)))

    async def count_for_connection(self, connection_id: uuid.UUID) -> int:
        total = 0
        for model in COLLECTION_MODELS.values():
            statement = select(func.count()).where(model.connection_id == connection_id)
            total += int(await self.session.scalar(statement) or 0)
        return total
