"""SQL of sync: runs, checkpoints, and the reads of stored records a sync plans with."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from somna.kit.pagination import keyset_page
from somna.kit.repository import Repository
from somna.kit.time import utc_now
from somna.models import Connection, Person, Recovery, SyncCheckpoint, SyncRun
from somna.models.sync_run import HOLDING_STATUSES, HOLDING_WHERE, QUEUED_INCREMENTAL_WHERE
from somna.records.repository import COLLECTION_MODELS

PENDING_STATUSES = ("queued", *HOLDING_STATUSES)
# Not a stored status: what ``status_of`` says of a connection whose person is awaiting
# deletion (docs/privacy.md), whose syncs stop at their next page.
PAUSED = "paused"
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


# The statements of a page commit, built once: executed with new values on every page, they
# skip building and compiling (SQLAlchemy caches them by their structure).
_RUNS = cast(Table, SyncRun.__table__)
_ADD_PAGE = (
    update(_RUNS)
    .where(
        _RUNS.c.id == bindparam("run_id"),
        _RUNS.c.owner == bindparam("run_owner"),
        _RUNS.c.status == "running",
        _RUNS.c.pages == bindparam("pages_before"),
    )
    .values(
        counts=bindparam("new_counts", type_=_RUNS.c.counts.type),
        pages=_RUNS.c.pages + 1,
        requests=_RUNS.c.requests + bindparam("more_requests"),
        retries=_RUNS.c.retries + bindparam("more_retries"),
        leased_until=bindparam("lease_end"),
    )
)
_CHECKPOINTS = cast(Table, SyncCheckpoint.__table__)
_READ_CHECKPOINTS = select(
    _CHECKPOINTS.c.collection,
    _CHECKPOINTS.c.run_id,
    _CHECKPOINTS.c.window_start,
    _CHECKPOINTS.c.window_end,
    _CHECKPOINTS.c.next_token,
    _CHECKPOINTS.c.synced_until,
).where(_CHECKPOINTS.c.connection_id == bindparam("connection"))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A collection's checkpoint as a run plans with it."""

    run_id: uuid.UUID | None  # the run whose window is in progress (or just finished)
    window_start: datetime | None
    window_end: datetime | None
    next_token: str | None
    synced_until: datetime | None


NEVER_SYNCED = Checkpoint(None, None, None, None, None)


_CONNECTIONS = cast(Table, Connection.__table__)
_PEOPLE = cast(Table, Person.__table__)
_CHECKPOINT_COLUMNS = (
    "connection_id",
    "collection",
    "run_id",
    "window_start",
    "window_end",
    "next_token",
    "synced_until",
    "updated_at",
)


@functools.cache
def _save_checkpoint(dialect: str) -> Any:
    """The checkpoint upsert, written only while the connection is not revoked and its person
    not awaiting deletion, checked (and on PostgreSQL held ``FOR SHARE``) by the same
    statement."""
    params = {
        name: bindparam(name, type_=_CHECKPOINTS.c[name].type) for name in _CHECKPOINT_COLUMNS
    }
    source = (
        select(*params.values())
        .select_from(_CONNECTIONS.join(_PEOPLE, _PEOPLE.c.id == _CONNECTIONS.c.person_id))
        .where(
            _CONNECTIONS.c.id == params["connection_id"],
            _CONNECTIONS.c.status != "revoked",
            # A person whose deletion is scheduled gets no more records: the page stops.
            _PEOPLE.c.delete_after.is_(None),
        )
        .with_for_update(read=True, of=_CONNECTIONS)
    )
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_CHECKPOINTS)
    insert = insert.from_select(list(_CHECKPOINT_COLUMNS), source)
    stored, given = _CHECKPOINTS.c.synced_until, insert.excluded.synced_until
    return insert.on_conflict_do_update(
        index_elements=[_CHECKPOINTS.c.connection_id, _CHECKPOINTS.c.collection],
        set_={
            "run_id": insert.excluded.run_id,
            "window_start": insert.excluded.window_start,
            "window_end": insert.excluded.window_end,
            "next_token": insert.excluded.next_token,
            "updated_at": insert.excluded.updated_at,
            # The later of the two (SQLite compares its UTC text as PostgreSQL its timestamps).
            "synced_until": case(
                (given.is_(None), stored),
                (stored.is_(None), given),
                (given > stored, given),
                else_=stored,
            ),
        },
    )


class SyncRunRepository(Repository[SyncRun]):
    model = SyncRun

    async def queued_incremental(self, connection_id: uuid.UUID) -> SyncRun | None:
        statement = select(SyncRun).where(
            SyncRun.connection_id == connection_id,
            SyncRun.status == "queued",
            SyncRun.window_start.is_(None),
        )
        return await self.session.scalar(statement.order_by(SyncRun.created_at).limit(1))

    def _insert(self) -> Any:
        dialect = self.session.get_bind().dialect.name
        return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(SyncRun)

    async def insert_queued_incremental(self, values: dict[str, Any]) -> uuid.UUID | None:
        """Queue an incremental run; ``None`` when one is queued already (the unique index
        decides, so two requests at once cannot both insert)."""
        statement = (
            self._insert()
            .values(id=uuid.uuid4(), status="queued", window_start=None, window_end=None, **values)
            .on_conflict_do_nothing(
                index_elements=["connection_id"], index_where=text(QUEUED_INCREMENTAL_WHERE)
            )
            .returning(SyncRun.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def insert_claimed(
        self, values: dict[str, Any], *, owner: str, leased_until: datetime
    ) -> uuid.UUID | None:
        """Add a run already held by ``owner``; ``None`` when another run holds the connection."""
        statement = (
            self._insert()
            .values(
                id=uuid.uuid4(), status="running", owner=owner, leased_until=leased_until, **values
            )
            .on_conflict_do_nothing(
                index_elements=["connection_id"], index_where=text(HOLDING_WHERE)
            )
            .returning(SyncRun.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def holder(self, connection_id: uuid.UUID) -> SyncRun | None:
        """The run that holds the connection (running or waiting for budget), if any."""
        statement = select(SyncRun).where(
            SyncRun.connection_id == connection_id, SyncRun.status.in_(HOLDING_STATUSES)
        )
        return await self.session.scalar(statement)

    async def next_for_connection(self, connection_id: uuid.UUID) -> SyncRun | None:
        """The run to work on: the one holding the connection first, else the oldest queued."""
        statement = (
            select(SyncRun)
            .where(SyncRun.connection_id == connection_id, SyncRun.status.in_(PENDING_STATUSES))
            .order_by(case((SyncRun.status == "queued", 1), else_=0), SyncRun.created_at)
            .limit(1)
        )
        return await self.session.scalar(statement)

    async def has_queued(self, connection_id: uuid.UUID) -> bool:
        statement = select(SyncRun.id).where(
            SyncRun.connection_id == connection_id, SyncRun.status == "queued"
        )
        return (await self.session.scalar(statement.limit(1))) is not None

    async def claim(
        self,
        run_id: uuid.UUID,
        owner: str,
        *,
        now: datetime,
        lease: timedelta,
        attempt: bool = True,
    ) -> bool:
        """Compare-and-set: take a queued run, resume one's own, or adopt a run whose lease
        expired (its executor died). Raises ``IntegrityError`` when another run of the same
        connection holds it. Resuming one's own budget wait is not a new attempt, nor is a claim
        made only to hold the run before executing it (``attempt=False``)."""
        takeable = or_(
            SyncRun.status == "queued",
            and_(
                SyncRun.status.in_(HOLDING_STATUSES),
                or_(
                    SyncRun.owner == owner,
                    SyncRun.leased_until.is_(None),
                    SyncRun.leased_until < now,
                ),
            ),
        )
        resumed = and_(SyncRun.status == "waiting_for_budget", SyncRun.owner == owner)
        counted = case((resumed, SyncRun.attempts), else_=SyncRun.attempts + 1)
        statement = (
            update(SyncRun)
            .where(SyncRun.id == run_id, takeable)
            .values(
                status="running",
                owner=owner,
                leased_until=now + lease,
                next_attempt_at=None,
                started_at=func.coalesce(SyncRun.started_at, now),
                attempts=counted if attempt else SyncRun.attempts,
            )
            .execution_options(synchronize_session=False)
        )
        result: Any = await self.session.execute(statement)
        return bool(result.rowcount)

    async def renew(self, run_id: uuid.UUID, owner: str, leased_until: datetime) -> bool:
        """Extend the lease of a run ``owner`` executes; ``False`` when it is no longer its."""
        statement = (
            update(SyncRun)
            .where(SyncRun.id == run_id, SyncRun.owner == owner, SyncRun.status == "running")
            .values(leased_until=leased_until)
            .execution_options(synchronize_session=False)
        )
        result: Any = await self.session.execute(statement)
        return bool(result.rowcount)

    async def add_page(
        self,
        run_id: uuid.UUID,
        owner: str,
        *,
        pages_before: int,
        counts: dict[str, Any],
        requests: int,
        retries: int,
        leased_until: datetime,
    ) -> bool:
        """A page on the run's counters, in the page's transaction, and the lease renewed:
        provided ``owner`` still executes the run and no page was committed since it last
        looked (``pages_before``), so ``counts`` it computed from its own are the row's. A
        compare-and-set: ``False`` and the caller rolls the page back."""
        result: Any = await self.session.execute(
            _ADD_PAGE,
            {
                "run_id": run_id,
                "run_owner": owner,
                "pages_before": pages_before,
                "new_counts": counts,
                "more_requests": requests,
                "more_retries": retries,
                "lease_end": leased_until,
            },
        )
        return bool(result.rowcount)

    async def cancel_pending(self, connection_id: uuid.UUID, reason: str) -> int:
        now = utc_now()
        statement = (
            update(SyncRun)
            .where(SyncRun.connection_id == connection_id, SyncRun.status.in_(PENDING_STATUSES))
            .values(
                status="cancelled",
                finished_at=now,
                leased_until=None,
                next_attempt_at=None,
                errors=[{"at": now.isoformat(), "collection": None, "error": reason}],
            )
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(statement)
        return int(getattr(result, "rowcount", 0) or 0)

    async def get_in_organization(
        self, organization_id: uuid.UUID, run_id: uuid.UUID
    ) -> SyncRun | None:
        statement = (
            select(SyncRun)
            .join(Person, Person.id == SyncRun.person_id)
            .where(
                SyncRun.id == run_id,
                SyncRun.organization_id == organization_id,
                Person.delete_after.is_(None),  # hidden while their deletion is scheduled
            )
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
        hidden = select(Person.id).where(
            Person.organization_id == organization_id, Person.delete_after.is_not(None)
        )
        statement = select(SyncRun).where(
            SyncRun.organization_id == organization_id, SyncRun.person_id.not_in(hidden)
        )
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

    async def read_all(self, connection_id: uuid.UUID) -> dict[str, Checkpoint]:
        """Where each collection of the connection stands (one absent: never synced)."""
        rows = await self.session.execute(_READ_CHECKPOINTS, {"connection": connection_id})
        return {row[0]: Checkpoint(*row[1:]) for row in rows}

    async def save(
        self,
        connection_id: uuid.UUID,
        collection: str,
        *,
        run_id: uuid.UUID,
        window: tuple[datetime, datetime] | None,
        next_token: str | None,
        synced_until: datetime | None,
    ) -> bool:
        """One statement for a page's checkpoint: the window in progress and its cursor
        (``window`` ``None``: finished), and ``synced_until`` moved forward, never back.

        ``False``, writing nothing, when the connection is revoked or gone, or its person is
        awaiting deletion. The same statement
        checks it: on PostgreSQL holding its row ``FOR SHARE`` to the commit (a disconnect
        waits, or is seen), on SQLite as the transaction's first write, which holds the one
        writer's lock from its start."""
        start, end = window if window is not None else (None, None)
        result: Any = await self.session.execute(
            _save_checkpoint(self.session.get_bind().dialect.name),
            {
                "connection_id": connection_id,
                "collection": collection,
                "run_id": run_id,
                "window_start": start,
                "window_end": end,
                "next_token": next_token,
                "synced_until": synced_until,
                "updated_at": utc_now(),
            },
        )
        return bool(result.rowcount)

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
    ) -> list[tuple[uuid.UUID, str]]:
        """WHOOP names a recovery by its sleep; a deleted sleep takes its recovery along.
        Returns the ``(id, provider_record_id)`` of the recoveries deleted."""
        if not sleep_ids:
            return []
        statement = (
            delete(Recovery)
            .where(
                Recovery.connection_id == connection_id,
                Recovery.sleep_record_id.in_(list(sleep_ids)),
            )
            .returning(Recovery.id, Recovery.provider_record_id)
        )
        return [(row.id, row.provider_record_id) for row in await self.session.execute(statement)]

    async def count_for_connection(self, connection_id: uuid.UUID) -> int:
        total = 0
        for model in COLLECTION_MODELS.values():
            statement = select(func.count()).where(model.connection_id == connection_id)
            total += int(await self.session.scalar(statement) or 0)
        return total
