"""A person's analytics context and the reads every personal answer shares.

Every function takes the person's local "now" context (zone, today, source priority, goal)
from ``person_context``; dates are the person's local calendar dates (docs/analytics.md).
Records are read with two days of margin around a window because the stored local date was
set from the record's own offset, and the calculations re-date each night in the person's zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from somna import calculations as calc
from somna.analytics.repository import AnalyticsRepository
from somna.analytics.schemas import (
    Period,
)
from somna.calculations.sources import SourcePriority
from somna.models import Organization, Person, UserPreferences

MAX_PERIOD_DAYS = 100
MARGIN = timedelta(days=2)
# How far back each model looks (calculations/burnout.py): 7 recent + 60 baseline days for
# recovery, 7 + 28 for mood, 14 for regularity.
RECOVERY_LOOKBACK = timedelta(days=67)
MOOD_LOOKBACK = timedelta(days=35)
REGULARITY_LOOKBACK = timedelta(days=14)
NEED_LOOKBACK = timedelta(days=28)  # free-day sleep for the need; covers the debt's 14 days


@dataclass(frozen=True, slots=True)
class PersonContext:
    person: Person
    zone: ZoneInfo | None
    zone_name: str
    priority: tuple[str, ...]  # the sleep order (``sources.order("sleep")``)
    goal_hours: float
    today: date
    now: datetime
    workdays: frozenset[int] = calc.DEFAULT_WORKDAYS
    has_goal: bool = False  # the person saved preferences, so the goal is theirs
    sources: SourcePriority = field(default_factory=SourcePriority)


async def person_context(
    session: AsyncSession,
    person: Person,
    now: datetime,
    sources: tuple[str, ...] | None = None,
) -> PersonContext:
    """The person's zone (preference, else their own), source priority (the query's
    ``sources``, else theirs, else their organisation's), goal and today."""
    repository = AnalyticsRepository(session)
    preferences = await repository.preferences(person.id)
    organization = await repository.organization(person.organization_id)
    priority = calc.source_priority(
        query=sources,
        person=preferences.source_priority if preferences else None,
        organization=organization_settings(organization).get("source_priority"),
    )
    zone = calc.parse_zone(preferences.timezone if preferences else None) or calc.parse_zone(
        person.timezone
    )
    return PersonContext(
        person=person,
        zone=zone,
        zone_name=str(zone) if zone is not None else "UTC",
        priority=priority.order("sleep"),
        goal_hours=preferences.sleep_goal_hours if preferences else 8.0,
        today=calc.local_today(now, zone),
        now=now,
        workdays=workdays_of(preferences),
        has_goal=preferences is not None,
        sources=priority,
    )


def organization_settings(organization: Organization | None) -> dict[str, Any]:
    settings = organization.settings if organization is not None else None
    return settings if isinstance(settings, dict) else {}


def workdays_of(preferences: UserPreferences | None) -> frozenset[int]:
    """The person's workdays (ISO weekday numbers), Monday to Friday unless they set them."""
    extra = preferences.extra if preferences is not None else None
    value = extra.get("workdays") if isinstance(extra, dict) else None
    if isinstance(value, list) and all(isinstance(d, int) and 1 <= d <= 7 for d in value):
        return frozenset(value)
    return calc.DEFAULT_WORKDAYS


def sleep_need(ctx: PersonContext, resolved: calc.ResolvedSleep) -> calc.SleepNeed:
    """The person's goal, else their free-day sleep over the 28 days before today."""
    first = ctx.today - timedelta(days=calc.NEED_LOOKBACK_DAYS - 1)
    free = [
        m.tst_seconds
        for n in resolved.between(first, ctx.today)
        if calc.is_free_day(n.local_date, ctx.workdays)
        and (m := calc.night_metrics(n.record)).tst_seconds
    ]
    return calc.sleep_need(ctx.goal_hours if ctx.has_goal else None, free)


async def resolved_sleep(
    session: AsyncSession, ctx: PersonContext, first: date, last: date
) -> calc.ResolvedSleep:
    """Every sleep near ``first..last``, one record per night (by the source priority)."""
    rows = await AnalyticsRepository(session).sleep_rows(
        ctx.person.id, first - MARGIN, last + MARGIN
    )
    periods = [calc.SleepPeriod.from_row(row) for row in rows if ctx.sources.allows(row.provider)]
    return calc.resolve_sleep(periods, zone=ctx.zone, priority=ctx.priority)


def sleep_sources(ctx: PersonContext, nights: Iterable[calc.Night]) -> dict[str, str | None]:
    """``{"sleep": ...}``: the providers of the counted sleeps an answer used."""
    return {"sleep": calc.named_sources((n.record.provider for n in nights), ctx.priority)}


def recovery_sources(
    ctx: PersonContext, days: Iterable[calc.DailyRecovery]
) -> dict[str, str | None]:
    """``{"hrv": ..., "resting_hr": ...}``: the providers of the values an answer used."""
    chosen = list(days)
    return {
        "hrv": calc.named_sources((d.hrv_provider for d in chosen), ctx.sources.order("hrv")),
        "resting_hr": calc.named_sources(
            (d.resting_hr_provider for d in chosen), ctx.sources.order("resting_hr")
        ),
    }


def period_of(first: date, last: date, ctx: PersonContext) -> Period:
    return Period(
        start_date=first, end_date=last, days=(last - first).days + 1, timezone=ctx.zone_name
    )


async def burnout_inputs(
    session: AsyncSession, ctx: PersonContext, first: date, last: date
) -> calc.BurnoutInputs:
    """What the burnout model needs to judge every date in ``first..last``."""
    repository = AnalyticsRepository(session)
    resolved = await resolved_sleep(session, ctx, first - NEED_LOOKBACK, last)
    recoveries = await repository.recovery_rows(ctx.person.id, first - RECOVERY_LOOKBACK, last)
    moods = await repository.mood_rows(ctx.person.id, first - MOOD_LOOKBACK, last)
    return calc.BurnoutInputs(
        nights=resolved.nights,
        naps=resolved.naps,
        recoveries=[
            calc.RecoveryReading(r.local_date, r.provider, r.hrv_rmssd_ms, r.resting_hr_bpm)
            for r in recoveries
            if ctx.sources.allows(r.provider)
        ],
        moods=[calc.MoodEntry(m.local_date, m.score) for m in moods],
        goal_hours=sleep_need(ctx, resolved).seconds / 3600,
        priority=ctx.sources.order("hrv"),
        rhr_priority=ctx.sources.order("resting_hr"),
    )
