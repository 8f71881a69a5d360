"""Mood ratings in the store."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import delete, select

from somna.kit.pagination import keyset_page
from somna.kit.repository import Repository
from somna.models import MoodRating


class MoodRepository(Repository[MoodRating]):
    model = MoodRating

    async def first_on(self, person_id: uuid.UUID, local_date: date) -> MoodRating | None:
        statement = (
            select(MoodRating)
            .where(MoodRating.person_id == person_id, MoodRating.local_date == local_date)
            .order_by(MoodRating.recorded_at, MoodRating.id)
            .limit(1)
        )
        return await self.session.scalar(statement)

    async def page(
        self,
        person_id: uuid.UUID,
        start: date | None,
        end: date | None,
        *,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[Any], str | None]:
        """Newest first: by local date, then the moment of the rating."""
        statement = select(MoodRating).where(MoodRating.person_id == person_id)
        if start is not None:
            statement = statement.where(MoodRating.local_date >= start)
        if end is not None:
            statement = statement.where(MoodRating.local_date <= end)
        keys = [MoodRating.local_date, MoodRating.recorded_at, MoodRating.id]
        return await keyset_page(self.session, statement, keys, limit=limit, cursor=cursor)

    async def delete_one(self, person_id: uuid.UUID, rating_id: uuid.UUID) -> bool:
        statement = (
            delete(MoodRating)
            .where(MoodRating.id == rating_id, MoodRating.person_id == person_id)
            .returning(MoodRating.id)
        )
        return (await self.session.scalar(statement)) is not None
