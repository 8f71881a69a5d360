"""Readiness baselines with warm-up and the 0-100 readiness (calculations/readiness.py)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from somna.calculations.readiness import baseline, readiness, readiness_series

AS_OF = date(2026, 3, 15)
RECENT_MS = (45, 50, 42, 48, 40, 44, 46)  # the last 7 nights' rMSSD, newest first


def spread(mean: float, sd: float, n: int) -> list[float]:
    """n values (n even) with exactly this mean and sample SD."""
    a = sd * math.sqrt((n - 1) / n)
    return [mean + a if i % 2 else mean - a for i in range(n)]


def history(recent: list[float], normal: list[float], gap: int = 0) -> dict[date, float]:
    """``recent`` on the 7 dates ending on AS_OF (newest first), ``normal`` on the dates
    before them (newest first), starting ``gap`` dates further back."""
    values = {AS_OF - timedelta(days=k): v for k, v in enumerate(recent)}
    values |= {AS_OF - timedelta(days=7 + gap + k): v for k, v in enumerate(normal)}
    return values


def hrv_ln(normal_readings: int = 16) -> dict[date, float]:
    return history([math.log(v) for v in RECENT_MS], spread(4.0, 0.2, normal_readings))


def test_hrv_baseline_worked_example() -> None:
    # ln rMSSD 7-day mean 3.8042 against 4.00 +- 0.20: z = -0.9791, inside +-1 SD.
    b = baseline("hrv", AS_OF, hrv_ln())
    assert b.rolling_mean == pytest.approx(3.8042, abs=1e-4)
    assert b.normal_mean == pytest.approx(4.0)
    assert b.normal_sd == pytest.approx(0.2)
    assert b.normal_low == pytest.approx(3.8)
    assert b.normal_high == pytest.approx(4.2)
    assert b.z == pytest.approx(-0.9791, abs=1e-4)
    assert b.within_normal_range is True
    assert b.value == pytest.approx(math.log(45))
    assert (b.recent_readings, b.normal_readings, b.warming_up) == (7, 16, False)


def test_resting_hr_outside_the_normal_range() -> None:
    rhr = history([60.0] * 7, spread(55.0, 2.0, 20))
    b = baseline("resting_hr", AS_OF, rhr)
    assert b.z == pytest.approx(2.5)
    assert b.within_normal_range is False


def test_warm_up_gives_explicit_nulls_and_says_which() -> None:
    # 12 readings in the 60 days: still warming up (14 needed).
    b = baseline("hrv", AS_OF, hrv_ln(12))
    assert b.warming_up is True
    assert (b.rolling_mean, b.z, b.within_normal_range, b.normal_low) == (None, None, None, None)
    assert b.reason == (
        "The HRV baseline is warming up: it needs 14 days of readings in the 60 days before "
        "the last 7 and has 12."
    )
    r = readiness(AS_OF, hrv_ln(12), history([55.0] * 7, spread(55.0, 2.0, 20)), 8 * 3600, 8 * 3600)
    assert r.score is None
    assert r.reason == b.reason
    assert all(c.score is None for c in r.components)
    # Readings older than the 60 days do not count towards the baseline.
    old = history([math.log(v) for v in RECENT_MS], spread(4.0, 0.2, 20), gap=55)
    assert baseline("hrv", AS_OF, old).normal_readings == 5


def test_no_data_and_no_recent_readings() -> None:
    empty = readiness(AS_OF, {}, {}, None, 8 * 3600)
    assert empty.score is None
    assert empty.reason is not None
    assert "HRV baseline is warming up" in empty.reason
    assert "resting heart rate baseline is warming up" in empty.reason
    stale = {d - timedelta(days=7): v for d, v in hrv_ln().items()}  # nothing in the last week
    b = baseline("hrv", AS_OF, stale)
    assert b.z is None
    assert b.reason == "Too few recent HRV readings: the 7-day mean needs 3 and has 0."


def test_readiness_worked_example() -> None:
    # HRV z = -0.9791 -> 100 * (2 - 0.9791) / 2 = 51.05; resting HR z = +0.5 -> 75;
    # 7 h of sleep against an 8-h need (87.5 %) -> 75. 0.5 * 51.05 + 0.25 * 75 + 0.25 * 75.
    rhr = history([56.0] * 7, spread(55.0, 2.0, 20))
    r = readiness(AS_OF, hrv_ln(), rhr, 7 * 3600, 8 * 3600)
    parts = {c.name: c for c in r.components}
    assert parts["hrv"].score == pytest.approx(51.045, abs=1e-3)
    assert parts["resting_hr"].score == pytest.approx(75.0)
    assert parts["sleep"].score == pytest.approx(75.0)
    assert parts["sleep"].measure == pytest.approx(0.875)
    assert r.score == pytest.approx(0.5 * 51.045 + 37.5, abs=1e-3)
    assert r.reason is None
    # Without last night's sleep, HRV and resting HR are re-weighted to 2/3 and 1/3.
    no_sleep = readiness(AS_OF, hrv_ln(), rhr, None, 8 * 3600)
    weights = {c.name: c.weight for c in no_sleep.components}
    assert weights == {"hrv": pytest.approx(2 / 3), "resting_hr": pytest.approx(1 / 3), "sleep": 0}
    assert no_sleep.score == pytest.approx(2 / 3 * 51.045 + 1 / 3 * 75, abs=1e-3)


def test_components_are_clipped() -> None:
    high = history([math.log(80)] * 7, spread(4.0, 0.2, 16))
    low_rhr = history([45.0] * 7, spread(55.0, 2.0, 20))
    r = readiness(AS_OF, high, low_rhr, 10 * 3600, 8 * 3600)
    assert r.score == pytest.approx(100.0)
    worst = readiness(
        AS_OF, history([math.log(20)] * 7, spread(4.0, 0.2, 16)),
        history([70.0] * 7, spread(55.0, 2.0, 20)), 3 * 3600, 8 * 3600,
    )  # fmt: skip
    assert worst.score == pytest.approx(0.0)


def test_series_warms_up_then_answers() -> None:
    # Daily readings from 30 days before AS_OF: the baseline has 14 readings in its 60 days
    # from the 21st date on (7 recent + 14 before).
    start = AS_OF - timedelta(days=30)
    hrv = {start + timedelta(days=k): math.log(50 + k % 3) for k in range(31)}
    rhr = {start + timedelta(days=k): 55.0 + k % 2 for k in range(31)}
    dates = [start + timedelta(days=k) for k in range(31)]
    series = readiness_series(dates, hrv, rhr, lambda d: 8 * 3600.0, 8 * 3600)
    ready = [r.as_of for r in series if r.score is not None]
    assert ready[0] == start + timedelta(days=20)
    assert all(r.score is None for r in series[:20])
    assert ready[-1] == AS_OF
