"""Burnout risk: a transparent wellbeing signal from five flags. Not a diagnosis.

No validated mapping from wearable data to burnout exists (sleep-science.md 4.6), so the model
is a set of visible flags, each worth 0, 1 or 2 points, against the person's own baseline:

* hrv: 7-day mean of ln rMSSD below the 60-day baseline mean by > 0.5 SD (1) or > 1 SD (2);
* resting_hr: 7-day mean above the baseline by > 1 SD (1) or > 2 SD (2);
* sleep_debt: mean nightly shortfall against the sleep goal >= 1 h (1) or >= 2 h (2);
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

from somna.analytics.calculations.daily import daily_mood, daily_recovery, daily_sleep_seconds
from somna.analytics.calculations.inputs import MoodEntry, RecoveryReading
from somna.analytics.calculations.nights import Night
from somna.analytics.calculations.regularity import regularity as compute_regularity
from somna.analytics.calculations.stats import mean, sample_sd
from somna.kit.numbers import Measures, OneDecimal

MODEL_VERSION = "flags-1"
DISCLAIMER = (
    "A wellbeing signal built from sleep, heart-rate and mood data to prompt reflection; "
    "it is not a medical or psychological diagnosis."
)
RECENT_DAYS, BASELINE_DAYS, MOOD_BASELINE_DAYS, REGULARITY_DAYS = 7, 60, 28, 14
MIN_RECENT_PHYSIO, MIN_BASELINE_PHYSIO = 3, 14  # Plews 2014; sleep-science.md 4.6
MIN_RECENT_NIGHTS, MIN_RECENT_MOODS, MIN_BASELINE_MOODS = 4, 3, 14
HRV_SD_FLOOR_LN, RHR_SD_FLOOR_BPM, MOOD_SD_FLOOR = 0.05, 1.0, 0.5
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
    priority: Sequence[str] = ()  # provider order for days with readings from several


def burnout_risk(as_of: date, data: BurnoutInputs) -> BurnoutResult:
    """The risk on ``as_of`` from everything recorded up to that local date."""
    return burnout_history([as_of], data)[0]


def burnout_history(dates: Sequence[date], data: BurnoutInputs) -> list[BurnoutResult]:
    """The risk on each of ``dates`` (oldest first); the daily series are built once."""
    recovery = daily_recovery(data.recoveries, data.priority)
    sleep = daily_sleep_seconds(data.nights, data.naps)
    mood = daily_mood(data.moods)
    results = []
    for as_of in sorted(dates):
        factors = [
            _baseline_factor(as_of, "hrv", recovery, lambda r: _ln(r.hrv_rmssd_ms), "ln_ms"),
            _baseline_factor(as_of, "resting_hr", recovery, lambda r: r.resting_hr_bpm, "bpm"),
            sleep_debt_factor(as_of, sleep, data.goal_hours),
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


def _window(as_of: date, first_back: int, days: int) -> list[date]:
    """``days`` dates ending ``first_back`` days before ``as_of``."""
    return [as_of - timedelta(days=first_back + k) for k in range(days)]


def _baseline_factor(
    as_of: date,
    name: str,
    daily: dict[date, RecoveryReading],
    pick: Callable[[RecoveryReading], float | None],
    unit: str,
) -> Factor:
    def values(dates: list[date]) -> list[float]:
        return [v for d in dates if d in daily and (v := pick(daily[d])) is not None]

    recent = values(_window(as_of, 0, RECENT_DAYS))
    base = values(_window(as_of, RECENT_DAYS, BASELINE_DAYS))
    if len(recent) < MIN_RECENT_PHYSIO or len(base) < MIN_BASELINE_PHYSIO:
        why = f"needs {MIN_RECENT_PHYSIO} readings in the last {RECENT_DAYS} days and "
        why += f"{MIN_BASELINE_PHYSIO} in the {BASELINE_DAYS} days before"
        return Factor(name, unit, missing=f"{why} (has {len(recent)}, {len(base)})")
    return flag_against_baseline(name, unit, recent, base)


def flag_against_baseline(
    name: str, unit: str, recent: Sequence[float], base: Sequence[float]
) -> Factor:
    """The hrv (lower is worse) or resting_hr (higher is worse) flag."""
    b7, mu = sum(recent) / len(recent), sum(base) / len(base)
    floor = HRV_SD_FLOOR_LN if name == "hrv" else RHR_SD_FLOOR_BPM
    sd = max(sample_sd(base) or 0.0, floor)
    z = (b7 - mu) / sd
    points = (
        (2 if z < -1 else 1 if z < -0.5 else 0)
        if name == "hrv"
        else (2 if z > 2 else 1 if z > 1 else 0)
    )
    detail: dict[str, float | int | str | None] = {"z": z, "baseline_sd": sd}
    detail |= {"recent_days": len(recent), "baseline_days": len(base)}
    if name == "hrv":
        detail["recent_geometric_mean_ms"] = math.exp(b7)
    return Factor(name, unit, value=b7, baseline=mu, points=points, detail=detail)


def sleep_debt(tst_hours: Sequence[float], need_hours: float) -> tuple[float, float]:
    """(net, deficit-only) debt in hours: net lets surplus nights pay back, deficit does not."""
    net = sum(need_hours - t for t in tst_hours)
    return net, sum(max(0.0, need_hours - t) for t in tst_hours)


def sleep_debt_factor(as_of: date, daily: dict[date, int], goal_hours: float) -> Factor:
    hours = [daily[d] / 3600 for d in _window(as_of, 0, RECENT_DAYS) if d in daily]
    if len(hours) < MIN_RECENT_NIGHTS:
        why = f"needs {MIN_RECENT_NIGHTS} nights in the last {RECENT_DAYS} days (has {len(hours)})"
        return Factor("sleep_debt", "hours", baseline=goal_hours, missing=why)
    net, deficit = sleep_debt(hours, goal_hours)
    shortfall = deficit / len(hours)
    points = 2 if shortfall >= 2 else 1 if shortfall >= 1 else 0
    detail: dict[str, float | int | str | None] = {"deficit_debt_hours": deficit}
    detail |= {"net_debt_hours": net, "nights": len(hours), "mean_shortfall_hours": shortfall}
    value = sum(hours) / len(hours)
    return Factor("sleep_debt", "hours", value, goal_hours, points, detail=detail)


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
    """(value - mean) / SD of the person's own history, the SD floored (sleep-science.md 5)."""
    sd = max(sample_sd(history) or 0.0, sd_floor)
    return (value - sum(history) / len(history)) / sd


def mood_factor(as_of: date, daily: dict[date, float]) -> Factor:
    recent = [daily[d] for d in _window(as_of, 0, RECENT_DAYS) if d in daily]
    base = [daily[d] for d in _window(as_of, RECENT_DAYS, MOOD_BASELINE_DAYS) if d in daily]
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
