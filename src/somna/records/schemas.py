"""What the records API returns. Durations in seconds, times with offsets, dates local."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from somna.calculations.hypnogram import HypnogramStats
from somna.calculations.transitions import Transitions


class RecordRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    provider: str = Field(description="The source of the record: whoop, asleep, ...")
    provider_record_id: str
    connection_id: uuid.UUID
    score_state: str | None
    provider_updated_at: datetime | None
    created_at: datetime
    updated_at: datetime


class SleepSessionRead(RecordRead):
    start_at: datetime
    end_at: datetime
    timezone_offset_minutes: int | None
    local_date: date
    is_nap: bool
    in_bed_seconds: int | None
    asleep_seconds: int | None
    awake_seconds: int | None
    light_seconds: int | None
    deep_seconds: int | None
    rem_seconds: int | None
    latency_seconds: int | None
    waso_count: int | None
    waso_seconds: int | None
    disturbance_count: int | None
    cycle_count: int | None
    efficiency_pct: float | None
    performance_pct: float | None
    consistency_pct: float | None
    respiratory_rate: float | None
    has_hypnogram: bool
    derived_from_hypnogram: list[str] = Field(
        default_factory=list,
        description="Totals computed from the hypnogram because the provider has not sent "
        "them (its score is still pending); the list and the detail show the same values.",
    )


class HypnogramRead(BaseModel):
    epoch_seconds: int
    stages: str = Field(
        description="One character per epoch: W wake, L light, D deep, R REM, U unknown."
    )


class SleepSessionDetail(SleepSessionRead):
    hypnogram: HypnogramRead | None
    statistics: HypnogramStats | None = Field(
        description="Statistics of the hypnogram as YASA defines them, in seconds and percent."
    )
    transitions: Transitions | None = Field(
        description="Stage transition counts (4 x 4, self-transitions included, as YASA's "
        "transition_matrix) and row probabilities; unknown epochs left out."
    )
    raw: dict[str, Any]


class RecoveryRead(RecordRead):
    recorded_at: datetime
    local_date: date
    cycle_record_id: str | None
    sleep_record_id: str | None
    recovery_score: float | None
    hrv_rmssd_ms: float | None
    resting_hr_bpm: float | None
    spo2_pct: float | None
    skin_temp_celsius: float | None
    user_calibrating: bool | None


class CycleRead(RecordRead):
    start_at: datetime
    end_at: datetime | None
    timezone_offset_minutes: int | None
    local_date: date
    strain: float | None
    kilojoules: float | None
    average_heart_rate: float | None
    max_heart_rate: float | None


class WorkoutRead(RecordRead):
    start_at: datetime
    end_at: datetime
    timezone_offset_minutes: int | None
    local_date: date
    sport_name: str | None
    strain: float | None
    average_heart_rate: float | None
    max_heart_rate: float | None
    kilojoules: float | None
    distance_meters: float | None
    altitude_gain_meters: float | None
    zone_durations_seconds: dict[str, Any] | None


class BodyMeasurementRead(RecordRead):
    measured_at: datetime
    height_meters: float | None
    weight_kilograms: float | None
    max_heart_rate: int | None
