"""Mood ratings under ``/users/{user_id}/mood-ratings`` and ``/me/mood-ratings``."""

# No `from __future__ import annotations`: the route factory below uses local dependency
# aliases, which FastAPI can only see when annotations are evaluated eagerly.

import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from somna.auth.dependencies import RequireScopes
from somna.auth.principal import Principal
from somna.auth.responses import error_response
from somna.db import SessionDep
from somna.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from somna.kit.periods import LocalDates, local_dates
from somna.models import Person
from somna.mood import service
from somna.mood.schemas import MoodRatingCreate, MoodRatingRead
from somna.people.dependencies import person_from_me, person_from_path

MoodRead = Annotated[Principal, Depends(RequireScopes("sleep:read"))]
MoodWrite = Annotated[Principal, Depends(RequireScopes("sleep:write"))]
PersonLoader = Callable[..., Coroutine[Any, Any, Person]]


def _mood_routes(prefix: str, loader: PersonLoader, tag: str) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=[tag])
    LoadedPerson = Annotated[Person, Depends(loader)]

    @router.post(
        "/mood-ratings",
        status_code=status.HTTP_201_CREATED,
        responses={409: error_response("`mood_rating_exists` for the date, with `existing_id`.")},
    )
    async def create_mood_rating(
        payload: MoodRatingCreate, _principal: MoodWrite, person: LoadedPerson, session: SessionDep
    ) -> MoodRatingRead:
        """Record a mood from 1 to 10 for a local date (one per date unless allowed)."""
        rating = await service.record_rating(session, person, payload)
        return MoodRatingRead.model_validate(rating)

    @router.get("/mood-ratings")
    async def list_mood_ratings(
        _principal: MoodRead,
        person: LoadedPerson,
        session: SessionDep,
        period: Annotated[LocalDates, Depends(local_dates)],
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[MoodRatingRead]:
        """Mood ratings, newest date first."""
        rows, next_cursor = await service.list_ratings(
            session, person, period.start, period.end, limit=limit, cursor=cursor
        )
        return Page(
            data=[MoodRatingRead.model_validate(row) for row in rows], next_cursor=next_cursor
        )

    @router.delete("/mood-ratings/{rating_id}", status_code=status.HTTP_204_NO_CONTENT)
    async def delete_mood_rating(
        rating_id: uuid.UUID, _principal: MoodWrite, person: LoadedPerson, session: SessionDep
    ) -> Response:
        """Remove one mood rating."""
        await service.delete_rating(session, person, rating_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router


router = APIRouter()
router.include_router(_mood_routes("/users/{user_id}", person_from_path, "mood"))
router.include_router(_mood_routes("/me", person_from_me, "me"))
