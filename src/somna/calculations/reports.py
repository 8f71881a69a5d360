"""The weekly report (an ISO week of local dates) and monthly trends (calendar months).

Both read counted sleeps (``resolve_sleep``) and place each by its local wake date, so a
month is a real calendar month in the person's zone, never a 30-day block, and a month or week
without nights is present and marked empty.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from somna.calculations.burnout import BurnoutResult
from somna.calculations.cohort import summarise_person
from somna.calculations.daily import daily_sleep_seconds
from somna.calculations.debt import sleep_debt
from somna.calculations.insights import (
    Insight,
    InsightGenerator,
    RuleBasedInsights,
    insight_context,
)
from somna.calculations.local_time import (
    DEFAULT_WORKDAYS,
    clock_seconds,
    last_months,
    week_bounds,
)
from somna.calculations.metrics import NightMetrics, night_metrics
from somna.calculations.nights import Night, ResolvedSleep
from somna.calculations.regularity import Regularity, regularity, withhold_regularity
from somna.calculations.score import SleepScore, score_from_summary, withhold_score
from somna.calculations.stats import (
    circular_mean_seconds,
    format_clock,
    mean,
    theil_sen_slope,
)
from somna.calculations.sufficiency import (
    WEEK_MIN_NIGHTS,
    for_month,
    for_trend,
    for_week,
)
from somna.kit.numbers import OneDecimal, Percent, Score, Seconds

MIN_WEEK_NIGHTS = WEEK_MIN_NIGHTS  # at least 4 of 7 nights for a weekly figure


@dataclass(frozen=True, slots=True)
class PeriodSummary:
    nights: int
    mean_sleep_seconds: Seconds | None
    mean_bedtime: str | None  # hh:mm:ss, circular mean of local start times
    mean_wake_time: str | None
    mean_efficiency_pct: Percent | None
    mean_latency_seconds: Seconds | None
    mean_waso_seconds: Seconds | None


@dataclass(frozen=True, slots=True)
class StageSummary:
    light_seconds: Seconds | None  # nightly means
    deep_seconds: Seconds | None
    rem_seconds: Seconds | None
    light_pct: Percent | None  # of total sleep, YASA's denominator
    deep_pct: Percent | None
    rem_pct: Percent | None


@dataclass(frozen=True, slots=True)
class WeeklyReport:
    week: str  # ISO week, e.g. 2026-W48
    start_date: date
    end_date: date
    session_count: int  # slept main sleeps
    nap_count: int
    sufficient: bool  # at least MIN_WEEK_NIGHTS nights
    reason: str | None  # why the score and regularity are withheld
    summary: PeriodSummary
    stages: StageSummary
    sleep_debt_hours: float | None  # the running debt at the week's end (calculations/debt)
    score: SleepScore
    regularity: Regularity
    insights: tuple[Insight, ...]
    sources_used: tuple[str, ...]


def summarise_period(nights: Sequence[Night]) -> PeriodSummary:
    pairs = [(n, m) for n in nights if (m := night_metrics(n.record)).slept]
    ms = [m for _, m in pairs]
    return PeriodSummary(
        nights=len(ms),
        mean_sleep_seconds=mean(m.tst_seconds for m in ms),
        mean_bedtime=_mean_clock([(n.record.start_at, n) for n, _ in pairs]),
        mean_wake_time=_mean_clock([(n.record.end_at, n) for n, _ in pairs]),
        mean_efficiency_pct=mean(m.efficiency_pct for m in ms),
        mean_latency_seconds=mean(m.latency_seconds for m in ms),
        mean_waso_seconds=mean(m.waso_seconds for m in ms),
    )


def summarise_stages(metrics: Sequence[NightMetrics]) -> StageSummary:
    light = mean(m.light_seconds for m in metrics)
    deep = mean(m.deep_seconds for m in metrics)
    rem = mean(m.rem_seconds for m in metrics)
    total = sum(v for v in (light, deep, rem) if v is not None)

    def pct(v: float | None) -> float | None:
        return None if v is None or not total else 100 * v / total

    return StageSummary(light, deep, rem, pct(light), pct(deep), pct(rem))


def _mean_clock(items: list[tuple[datetime, Night]]) -> str | None:
    return format_clock(circular_mean_seconds([clock_seconds(t, n.zone) for t, n in items]))


def weekly_report(
    resolved: ResolvedSleep,
    week_start: date,
    *,
    goal_hours: float = 8.0,
    burnout: BurnoutResult | None = None,
    generator: InsightGenerator | None = None,
    as_of: date | None = None,
    workdays: Collection[int] = DEFAULT_WORKDAYS,
) -> WeeklyReport:
    """The report for the ISO week containing ``week_start``; ``goal_hours`` is the sleep
    need, ``as_of`` today for the running week, ``workdays`` the person's."""
    start, end = week_bounds(week_start)
    nights = resolved.between(start, end)
    naps = [n for n in resolved.naps if start <= n.local_date <= end]
    summary = summarise_period(nights)
    enough = for_week(summary.nights)
    reg = regularity(nights, naps, workdays=workdays)
    score = score_from_summary(summarise_person("", nights, reg))
    if enough.reason is not None:
        reg, score = withhold_regularity(reg, enough.reason), withhold_score(score, enough.reason)
    metrics = [m for n in nights if (m := night_metrics(n.record)).slept]
    # The debt on the week's last date (or ``as_of`` for the running week) looks 14 days back.
    daily = daily_sleep_seconds(resolved.nights, resolved.naps)
    debt = sleep_debt(min(end, as_of or end), daily, goal_hours * 3600).debt_seconds
    context = insight_context(
        nights, start, end, goal_hours=goal_hours, regularity=reg, burnout=burnout
    )
    year, week, _ = start.isocalendar()
    return WeeklyReport(
        week=f"{year}-W{week:02d}",
        start_date=start,
        end_date=end,
        session_count=summary.nights,
        nap_count=len(naps),
        sufficient=enough.sufficient,
        reason=enough.reason,
        summary=summary,
        stages=summarise_stages(metrics),
        sleep_debt_hours=None if debt is None else debt / 3600,
        score=score,
        regularity=reg,
        insights=tuple((generator or RuleBasedInsights()).generate(context)),
        sources_used=tuple(sorted({n.record.provider for n in (*nights, *naps)})),
    )


@dataclass(frozen=True, slots=True)
class MonthTrend:
    month: str  # YYYY-MM
    start_date: date
    end_date: date
    empty: bool
    complete: bool  # False for the month still running
    summary: PeriodSummary
    score: Score | None
    midpoint_sd_minutes: OneDecimal | None
    sufficient: bool  # at least 7 nights
    reason: str | None  # why the score and midpoint spread are withheld


@dataclass(frozen=True, slots=True)
class MonthlyTrends:
    months: tuple[MonthTrend, ...]  # oldest first
    sleep_slope_minutes_per_week: float | None  # Theil-Sen over nightly sleep
    efficiency_slope_pct_per_week: float | None
    trend_sufficient: bool  # at least 7 nights over the months
    trend_reason: str | None  # why the slopes are withheld
    sources_used: tuple[str, ...]


def monthly_trends(resolved: ResolvedSleep, today: date, months: int = 6) -> MonthlyTrends:
    """``months`` calendar months ending with the one containing ``today`` (local)."""
    bounds = last_months(today, months)
    rows = [_month(resolved, s, e, today) for s, e in bounds]
    nights = resolved.between(bounds[0][0], today)
    points = [(n.local_date, night_metrics(n.record)) for n in nights]
    points = [(d, m) for d, m in points if m.slept]
    origin = bounds[0][0]
    sleep = [
        ((d - origin).days, m.tst_seconds / 60) for d, m in points if m.tst_seconds is not None
    ]
    eff = [((d - origin).days, m.efficiency_pct) for d, m in points if m.efficiency_pct is not None]
    enough = for_trend(len(points))
    if not enough.sufficient:
        sleep, eff = [], []
    return MonthlyTrends(
        months=tuple(rows),
        sleep_slope_minutes_per_week=_per_week(theil_sen_slope(sleep)),
        efficiency_slope_pct_per_week=_per_week(theil_sen_slope(eff)),
        trend_sufficient=enough.sufficient,
        trend_reason=enough.reason,
        sources_used=tuple(sorted({n.record.provider for n in nights})),
    )


def _per_week(slope_per_day: float | None) -> float | None:
    return None if slope_per_day is None else slope_per_day * 7


def _month(resolved: ResolvedSleep, start: date, end: date, today: date) -> MonthTrend:
    nights = resolved.between(start, end)
    naps = [n for n in resolved.naps if start <= n.local_date <= end]
    summary = summarise_period(nights)
    person = summarise_person("", nights, regularity(nights, naps))
    enough = for_month(summary.nights)
    return MonthTrend(
        month=f"{start.year:04d}-{start.month:02d}",
        start_date=start,
        end_date=end,
        empty=summary.nights == 0,
        complete=end < today,
        summary=summary,
        score=score_from_summary(person).overall if enough.sufficient else None,
        midpoint_sd_minutes=person.midpoint_sd_minutes if enough.sufficient else None,
        sufficient=enough.sufficient,
        reason=enough.reason,
    )
