"""Burnout risk: a transparent wellbeing signal from five flags. Not a diagnosis.

No validated mapping from wearable data to burnout exists (docs/analytics.md, "Burnout
risk"), so the model is a set of visible flags, each worth 0, 1 or 2 points, against the
person's own baseline:

* hrv: 7-day mean of ln rMSSD below the 60-day baseline mean by > 0.5 SD (1) or > 1 SD (2);
* resting_hr: 7-day mean above the baseline by > 1 SD (1) or > 2 SD (2);
* sleep_debt: the running 14-day sleep debt (``debt.sleep_debt``) >= 5 h (1) or >= 10 h (2);
* regularity: consistency (0-100) below 66.7 (1) or 33.3 (2);
* mood: 7-day mean mood below the person's 28-day baseline by z < -1 (1) or z < -2 (2).

``risk = 100 * points / (2 * factors available)``; each factor's contribution is its share of
that. Level: high >= 50, moderate >= 25, else low. Fewer than three usable factors gives
``insufficient_data`` with the reasons. Windows and minimums: docs/analytics.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from somna.calculations.daily import daily_mood, daily_recovery, daily_sleep_seconds
from somna.calculations.debt import sleep_debt as running_debt
from somna.calculations.inputs import MoodEntry, RecoveryReading
from somna.calculations.nights import Night
from somna.calculations.readiness import (
    Baseline,
    Metric,
    baseline,
    baseline_from,
    dates_back,
)
from somna.calculations.regularity import regularity as compute_regularity
from somna.calculations.stats import mean, sample_sd
from somna.kit.numbers import Measures, OneDecimal

MODEL_VERSION = "flags-1"
DISCLAIMER = (
    "A wellbeing signal built from sleep, heart-rate and mood data to prompt reflection; "
    "it is not a medical or psychological diagnosis."
)
RECENT_DAYS, BASELINE_DAYS, MOOD_BASELINE_DAYS, REGULARITY_DAYS = 7, 60, 28, 14
MIN_RECENT_NIGHTS, MIN_RECENT_MOODS, MIN_BASELINE_MOODS = 4, 3, 14
MOOD_SD_FLOOR = 0.5
MIN_FACTORS = 3

Level = Literal["low", "moderate", "high", "insufficient_data"]


@dataclass(frozen=True, slots=True)
class Factor:
    name: str
    unit: str
    value: OneDecimal | None = None
    baseline: OneDecimal | None = None
    points: int | None = None  # 0, 1 or 2; None when unavailable
    contribution: OneDecimal = 0.0  # share of the risk, 0-100
    missing: str | None = None  # why it is unavailable
    detail: Measures = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BurnoutResult:
    as_of: date
    risk: float | None
    level: Level
    factors: tuple[Factor, ...]
    missing: tuple[str, ...]
    model_version: str = MODEL_VERSION
    disclaimer: str = DISCLAIMER


@dataclass(frozen=True, slots=True)
class BurnoutInputs:
    """Everything the model reads; counted nights and naps come from ``resolve_sleep``."""

    nights: Sequence[Night] = ()
    naps: Sequence[Night] = ()
    recoveries: Sequence[RecoveryReading] = ()
    moods: Sequence[MoodEntry] = ()
    goal_hours: float = 8.0
    priority: Sequence[str] = ()  # HRV's provider order for days with readings from several
    rhr_priority: Sequence[str] | None = None  # resting HR's (default: the same)


def burnout_risk(as_of: date, data: BurnoutInputs) -> BurnoutResult:
    """The risk on ``as_of`` from everything recorded up to that local date."""
    return burnout_history([as_of], data)[0]


def burnout_history(dates: Sequence[date], data: BurnoutInputs) -> list[BurnoutResult]:
    """The risk on each of ``dates`` (oldest first); the daily series are built once."""
    recovery = daily_recovery(data.recoveries, data.priority, data.rhr_priority)
    sleep = daily_sleep_seconds(data.nights, data.naps)
    mood = daily_mood(data.moods)
    results = []
    for as_of in sorted(dates):
        factors = [
            _baseline_factor(as_of, "hrv", recovery, lambda r: _ln(r.hrv_rmssd_ms), "ln_ms"),
            _baseline_factor(as_of, "resting_hr", recovery, lambda r: r.resting_hr_bpm, "bpm"),
            sleep_debt_factor(as_of, sleep, data.goal_hours),  # the need
            _regularity_factor(as_of, data.nights, data.naps),
            mood_factor(as_of, mood),
        ]
        results.append(combine(as_of, factors))
    return results


def combine(as_of: date, factors: Sequence[Factor]) -> BurnoutResult:
    available = [f for f in factors if f.points is not None]
    missing = tuple(f"{f.name}: {f.missing}" for f in factors if f.points is None)
    if len(available) < MIN_FACTORS:
        return BurnoutResult(as_of, None, "insufficient_data", tuple(factors), missing)
    scale = 100 / (2 * len(available))
    scored = tuple(
        f if f.points is None else _with(f, contribution=f.points * scale) for f in factors
    )
    risk = sum(f.contribution for f in scored)
    level: Level = "high" if risk >= 50 else "moderate" if risk >= 25 else "low"
    return BurnoutResult(as_of, risk, level, scored, missing)


def _with(f: Factor, **changes: float) -> Factor:
    return Factor(**{**{k: getattr(f, k) for k in f.__dataclass_fields__}, **changes})


def _ln(value: float | None) -> float | None:
    return math.log(value) if value is not None and value > 0 else None


def _baseline_factor(
    as_of: date,
    name: Metric,
    daily: dict[date, RecoveryReading],
    pick: Callable[[RecoveryReading], float | None],
    unit: str,
) -> Factor:
    """The factor from the readiness baseline (calculations/readiness.py) of ``name``."""
    values = {d: v for d, r in daily.items() if (v := pick(r)) is not None}
    b = baseline(name, as_of, values)
    if b.z is None:
        return Factor(name, unit, missing=b.reason)
    return _flag(b, unit)


def flag_against_baseline(
    name: Metric, unit: str, recent: Sequence[float], base: Sequence[float]
) -> Factor:
    """The hrv (lower is worse) or resting_hr (higher is worse) flag from the readings of
    the recent and the baseline windows."""
    return _flag(baseline_from(name, date.min, None, recent, base), unit)


def _flag(b: Baseline, unit: str) -> Factor:
    assert b.z is not None
    assert b.rolling_mean is not None
    z = b.z
    points = (
        (2 if z < -1 else 1 if z < -0.5 else 0)
        if b.metric == "hrv"
        else (2 if z > 2 else 1 if z > 1 else 0)
    )
    detail: dict[str, float | int | str | None] = {"z": z, "baseline_sd": b.normal_sd}
    detail |= {"recent_days": b.recent_readings, "baseline_days": b.normal_readings}
    if b.metric == "hrv":
        detail["recent_geometric_mean_ms"] = math.exp(b.rolling_mean)
    return Factor(b.metric, unit, b.rolling_mean, b.normal_mean, points, detail=detail)


DEBT_ONE_POINT_HOURS, DEBT_TWO_POINTS_HOURS = 5.0, 10.0


def sleep_debt_factor(as_of: date, daily: dict[date, int], need_hours: float) -> Factor:
    """The running sleep debt (calculations/debt.py) against 5 h and 10 h: one hour short
    every night for a week comes to about 5 h, for two weeks to about 8 h."""
    debt = running_debt(as_of, daily, need_hours * 3600)
    if debt.debt_seconds is None:
        return Factor("sleep_debt", "hours", baseline=need_hours, missing=debt.reason)
    value = debt.debt_seconds / 3600
    points = 2 if value >= DEBT_TWO_POINTS_HOURS else 1 if value >= DEBT_ONE_POINT_HOURS else 0
    detail: dict[str, float | int | str | None] = {"nights": debt.nights}
    detail["nights_to_repay"] = debt.nights_to_repay
    return Factor("sleep_debt", "hours", value, need_hours, points, detail=detail)


def _regularity_factor(as_of: date, nights: Sequence[Night], naps: Sequence[Night]) -> Factor:
    first = as_of - timedelta(days=REGULARITY_DAYS - 1)
    recent = [n for n in nights if first <= n.local_date <= as_of]
    recent_naps = [n for n in naps if first <= n.local_date <= as_of]
    reg = compute_regularity(recent, recent_naps)
    if reg.consistency is None:
        why = f"needs at least 3 nights in the last {REGULARITY_DAYS} days (has {len(recent)})"
        return Factor("regularity", "0-100", missing=why)
    points = 2 if reg.consistency < 100 / 3 else 1 if reg.consistency < 200 / 3 else 0
    detail: dict[str, float | int | str | None] = {"method": reg.method, "sri": reg.sri}
    detail["midpoint_sd_minutes"] = reg.midpoint_sd_minutes
    return Factor("regularity", "0-100", reg.consistency, None, points, detail=detail)


def within_person_z(
    value: float, history: Sequence[float], sd_floor: float = MOOD_SD_FLOOR
) -> float:
    """(value - mean) / SD of the person's own history, the SD floored (docs/analytics.md)."""
    sd = max(sample_sd(history) or 0.0, sd_floor)
    return (value - sum(history) / len(history)) / sd


def mood_factor(as_of: date, daily: dict[date, float]) -> Factor:
    recent = [daily[d] for d in dates_back(as_of, 0, RECENT_DAYS) if d in daily]
    base = [daily[d] for d in dates_back(as_of, RECENT_DAYS, MOOD_BASELINE_DAYS) if d in daily]
    if len(recent) < MIN_RECENT_MOODS or len(base) < MIN_BASELINE_MOODS:
        why = f"needs {MIN_RECENT_MOODS} ratings in the last {RECENT_DAYS} days and "
        why += f"{MIN_BASELINE_MOODS} in the {MOOD_BASELINE_DAYS} days before"
        return Factor("mood", "1-10", missing=f"{why} (has {len(recent)}, {len(base)})")
    value = sum(recent) / len(recent)
    z = within_person_z(value, base)
    points = 2 if z < -2 else 1 if z < -1 else 0
    detail: dict[str, float | int | str | None] = {"z": z, "recent_days": len(recent)}
    detail["baseline_days"] = len(base)
    return Factor("mood", "1-10", value, mean(base), points, detail=detail)
