"""A person's analytics answers: average stats, the score, the weekly report, monthly
trends and burnout (stored, with its level change announced). The shared reads are in
``person_context``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from somna import calculations as calc
from somna.analytics.person_context import (
    MAX_PERIOD_DAYS,
    PersonContext,
    burnout_inputs,
    period_of,
    recovery_sources,
    resolved_sleep,
    sleep_sources,
)
from somna.analytics.repository import AnalyticsRepository
from somna.analytics.schemas import (
    AverageStatsResponse,
    BurnoutPoint,
    BurnoutResponse,
    MonthlyTrendsResponse,
    SleepScoreResponse,
    WeeklyReportResponse,
)
from somna.calculations.local_time import week_bounds
from somna.jobs.port import JobQueue
from somna.outgoing import emit


async def average_stats(
    session: AsyncSession,
    ctx: PersonContext,
    start: date | None,
    end: date | None,
    *,
    include_naps: bool = False,
) -> AverageStatsResponse:
    """Asleep's average-stats fields over ``start..end`` (default: the last 30 local days)."""
    last = end or ctx.today
    first = start or last - timedelta(days=29)
    calc.check_period(first, last, max_days=MAX_PERIOD_DAYS)
    resolved = await resolved_sleep(session, ctx, first, last)
    stats = calc.average_stats(resolved, first, last, include_naps=include_naps)
    used = resolved.between(first, last, include_naps=include_naps)
    return AverageStatsResponse(
        user_id=ctx.person.id,
        sources=sleep_sources(ctx, used),
        **calc.asleep_result(stats, timezone=ctx.zone_name),
    )


async def sleep_score(session: AsyncSession, ctx: PersonContext, days: int) -> SleepScoreResponse:
    """The 0-100 score over the last ``days`` local dates, today included."""
    first = ctx.today - timedelta(days=days - 1)
    resolved = await resolved_sleep(session, ctx, first, ctx.today)
    nights = resolved.between(first, ctx.today)
    naps = [n for n in resolved.naps if first <= n.local_date <= ctx.today]
    regularity = calc.regularity(nights, naps, workdays=ctx.workdays)
    summary = calc.summarise_person(str(ctx.person.id), nights, regularity)
    score = calc.score_from_summary(summary)
    enough = calc.sufficiency.for_score(summary.nights, days)
    if enough.reason is not None:
        score = calc.withhold_score(score, enough.reason)
        regularity = calc.withhold_regularity(regularity, enough.reason)
    return SleepScoreResponse(
        user_id=ctx.person.id,
        period=period_of(first, ctx.today, ctx),
        period_days=days,
        session_count=summary.nights,
        sufficient=enough.sufficient,
        reason=enough.reason,
        score=score,
        mean_duration_seconds=summary.mean_duration_seconds,
        mean_efficiency_pct=summary.mean_efficiency_pct,
        regularity=regularity,
        sources_used=sorted({n.record.provider for n in (*nights, *naps)}),
        sources=sleep_sources(ctx, (*nights, *naps)),
    )


async def weekly_report(
    session: AsyncSession,
    ctx: PersonContext,
    week: str | None,
    generator: calc.InsightGenerator,
) -> WeeklyReportResponse:
    """The report of an ISO week of local dates (default: the current one)."""
    monday = calc.parse_iso_week(week) if week else week_bounds(ctx.today)[0]
    sunday = monday + timedelta(days=6)
    as_of = min(sunday, ctx.today)
    inputs = await burnout_inputs(session, ctx, min(monday, as_of), max(sunday, as_of))
    resolved = calc.ResolvedSleep(nights=tuple(inputs.nights), naps=tuple(inputs.naps))
    burnout = calc.burnout_risk(as_of, inputs) if as_of >= monday else None
    report = calc.weekly_report(
        resolved,
        monday,
        goal_hours=inputs.goal_hours,
        burnout=burnout,
        generator=generator,
        as_of=as_of,
        workdays=ctx.workdays,
    )
    week_nights = [n for n in (*inputs.nights, *inputs.naps) if monday <= n.local_date <= sunday]
    recovery = calc.pick_recovery(inputs.recoveries, ctx.sources)
    return WeeklyReportResponse(
        user_id=ctx.person.id,
        timezone=ctx.zone_name,
        generator=generator.name,
        sources=sleep_sources(ctx, week_nights)
        | recovery_sources(ctx, (d for k, d in recovery.items() if k <= as_of)),
        **{name: getattr(report, name) for name in report.__dataclass_fields__},
    )


async def monthly_trends(
    session: AsyncSession, ctx: PersonContext, months: int
) -> MonthlyTrendsResponse:
    """The last ``months`` calendar months in the person's zone, oldest first."""
    first = calc.last_months(ctx.today, months)[0][0]
    resolved = await resolved_sleep(session, ctx, first, ctx.today)
    trends = calc.monthly_trends(resolved, ctx.today, months)
    return MonthlyTrendsResponse(
        user_id=ctx.person.id,
        timezone=ctx.zone_name,
        sources=sleep_sources(ctx, resolved.between(first, ctx.today)),
        **{name: getattr(trends, name) for name in trends.__dataclass_fields__},
    )


async def burnout(
    session: AsyncSession,
    ctx: PersonContext,
    history_days: int,
    *,
    queue: JobQueue | None = None,
    keep: bool = True,
) -> BurnoutResponse:
    """Today's wellbeing-risk signal and its daily history, every result stored when ``keep``.

    When today's level differs from the newest stored one, ``burnout.level_changed`` is
    recorded in the caller's transaction. A result computed with a one-off source choice
    (``keep`` off) is neither: it is a view, not the person's level.
    """
    dates = [ctx.today - timedelta(days=k) for k in range(history_days, -1, -1)]
    inputs = await burnout_inputs(session, ctx, dates[0], ctx.today)
    results = calc.burnout_history(dates, inputs)
    repository = AnalyticsRepository(session)
    current = results[-1]
    if keep:
        before = await repository.latest_burnout(ctx.person.id, current.model_version)
        newer = before is not None and before.as_of_date <= current.as_of
        if newer and before is not None and before.level != current.level:
            await _level_changed(session, queue, ctx, before.level, current)
        await _save_burnout(repository, ctx, results)
    return BurnoutResponse(
        user_id=ctx.person.id,
        timezone=ctx.zone_name,
        as_of=current.as_of,
        risk=current.risk,
        level=current.level,
        factors=list(current.factors),
        missing=list(current.missing),
        model_version=current.model_version,
        disclaimer=current.disclaimer,
        computed_at=ctx.now,
        history=[BurnoutPoint(as_of=r.as_of, risk=r.risk, level=r.level) for r in results],
        sources=sleep_sources(ctx, inputs.nights)
        | recovery_sources(ctx, calc.pick_recovery(inputs.recoveries, ctx.sources).values()),
    )


async def _save_burnout(
    repository: AnalyticsRepository, ctx: PersonContext, results: Sequence[calc.BurnoutResult]
) -> None:
    await repository.save_burnout(
        [
            {
                "person_id": ctx.person.id,
                "as_of_date": result.as_of,
                "risk_score": result.risk,
                "level": result.level,
                "factors": [asdict(f) for f in result.factors],
                "missing": list(result.missing),
                "model_version": result.model_version,
                "computed_at": ctx.now,
            }
            for result in results
        ]
    )


async def _level_changed(
    session: AsyncSession,
    queue: JobQueue | None,
    ctx: PersonContext,
    old_level: str,
    current: calc.BurnoutResult,
) -> None:
    # The main factor is the one with the largest share of the risk (none when no factor
    # scored a point, as at "low" or "insufficient_data").
    scored = [f for f in current.factors if f.points]
    main = max(scored, key=lambda f: f.contribution).name if scored else None
    await emit.burnout_level_changed(
        session, queue, ctx.person.organization_id,
        person_id=ctx.person.id, as_of=current.as_of, old_level=old_level,
        new_level=current.level, risk=current.risk, main_factor=main,
        model_version=current.model_version,
    )  # fmt: skip
