"""Answers of the circadian, readiness and daily-summary routes. Durations are whole seconds,
scores and z one decimal (z two), clock times ``HH:MM`` in the person's local time."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field

from somna.analytics.schemas import Period, SourcesByMetric

ClockTime = Annotated[str | None, Field(description="Local clock time HH:MM; null without data.")]


class DayKindTimingRead(BaseModel):
    nights: int = Field(description="Slept main sleeps that ended on this kind of day.")
    onset: ClockTime
    offset: ClockTime
    midpoint: ClockTime
    sleep_duration_seconds: int | None = Field(description="Mean sleep onset to final wake.")


class CircadianResponse(BaseModel):
    user_id: uuid.UUID
    period: Period
    workdays: list[int] = Field(description="ISO weekdays (Monday 1) of the person's workdays.")
    midpoint_workdays: ClockTime
    midpoint_free_days: ClockTime
    msf_sc: ClockTime = Field(description="Chronotype: MSF corrected for sleep debt (MCTQ).")
    social_jetlag_minutes: float | None = Field(description="|MSF - MSW|, minutes.")
    relative_social_jetlag_minutes: float | None = Field(
        description="MSF - MSW on the shorter arc, minutes; positive when free days are later."
    )
    sd_week_seconds: int | None = Field(description="Mean weekly sleep duration (MCTQ SDweek).")
    workday_timing: DayKindTimingRead
    free_day_timing: DayKindTimingRead
    reason: str | None = Field(description="Why some figures are null, if they are.")
    sources: SourcesByMetric


class BaselineRead(BaseModel):
    value: float | None = Field(description="That date's reading (HRV: rMSSD in ms; bpm).")
    rolling_mean: float | None = Field(description="7-day mean (HRV: of ln rMSSD).")
    normal_mean: float | None
    normal_low: float | None = Field(description="Normal mean minus 1 SD.")
    normal_high: float | None
    z: float | None
    within_normal_range: bool | None
    readings_recent: int
    readings_baseline: int
    warming_up: bool
    reason: str | None


class ComponentRead(BaseModel):
    name: str
    score: float | None = Field(description="0-100.")
    weight: float
    measure: float | None = Field(description="z, or last night's sleep as a share of need.")


class ReadinessDay(BaseModel):
    date: date
    readiness: float | None = Field(description="0-100; null with `reason` during warm-up.")
    reason: str | None
    components: list[ComponentRead]
    hrv: BaselineRead
    resting_hr: BaselineRead


class ReadinessResponse(BaseModel):
    user_id: uuid.UUID
    period: Period
    need_seconds: int = Field(description="The sleep need the sleep component compares with.")
    days: list[ReadinessDay] = Field(description="One per local date, oldest first.")
    sources: SourcesByMetric


class DayRead(BaseModel):
    date: date
    sleep_session_id: str | None = Field(description="The counted night that ended this date.")
    sleep_source: str | None
    sleep_seconds: int | None
    nap_sleep_seconds: int | None
    sleep_debt_seconds: int | None = Field(description="Running 14-day debt (see the docs).")
    nights_to_repay: int | None = Field(
        description="Nights of sleeping the need until the debt is under 15 minutes; null "
        "with the debt."
    )
    readiness: float | None
    readiness_reason: str | None
    hrv_rmssd_ms: float | None
    hrv_z: float | None = Field(description="z of the 7-day mean of ln rMSSD.")
    hrv_within_normal_range: bool | None
    resting_hr_bpm: float | None
    resting_hr_z: float | None
    resting_hr_within_normal_range: bool | None
    mood: float | None = Field(description="Mean self-reported mood, 1-10.")
    sources: SourcesByMetric


class DaysResponse(BaseModel):
    user_id: uuid.UUID
    period: Period
    need_seconds: int
    need_source: str = Field(description="goal, free_days (estimated) or default.")
    data: list[DayRead] = Field(description="One row per local date, oldest first.")
    sources: SourcesByMetric
