"""Asleep session results (shaped like the official example) → canonical sleep sessions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from somna.providers.asleep.mapper import hypnogram, map_session
from somna.providers.exceptions import MappingError
from somna.records.canonical import ScoreState

STAGES = [0] * 30 + [1] * 42 + [0] * 6 + [1] * 42  # 120 epochs = 3600 s, as in the docs' example


def result(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "timezone": "UTC",
        "peculiarities": ["NO_BREATHING_STABILITY"],
        "missing_data_ratio": 0.0,
        "session": {
            "id": "20250115025029_fvivn",
            "state": "COMPLETE",
            "start_time": "2025-01-15T02:50:29+00:00",
            "end_time": "2025-01-15T03:50:29+00:00",
            "unexpected_end_time": None,
            "created_timezone": "UTC",
            "sleep_stages": STAGES,
            "breath_stages": None,
            "snoring_stages": [0] * 120,
        },
        "stat": {
            "sleep_time": "2025-01-15T03:05:29+00:00",
            "wake_time": "2025-01-15T03:26:29+00:00",
            "sleep_index": 50,
            "sleep_latency": 900,
            "wakeup_latency": 1440,
            "light_latency": 0,
            "deep_latency": None,
            "rem_latency": None,
            "time_in_bed": 3600,
            "time_in_sleep_period": 1260,
            "time_in_sleep": 1080,
            "time_in_wake": 180,
            "time_in_light": 1080,
            "time_in_deep": 0,
            "time_in_rem": 0,
            "sleep_efficiency": 0.3,
            "waso_count": 1,
            "longest_waso": 180,
            "sleep_cycle_count": 0,
        },
    }
    for key, value in changes.items():
        if key in base["session"]:
            base["session"][key] = value
        else:
            base[key] = value
    return base


def test_the_documented_example() -> None:
    record = map_session(result())
    assert record.provider_record_id == "20250115025029_fvivn"
    assert record.score_state is ScoreState.SCORED
    assert record.start_at == datetime(2025, 1, 15, 2, 50, 29, tzinfo=UTC)
    assert record.end_at == datetime(2025, 1, 15, 3, 50, 29, tzinfo=UTC)
    assert (record.timezone_offset_minutes, record.local_date) == (0, date(2025, 1, 15))
    assert (record.in_bed_seconds, record.asleep_seconds, record.awake_seconds) == (
        3600,
        1080,
        2520,
    )
    assert (record.latency_seconds, record.waso_count, record.waso_seconds) == (900, 1, 180)
    assert (record.light_seconds, record.deep_seconds, record.rem_seconds) == (1080, 0, 0)
    assert record.efficiency_pct == pytest.approx(30.0)
    assert record.cycle_count == 0
    assert record.hypnogram == "W" * 30 + "L" * 42 + "W" * 6 + "L" * 42
    assert record.hypnogram_epoch_seconds == 30
    assert record.disturbance_count is None
    assert record.performance_pct is None


def test_stage_codes_including_unknown() -> None:
    assert hypnogram([0, 1, 2, 3, -1, 7, None]) == "WLDRUUU"


def test_times_keep_the_requested_zone() -> None:
    record = map_session(
        result(start_time="2025-01-15T23:50:29+09:00", end_time="2025-01-16T07:20:29+09:00")
    )
    assert record.timezone_offset_minutes == 540
    assert record.local_date == date(2025, 1, 16)
    assert record.is_nap is False


def test_open_closed_and_unanalysable_sessions() -> None:
    opened = map_session(
        result(state="OPEN", end_time=None, stat=None, peculiarities=["IN_PROGRESS"])
    )
    assert opened.score_state is ScoreState.PENDING_SCORE
    assert opened.end_at == opened.start_at.replace(hour=3, minute=50)  # 120 epochs analysed
    assert opened.in_bed_seconds is None
    closed = map_session(result(state="CLOSED", stat=None, peculiarities=["IN_PROGRESS"]))
    assert closed.score_state is ScoreState.PENDING_SCORE
    short = map_session(result(stat=None, peculiarities=["TOO_SHORT_FOR_ANALYSIS"]))
    assert short.score_state is ScoreState.UNSCORABLE
    assert short.hypnogram is not None  # the stages that exist are kept


def test_two_stage_plan_keeps_totals_but_no_canonical_hypnogram() -> None:
    record = map_session(result(), stage_plan="2-stage")
    assert record.hypnogram is None
    assert record.light_seconds is None
    assert record.asleep_seconds == 1080


def test_an_afternoon_short_session_is_a_nap() -> None:
    nap = map_session(
        result(start_time="2025-01-15T14:00:00+01:00", end_time="2025-01-15T15:00:00+01:00")
    )
    assert nap.is_nap is True


def test_malformed_results_raise() -> None:
    with pytest.raises(MappingError):
        map_session(result(start_time="soon"))
    with pytest.raises(MappingError):
        map_session({"session": None})
