"""Circadian timing, readiness and the daily summary of one person: read the store through
the shared person services, call the pure calculations, shape the answers."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from somna import calculations as calc
from somna.analytics.daily_schemas import (
    BaselineRead,
    CircadianResponse,
    ComponentRead,
    DayKindTimingRead,
    DayRead,
    DaysResponse,
    ReadinessDay,
    ReadinessResponse,
)
from somna.analytics.person_context import (
    MAX_PERIOD_DAYS,
    PersonContext,
    burnout_inputs,
    period_of,
    recovery_sources,
    resolved_sleep,
    sleep_need,
    sleep_sources,
)
from somna.calculations.circadian import DayKindTiming, format_hhmm
from somna.calculations.daily import daily_mood, daily_sleep_seconds
from somna.calculations.days import DayRow, daily_rows, dates_between
from somna.calculations.readiness import (
    Baseline,
    Component,
    Readiness,
    ln_values,
    readiness,
)

DEFAULT_DAYS = 30


def window(ctx: PersonContext, start: date | None, end: date | None) -> tuple[date, date]:
    """``start..end`` (default: the 30 local dates ending today), checked (422 when reversed
    or longer than 100 days)."""
    last = end or ctx.today
    first = start or last - timedelta(days=DEFAULT_DAYS - 1)
    calc.check_period(first, last, max_days=MAX_PERIOD_DAYS)
    return first, last


def _one(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _int(value: float | None) -> int | None:
    return None if value is None else round(value)


async def circadian(
    session: AsyncSession, ctx: PersonContext, start: date | None, end: date | None
) -> CircadianResponse:
    first, last = window(ctx, start, end)
    resolved = await resolved_sleep(session, ctx, first, last)
    nights = resolved.between(first, last)
    c = calc.circadian(nights, ctx.workdays)
    return CircadianResponse(
        user_id=ctx.person.id,
        period=period_of(first, last, ctx),
        workdays=list(c.workday_numbers),
        midpoint_workdays=format_hhmm(c.workdays.midpoint_clock_seconds),
        midpoint_free_days=format_hhmm(c.free_days.midpoint_clock_seconds),
        msf_sc=format_hhmm(c.msf_sc_clock_seconds),
        social_jetlag_minutes=_one(c.social_jetlag_minutes),
        relative_social_jetlag_minutes=_one(c.relative_social_jetlag_minutes),
        sd_week_seconds=_int(c.sd_week_seconds),
        workday_timing=_timing(c.workdays),
        free_day_timing=_timing(c.free_days),
        reason=c.reason,
        sources=sleep_sources(ctx, nights),
    )


def _timing(t: DayKindTiming) -> DayKindTimingRead:
    return DayKindTimingRead(
        nights=t.nights,
        onset=format_hhmm(t.onset_clock_seconds),
        offset=format_hhmm(t.offset_clock_seconds),
        midpoint=format_hhmm(t.midpoint_clock_seconds),
        sleep_duration_seconds=_int(t.sleep_duration_seconds),
    )


async def readiness_days(
    session: AsyncSession, ctx: PersonContext, first: date, last: date
) -> ReadinessResponse:
    calc.check_period(first, last, max_days=MAX_PERIOD_DAYS)
    inputs = await burnout_inputs(session, ctx, first, last)
    resolved = calc.ResolvedSleep(tuple(inputs.nights), tuple(inputs.naps))
    need = sleep_need(ctx, resolved).seconds
    recovery = calc.pick_recovery(inputs.recoveries, ctx.sources)
    hrv = ln_values({d: r.hrv_rmssd_ms for d, r in recovery.items() if r.hrv_rmssd_ms})
    rhr = {d: r.resting_hr_bpm for d, r in recovery.items() if r.resting_hr_bpm is not None}
    sleep = daily_sleep_seconds(inputs.nights, inputs.naps)
    dates = dates_between(first, last)
    results = [readiness(d, hrv, rhr, sleep.get(d), need) for d in dates]
    used = [n for n in inputs.nights if first <= n.local_date <= last]
    return ReadinessResponse(
        user_id=ctx.person.id,
        period=period_of(first, last, ctx),
        need_seconds=round(need),
        days=[_readiness_day(r, recovery) for r in results],
        sources=sleep_sources(ctx, used)
        | recovery_sources(ctx, (r for d, r in recovery.items() if d <= last)),
    )


def _readiness_day(r: Readiness, recovery: dict[date, calc.DailyRecovery]) -> ReadinessDay:
    reading = recovery.get(r.as_of)
    return ReadinessDay(
        date=r.as_of,
        readiness=_one(r.score),
        reason=r.reason,
        components=[_component(c) for c in r.components],
        hrv=_baseline(r.hrv, reading.hrv_rmssd_ms if reading else None),
        resting_hr=_baseline(r.resting_hr, reading.resting_hr_bpm if reading else None),
    )


def _component(c: Component) -> ComponentRead:
    weight, measure = round(c.weight, 3), _one(c.measure, 3)
    return ComponentRead(name=c.name, score=_one(c.score), weight=weight, measure=measure)


def _baseline(b: Baseline, value: float | None) -> BaselineRead:
    return BaselineRead(
        value=value,
        rolling_mean=_one(b.rolling_mean, 3),
        normal_mean=_one(b.normal_mean, 3),
        normal_low=_one(b.normal_low, 3),
        normal_high=_one(b.normal_high, 3),
        z=_one(b.z, 2),
        within_normal_range=b.within_normal_range,
        readings_recent=b.recent_readings,
        readings_baseline=b.normal_readings,
        warming_up=b.warming_up,
        reason=b.reason,
    )


async def days(
    session: AsyncSession, ctx: PersonContext, start: date | None, end: date | None
) -> DaysResponse:
    """The daily summary of at most 100 local dates (default: the last 30)."""
    first, last = window(ctx, start, end)
    return await day_rows(session, ctx, first, last)


async def day_rows(
    session: AsyncSession, ctx: PersonContext, first: date, last: date
) -> DaysResponse:
    """The daily summary of ``first..last`` however long (exports use it for whole
    histories); the reads reach back 67 days for the baselines."""
    inputs = await burnout_inputs(session, ctx, first, last)
    resolved = calc.ResolvedSleep(tuple(inputs.nights), tuple(inputs.naps))
    need = sleep_need(ctx, resolved)
    recovery = calc.pick_recovery(inputs.recoveries, ctx.sources)
    rows = daily_rows(
        dates_between(first, last),
        inputs.nights,
        inputs.naps,
        recovery,
        daily_mood(inputs.moods),
        need.seconds,
    )
    return DaysResponse(
        user_id=ctx.person.id,
        period=period_of(first, last, ctx),
        need_seconds=round(need.seconds),
        need_source=need.source,
        data=[_day(row) for row in rows],
        sources={
            "sleep": calc.named_sources((r.sleep_source for r in rows), ctx.priority),
            "hrv": calc.named_sources((r.hrv_source for r in rows), ctx.sources.order("hrv")),
            "resting_hr": calc.named_sources(
                (r.resting_hr_source for r in rows), ctx.sources.order("resting_hr")
            ),
        },
    )


def _day(row: DayRow) -> DayRead:
    r = row.readiness
    return DayRead(
        date=row.local_date,
        sleep_session_id=row.sleep_session_id,
        sleep_source=row.sleep_source,
        sleep_seconds=row.sleep_seconds,
        nap_sleep_seconds=row.nap_sleep_seconds,
        sleep_debt_seconds=_int(row.sleep_debt_seconds),
        nights_to_repay=row.nights_to_repay,
        readiness=_one(r.score),
        readiness_reason=r.reason,
        hrv_rmssd_ms=row.hrv_rmssd_ms,
        hrv_z=_one(r.hrv.z, 2),
        hrv_within_normal_range=r.hrv.within_normal_range,
        resting_hr_bpm=row.resting_hr_bpm,
        resting_hr_z=_one(r.resting_hr.z, 2),
        resting_hr_within_normal_range=r.resting_hr.within_normal_range,
        mood=_one(row.mood),
        sources={
            "sleep": row.sleep_source,
            "hrv": row.hrv_source,
            "resting_hr": row.resting_hr_source,
        },
    )
