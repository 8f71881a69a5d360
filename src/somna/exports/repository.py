"""SQL of exports: the ``exports`` table, and the batched reads an export streams from."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from somna.exports.columns import PEOPLE_TABLE, SLEEP, Collection
from somna.kit.pagination import keyset_page
from somna.kit.repository import Repository
from somna.models import Export

# One row of a batch, by column name.
Row = dict[str, Any]


@dataclass(frozen=True)
class ExportScope:
    """Whose records, and which local dates (inclusive; body measurements: UTC days)."""

    organization_id: uuid.UUID
    person_ids: tuple[uuid.UUID, ...] | None = None
    start: date | None = None
    end: date | None = None


class ExportRepository(Repository[Export]):
    model = Export

    async def get_in_organization(
        self, organization_id: uuid.UUID, export_id: uuid.UUID
    ) -> Export | None:
        statement = select(Export).where(
            Export.id == export_id, Export.organization_id == organization_id
        )
        return await self.session.scalar(statement)

    async def page(
        self,
        organization_id: uuid.UUID,
        person_id: uuid.UUID | None,
        *,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[Any], str | None]:
        statement = select(Export).where(Export.organization_id == organization_id)
        if person_id is not None:
            statement = statement.where(Export.person_id == person_id)
        keys = [Export.created_at, Export.id]
        return await keyset_page(self.session, statement, keys, limit=limit, cursor=cursor)

    async def older_than(self, moment: datetime, *, limit: int) -> list[Export]:
        statement = (
            select(Export)
            .where(Export.created_at < moment, Export.status != "expired")
            .order_by(Export.created_at)
            .limit(limit)
        )
        return list((await self.session.scalars(statement)).all())

    async def waiting_since(self, moment: datetime, *, limit: int) -> list[uuid.UUID]:
        """Exports still ``queued`` though asked for before ``moment``, oldest first."""
        statement = (
            select(Export.id)
            .where(Export.status == "queued", Export.created_at < moment)
            .order_by(Export.created_at)
            .limit(limit)
        )
        return list((await self.session.scalars(statement)).all())

    async def people_in_organization(
        self, organization_id: uuid.UUID, person_ids: Sequence[uuid.UUID]
    ) -> set[uuid.UUID]:
        table = PEOPLE_TABLE
        statement = select(table.c.id).where(
            table.c.organization_id == organization_id,
            table.c.id.in_(list(person_ids)),
            table.c.delete_after.is_(None),  # hidden while their deletion is scheduled
        )
        return set(await self.session.scalars(statement))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


class RecordReader:
    """Reads for one export, each a bounded batch in keyset order: memory stays constant
    however many rows the organisation holds. Core rows, not ORM objects, so nothing piles up
    in the session's identity map."""

    def __init__(self, session: AsyncSession, scope: ExportScope, batch_size: int) -> None:
        self.session = session
        self.scope = scope
        self.batch_size = batch_size

    async def people(self) -> AsyncIterator[Row]:
        """The scope's people by email, a batch at a time; a person whose deletion is
        scheduled is left out."""
        table = PEOPLE_TABLE
        statement = select(table).where(
            table.c.organization_id == self.scope.organization_id, table.c.delete_after.is_(None)
        )
        if self.scope.person_ids is not None:
            statement = statement.where(table.c.id.in_(list(self.scope.person_ids)))
        async for batch in self._batches(statement, (table.c.email, table.c.id)):
            for row in batch:
                yield row

    def _window(self, collection: Collection) -> list[ColumnElement[bool]]:
        start, end = self.scope.start, self.scope.end
        table = collection.table
        if collection.date_column is not None:
            column = table.c[collection.date_column]
            bounds = [column >= start if start else None, column <= end if end else None]
        else:
            column = table.c[collection.order_by]
            bounds = [
                column >= _day_start(start) if start else None,
                column < _day_start(end + timedelta(days=1)) if end else None,
            ]
        return [bound for bound in bounds if bound is not None]

    def records(self, collection: Collection, person_id: uuid.UUID) -> AsyncIterator[list[Row]]:
        """One person's records of a collection, oldest first, in batches."""
        table = collection.table
        statement = select(table).where(table.c.person_id == person_id, *self._window(collection))
        return self._batches(statement, (table.c[collection.order_by], table.c.id))

    async def count(self, collection: Collection, person_id: uuid.UUID) -> int:
        table = collection.table
        statement = (
            select(func.count())
            .select_from(table)
            .where(table.c.person_id == person_id, *self._window(collection))
        )
        return int(await self.session.scalar(statement) or 0)

    async def sleep_payloads(self) -> AsyncIterator[list[Row]]:
        """Every sleep payload in scope (id and raw only), to learn the CSV's columns first."""
        table, people = SLEEP.table, PEOPLE_TABLE
        members = select(people.c.id).where(people.c.organization_id == self.scope.organization_id)
        if self.scope.person_ids is not None:
            members = members.where(people.c.id.in_(list(self.scope.person_ids)))
        statement = select(table.c.id, table.c.raw).where(
            table.c.person_id.in_(members.scalar_subquery()), *self._window(SLEEP)
        )
        async for batch in self._batches(statement, (table.c.id,)):
            yield batch

    async def _batches(
        self, statement: Select[Any], keys: tuple[Any, ...]
    ) -> AsyncIterator[list[Row]]:
        after: tuple[Any, ...] | None = None
        while True:
            query = statement
            if after is not None:
                query = query.where(tuple_(*keys) > tuple_(*after))
            query = query.order_by(*keys).limit(self.batch_size)
            rows: list[Row] = [dict(row) for row in (await self.session.execute(query)).mappings()]
            if rows:
                yield rows
            if len(rows) < self.batch_size:
                return
            last = rows[-1]
            after = tuple(last[key.name] for key in keys)
