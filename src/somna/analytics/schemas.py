"""Answers of the analytics routes. Nested figures are the calculations' own frozen
dataclasses (pydantic serialises them), so the API and the maths share one definition."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from somna.analytics.cohort_measures import ClockDistribution
from somna.calculations import Factor, Regularity, SleepScore
from somna.calculations import Insight as CalculatedInsight
from somna.calculations.reports import MonthTrend, PeriodSummary, StageSummary
from somna.calculations.stats import Distribution, SecondsDistribution
from somna.kit.numbers import Measures, OneDecimal, Percent, Score, Seconds

SourcesUsed = Annotated[
    list[str],
    Field(description="Providers whose records were counted (one night counts once, by priority)."),
]


SourcesByMetric = Annotated[
    dict[str, str | None],
    Field(
        description="The providers used per metric (`sleep`, and `hrv`, `resting_hr` where "
        "the answer reads them), in priority order and comma-separated when several were "
        "used; null when none."
    ),
]


class Period(BaseModel):
    start_date: date
    end_date: date
    days: int
    timezone: str = Field(description="The zone local dates are read in.")


class AverageStatsResponse(BaseModel):
    """Asleep's ``average-stats`` result, computed over every provider."""

    user_id: uuid.UUID
    period: Period
    peculiarities: list[str]
    average_stats: dict[str, Any] | None = Field(
        description="Means over slept sessions; clock times averaged on the 24-hour circle. "
        "Null when the period has no slept session."
    )
    never_slept_sessions: list[dict[str, Any]]
    slept_sessions: list[dict[str, Any]]
    sources_used: SourcesUsed
    sources: SourcesByMetric


class SleepScoreResponse(BaseModel):
    user_id: uuid.UUID
    period: Period
    period_days: int
    session_count: int = Field(description="Slept main sleeps counted.")
    sufficient: bool = Field(
        description="At least 10 nights per 30 days of the window (rounded up); otherwise the "
        "score and regularity are null and `reason` says why."
    )
    reason: str | None = Field(description="Why the score is withheld; null when it is not.")
    mean_duration_seconds: Seconds | None
    mean_efficiency_pct: Percent | None
    score: SleepScore = Field(
        description="`overall` 0-100 and each component with its weight and input."
    )
    regularity: Regularity
    sources_used: SourcesUsed
    sources: SourcesByMetric


class WeeklyReportResponse(BaseModel):
    user_id: uuid.UUID
    timezone: str
    generator: str = Field(description="The insight generator used.")
    week: str = Field(description="ISO week, e.g. 2026-W10.")
    start_date: date
    end_date: date
    session_count: int
    nap_count: int
    sufficient: bool = Field(description="At least 4 of 7 nights recorded.")
    reason: str | None = Field(
        description="Why the score and regularity are withheld (null when sufficient)."
    )
    summary: PeriodSummary
    stages: StageSummary
    sleep_debt_hours: OneDecimal | None
    score: SleepScore
    regularity: Regularity
    insights: list[CalculatedInsight]
    sources_used: SourcesUsed
    sources: SourcesByMetric


class MonthlyTrendsResponse(BaseModel):
    user_id: uuid.UUID
    timezone: str
    months: list[MonthTrend] = Field(description="Calendar months, oldest first.")
    sleep_slope_minutes_per_week: OneDecimal | None
    efficiency_slope_pct_per_week: OneDecimal | None
    trend_sufficient: bool = Field(description="At least 7 slept nights over the months.")
    trend_reason: str | None = Field(description="Why the slopes are withheld, if they are.")
    sources_used: SourcesUsed
    sources: SourcesByMetric


class BurnoutPoint(BaseModel):
    as_of: date
    risk: Score | None
    level: str


class BurnoutResponse(BaseModel):
    user_id: uuid.UUID
    timezone: str
    as_of: date
    risk: Score | None = Field(description="0-100; null when the level is insufficient_data.")
    level: Literal["low", "moderate", "high", "insufficient_data"]
    factors: list[Factor]
    missing: list[str] = Field(description="What each unavailable factor needs.")
    model_version: str
    disclaimer: str
    computed_at: datetime
    history: list[BurnoutPoint] = Field(description="The risk on each earlier date, oldest first.")
    sources: SourcesByMetric


class InsightItem(BaseModel):
    kind: str
    severity: str
    title: str
    body: str
    evidence: Measures


class InsightsResponse(BaseModel):
    user_id: uuid.UUID
    timezone: str
    start_date: date | None
    end_date: date | None
    generator: str
    data_version: str | None
    generated_at: datetime
    expires_at: datetime
    cached: bool = Field(description="True when served from the insights cache.")
    sources_used: SourcesUsed
    sources: SourcesByMetric
    insights: list[InsightItem]


class CohortRequest(BaseModel):
    user_ids: list[uuid.UUID] = Field(min_length=1, max_length=10_000)
    days: int = Field(30, ge=1, le=100)


class CohortRow(BaseModel):
    user_id: uuid.UUID
    email: str
    nights: int
    mean_duration_seconds: Seconds | None
    mean_efficiency_pct: Percent | None
    score: Score | None
    regularity: Score | None = Field(description="The score's 0-100 consistency component.")
    regularity_method: str | None = Field(
        description="Always `midpoint_sd` here (no epochs for the SRI); the personal score "
        "serves the same figure as `regularity.midpoint_consistency`."
    )
    sufficient: bool = Field(description="Enough nights for a score, as the personal score.")
    reason: str | None = Field(description="Why score and regularity are null, if they are.")
    social_jetlag_minutes: float | None = Field(
        None, description="|MSF - MSW| in minutes; null below 2 nights of each kind of day."
    )
    relative_social_jetlag_minutes: float | None = Field(
        None, description="MSF - MSW in minutes, positive when free-day sleep is later."
    )
    msf_sc: str | None = Field(None, description="Chronotype, MSFsc, as a local clock time HH:MM.")
    sleep_debt_hours: float | None = Field(
        None, description="The running 14-day sleep debt on the window's last date."
    )
    readiness: float | None = Field(None, description="0-100 on the window's last date.")
    sources_used: list[str]


class CohortResponse(BaseModel):
    organization_id: uuid.UUID
    period: Period
    people: int
    people_with_data: int
    total_nights: int
    duration_seconds: SecondsDistribution
    efficiency_pct: Distribution
    score: Distribution
    regularity: Distribution
    social_jetlag_minutes: Distribution | None = None
    msf_sc: ClockDistribution | None = None
    sleep_debt_hours: Distribution | None = None
    readiness: Distribution | None = None
    sources_used: SourcesUsed
    sources: SourcesByMetric = Field(default_factory=dict)
    not_found: list[uuid.UUID] = Field(
        description="Requested ids that are not people of this organisation."
    )
    rows: list[CohortRow]
