"""Recording and listing mood ratings, dated in the person's own zone."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from somna.calculations import local_today, parse_zone
from somna.kit.time import utc_now
from somna.models import MoodRating, Person
from somna.mood.exceptions import MoodDateInFuture, MoodRatingExists, MoodRatingNotFound
from somna.mood.repository import MoodRepository
from somna.mood.schemas import MoodRatingCreate
from somna.people.service import get_preferences


async def record_rating(
    session: AsyncSession, person: Person, payload: MoodRatingCreate, *, now: datetime | None = None
) -> MoodRating:
    """Store a rating; one per local date unless ``allow_multiple`` (409 otherwise)."""
    now = now or utc_now()
    preferences = await get_preferences(session, person)
    zone = parse_zone(preferences.timezone) or parse_zone(person.timezone)
    recorded_at = payload.recorded_at or now
    if recorded_at > now + timedelta(minutes=5):
        raise MoodDateInFuture("`recorded_at` is in the future.", field="recorded_at")
    local_date = payload.local_date or local_today(recorded_at, zone)
    # A day of slack: the person may be ahead of their home zone while travelling.
    if local_date > local_today(now, zone) + timedelta(days=1):
        raise MoodDateInFuture(
            f"{local_date} is after the person's local tomorrow.", field="local_date"
        )
    repository = MoodRepository(session)
    if not payload.allow_multiple:
        existing = await repository.first_on(person.id, local_date)
        if existing is not None:
            raise MoodRatingExists(
                f"A mood rating for {local_date} exists; send `allow_multiple: true` to add "
                "another.",
                extra={"field": "local_date", "existing_id": str(existing.id)},
            )
    return await repository.add(
        MoodRating(
            person_id=person.id,
            local_date=local_date,
            score=payload.score,
            note=payload.note,
            recorded_at=recorded_at,
            created_at=now,
        )
    )


async def list_ratings(
    session: AsyncSession,
    person: Person,
    start: date | None,
    end: date | None,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    return await MoodRepository(session).page(person.id, start, end, limit=limit, cursor=cursor)


async def delete_rating(session: AsyncSession, person: Person, rating_id: uuid.UUID) -> None:
    if not await MoodRepository(session).delete_one(person.id, rating_id):
        raise MoodRatingNotFound(f"No mood rating with id {rating_id} for this user.")
