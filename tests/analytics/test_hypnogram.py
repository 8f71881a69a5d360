"""Hypnogram statistics against the YASA 0.8.1 outputs in sleep-science.md section 1.3."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from somna.calculations.hypnogram import (
    InvalidHypnogram,
    hypnogram_statistics,
    runs,
)
from somna.calculations.inputs import SleepPeriod
from somna.calculations.metrics import night_metrics

# (a) YASA's docstring night; N1 and N2 both map to the canonical L.
NIGHT_A = "WW" + "LLL" + "LLL" + "DDD" + "L" + "DD" + "RRRR" + "WW"
# (b) wearable-style 4-stage night from 23:00.
NIGHT_B = "W" * 20 + "L" * 120 + "W" * 10 + "D" * 60 + "R" * 40 + "L" * 20 + "W" * 10
# (c) unscored epochs inside the sleep period.
NIGHT_C = "W" * 4 + "L" * 10 + "U" * 4 + "D" * 6 + "W" * 2 + "R" * 4


def test_yasa_docstring_night() -> None:
    out = hypnogram_statistics(NIGHT_A, 30).to_yasa()
    assert out == {
        "TIB": 10.0, "SPT": 8.0, "WASO": 0.0, "TST": 8.0, "SOL": 1.0, "SOL_5min": 1.0,
        "Lat_REM": 7.0, "WAKE": 2.0, "LIGHT": 3.5, "DEEP": 2.5, "REM": 2.0,
        "SE": 80.0, "SME": 100.0, "SFI": 7.5,
        "%LIGHT": 43.75, "%DEEP": 31.25, "%REM": 25.0,
    }  # fmt: skip


def test_wearable_night_matches_yasa() -> None:
    out = hypnogram_statistics(NIGHT_B, 30).to_yasa()
    assert out == {
        "TIB": 140.0, "SPT": 125.0, "WASO": 5.0, "TST": 120.0, "SOL": 10.0, "SOL_5min": 10.0,
        "Lat_REM": 105.0, "WAKE": 20.0, "LIGHT": 70.0, "DEEP": 30.0, "REM": 20.0,
        "SE": 85.7143, "SME": 96.0, "SFI": 1.0,
        "%LIGHT": 58.3333, "%DEEP": 25.0, "%REM": 16.6667,
    }  # fmt: skip


def test_wearable_night_asleep_conventions() -> None:
    """The pysleep column of sleep-science.md 1.4: latencies from onset, wake bouts."""
    s = hypnogram_statistics(NIGHT_B, 30)
    assert s.rem_latency_from_onset_seconds == 95 * 60  # 1:35:00
    assert s.wakeup_latency_seconds == 5 * 60
    assert s.waso_count == 1
    assert s.longest_waso_seconds == 5 * 60
    assert s.waso_seconds is not None
    assert s.spt_seconds == s.tst_seconds + s.waso_seconds


def test_unscored_epochs_are_neither_sleep_nor_waso() -> None:
    s = hypnogram_statistics(NIGHT_C, 30)
    out = s.to_yasa()
    assert out["TIB"] == 15.0
    assert out["SPT"] == 13.0
    assert out["WASO"] == 1.0
    assert out["TST"] == 10.0
    assert out["UNS"] == 2.0
    assert out["SE"] == 66.6667
    assert out["SME"] == 76.9231
    assert out["SFI"] == 6.0
    assert out["SOL"] == 2.0
    assert out["Lat_REM"] == 13.0
    # SPT = TST + WASO + unscored time inside the sleep period, and SE <= SME.
    assert s.waso_seconds is not None
    assert s.spt_seconds == s.tst_seconds + s.waso_seconds + s.stage_seconds["UNS"]
    assert s.se_pct <= (s.sme_pct or 0)


def test_no_sleep_leaves_undefined_values_empty() -> None:
    s = hypnogram_statistics("W" * 40, 30)
    assert (s.tib_seconds, s.spt_seconds, s.tst_seconds) == (1200, 0, 0)
    assert s.se_pct == 0.0
    assert s.sme_pct is None
    assert s.sol_seconds is None
    assert s.sfi_per_hour is None
    # WASO and the wake bouts of a sleep period that never began are undefined, not 0.
    assert s.waso_seconds is None
    assert s.waso_count is None
    assert s.longest_waso_seconds is None
    assert s.stage_latency_seconds == {"LIGHT": None, "DEEP": None, "REM": None}
    out = s.to_yasa()
    assert out["WASO"] is None
    assert out["SME"] is None
    assert out["Lat_REM"] is None
    assert out["%LIGHT"] is None


def test_empty_hypnogram_is_no_sleep() -> None:
    s = hypnogram_statistics("", 30)
    assert s.tib_seconds == 0
    assert s.tst_seconds == 0


def test_sol_5min_needs_five_minutes_of_unbroken_sleep() -> None:
    # Four minutes of sleep, a wake epoch, then ten minutes of sleep.
    s = hypnogram_statistics("WW" + "L" * 8 + "W" + "L" * 20, 30)
    assert s.sol_seconds == 60
    assert s.sol_5min_seconds == (2 + 8 + 1) * 30


def test_other_epoch_lengths_scale() -> None:
    s = hypnogram_statistics(NIGHT_B, 60)
    assert s.tib_seconds == 280 * 60
    assert s.to_yasa()["SE"] == 85.7143


def test_runs() -> None:
    assert [(r.stage, r.start, r.length) for r in runs("WWLD")] == [
        ("W", 0, 2),
        ("L", 2, 1),
        ("D", 3, 1),
    ]


@pytest.mark.parametrize(("hypnogram", "epoch"), [("WLX", 30), ("WL", 0), ("wl", 30)])
def test_invalid_input_is_refused(hypnogram: str, epoch: int) -> None:
    with pytest.raises(InvalidHypnogram):
        hypnogram_statistics(hypnogram, epoch)


def test_a_malformed_stored_hypnogram_falls_back_to_totals() -> None:
    start = datetime(2026, 1, 1, 23, tzinfo=UTC)
    bad = SleepPeriod(
        "r1",
        "asleep",
        start,
        start + timedelta(hours=8),
        hypnogram="LLX",
        hypnogram_epoch_seconds=30,
        asleep_seconds=7 * 3600,
    )
    assert bad.hypnogram is None
    assert not bad.has_hypnogram
    assert night_metrics(bad).tst_seconds == 7 * 3600
    no_epoch = SleepPeriod("r2", "asleep", start, start, hypnogram="LL")
    assert no_epoch.staged is None
