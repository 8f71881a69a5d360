"""The base every repository builds on: SQL lives in repositories, nowhere else."""

from __future__ import annotations

import uuid
from typing import Any, Generic, TypeVar

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from somna.kit.models import Base

ModelT = TypeVar("ModelT", bound=Base)


class Repository(Generic[ModelT]):
    """Reads and writes one table through the caller's session; never commits."""

    model: type[ModelT]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_in_organization(
        self, organization_id: uuid.UUID, record_id: uuid.UUID
    ) -> ModelT | None:
        """The row if it belongs to ``organization_id``; None across tenants, as if it did not
        exist. Every id a caller sends is loaded this way."""
        owner = getattr(self.model, "organization_id", None)
        if owner is None:
            raise TypeError(f"{self.model.__name__} rows belong to no organisation")
        identity = getattr(self.model, "id")  # noqa: B009  # every table's key is ``id``
        statement = select(self.model).where(identity == record_id, owner == organization_id)
        return await self.session.scalar(statement)

    async def get_unscoped(self, record_id: uuid.UUID) -> ModelT | None:
        """The row with this id in whichever organisation holds it. Only for ids no caller
        chose: a job's own row, the row a token or session points at, an operator's lookup.
        There is deliberately no plain ``get``: a read by id names its scope."""
        return await self.session.get(self.model, record_id)

    async def add(self, record: ModelT, *, flush: bool = True) -> ModelT:
        self.session.add(record)
        if flush:
            await self.session.flush()
        return record

    async def add_all(self, records: list[ModelT], *, flush: bool = True) -> list[ModelT]:
        self.session.add_all(records)
        if flush:
            await self.session.flush()
        return records

    async def remove(self, record: ModelT) -> None:
        """Delete a row already loaded (its ORM cascades apply); flushed at once."""
        await self.session.delete(record)
        await self.session.flush()

    async def count(self, *criteria: Any) -> int:
        statement = select(func.count()).select_from(self.model).where(*criteria)
        return int(await self.session.scalar(statement) or 0)

    async def delete_some(self, *criteria: Any, limit: int) -> int:
        """Delete up to ``limit`` rows matching ``criteria``; returns how many went. Callers
        prune in such batches, each its own transaction, so no long lock is held."""
        table: Table = self.model.__table__  # type: ignore[assignment]  # mapped to a Table
        chosen = select(table.c.id).where(*criteria).limit(limit)
        result: Any = await self.session.execute(delete(table).where(table.c.id.in_(chosen)))
        return int(result.rowcount or 0)


class EncryptedColumn:
    """One encrypted text column of a table, read and rewritten row by row (for re-encrypting
    under a new secret key while the server keeps writing)."""

    def __init__(self, session: AsyncSession, model: type[Base], column: str) -> None:
        self.session = session
        self.table: Table = model.__table__  # type: ignore[assignment]  # mapped to a Table
        self.column = self.table.c[column]
        self.id = self.table.c["id"]

    async def batch(self, after: uuid.UUID | None, limit: int) -> list[tuple[uuid.UUID, str]]:
        """The next ``limit`` rows holding a value, in id order after ``after``."""
        statement = select(self.id, self.column).where(self.column.is_not(None))
        if after is not None:
            statement = statement.where(self.id > after)
        rows = await self.session.execute(statement.order_by(self.id).limit(limit))
        return [(row[0], row[1]) for row in rows]

    async def replace(self, row_id: uuid.UUID, old: str, new: str) -> bool:
        """Compare-and-set: ``False`` when the row changed since it was read."""
        statement = (
            update(self.table)
            .where(self.id == row_id, self.column == old)
            .values({self.column.key: new})
        )
        result: Any = await self.session.execute(statement)
        return bool(result.rowcount)
