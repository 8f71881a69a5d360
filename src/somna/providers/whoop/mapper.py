"""WHOOP v2 payloads → canonical records. Pure: values in, values out.

WHOOP gives stage *totals* per sleep, not epochs, so a WHOOP sleep gets no hypnogram
(``hypnogram`` and its epoch length stay None) rather than an invented one; latency and WASO,
which need epoch order, stay None too. ``score`` is present only when ``score_state`` is SCORED;
a record stored unscored is updated in place (same id) when WHOOP scores it later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

from somna.providers.payload import (
    Fields,
    local_date,
    ms_to_seconds,
    parse_offset_minutes,
)
from somna.records.canonical import (
    BodyMeasurementRecord,
    CycleRecord,
    RecoveryRecord,
    ScoreState,
    SleepSessionRecord,
    WorkoutRecord,
)

PROVIDER = "whoop"
# A cycle runs from one sleep onset to the next; it is "the day" whose waking hours it holds,
# i.e. the local date twelve hours after it starts (23:00 Monday → Tuesday).
CYCLE_DAY_SHIFT = timedelta(hours=12)
ZONE_FIELDS = ("zero", "one", "two", "three", "four", "five")


def _score_state(fields: Fields) -> ScoreState:
    value = fields.text("score_state")
    try:
        return ScoreState(value)
    except ValueError:
        return ScoreState.UNSCORABLE


def _pct(value: float | None) -> float | None:
    return None if value is None else min(100.0, max(0.0, value))


def _score(fields: Fields, state: ScoreState) -> Fields | None:
    # Trust score_state: a stray score on an unscored record is not data yet.
    return fields.opt_child("score") if state is ScoreState.SCORED else None


def _common(fields: Fields, state: ScoreState, record_id: str) -> dict[str, Any]:
    """The fields every canonical WHOOP record carries."""
    return {
        "provider": PROVIDER,
        "provider_record_id": record_id,
        "score_state": state,
        "provider_updated_at": fields.opt_moment("updated_at"),
        "raw": dict(fields.data),
    }


def _offset(fields: Fields) -> int | None:
    return parse_offset_minutes(PROVIDER, fields.data.get("timezone_offset"))


def _strain(score: Fields) -> float | None:
    strain = score.opt_number("strain")
    return None if strain is None else min(21.0, max(0.0, strain))


def map_sleep(payload: Mapping[str, Any]) -> SleepSessionRecord:
    """A WHOOP sleep (night or nap) → :class:`SleepSessionRecord`. Local date = wake-up day."""
    f = Fields(PROVIDER, payload, "sleep")
    state = _score_state(f)
    start, end = f.moment("start"), f.moment("end")
    offset = _offset(f)
    values: dict[str, Any] = {}
    score = _score(f, state)
    if score is not None:
        stages = score.child("stage_summary")
        light = ms_to_seconds(stages.integer("total_light_sleep_time_milli"))
        deep = ms_to_seconds(stages.integer("total_slow_wave_sleep_time_milli"))
        rem = ms_to_seconds(stages.integer("total_rem_sleep_time_milli"))
        values = {
            "in_bed_seconds": ms_to_seconds(stages.integer("total_in_bed_time_milli")),
            "awake_seconds": ms_to_seconds(stages.integer("total_awake_time_milli")),
            "light_seconds": light,
            "deep_seconds": deep,
            "rem_seconds": rem,
            "asleep_seconds": (light or 0) + (deep or 0) + (rem or 0),
            "cycle_count": stages.opt_integer("sleep_cycle_count"),
            "disturbance_count": stages.opt_integer("disturbance_count"),
            "efficiency_pct": _pct(score.opt_number("sleep_efficiency_percentage")),
            "performance_pct": _pct(score.opt_number("sleep_performance_percentage")),
            "consistency_pct": _pct(score.opt_number("sleep_consistency_percentage")),
            "respiratory_rate": score.opt_number("respiratory_rate"),
        }
    return SleepSessionRecord(
        **_common(f, state, f.text("id")),
        start_at=start,
        end_at=max(end, start),
        timezone_offset_minutes=offset,
        local_date=local_date(end, offset),
        is_nap=f.flag("nap", default=False),
        source_label=PROVIDER,
        **values,
    )


def map_recovery(
    payload: Mapping[str, Any],
    *,
    timezone_offset_minutes: int | None = None,
    zone: tzinfo | None = None,
) -> RecoveryRecord:
    """A WHOOP recovery → :class:`RecoveryRecord`, keyed by its cycle id (it has no id of its
    own). A recovery carries no offset: pass its cycle's or sleep's, else the person's zone."""
    f = Fields(PROVIDER, payload, "recovery")
    state = _score_state(f)
    recorded_at = f.moment("created_at")
    cycle_id = f.text("cycle_id")
    values: dict[str, Any] = {}
    score = _score(f, state)
    if score is not None:
        values = {
            "recovery_score": _pct(score.opt_number("recovery_score")),
            "hrv_rmssd_ms": score.opt_number("hrv_rmssd_milli"),
            "resting_hr_bpm": score.opt_number("resting_heart_rate"),
            "spo2_pct": _pct(score.opt_number("spo2_percentage")),
            "skin_temp_celsius": score.opt_number("skin_temp_celsius"),
            "user_calibrating": score.flag("user_calibrating", default=False),
        }
    return RecoveryRecord(
        **_common(f, state, cycle_id),
        recorded_at=recorded_at,
        local_date=local_date(recorded_at, timezone_offset_minutes, zone),
        cycle_record_id=cycle_id,
        sleep_record_id=f.opt_text("sleep_id"),
        **values,
    )


def map_cycle(payload: Mapping[str, Any]) -> CycleRecord:
    """A WHOOP cycle → :class:`CycleRecord`; ``end_at`` is None while the cycle is open."""
    f = Fields(PROVIDER, payload, "cycle")
    state = _score_state(f)
    start = f.moment("start")
    end = f.opt_moment("end")
    offset = _offset(f)
    values: dict[str, Any] = {}
    score = _score(f, state)
    if score is not None:
        values = {
            "strain": _strain(score),
            "kilojoules": score.opt_number("kilojoule"),
            "average_heart_rate": score.opt_number("average_heart_rate"),
            "max_heart_rate": score.opt_number("max_heart_rate"),
        }
    return CycleRecord(
        **_common(f, state, f.text("id")),
        start_at=start,
        end_at=None if end is None else max(end, start),
        timezone_offset_minutes=offset,
        local_date=local_date(start + CYCLE_DAY_SHIFT, offset),
        **values,
    )


def map_workout(payload: Mapping[str, Any]) -> WorkoutRecord:
    """A WHOOP workout → :class:`WorkoutRecord`; zone durations in seconds, keys zone_0..5."""
    f = Fields(PROVIDER, payload, "workout")
    state = _score_state(f)
    start, end = f.moment("start"), f.moment("end")
    offset = _offset(f)
    values: dict[str, Any] = {}
    score = _score(f, state)
    if score is not None:
        zones = score.opt_child("zone_durations")
        values = {
            "strain": _strain(score),
            "average_heart_rate": score.opt_number("average_heart_rate"),
            "max_heart_rate": score.opt_number("max_heart_rate"),
            "kilojoules": score.opt_number("kilojoule"),
            "distance_meters": score.opt_number("distance_meter"),
            "altitude_gain_meters": score.opt_number("altitude_gain_meter"),
            "zone_durations_seconds": None
            if zones is None
            else {
                f"zone_{index}": ms_to_seconds(zones.opt_integer(f"zone_{name}_milli"))
                for index, name in enumerate(ZONE_FIELDS)
            },
        }
    return WorkoutRecord(
        **_common(f, state, f.text("id")),
        start_at=start,
        end_at=max(end, start),
        timezone_offset_minutes=offset,
        local_date=local_date(start, offset),
        sport_name=f.opt_text("sport_name"),
        **values,
    )


def map_body_measurement(
    payload: Mapping[str, Any], *, user_id: str, observed_at: datetime
) -> BodyMeasurementRecord:
    """WHOOP's body measurement has no id or time: it is the current value. Its record id is
    the user plus a digest of the values, so a change makes a new record (history) and an
    unchanged value upserts onto the same one; ``observed_at`` is when we read it."""
    f = Fields(PROVIDER, payload, "body_measurement")
    height = f.opt_number("height_meter")
    weight = f.opt_number("weight_kilogram")
    max_hr = f.opt_integer("max_heart_rate")
    digest = hashlib.sha256(f"{height}|{weight}|{max_hr}".encode()).hexdigest()[:16]
    return BodyMeasurementRecord(
        provider=PROVIDER,
        provider_record_id=f"{user_id}:{digest}",
        score_state=None,
        provider_updated_at=None,
        raw=dict(payload),
        measured_at=observed_at,
        height_meters=height if height and height > 0 else None,
        weight_kilograms=weight if weight and weight > 0 else None,
        max_heart_rate=max_hr,
    )
