"""WHOOP payloads (built from the spec's own examples) → canonical records."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from somna.providers.exceptions import MappingError
from somna.providers.whoop.mapper import (
    map_body_measurement,
    map_cycle,
    map_recovery,
    map_sleep,
    map_workout,
)
from somna.records.canonical import ScoreState

SLEEP: dict[str, Any] = {
    "id": "ecfc6a15-4661-442f-a9a4-f160dd7afae8",
    "cycle_id": 93845,
    "v1_id": 93845,
    "user_id": 10129,
    "created_at": "2022-04-24T11:25:44.774Z",
    "updated_at": "2022-04-24T14:25:44.774Z",
    "start": "2022-04-24T02:25:44.774Z",
    "end": "2022-04-24T10:25:44.774Z",
    "timezone_offset": "-05:00",
    "nap": False,
    "score_state": "SCORED",
    "score": {
        "stage_summary": {
            "total_in_bed_time_milli": 30272735,
            "total_awake_time_milli": 1403507,
            "total_no_data_time_milli": 0,
            "total_light_sleep_time_milli": 14905851,
            "total_slow_wave_sleep_time_milli": 6630370,
            "total_rem_sleep_time_milli": 5879573,
            "sleep_cycle_count": 3,
            "disturbance_count": 12,
        },
        "sleep_needed": {
            "baseline_milli": 27395716,
            "need_from_sleep_debt_milli": 352230,
            "need_from_recent_strain_milli": 208595,
            "need_from_recent_nap_milli": -12312,
        },
        "respiratory_rate": 16.11328125,
        "sleep_performance_percentage": 98.0,
        "sleep_consistency_percentage": 90.0,
        "sleep_efficiency_percentage": 91.69533848,
    },
}


def test_scored_sleep() -> None:
    record = map_sleep(SLEEP)
    assert record.provider_record_id == SLEEP["id"]
    assert record.score_state is ScoreState.SCORED
    assert record.start_at == datetime(2022, 4, 24, 2, 25, 44, 774000, tzinfo=UTC)
    assert record.timezone_offset_minutes == -300
    assert record.local_date == date(2022, 4, 24)  # woke at 05:25 local
    assert (record.in_bed_seconds, record.awake_seconds) == (30273, 1404)
    assert (record.light_seconds, record.deep_seconds, record.rem_seconds) == (14906, 6630, 5880)
    assert record.asleep_seconds == 14906 + 6630 + 5880
    assert (record.cycle_count, record.disturbance_count) == (3, 12)
    assert record.efficiency_pct == pytest.approx(91.69533848)
    assert (record.performance_pct, record.consistency_pct) == (98.0, 90.0)
    assert record.respiratory_rate == pytest.approx(16.11328125)
    # Stage totals only: no invented hypnogram, no latency or WASO that need epoch order.
    assert record.hypnogram is None
    assert record.hypnogram_epoch_seconds is None
    assert record.latency_seconds is None
    assert record.waso_seconds is None
    assert record.raw == SLEEP
    assert record.provider_updated_at == datetime(2022, 4, 24, 14, 25, 44, 774000, tzinfo=UTC)


def test_local_date_is_the_wake_up_day_in_the_records_offset() -> None:
    late = {
        **SLEEP,
        "start": "2022-04-24T13:00:00.000Z",
        "end": "2022-04-24T21:30:00.000Z",
        "timezone_offset": "+09:00",
    }
    assert map_sleep(late).local_date == date(2022, 4, 25)


def test_pending_and_unscorable_sleeps_carry_no_score() -> None:
    pending = {k: v for k, v in SLEEP.items() if k != "score"} | {"score_state": "PENDING_SCORE"}
    record = map_sleep(pending)
    assert record.score_state is ScoreState.PENDING_SCORE
    assert record.asleep_seconds is None
    # A stray score on an unscored record is ignored, not half-trusted.
    odd = {**SLEEP, "score_state": "UNSCORABLE"}
    assert map_sleep(odd).score_state is ScoreState.UNSCORABLE
    assert map_sleep(odd).in_bed_seconds is None


def test_nap_stays_a_nap() -> None:
    assert map_sleep({**SLEEP, "nap": True}).is_nap is True


def test_recovery_is_keyed_by_cycle() -> None:
    payload: dict[str, Any] = {
        "cycle_id": 93845,
        "sleep_id": "123e4567-e89b-12d3-a456-426614174000",
        "user_id": 10129,
        "created_at": "2022-04-24T23:30:00.000Z",
        "updated_at": "2022-04-24T23:35:00.000Z",
        "score_state": "SCORED",
        "score": {
            "user_calibrating": False,
            "recovery_score": 44.0,
            "resting_heart_rate": 64.0,
            "hrv_rmssd_milli": 31.813562,
            "spo2_percentage": 95.6875,
            "skin_temp_celsius": 33.7,
        },
    }
    record = map_recovery(payload, timezone_offset_minutes=540)
    assert record.provider_record_id == "93845"
    assert record.cycle_record_id == "93845"
    assert record.sleep_record_id == payload["sleep_id"]
    assert (record.recovery_score, record.hrv_rmssd_ms, record.resting_hr_bpm) == (
        44.0,
        31.813562,
        64.0,
    )
    assert (record.spo2_pct, record.skin_temp_celsius, record.user_calibrating) == (
        95.6875,
        33.7,
        False,
    )
    assert record.local_date == date(2022, 4, 25)  # 08:30 in Seoul
    assert map_recovery(payload).local_date == date(2022, 4, 24)  # no offset known: UTC
    older = {
        **payload,
        "score": {
            k: v
            for k, v in payload["score"].items()
            if k not in ("spo2_percentage", "skin_temp_celsius")
        },
    }
    assert map_recovery(older).spo2_pct is None


def test_cycle_open_and_closed() -> None:
    closed = {
        "id": 93845,
        "user_id": 10129,
        "created_at": "2022-04-24T11:25:44.774Z",
        "updated_at": "2022-04-24T14:25:44.774Z",
        "start": "2022-04-24T03:25:44.774Z",
        "end": "2022-04-25T03:25:44.774Z",
        "timezone_offset": "-05:00",
        "score_state": "SCORED",
        "score": {
            "strain": 5.2951527,
            "kilojoule": 8288.297,
            "average_heart_rate": 68,
            "max_heart_rate": 141,
        },
    }
    record = map_cycle(closed)
    assert record.provider_record_id == "93845"
    assert record.end_at == datetime(2022, 4, 25, 3, 25, 44, 774000, tzinfo=UTC)
    assert (record.strain, record.kilojoules) == (5.2951527, 8288.297)
    assert (record.average_heart_rate, record.max_heart_rate) == (68, 141)
    # Starts 22:25 on the 23rd local: the day it holds is the 24th.
    assert record.local_date == date(2022, 4, 24)
    opened = {k: v for k, v in closed.items() if k not in ("end", "score")} | {
        "score_state": "PENDING_SCORE"
    }
    assert map_cycle(opened).end_at is None
    assert map_cycle(opened).strain is None


def test_workout_with_zones_in_seconds() -> None:
    payload = {
        "id": "ecfc6a15-4661-442f-a9a4-f160dd7afae8",
        "user_id": 10129,
        "created_at": "2022-04-24T11:25:44.774Z",
        "updated_at": "2022-04-24T14:25:44.774Z",
        "start": "2022-04-24T02:25:44.774Z",
        "end": "2022-04-24T10:25:44.774Z",
        "timezone_offset": "-05:00",
        "sport_name": "running",
        "score_state": "SCORED",
        "score": {
            "strain": 8.2463,
            "average_heart_rate": 123,
            "max_heart_rate": 146,
            "kilojoule": 1569.34033203125,
            "percent_recorded": 100,
            "distance_meter": 1772.77035916,
            "altitude_gain_meter": 46.64384460449,
            "altitude_change_meter": -0.781372010707855,
            "zone_durations": {
                "zone_zero_milli": 300000,
                "zone_one_milli": 600000,
                "zone_two_milli": 900000,
                "zone_three_milli": 900000,
                "zone_four_milli": 600000,
                "zone_five_milli": 300000,
            },
        },
    }
    record = map_workout(payload)
    assert record.sport_name == "running"
    assert record.local_date == date(2022, 4, 23)  # 21:25 local on the 23rd
    assert record.zone_durations_seconds == {
        "zone_0": 300,
        "zone_1": 600,
        "zone_2": 900,
        "zone_3": 900,
        "zone_4": 600,
        "zone_5": 300,
    }
    assert record.distance_meters == pytest.approx(1772.77035916)


def test_body_measurement_id_changes_only_with_the_values() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    body = {"height_meter": 1.8288, "weight_kilogram": 90.7185, "max_heart_rate": 200}
    first = map_body_measurement(body, user_id="10129", observed_at=at)
    same = map_body_measurement(dict(body), user_id="10129", observed_at=at)
    heavier = map_body_measurement(
        {**body, "weight_kilogram": 91.0}, user_id="10129", observed_at=at
    )
    assert first.provider_record_id == same.provider_record_id
    assert first.provider_record_id != heavier.provider_record_id
    assert (first.height_meters, first.max_heart_rate, first.measured_at) == (1.8288, 200, at)


@pytest.mark.parametrize(
    "broken",
    [
        {**SLEEP, "start": "yesterday"},
        {**SLEEP, "timezone_offset": "+25:00"},
        {k: v for k, v in SLEEP.items() if k != "id"},
        {**SLEEP, "score": {**SLEEP["score"], "stage_summary": {"total_in_bed_time_milli": "x"}}},
        [],
    ],
)
def test_malformed_payloads_raise_mapping_errors(broken: Any) -> None:
    with pytest.raises(MappingError):
        map_sleep(broken)
