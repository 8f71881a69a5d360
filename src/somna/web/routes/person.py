"""A person's page: the chosen night's hypnogram, trends, score, regularity, reports,
burnout, insights and mood, each with the sources it used; and the mood form."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse

from somna.analytics import insight_service, person_context, person_service
from somna.analytics.dependencies import insight_generator
from somna.analytics.person_context import PersonContext
from somna.errors import SomnaError
from somna.models import Person
from somna.mood import service as mood_service
from somna.mood.schemas import MoodRatingCreate
from somna.people import service as users
from somna.records import service as records
from somna.records.repository import RecordFilter
from somna.web import charts
from somna.web.dependencies import Page, PageContext
from somna.web.routes import page_router

router = page_router()
NIGHT_CHOICES = 60


async def load_person(page: PageContext, person_id: uuid.UUID) -> Person:
    """The API's own lookup: 404 for another organisation's person or, for a member,
    anyone but themselves."""
    return await users.get_person(page.session, page.principal, person_id)


async def _night(page: PageContext, person: Person, night_id: uuid.UUID | None) -> Any:
    rows, _ = await records.list_records(
        page.session, "sleep", person.id, RecordFilter(include_naps=False),
        limit=NIGHT_CHOICES, cursor=None,
    )  # fmt: skip
    if night_id is None:
        chosen = next((row for row in rows if row.has_hypnogram), rows[0] if rows else None)
        if chosen is None:
            return rows, None
        night_id = chosen.id
    detail = records.sleep_detail(
        await records.get_record(page.session, "sleep", person.id, night_id)
    )
    return rows, detail


async def _trends(page: PageContext, ctx: PersonContext, days: int) -> dict[str, Any]:
    first = ctx.today - timedelta(days=days - 1)
    resolved = await person_context.resolved_sleep(page.session, ctx, first, ctx.today)
    nights = resolved.between(first, ctx.today)
    data = charts.trends(nights, first, ctx.today, ctx.zone or UTC, ctx.goal_hours)
    data["sources_used"] = sorted({night.record.provider for night in nights})
    return data


def _query(**values: str | None) -> str:
    return urlencode({key: value for key, value in values.items() if value})


@router.get("/people/{person_id}")
async def person_page(
    person_id: uuid.UUID,
    page: Page,
    night: uuid.UUID | None = None,
    days: Annotated[int, Query(description="30 or 90")] = 30,
    week: Annotated[str | None, Query(max_length=10)] = None,
    mood: Annotated[str | None, Query(max_length=20)] = None,
    mood_error: Annotated[str | None, Query(max_length=300)] = None,
) -> HTMLResponse:
    page.require("sleep:read", "analytics:read")
    person = await load_person(page, person_id)
    days = 90 if days >= 90 else 30
    session = page.session
    ctx = await person_context.person_context(session, person, page.now)
    generator = insight_generator(page.request)
    nights, detail = await _night(page, person, night)
    trend = await _trends(page, ctx, days)
    moods, _ = await mood_service.list_ratings(session, person, None, None, limit=14, cursor=None)
    night_id = str(detail.id) if detail else None
    weekly = await person_service.weekly_report(session, ctx, week, generator)
    next_monday = weekly.start_date + timedelta(days=7)
    return page.render(
        "person.html",
        title=person.email,
        person=person,
        ctx=ctx,
        nights=nights,
        detail=detail,
        hypnogram_json=json.dumps(charts.hypnogram(detail, ctx.zone_name) if detail else None),
        trend=trend,
        trend_json=json.dumps(trend),
        days=days,
        score=await person_service.sleep_score(session, ctx, 30),
        weekly=weekly,
        prev_week=(weekly.start_date - timedelta(days=7)).isoformat(),
        next_week=next_monday.isoformat() if next_monday <= ctx.today else None,
        monthly=await person_service.monthly_trends(session, ctx, 6),
        burnout=await person_service.burnout(session, ctx, 0),
        insights=await insight_service.insights(session, ctx, 14, generator),
        moods=moods,
        mood_saved=mood == "saved",
        mood_error=mood_error,
        can_rate=page.principal.has("sleep:write"),
        today=ctx.today,
        days_query={n: _query(night=night_id, days=str(n), week=week) for n in (30, 90)},
        week_query=lambda w: _query(night=night_id, days=str(days), week=w),
    )


@router.post("/people/{person_id}/mood")
async def add_mood(
    person_id: uuid.UUID,
    page: Page,
    score: Annotated[int, Form(ge=1, le=10)],
    local_date: Annotated[date | None, Form()] = None,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    page.require("sleep:write")
    person = await load_person(page, person_id)
    payload = MoodRatingCreate(score=score, local_date=local_date, note=note.strip() or None)
    try:
        await mood_service.record_rating(page.session, person, payload, now=page.now)
    except SomnaError as exc:
        query = _query(mood_error=exc.detail)
        return RedirectResponse(f"/people/{person.id}?{query}#mood", status_code=303)
    return RedirectResponse(f"/people/{person.id}?mood=saved#mood", status_code=303)
