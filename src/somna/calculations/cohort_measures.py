"""Circadian timing, sleep debt and readiness per person from grouped sums, for organisation
and cohort statistics (docs/analytics.md, "Cohort distributions").

The grouped queries return, per person: counted nights summed per ISO weekday (midpoint in
minutes after local noon, total sleep), total sleep per date for the last 14 dates, and
recovery sums per provider for the recent 7 and the 60 dates before. From these, the same
definitions as the personal answers, with three differences said in the docs: midpoints are
averaged as minutes after noon rather than on the circle, the MCTQ's sleep duration is the
total sleep time, and readiness reads one provider per metric rather than one per date.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from somna.calculations.circadian import MIN_NIGHTS_PER_KIND, msf_sc
from somna.calculations.debt import debt_seconds, sleep_need
from somna.calculations.readiness import (
    MIN_NORMAL_READINGS,
    MIN_RECENT_READINGS,
    SD_FLOORS,
    Metric,
    readiness_components,
    readiness_total,
)
from somna.calculations.sources import rank
from somna.calculations.stats import DAY_SECONDS, clock_difference_seconds

NOON = DAY_SECONDS / 2


@dataclass(slots=True)
class WeekdaySums:
    nights: int = 0
    midpoint_sum: float = 0.0  # minutes after local noon
    sleep_n: int = 0
    sleep_sum: float = 0.0  # seconds

    def add(
        self, nights: int, midpoint_sum: float | None, sleep_n: int, sleep_sum: float | None
    ) -> None:
        self.nights += nights
        self.midpoint_sum += midpoint_sum or 0.0
        self.sleep_n += sleep_n
        self.sleep_sum += sleep_sum or 0.0


@dataclass(slots=True)
class RecoverySums:
    """One provider's readings of one metric in one window: count, sum and sum of squares."""

    n: int = 0
    total: float = 0.0
    squares: float = 0.0

    def add(self, n: int, total: float | None, squares: float | None) -> None:
        self.n += n
        self.total += total or 0.0
        self.squares += squares or 0.0


@dataclass(frozen=True, slots=True)
class PersonMeasures:
    social_jetlag_minutes: float | None
    relative_social_jetlag_minutes: float | None
    msf_sc_clock_seconds: float | None
    sleep_debt_hours: float | None
    readiness: float | None


@dataclass(frozen=True, slots=True)
class KindSums:
    nights: int
    midpoint_minutes: float | None
    sleep_seconds: float | None


def kind_sums(by_weekday: Mapping[int, WeekdaySums], weekdays: Collection[int]) -> KindSums:
    nights = sleep_n = 0
    midpoint_sum = sleep_sum = 0.0
    for day, s in by_weekday.items():
        if day in weekdays:
            nights += s.nights
            midpoint_sum += s.midpoint_sum
            sleep_n += s.sleep_n
            sleep_sum += s.sleep_sum
    return KindSums(
        nights=nights,
        midpoint_minutes=midpoint_sum / nights if nights else None,
        sleep_seconds=sleep_sum / sleep_n if sleep_n else None,
    )


_ALL_DAYS = frozenset(range(1, 8))


def timing(
    by_weekday: Mapping[int, WeekdaySums], workdays: Collection[int]
) -> tuple[float | None, float | None]:
    """(relative social jetlag in minutes, MSFsc in clock seconds)."""
    free_days = _ALL_DAYS.difference(workdays)
    work, free = kind_sums(by_weekday, workdays), kind_sums(by_weekday, free_days)
    if free.nights < MIN_NIGHTS_PER_KIND or free.midpoint_minutes is None:
        return None, None
    msf = (NOON + free.midpoint_minutes * 60) % DAY_SECONDS
    if not workdays:
        return None, msf
    if work.nights < MIN_NIGHTS_PER_KIND or work.midpoint_minutes is None:
        return None, None
    msw = (NOON + work.midpoint_minutes * 60) % DAY_SECONDS
    jetlag = clock_difference_seconds(msf, msw) / 60
    if work.sleep_seconds is None or free.sleep_seconds is None:
        return jetlag, None
    return jetlag, msf_sc(msf, work.sleep_seconds, free.sleep_seconds, len(set(workdays)))


def free_day_need_nights(
    by_weekday: Mapping[int, WeekdaySums], workdays: Collection[int]
) -> list[float]:
    """Free-day sleep as the need estimate reads it: each night at its group's mean."""
    out: list[float] = []
    for day, s in by_weekday.items():
        if day not in workdays and s.sleep_n:
            out.extend([s.sleep_sum / s.sleep_n] * s.sleep_n)
    return out


def _baseline_z(metric: Metric, recent: RecoverySums, normal: RecoverySums) -> float | None:
    if recent.n < MIN_RECENT_READINGS or normal.n < MIN_NORMAL_READINGS:
        return None
    mu = normal.total / normal.n
    variance = (normal.squares - normal.total * normal.total / normal.n) / (normal.n - 1)
    sd = max(math.sqrt(max(0.0, variance)), SD_FLOORS[metric])
    return (recent.total / recent.n - mu) / sd


def metric_z(
    metric: Metric,
    by_provider: Mapping[str, tuple[RecoverySums, RecoverySums]],
    order: Sequence[str],
) -> float | None:
    """The z of the first provider in ``order`` (then alphabetical) with a warm baseline."""
    ranks = rank(order)
    for provider in sorted(by_provider, key=lambda p: (ranks.get(p, len(ranks)), p)):
        z = _baseline_z(metric, *by_provider[provider])
        if z is not None:
            return z
    return None


def readiness_from(
    hrv_z: float | None, rhr_z: float | None, sleep_seconds: float | None, need_seconds: float
) -> float | None:
    """The readiness of calculations/readiness.py from the two z and last night's sleep."""
    if hrv_z is None or rhr_z is None:
        return None
    share = None if sleep_seconds is None or need_seconds <= 0 else sleep_seconds / need_seconds
    return readiness_total(readiness_components(hrv_z, rhr_z, share))


def person_measures(
    *,
    as_of: date,
    by_weekday: Mapping[int, WeekdaySums],
    daily_sleep: Mapping[date, float],
    hrv: Mapping[str, tuple[RecoverySums, RecoverySums]],
    resting_hr: Mapping[str, tuple[RecoverySums, RecoverySums]],
    workdays: Collection[int],
    goal_hours: float | None,
    hrv_order: Sequence[str] = (),
    resting_hr_order: Sequence[str] = (),
) -> PersonMeasures:
    """Every cohort measure of one person (see the module docstring)."""
    jetlag, chronotype = timing(by_weekday, workdays)
    need = sleep_need(goal_hours, free_day_need_nights(by_weekday, workdays)).seconds
    debt = debt_seconds(as_of, daily_sleep, need)
    ready = readiness_from(
        metric_z("hrv", hrv, hrv_order),
        metric_z("resting_hr", resting_hr, resting_hr_order),
        daily_sleep.get(as_of),
        need,
    )
    return PersonMeasures(
        social_jetlag_minutes=None if jetlag is None else abs(jetlag),
        relative_social_jetlag_minutes=jetlag,
        msf_sc_clock_seconds=chronotype,
        sleep_debt_hours=None if debt is None else debt / 3600,
        readiness=ready,
    )


def minutes_after_noon_of(clock_seconds: float) -> float:
    return ((clock_seconds - NOON) % DAY_SECONDS) / 60
