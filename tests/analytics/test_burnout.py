"""Burnout risk: the worked numbers of sleep-science.md 4 and 5, and the whole model."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from somna.calculations.burnout import (
    DISCLAIMER,
    MODEL_VERSION,
    BurnoutInputs,
    Factor,
    burnout_history,
    burnout_risk,
    combine,
    flag_against_baseline,
    within_person_z,
)
from somna.calculations.daily import daily_recovery
from somna.calculations.debt import DECAY
from somna.calculations.inputs import MoodEntry, RecoveryReading
from somna.calculations.nights import Night, resolve_sleep
from tests.analytics.helpers import at, diary_night

AS_OF = date(2026, 6, 30)


def spread(mean: float, sd: float, n: int) -> list[float]:
    """n values (n even) with exactly this mean and sample SD."""
    a = sd * math.sqrt((n - 1) / n)
    return [mean + a if i % 2 else mean - a for i in range(n)]


def test_hrv_worked_example() -> None:
    recent = [math.log(v) for v in (45, 50, 42, 48, 40, 44, 46)]
    f = flag_against_baseline("hrv", "ln_ms", recent, spread(4.0, 0.2, 16))
    assert f.value == pytest.approx(3.8042, abs=1e-4)
    assert f.baseline == pytest.approx(4.0)
    assert f.detail["z"] == pytest.approx(-0.9791, abs=1e-4)
    assert f.detail["recent_geometric_mean_ms"] == pytest.approx(44.888, abs=1e-3)
    assert f.points == 1  # below mean - 0.5 SD (3.90), not below mean - 1 SD (3.80)


def test_resting_hr_worked_example() -> None:
    base = [55.0, 56, 54, 55, 57, 53, 55, 56, 54, 55]
    f = flag_against_baseline("resting_hr", "bpm", [60.0], base)
    assert f.value == 60
    assert f.baseline == pytest.approx(55.0)
    assert f.detail["z"] == pytest.approx(4.33, abs=1e-2)
    assert f.points == 2


def test_mood_z_worked_example() -> None:
    history = [7.0, 6, 7, 8, 6, 7, 6, 7, 5, 7, 8, 6, 7, 6]
    assert within_person_z(4, history) == pytest.approx(-3.139, abs=1e-3)
    # A constant rater: the SD floor of 0.5 keeps z finite.
    assert within_person_z(6, [7.0] * 14) == pytest.approx(-2.0)


def test_four_flags_of_four_factors_are_high() -> None:
    """sleep-science.md 4.6: flags {hrv 1, rhr 1, sleep 1, mood 1} give total 4, high."""
    flags = [Factor(n, "", points=1) for n in ("hrv", "resting_hr", "sleep_debt", "mood")]
    result = combine(AS_OF, [*flags, Factor("regularity", "0-100", missing="no nights")])
    assert result.risk == pytest.approx(50.0)
    assert result.level == "high"
    assert [f.contribution for f in result.factors[:4]] == [12.5] * 4
    assert result.missing == ("regularity: no nights",)


@pytest.mark.parametrize(
    ("points", "level"), [(0, "low"), (2, "low"), (3, "moderate"), (5, "high")]
)
def test_levels(points: int, level: str) -> None:
    factors = [Factor(f"f{i}", "", points=1 if i < points else 0) for i in range(5)]
    assert combine(AS_OF, factors).level == level


def month_of_nights(last: date, days: int, hours: float) -> list[Night]:
    records = []
    for k in range(days):
        wake_day = last - timedelta(days=k)
        bed = at(wake_day - timedelta(days=1), "23:00")
        records.append(
            diary_night(wake_day, "23:00", (bed + timedelta(hours=hours)).strftime("%H:%M"))
        )
    return list(resolve_sleep(records).nights)


def full_inputs() -> BurnoutInputs:
    """sleep-science.md 4.6's person: HRV 3.85 vs 4.00 +- 0.20, RHR 58 vs 55 +- 2,
    6.4 h a night against an 8 h goal, mood slightly below their own baseline."""
    hrv_base, rhr_base = spread(4.0, 0.2, 60), spread(55.0, 2.0, 60)
    readings = []
    for k in range(67):
        day = AS_OF - timedelta(days=k)
        recent = k < 7
        hrv = math.exp(3.85) if recent else math.exp(hrv_base[k - 7])
        rhr = 58.0 if recent else rhr_base[k - 7]
        readings.append(RecoveryReading(day, "whoop", hrv, rhr))
    moods = [MoodEntry(AS_OF - timedelta(days=k), s) for k, s in enumerate([6, 6, 6, 5, 6, 6, 5])]
    moods += [MoodEntry(AS_OF - timedelta(days=7 + k), 6 if k % 2 else 8) for k in range(28)]
    return BurnoutInputs(
        nights=month_of_nights(AS_OF, 14, 7.0), recoveries=readings, moods=moods, goal_hours=8.0
    )


def test_the_whole_model_on_a_full_history() -> None:
    result = burnout_risk(AS_OF, full_inputs())
    points = {f.name: f.points for f in result.factors}
    assert points == {"hrv": 1, "resting_hr": 1, "sleep_debt": 1, "regularity": 0, "mood": 1}
    assert result.risk == pytest.approx(40.0)
    assert result.level == "moderate"
    assert sum(f.contribution for f in result.factors) == pytest.approx(result.risk)
    assert result.missing == ()
    assert result.model_version == MODEL_VERSION
    assert result.disclaimer == DISCLAIMER
    assert "not a medical" in DISCLAIMER
    sleep = next(f for f in result.factors if f.name == "sleep_debt")
    # One hour short on each of 14 nights: the running debt (calculations/debt.py) is
    # 1 h x (1 + d + ... + d^13) with d = 0.5 ** (1/7), about 7.96 h: one point.
    assert sleep.value == pytest.approx(sum(DECAY**k for k in range(14)))
    assert sleep.value == pytest.approx(7.955, abs=1e-3)
    assert sleep.baseline == 8.0
    assert sleep.detail["nights"] == 14
    hrv = next(f for f in result.factors if f.name == "hrv")
    assert hrv.value == pytest.approx(3.85)
    assert hrv.baseline == pytest.approx(4.0)
    assert hrv.detail["baseline_days"] == 60


def test_too_little_data_is_insufficient_and_says_what_is_missing() -> None:
    data = BurnoutInputs(nights=month_of_nights(AS_OF, 7, 7.5))
    result = burnout_risk(AS_OF, data)
    assert result.level == "insufficient_data"
    assert result.risk is None
    assert [m.split(":")[0] for m in result.missing] == ["hrv", "resting_hr", "mood"]
    assert result.missing[0] == (
        "hrv: The HRV baseline is warming up: it needs 14 days of readings in the 60 days "
        "before the last 7 and has 0."
    )


def test_no_data_at_all() -> None:
    result = burnout_risk(AS_OF, BurnoutInputs())
    assert result.level == "insufficient_data"
    assert len(result.missing) == 5
    assert result.disclaimer == DISCLAIMER


def test_history_is_oldest_first_and_ignores_later_data() -> None:
    data = full_inputs()
    dates = [AS_OF, AS_OF - timedelta(days=30), AS_OF - timedelta(days=1)]
    history = burnout_history(dates, data)
    assert [h.as_of for h in history] == sorted(dates)
    # A month earlier the HRV baseline window has only ~30 days before it: still enough,
    # but the "recent" week is then ordinary baseline data, so no HRV flag.
    assert next(f for f in history[0].factors if f.name == "hrv").points == 0


def test_readings_from_two_providers_follow_priority_per_value() -> None:
    day = AS_OF
    readings = [
        RecoveryReading(day, "oura", hrv_rmssd_ms=30.0, resting_hr_bpm=None),
        RecoveryReading(day, "whoop", hrv_rmssd_ms=50.0, resting_hr_bpm=52.0),
    ]
    merged = daily_recovery(readings, ["oura", "whoop"])[day]
    assert (merged.hrv_rmssd_ms, merged.resting_hr_bpm) == (30.0, 52.0)
    assert daily_recovery(readings)[day].hrv_rmssd_ms == 30.0  # alphabetical without a list
