"""The store for provider records: upsert by (connection, provider record id), delete by id.

Sleep records get their per-night derived columns on the way in, and every write or delete
refreshes the "counted" flags of the person's records around it (``CountedNights``), so the
statistics over many people stay a plain grouped aggregate (docs/analytics.md)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Table, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from somna.analytics.calculations import SleepPeriod
from somna.analytics.repository import CountedNights, night_columns
from somna.kit.pagination import keyset_page
from somna.kit.time import utc_now
from somna.models import BodyMeasurement, Connection, Cycle, Recovery, SleepSession, Workout
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
Span = tuple[datetime, datetime]


_FIELD_NAMES: dict[type, tuple[str, ...]] = {
    record_type: tuple(field.name for field in dataclasses.fields(record_type))
    for record_type in RECORD_MODELS
}


def _insert_for(session: AsyncSession, table: Table) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for dialect {dialect}")


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
        result = EMPTY_RESULT
        by_model: dict[Any, list[AnyRecord]] = {}
        for record in records:
            by_model.setdefault(RECORD_MODELS[type(record)], []).append(record)
        if SleepSession in by_model:
            # Before writing, so the refresh below never waits on a row this writer holds.
            await CountedNights(self.session).lock(person_id)
        # Where sleep records were and now are: the counted flags to refresh.
        spans: list[Span] = []
        for model, group in by_model.items():
            for start in range(0, len(group), _CHUNK):
                chunk = group[start : start + _CHUNK]
                result += await self._upsert_chunk(model, connection_id, person_id, chunk, spans)
        if spans:
            await CountedNights(self.session).refresh(person_id, spans)
        return result

    async def _upsert_chunk(
        self,
        model: Any,
        connection_id: uuid.UUID,
        person_id: uuid.UUID,
        records: Sequence[AnyRecord],
        spans: list[Span],
    ) -> UpsertResult:
        # The last occurrence of an id in one page wins, like applying them in order would.
        unique = {record.provider_record_id: record for record in records}
        ids = list(unique)
        sleep = model is SleepSession
        stored = select(model.provider_record_id).where(
            model.connection_id == connection_id, model.provider_record_id.in_(ids)
        )
        if sleep:
            stored = stored.add_columns(model.start_at, model.end_at)
        found = (await self.session.execute(stored)).all()
        existing = {row[0] for row in found}
        now = utc_now()
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
        if sleep:
            spans += [(row.start_at, row.end_at) for row in found]
            for row, record in zip(rows, unique.values(), strict=True):
                assert isinstance(record, SleepSessionRecord)
                # ``counted`` is decided after the write, among the person's other records.
                row |= night_columns(SleepPeriod.from_row(record)) | {"counted": False}
                spans.append((record.start_at, record.end_at))
        table: Table = model.__table__
        # One statement executed for many rows: compiled once and cached, unlike a multi-row
        # VALUES whose SQL changes with the page size.
        statement = _insert_for(self.session, table)
        excluded = statement.excluded
        updatable = [
            column.name
            for column in table.columns
            if column.name not in {"id", "connection_id", "person_id", "created_at", "counted"}
        ]
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.connection_id, table.c.provider_record_id],
            set_={name: excluded[name] for name in updatable},
            where=or_(
                table.c.provider_updated_at.is_(None),
                excluded.provider_updated_at.is_(None),
                excluded.provider_updated_at >= table.c.provider_updated_at,
            ),
        ).returning(table.c.id, table.c.provider_record_id)
        written = [(row[0], row[1]) for row in await self.session.execute(statement, rows)]
        inserted_rows = tuple(item for item in written if item[1] not in existing)
        updated_rows = tuple(item for item in written if item[1] in existing)
        inserted, updated = len(inserted_rows), len(updated_rows)
        return UpsertResult(
            inserted, updated, len(unique) - inserted - updated, inserted_rows, updated_rows
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
