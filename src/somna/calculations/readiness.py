"""Readiness baselines with warm-up, and a 0-100 readiness from them (docs/analytics.md).

**Baseline** of a daily physiological value (HRV as ln rMSSD, after Plews et al.; resting heart
rate in bpm) on a date: the **7-day rolling mean** (the 7 local dates ending on it, at least 3
readings) against the **normal range** of the 60 dates before those 7 (HRV4Training's 60-day
normal values, Altini): mean ± ``NORMAL_RANGE_SD`` (1) SD, the SD floored so a flat history does
not turn noise into alarms. ``z = (rolling mean - normal mean) / SD``; ``within_normal_range``
is ``|z| <= 1``. While the 60 dates hold fewer than 14 readings the baseline is **warming up**:
every derived value is ``None`` and ``reason`` says so. Burnout's HRV and resting-HR factors
read this same baseline.

**Readiness** = 0.5 · HRV + 0.25 · resting HR + 0.25 · sleep, each 0-100:
HRV 100 at z >= 0 falling linearly to 0 at z = -2; resting HR 100 at z <= 0 to 0 at z = +2;
sleep = last night's sleep against the need, 100 at >= 100 % to 0 at <= 50 %. Without last
night's sleep the other two are re-weighted to sum to 1. ``None`` with a ``reason`` while
either baseline is warming up or has no recent readings.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from somna.calculations.stats import sample_sd

RECENT_DAYS, NORMAL_DAYS = 7, 60
MIN_RECENT_READINGS, MIN_NORMAL_READINGS = 3, 14
NORMAL_RANGE_SD = 1.0
SD_FLOORS = {"hrv": 0.05, "resting_hr": 1.0}  # ln units (about 5 %), bpm
WEIGHTS = {"hrv": 0.5, "resting_hr": 0.25, "sleep": 0.25}
Z_AT_ZERO = 2.0
SLEEP_ZERO_SHARE = 0.5

Metric = Literal["hrv", "resting_hr"]
METRIC_WORDS = {"hrv": "HRV", "resting_hr": "resting heart rate"}


@dataclass(frozen=True, slots=True)
class Baseline:
    metric: Metric
    as_of: date
    value: float | None  # that date's reading (ln rMSSD for HRV, bpm)
    rolling_mean: float | None  # the 7-day mean
    normal_mean: float | None
    normal_sd: float | None  # floored
    normal_low: float | None  # normal_mean - 1 SD
    normal_high: float | None
    z: float | None
    within_normal_range: bool | None
    recent_readings: int
    normal_readings: int
    warming_up: bool
    reason: str | None


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    score: float | None  # 0-100
    weight: float  # as used
    measure: float | None  # z, or sleep as a share of the need


@dataclass(frozen=True, slots=True)
class Readiness:
    as_of: date
    score: float | None
    components: tuple[Component, ...]
    hrv: Baseline
    resting_hr: Baseline
    reason: str | None


def dates_back(as_of: date, first_back: int, days: int) -> list[date]:
    """``days`` dates ending ``first_back`` days before ``as_of``."""
    return [as_of - timedelta(days=first_back + k) for k in range(days)]


def baseline(metric: Metric, as_of: date, daily: Mapping[date, float]) -> Baseline:
    """The baseline of ``metric`` on ``as_of`` from one value per local date."""
    recent = [daily[d] for d in dates_back(as_of, 0, RECENT_DAYS) if d in daily]
    normal = [daily[d] for d in dates_back(as_of, RECENT_DAYS, NORMAL_DAYS) if d in daily]
    value = daily.get(as_of)
    empty = Baseline(
        metric, as_of, value, None, None, None, None, None, None, None,
        len(recent), len(normal), False, None,
    )  # fmt: skip
    words = METRIC_WORDS[metric]
    if len(normal) < MIN_NORMAL_READINGS:
        reason = (
            f"The {words} baseline is warming up: it needs {MIN_NORMAL_READINGS} days of "
            f"readings in the {NORMAL_DAYS} days before the last {RECENT_DAYS} and has "
            f"{len(normal)}."
        )
        return _replace(empty, warming_up=True, reason=reason)
    if len(recent) < MIN_RECENT_READINGS:
        reason = (
            f"Too few recent {words} readings: the 7-day mean needs {MIN_RECENT_READINGS} "
            f"and has {len(recent)}."
        )
        return _replace(empty, reason=reason)
    return baseline_from(metric, as_of, value, recent, normal)


def baseline_from(
    metric: Metric,
    as_of: date,
    value: float | None,
    recent: Sequence[float],
    normal: Sequence[float],
) -> Baseline:
    """The baseline from the readings of the two windows, without checking their number."""
    mean7, mu = sum(recent) / len(recent), sum(normal) / len(normal)
    sd = max(sample_sd(normal) or 0.0, SD_FLOORS[metric])
    z = (mean7 - mu) / sd
    return Baseline(
        metric=metric,
        as_of=as_of,
        value=value,
        rolling_mean=mean7,
        normal_mean=mu,
        normal_sd=sd,
        normal_low=mu - NORMAL_RANGE_SD * sd,
        normal_high=mu + NORMAL_RANGE_SD * sd,
        z=z,
        within_normal_range=abs(z) <= NORMAL_RANGE_SD,
        recent_readings=len(recent),
        normal_readings=len(normal),
        warming_up=False,
        reason=None,
    )


def _replace(b: Baseline, **changes: Any) -> Baseline:
    return dataclasses.replace(b, **changes)


def ln_values(daily: Mapping[date, float]) -> dict[date, float]:
    """ln rMSSD per date (HRV is analysed on the log scale); non-positive values dropped."""
    return {d: math.log(v) for d, v in daily.items() if v > 0}


def _linear(x: float, good: float, bad: float) -> float:
    return 100 * max(0.0, min(1.0, (x - bad) / (good - bad)))


def readiness(
    as_of: date,
    hrv_ln: Mapping[date, float],
    resting_hr: Mapping[date, float],
    sleep_seconds: float | None,
    need_seconds: float,
) -> Readiness:
    """Readiness on ``as_of`` (see the module docstring); ``sleep_seconds`` is the sleep of
    the night that ended on ``as_of`` (``None`` without one)."""
    hrv_b = baseline("hrv", as_of, hrv_ln)
    rhr_b = baseline("resting_hr", as_of, resting_hr)
    share = None if sleep_seconds is None or need_seconds <= 0 else sleep_seconds / need_seconds
    reasons = [b.reason for b in (hrv_b, rhr_b) if b.reason is not None]
    if reasons or hrv_b.z is None or rhr_b.z is None:
        components = tuple(
            Component(name, None, 0.0, measure)
            for name, measure in (("hrv", hrv_b.z), ("resting_hr", rhr_b.z), ("sleep", share))
        )
        return Readiness(as_of, None, components, hrv_b, rhr_b, " ".join(reasons) or None)
    components = readiness_components(hrv_b.z, rhr_b.z, share)
    return Readiness(as_of, readiness_total(components), components, hrv_b, rhr_b, None)


def readiness_components(
    hrv_z: float, resting_hr_z: float, sleep_share: float | None
) -> tuple[Component, ...]:
    """The three components from the two baselines' z and last night's sleep as a share of
    the need (``None`` without a night: the other two are re-weighted to sum to 1). The one
    definition, used by the personal answers and the organisation statistics."""
    raw: dict[str, tuple[float | None, float | None]] = {
        "hrv": (_linear(hrv_z, 0.0, -Z_AT_ZERO), hrv_z),
        "resting_hr": (_linear(resting_hr_z, 0.0, Z_AT_ZERO), resting_hr_z),
        "sleep": (
            None if sleep_share is None else _linear(sleep_share, 1.0, SLEEP_ZERO_SHARE),
            sleep_share,
        ),
    }
    present = sum(WEIGHTS[name] for name, (score, _) in raw.items() if score is not None)
    return tuple(
        Component(name, score, WEIGHTS[name] / present if score is not None else 0.0, measure)
        for name, (score, measure) in raw.items()
    )


def readiness_total(components: Sequence[Component]) -> float:
    return sum(c.score * c.weight for c in components if c.score is not None)


def readiness_series(
    dates: Sequence[date],
    hrv_ln: Mapping[date, float],
    resting_hr: Mapping[date, float],
    sleep_of: Callable[[date], float | None],
    need_seconds: float,
) -> list[Readiness]:
    """Readiness on each of ``dates``."""
    return [readiness(d, hrv_ln, resting_hr, sleep_of(d), need_seconds) for d in dates]
