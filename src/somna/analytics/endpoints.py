"""Analytics routes: a person's statistics (under ``/users/{user_id}`` and ``/me``), and
statistics over an organisation or a chosen cohort."""

# No `from __future__ import annotations`: the route factory below uses local dependency
# aliases, which FastAPI can only see when annotations are evaluated eagerly.

import uuid
from collections.abc import Callable, Coroutine
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from somna.analytics import cohort_service, insight_service, person_context, person_service
from somna.analytics.dependencies import AnalyticsRead, Generator, Now, Sources
from somna.analytics.schemas import (
    AverageStatsResponse,
    BurnoutResponse,
    CohortRequest,
    CohortResponse,
    InsightsResponse,
    MonthlyTrendsResponse,
    SleepScoreResponse,
    WeeklyReportResponse,
)
from somna.auth.dependencies import forbid_members
from somna.auth.responses import error_response
from somna.db import SessionDep
from somna.jobs.dependencies import JobQueueDep
from somna.kit.access import note_people
from somna.models import Person
from somna.people.dependencies import person_from_me, person_from_path

PersonLoader = Callable[..., Coroutine[Any, Any, Person]]


def _person_analytics_routes(prefix: str, loader: PersonLoader, tag: str) -> APIRouter:
    """The person routes under ``prefix``, the person loaded by ``loader`` (from the path's
    ``user_id`` or from the caller, for ``/me``)."""
    router = APIRouter(prefix=prefix, tags=[tag])
    _add_summary_routes(router, loader)
    _add_report_routes(router, loader)
    _add_wellbeing_routes(router, loader)
    return router


def _add_summary_routes(router: APIRouter, loader: PersonLoader) -> None:
    """Average stats and the score."""
    LoadedPerson = Annotated[Person, Depends(loader)]

    @router.get("/stats/average")
    async def average_stats(
        _principal: AnalyticsRead,
        person: LoadedPerson,
        session: SessionDep,
        now: Now,
        sources: Sources,
        start_date: Annotated[
            date | None, Query(description="First local date (default: 29 days before the end).")
        ] = None,
        end_date: Annotated[
            date | None, Query(description="Last local date (default: today).")
        ] = None,
        include_naps: bool = False,
    ) -> AverageStatsResponse:
        """Asleep-style average stats over at most 100 local days, across every provider."""
        ctx = await person_context.person_context(session, person, now, sources)
        return await person_service.average_stats(
            session, ctx, start_date, end_date, include_naps=include_naps
        )

    @router.get("/sleep-score")
    async def sleep_score(
        _principal: AnalyticsRead,
        person: LoadedPerson,
        session: SessionDep,
        now: Now,
        sources: Sources,
        days: Annotated[int, Query(ge=1, le=100)] = 30,
    ) -> SleepScoreResponse:
        """The 0-100 sleep score (efficiency, consistency, duration) over the last `days`."""
        ctx = await person_context.person_context(session, person, now, sources)
        return await person_service.sleep_score(session, ctx, days)


def _add_report_routes(router: APIRouter, loader: PersonLoader) -> None:
    """The weekly report and monthly trends."""
    LoadedPerson = Annotated[Person, Depends(loader)]

    @router.get("/reports/weekly")
    async def weekly_report(
        _principal: AnalyticsRead,
        person: LoadedPerson,
        session: SessionDep,
        now: Now,
        sources: Sources,
        generator: Generator,
        week: Annotated[
            str | None,
            Query(
                max_length=10,
                description="ISO week (2026-W10) or any date in it; default: this local week.",
            ),
        ] = None,
    ) -> WeeklyReportResponse:
        """Summary, stages, score, regularity and insights of one local calendar week."""
        ctx = await person_context.person_context(session, person, now, sources)
        return await person_service.weekly_report(session, ctx, week, generator)

    @router.get("/trends/monthly")
    async def monthly_trends(
        _principal: AnalyticsRead,
        person: LoadedPerson,
        session: SessionDep,
        now: Now,
        sources: Sources,
        months: Annotated[int, Query(ge=1, le=24)] = 6,
    ) -> MonthlyTrendsResponse:
        """Calendar months in the person's zone, oldest first; months without nights are empty."""
        ctx = await person_context.person_context(session, person, now, sources)
        return await person_service.monthly_trends(session, ctx, months)


def _add_wellbeing_routes(router: APIRouter, loader: PersonLoader) -> None:
    """Burnout and insights."""
    LoadedPerson = Annotated[Person, Depends(loader)]

    @router.get("/burnout")
    async def burnout(
        _principal: AnalyticsRead,
        person: LoadedPerson,
        session: SessionDep,
        now: Now,
        sources: Sources,
        queue: JobQueueDep,
        history_days: Annotated[int, Query(ge=0, le=90)] = 30,
    ) -> BurnoutResponse:
        """Burnout risk: a wellbeing signal with its factors and history, not a diagnosis."""
        ctx = await person_context.person_context(session, person, now, sources)
        return await person_service.burnout(
            session, ctx, history_days, queue=queue, keep=sources is None
        )

    @router.get("/insights")
    async def insights(
        _principal: AnalyticsRead,
        person: LoadedPerson,
        session: SessionDep,
        now: Now,
        sources: Sources,
        generator: Generator,
        days: Annotated[int, Query(ge=3, le=100)] = 14,
    ) -> InsightsResponse:
        """Rule-based insights with their evidence, cached until the data changes or expiry."""
        ctx = await person_context.person_context(session, person, now, sources)
        return await insight_service.insights(session, ctx, days, generator)


cohort_router = APIRouter(tags=["analytics"])


@cohort_router.get("/organizations/{organization_id}/statistics")
async def organization_statistics(
    request: Request,
    organization_id: uuid.UUID,
    principal: AnalyticsRead,
    session: SessionDep,
    now: Now,
    sources: Sources,
    days: Annotated[int, Query(ge=1, le=100)] = 30,
) -> CohortResponse:
    """Mean, median, p10 and p90 of duration, efficiency, score and regularity, and one row
    per person, over the organisation's last `days` local dates."""
    forbid_members(principal, "analytics:read")
    answer = await cohort_service.organization_statistics(
        session, principal, organization_id, days, now, sources
    )
    note_people(request, (row.user_id for row in answer.rows))  # an audit row for each
    return answer


@cohort_router.post(
    "/cohorts/analysis",
    responses={404: error_response("`users_not_found`: none of the ids is in the organisation.")},
)
async def cohort_analysis(
    request: Request,
    body: CohortRequest,
    principal: AnalyticsRead,
    session: SessionDep,
    now: Now,
    sources: Sources,
) -> CohortResponse:
    """The organisation statistics for chosen people of the caller's organisation."""
    forbid_members(principal, "analytics:read")
    answer = await cohort_service.cohort_analysis(
        session, principal, body.user_ids, body.days, now, sources
    )
    note_people(request, (row.user_id for row in answer.rows))  # an audit row for each
    return answer


router = APIRouter()
router.include_router(_person_analytics_routes("/users/{user_id}", person_from_path, "analytics"))
router.include_router(_person_analytics_routes("/me", person_from_me, "me"))
router.include_router(cohort_router)
