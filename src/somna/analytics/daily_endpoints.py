"""A person's circadian timing, readiness and daily summary (under ``/users/{user_id}`` and
``/me``)."""

# No `from __future__ import annotations`: FastAPI reads the local dependency aliases below.

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from somna.analytics import daily_service, person_context
from somna.analytics.daily_schemas import CircadianResponse, DaysResponse, ReadinessResponse
from somna.analytics.dependencies import AnalyticsRead, Now, Sources
from somna.analytics.endpoints import PersonLoader
from somna.calculations.exceptions import InvalidPeriod
from somna.db import SessionDep
from somna.models import Person
from somna.people.dependencies import person_from_me, person_from_path

StartDate = Annotated[
    date | None, Query(description="First local date, inclusive (default: 29 days before the end).")
]
EndDate = Annotated[date | None, Query(description="Last local date, inclusive (default: today).")]


def _routes(prefix: str, loader: PersonLoader, tag: str) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=[tag])
    LoadedPerson = Annotated[Person, Depends(loader)]

    @router.get("/circadian")
    async def circadian(
        _principal: AnalyticsRead,
        person: LoadedPerson,
        session: SessionDep,
        now: Now,
        sources: Sources,
        start_date: StartDate = None,
        end_date: EndDate = None,
    ) -> CircadianResponse:
        """Sleep timing on workdays and free days, social jetlag and chronotype (MSFsc)."""
        ctx = await person_context.person_context(session, person, now, sources)
        return await daily_service.circadian(session, ctx, start_date, end_date)

    @router.get("/readiness")
    async def readiness(
        _principal: AnalyticsRead,
        person: LoadedPerson,
        session: SessionDep,
        now: Now,
        sources: Sources,
        date: Annotated[date | None, Query(description="One local date (default: today).")] = None,
        start_date: StartDate = None,
        end_date: EndDate = None,
    ) -> ReadinessResponse:
        """Readiness 0-100 with its HRV and resting-HR baselines, for one date or a series."""
        ctx = await person_context.person_context(session, person, now, sources)
        if date is not None and (start_date is not None or end_date is not None):
            raise InvalidPeriod("Give either date or start_date/end_date, not both.")
        if date is not None:
            first = last = date
        else:
            first, last = daily_service.window(ctx, start_date, end_date)
            if start_date is None and end_date is None:
                first = last  # no period asked for: today only
        return await daily_service.readiness_days(session, ctx, first, last)

    @router.get("/days")
    async def days(
        _principal: AnalyticsRead,
        person: LoadedPerson,
        session: SessionDep,
        now: Now,
        sources: Sources,
        start_date: StartDate = None,
        end_date: EndDate = None,
    ) -> DaysResponse:
        """One row per local date: counted night, naps, debt, readiness, HRV, resting HR, mood."""
        ctx = await person_context.person_context(session, person, now, sources)
        return await daily_service.days(session, ctx, start_date, end_date)

    return router


router = APIRouter()
router.include_router(_routes("/users/{user_id}", person_from_path, "analytics"))
router.include_router(_routes("/me", person_from_me, "me"))
