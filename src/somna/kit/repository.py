"""The base every repository builds on: SQL lives in repositories, nowhere else."""

from __future__ import annotations

import uuid
from typing import Any, Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.kit.models import Base

ModelT = TypeVar("ModelT", bound=Base)


class Repository(Generic[ModelT]):
    """Reads and writes one table through the caller's session; never commits."""

    model: type[ModelT]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, record_id: uuid.UUID) -> ModelT | None:
        return await self.session.get(self.model, record_id)

    async def add(self, record: ModelT, *, flush: bool = True) -> ModelT:
        self.session.add(record)
        if flush:
            await self.session.flush()
        return record

    async def count(self, *criteria: Any) -> int:
        statement = select(func.count()).select_from(self.model).where(*criteria)
        return int(await self.session.scalar(statement) or 0)
