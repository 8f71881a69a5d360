"""Schedule regularity: SRI where hypnograms allow it, else the spread of the sleep midpoint.

Also the cheap companions sleep-science.md recommends: midpoint SD (noon-unwrapped, ddof=1)
and circular SD, social jetlag (Wittmann 2006) and composite phase deviation (Fischer 2016).
``consistency`` is the 0-100 value the sleep score uses; docs/analytics.md gives the mappings.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Literal

from somna.analytics.calculations.local_time import clock_seconds
from somna.analytics.calculations.metrics import night_metrics
from somna.analytics.calculations.nights import Night
from somna.analytics.calculations.sri import days_from_nights, sri_from_days
from somna.analytics.calculations.stats import (
    DAY_SECONDS,
    circular_mean_seconds,
    circular_sd_minutes,
    clock_difference_seconds,
    sample_sd,
)
from somna.kit.numbers import OneDecimal, Score, Seconds

MIN_SRI_DAY_PAIRS = 5  # Fischer et al. 2021: one or two day pairs are too noisy
MIN_MIDPOINT_NIGHTS = 3
MIDPOINT_SD_GOOD_MINUTES = 30.0  # Huang et al. 2020: timing SD <= 30 min is the regular group
MIDPOINT_SD_BAD_MINUTES = 120.0  # our choice: 30 min past the > 90 min high-risk group

Method = Literal["sri", "midpoint_sd"]


@dataclass(frozen=True, slots=True)
class Regularity:
    consistency: Score | None  # 0-100, from ``method``
    method: Method | None
    sri: Score | None
    sri_day_pairs: int
    midpoint_sd_minutes: OneDecimal | None
    midpoint_circular_sd_minutes: OneDecimal | None
    mean_midpoint_clock_seconds: Seconds | None
    social_jetlag_minutes: OneDecimal | None  # |MSF - MSW|
    relative_social_jetlag_minutes: OneDecimal | None  # MSF - MSW, positive if free days are later
    composite_phase_deviation_hours: OneDecimal | None
    nights: int


def regularity(
    nights: Sequence[Night],
    naps: Sequence[Night] = (),
    *,
    min_day_pairs: int = MIN_SRI_DAY_PAIRS,
    free_days: Collection[date] | None = None,
) -> Regularity:
    """Every regularity measure over counted nights (main sleeps) and naps."""
    sri = sri_from_days(days_from_nights(nights, naps), min_day_pairs=min_day_pairs)
    clocks = [midpoint_clock_seconds(n) for n in nights]
    sd = midpoint_sd_minutes(clocks) if len(clocks) >= MIN_MIDPOINT_NIGHTS else None
    sjl = social_jetlag_minutes([n.local_date for n in nights], clocks, free_days)
    unwrapped_hours = [minutes_after_noon(c) / 60 for c in clocks]
    consistency, method = consistency_score(sri.sri, sd)
    return Regularity(
        consistency=consistency,
        method=method,
        sri=sri.sri,
        sri_day_pairs=sri.day_pairs,
        midpoint_sd_minutes=sd,
        midpoint_circular_sd_minutes=circular_sd_minutes(clocks) if sd is not None else None,
        mean_midpoint_clock_seconds=circular_mean_seconds(clocks),
        social_jetlag_minutes=None if sjl is None else abs(sjl),
        relative_social_jetlag_minutes=sjl,
        composite_phase_deviation_hours=composite_phase_deviation(unwrapped_hours),
        nights=len(nights),
    )


def consistency_score(
    sri: float | None, midpoint_sd: float | None
) -> tuple[float | None, Method | None]:
    """0-100: the SRI clipped at 0 (random), else the midpoint SD mapped linearly from
    100 at <= 30 min to 0 at >= 120 min."""
    if sri is not None:
        return max(0.0, min(100.0, sri)), "sri"
    if midpoint_sd is not None:
        span = MIDPOINT_SD_BAD_MINUTES - MIDPOINT_SD_GOOD_MINUTES
        share = (MIDPOINT_SD_BAD_MINUTES - midpoint_sd) / span
        return 100 * max(0.0, min(1.0, share)), "midpoint_sd"
    return None, None


def midpoint_clock_seconds(night: Night) -> float:
    """The sleep midpoint on the local wall clock, seconds after midnight: halfway between
    the wall-clock onset and offset, so 23:00-07:00 has its midpoint at 03:00 even on the
    night the clocks change (like the SRI, regularity is judged on the wall clock)."""
    m = night_metrics(night.record)
    onset = clock_seconds(m.onset_at, night.zone)
    span = (clock_seconds(m.offset_at, night.zone) - onset) % DAY_SECONDS
    return (onset + span / 2) % DAY_SECONDS


def minutes_after_noon(clock: float) -> float:
    """Unwrap a clock time relative to noon, so 23:00 and 01:00 are 2 h apart, not 22."""
    return ((clock - DAY_SECONDS / 2) % DAY_SECONDS) / 60


def midpoint_sd_minutes(clocks: Sequence[float]) -> float | None:
    """Sample SD (ddof=1) of noon-unwrapped midpoints, minutes."""
    return sample_sd([minutes_after_noon(c) for c in clocks])


def midpoint_sd_from_sums(n: int, total: float, total_sq: float) -> float | None:
    """The same SD from SQL's ``COUNT``, ``SUM(x)`` and ``SUM(x*x)`` of minutes after noon."""
    if n < 2:
        return None
    variance = (total_sq - total * total / n) / (n - 1)
    return math.sqrt(max(0.0, variance))


def social_jetlag_minutes(
    dates: Sequence[date], clocks: Sequence[float], free_days: Collection[date] | None = None
) -> float | None:
    """MSF - MSW on the shorter arc; free days are Saturday and Sunday wake dates unless
    given. ``None`` without at least one night of each kind."""
    is_free = [d in free_days if free_days is not None else d.weekday() >= 5 for d in dates]
    msf = circular_mean_seconds([c for c, f in zip(clocks, is_free, strict=True) if f])
    msw = circular_mean_seconds([c for c, f in zip(clocks, is_free, strict=True) if not f])
    if msf is None or msw is None:
        return None
    return clock_difference_seconds(msf, msw) / 60


def composite_phase_deviation(
    midpoints_hours: Sequence[float], reference_hours: float | None = None
) -> float | None:
    """CPD: mean of sqrt(mistiming^2 + irregularity^2) from the second night on; the
    reference is the chronotype when known, else the mean midpoint."""
    if len(midpoints_hours) < 2:
        return None
    ref = reference_hours
    if ref is None:
        ref = sum(midpoints_hours) / len(midpoints_hours)
    values = [
        math.hypot(ref - current, current - previous)
        for previous, current in pairwise(midpoints_hours)
    ]
    return sum(values) / len(values)
