"""The canonical records every provider mapper produces and the store upserts.

Field names match the ORM columns in ``somna.models``; durations are whole seconds, times are
timezone-aware, percentages are 0-100. A mapper fills what the vendor gives and leaves the rest
``None``. ``provider_record_id`` plus the connection is the upsert key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class Stage(StrEnum):
    """One canonical sleep stage, one character per hypnogram epoch."""

    WAKE = "W"
    LIGHT = "L"  # N1 + N2
    DEEP = "D"  # N3
    REM = "R"
    UNKNOWN = "U"  # no data / unscorable epoch


_STAGE_CHARACTERS = frozenset(stage.value for stage in Stage)


def is_canonical_hypnogram(hypnogram: str, epoch_seconds: int) -> bool:
    """Whether ``hypnogram`` holds only canonical stage characters, with a positive epoch."""
    return epoch_seconds > 0 and set(hypnogram) <= _STAGE_CHARACTERS


class ScoreState(StrEnum):
    SCORED = "SCORED"
    PENDING_SCORE = "PENDING_SCORE"
    UNSCORABLE = "UNSCORABLE"


@dataclass(frozen=True, slots=True)
class CanonicalRecord:
    provider: str
    provider_record_id: str
    score_state: ScoreState | None
    provider_updated_at: datetime | None
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class SleepSessionRecord(CanonicalRecord):
    start_at: datetime
    end_at: datetime
    timezone_offset_minutes: int | None
    local_date: date
    is_nap: bool = False
    in_bed_seconds: int | None = None
    asleep_seconds: int | None = None
    awake_seconds: int | None = None
    light_seconds: int | None = None
    deep_seconds: int | None = None
    rem_seconds: int | None = None
    latency_seconds: int | None = None
    waso_count: int | None = None
    waso_seconds: int | None = None
    disturbance_count: int | None = None
    cycle_count: int | None = None
    efficiency_pct: float | None = None
    performance_pct: float | None = None
    consistency_pct: float | None = None
    respiratory_rate: float | None = None
    hypnogram: str | None = None  # Stage values joined, one per epoch
    hypnogram_epoch_seconds: int | None = None
    source_label: str | None = None


@dataclass(frozen=True, slots=True)
class RecoveryRecord(CanonicalRecord):
    recorded_at: datetime
    local_date: date
    cycle_record_id: str | None = None
    sleep_record_id: str | None = None
    recovery_score: float | None = None
    hrv_rmssd_ms: float | None = None
    resting_hr_bpm: float | None = None
    spo2_pct: float | None = None
    skin_temp_celsius: float | None = None
    user_calibrating: bool | None = None


@dataclass(frozen=True, slots=True)
class CycleRecord(CanonicalRecord):
    start_at: datetime
    end_at: datetime | None
    timezone_offset_minutes: int | None
    local_date: date
    strain: float | None = None
    kilojoules: float | None = None
    average_heart_rate: float | None = None
    max_heart_rate: float | None = None


@dataclass(frozen=True, slots=True)
class WorkoutRecord(CanonicalRecord):
    start_at: datetime
    end_at: datetime
    timezone_offset_minutes: int | None
    local_date: date
    sport_name: str | None = None
    strain: float | None = None
    average_heart_rate: float | None = None
    max_heart_rate: float | None = None
    kilojoules: float | None = None
    distance_meters: float | None = None
    altitude_gain_meters: float | None = None
    zone_durations_seconds: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class BodyMeasurementRecord(CanonicalRecord):
    measured_at: datetime
    height_meters: float | None = None
    weight_kilograms: float | None = None
    max_heart_rate: int | None = None


AnyRecord = (
    SleepSessionRecord | RecoveryRecord | CycleRecord | WorkoutRecord | BodyMeasurementRecord
)

# The collections a provider can offer; sync keeps one checkpoint per collection.
COLLECTIONS = ("sleep", "recovery", "cycles", "workouts", "body_measurements")
