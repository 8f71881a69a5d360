"""The store for provider records: upsert by (connection, provider record id), delete by id.

Sleep records get their per-night derived columns on the way in, and every write or delete
refreshes the "counted" flags of the person's records around it (``CountedNights``), so the
statistics over many people stay a plain grouped aggregate (docs/analytics.md)."""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Table, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from somna.calculations import SleepPeriod
from somna.kit.pagination import keyset_page
from somna.kit.time import utc_now
from somna.models import BodyMeasurement, Connection, Cycle, Recovery, SleepSession, Workout
from somna.nights.repository import CountedNights, night_columns
from somna.records.canonical import (
    AnyRecord,
    BodyMeasurementRecord,
    CycleRecord,
    RecoveryRecord,
    SleepSessionRecord,
    WorkoutRecord,
)

# Rows per INSERT statement: well under SQLite's bound-parameter limit for the widest table.
_CHUNK = 200

RECORD_MODELS: dict[type[AnyRecord], Any] = {
    SleepSessionRecord: SleepSession,
    RecoveryRecord: Recovery,
    CycleRecord: Cycle,
    WorkoutRecord: Workout,
    BodyMeasurementRecord: BodyMeasurement,
}
COLLECTION_MODELS: dict[str, Any] = {
    "sleep": SleepSession,
    "recovery": Recovery,
    "cycles": Cycle,
    "workouts": Workout,
    "body_measurements": BodyMeasurement,
}


@dataclass(frozen=True, slots=True)
class UpsertResult:
    inserted: int
    updated: int
    unchanged: int  # older than what is stored (an out-of-order delivery), so left alone
    # (id, provider_record_id) of the rows written, for the events outgoing webhooks send.
    inserted_rows: tuple[tuple[uuid.UUID, str], ...] = field(default=(), compare=False)
    updated_rows: tuple[tuple[uuid.UUID, str], ...] = field(default=(), compare=False)

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.inserted_rows + other.inserted_rows,
            self.updated_rows + other.updated_rows,
        )


EMPTY_RESULT = UpsertResult(0, 0, 0)
_TABLES: dict[str, Table] = {
    model.__table__.name: model.__table__ for model in RECORD_MODELS.values()
}
Span = tuple[datetime, datetime]


_FIELD_NAMES: dict[type, tuple[str, ...]] = {
    record_type: tuple(field.name for field in dataclasses.fields(record_type))
    for record_type in RECORD_MODELS
}


def _upsert_statement(session: AsyncSession, table: Table) -> Any:
    return _built_upsert(session.get_bind().dialect.name, table.name)


@functools.cache
def _built_upsert(dialect: str, table_name: str) -> Any:
    """The upsert of one table, built once per dialect. One statement executed for many rows
    (``insertmanyvalues``): compiled once and cached, unlike a multi-row VALUES whose SQL
    changes with the page size."""
    table: Table = _TABLES[table_name]
    if dialect == "postgresql":
        statement: Any = postgresql.insert(table)
    elif dialect == "sqlite":
        statement = sqlite.insert(table)
    else:
        raise NotImplementedError(f"no upsert for dialect {dialect}")
    excluded = statement.excluded
    updatable = [
        column.name
        for column in table.columns
        if column.name not in {"id", "connection_id", "person_id", "created_at", "counted"}
    ]
    return statement.on_conflict_do_update(
        index_elements=[table.c.connection_id, table.c.provider_record_id],
        set_={name: excluded[name] for name in updatable},
        # The provider's own version decides: an older one never rolls a re-scored record
        # back, and the same one (an overlapping window reading it again) is no change, so
        # neither a write nor a ``*.updated`` event. Without a version, the newest read wins.
        where=or_(
            table.c.provider_updated_at.is_(None),
            excluded.provider_updated_at.is_(None),
            excluded.provider_updated_at > table.c.provider_updated_at,
        ),
    ).returning(table.c.provider_record_id, table.c.id)


@dataclass(frozen=True, slots=True)
class PreparedRows:
    """The rows an upsert writes, built outside the transaction: a sync builds them before
    it takes SQLite's one writer, which then holds it for the statements alone."""

    connection_id: uuid.UUID
    person_id: uuid.UUID
    chunks: list[tuple[Any, list[dict[str, Any]]]]  # (model, rows), at most _CHUNK rows each


def prepare_rows(
    connection_id: uuid.UUID, person_id: uuid.UUID, records: Sequence[AnyRecord]
) -> PreparedRows:
    """The insert rows of ``records`` per table, sleep with its per-night columns."""
    by_model: dict[Any, list[AnyRecord]] = {}
    for record in records:
        by_model.setdefault(RECORD_MODELS[type(record)], []).append(record)
    now = utc_now()
    chunks: list[tuple[Any, list[dict[str, Any]]]] = []
    for model, group in by_model.items():
        for start in range(0, len(group), _CHUNK):
            # The last occurrence of an id in one chunk wins, like applying them in order would.
            unique = {record.provider_record_id: record for record in group[start : start + _CHUNK]}
            rows = [
                {
                    # Shallow on purpose: asdict() would deep-copy every raw payload.
                    **{name: getattr(record, name) for name in _FIELD_NAMES[type(record)]},
                    "id": uuid.uuid4(),
                    "connection_id": connection_id,
                    "person_id": person_id,
                    "created_at": now,
                    "updated_at": now,
                }
                for record in unique.values()
            ]
            if model is SleepSession:
                for row, record in zip(rows, unique.values(), strict=True):
                    assert isinstance(record, SleepSessionRecord)
                    # ``counted`` is decided after the write, among the person's other records.
                    row |= night_columns(SleepPeriod.from_row(record)) | {"counted": False}
            chunks.append((model, rows))
    return PreparedRows(connection_id, person_id, chunks)


class RecordRepository:
    """Writes canonical records of one connection; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(
        self, connection_id: uuid.UUID, person_id: uuid.UUID, records: Sequence[AnyRecord]
    ) -> UpsertResult:
        """Insert new records and update known ones, in as few statements as possible.

        A record whose ``provider_updated_at`` is older than the stored one is not applied, so a
        late webhook or an overlapping window never rolls a re-scored record back.
        """
        return await self.write(prepare_rows(connection_id, person_id, records))

    async def write(self, prepared: PreparedRows) -> UpsertResult:
        """:meth:`upsert` of rows built beforehand (:func:`prepare_rows`)."""
        result = EMPTY_RESULT
        person_id = prepared.person_id
        counted = CountedNights(self.session)
        if any(model is SleepSession for model, _ in prepared.chunks):
            # Before writing, so the refresh below never waits on a row this writer holds.
            await counted.lock(person_id)
        # Where sleep records were and now are: the counted flags to refresh.
        spans: list[Span] = []
        for model, rows in prepared.chunks:
            result += await self._write_chunk(model, prepared.connection_id, rows, spans)
        if spans:
            await counted.refresh(person_id, spans, locked=True)
        return result

    async def _write_chunk(
        self, model: Any, connection_id: uuid.UUID, rows: list[dict[str, Any]], spans: list[Span]
    ) -> UpsertResult:
        if model is SleepSession:
            # Where the stored versions lie, before they move: their nights are refreshed too.
            stored = select(model.start_at, model.end_at).where(
                model.connection_id == connection_id,
                model.provider_record_id.in_([row["provider_record_id"] for row in rows]),
            )
            spans += [(row.start_at, row.end_at) for row in await self.session.execute(stored)]
            spans += [(row["start_at"], row["end_at"]) for row in rows]
        new_ids = {row["provider_record_id"]: row["id"] for row in rows}
        applied = (
            await self.session.execute(_upsert_statement(self.session, model.__table__), rows)
        ).all()
        # An update keeps the stored id (``id`` is never set on conflict), so a row that comes
        # back with the id just drawn for it was inserted: no read of the stored ids needed.
        inserted_rows = tuple((row_id, key) for key, row_id in applied if new_ids[key] == row_id)
        updated_rows = tuple((row_id, key) for key, row_id in applied if new_ids[key] != row_id)
        inserted, updated = len(inserted_rows), len(updated_rows)
        return UpsertResult(
            inserted, updated, len(rows) - inserted - updated, inserted_rows, updated_rows
        )

    async def delete(
        self, connection_id: uuid.UUID, collection: str, provider_record_ids: Sequence[str]
    ) -> int:
        """Remove records the provider deleted; returns how many were stored."""
        return len(await self.delete_rows(connection_id, collection, provider_record_ids))

    async def delete_rows(
        self, connection_id: uuid.UUID, collection: str, provider_record_ids: Sequence[str]
    ) -> list[tuple[uuid.UUID, str]]:
        """Remove records the provider deleted; returns the ``(id, provider_record_id)`` of
        those that were stored, for the events outgoing webhooks send."""
        model = COLLECTION_MODELS[collection]
        sleep = model is SleepSession
        if sleep:
            owner = await self.session.scalar(
                select(Connection.person_id).where(Connection.id == connection_id)
            )
            if owner is not None:
                await CountedNights(self.session).lock(owner)
        returned = [
            model.id,
            model.provider_record_id,
            model.person_id,
            *([model.start_at, model.end_at] if sleep else []),
        ]
        statement = (
            delete(model)
            .where(
                model.connection_id == connection_id,
                model.provider_record_id.in_(list(provider_record_ids)),
            )
            .returning(*returned)
        )
        deleted = (await self.session.execute(statement)).all()
        if sleep:
            # Another provider's record of the same night may count now.
            by_person: dict[uuid.UUID, list[Span]] = {}
            for row in deleted:
                by_person.setdefault(row.person_id, []).append((row.start_at, row.end_at))
            for person_id, spans in by_person.items():
                await CountedNights(self.session).refresh(person_id, spans)
        return [(row.id, row.provider_record_id) for row in deleted]


# Which column a collection is listed and filtered by, newest first.
_LIST_ORDER: dict[str, tuple[str, str]] = {
    "sleep": ("start_at", "local_date"),
    "recovery": ("recorded_at", "local_date"),
    "cycles": ("start_at", "local_date"),
    "workouts": ("start_at", "local_date"),
    "body_measurements": ("measured_at", "measured_at"),
}


@dataclass(frozen=True, slots=True)
class RecordFilter:
    start: date | None = None  # local dates, inclusive
    end: date | None = None
    include_naps: bool = True


class RecordQueries:
    """Reads of one person's records, newest first, in keyset pages."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(
        self,
        collection: str,
        person_id: uuid.UUID,
        filters: RecordFilter,
        *,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[Any], str | None]:
        model = COLLECTION_MODELS[collection]
        order_name, date_name = _LIST_ORDER[collection]
        statement = select(model).where(model.person_id == person_id)
        date_column = getattr(model, date_name)
        if collection == "body_measurements":
            # Measurements carry an instant, not a local date: bound by whole UTC days.
            if filters.start is not None:
                statement = statement.where(date_column >= _day_start(filters.start))
            if filters.end is not None:
                statement = statement.where(date_column < _day_start(filters.end, plus_days=1))
        else:
            if filters.start is not None:
                statement = statement.where(date_column >= filters.start)
            if filters.end is not None:
                statement = statement.where(date_column <= filters.end)
        if collection == "sleep" and not filters.include_naps:
            statement = statement.where(model.is_nap.is_(False))
        keys = [getattr(model, order_name), model.id]
        return await keyset_page(self.session, statement, keys, limit=limit, cursor=cursor)

    async def get(self, collection: str, person_id: uuid.UUID, record_id: uuid.UUID) -> Any:
        model = COLLECTION_MODELS[collection]
        statement = select(model).where(model.id == record_id, model.person_id == person_id)
        return await self.session.scalar(statement)


def _day_start(day: date, *, plus_days: int = 0) -> datetime:
    return datetime.combine(day + timedelta(days=plus_days), time.min, tzinfo=UTC)
