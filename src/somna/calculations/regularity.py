"""Schedule regularity: SRI where hypnograms allow it, else the spread of the sleep midpoint.

Also the cheap companions: midpoint SD (noon-unwrapped, ddof=1) and circular SD, social
jetlag (Wittmann 2006, computed by ``circadian``) and composite phase deviation (Fischer 2016).
``consistency`` is the 0-100 value the sleep score uses; docs/analytics.md gives the mappings.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Literal

from somna.calculations.circadian import circadian
from somna.calculations.local_time import DEFAULT_WORKDAYS
from somna.calculations.nights import Night
from somna.calculations.sri import days_from_nights, sri_from_days
from somna.calculations.stats import (
    circular_mean_seconds,
    circular_sd_minutes,
    sample_sd,
)
from somna.calculations.timing import (  # re-exported: part of this module's API
    midpoint_clock_seconds as midpoint_clock_seconds,
)
from somna.calculations.timing import minutes_after_noon as minutes_after_noon
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
    # The 0-100 consistency from the midpoint spread alone: the measure organisation
    # statistics use (they have no epochs for the SRI), served so both can be compared.
    midpoint_consistency: Score | None = None
    reason: str | None = None  # why the measures are withheld


def withhold_regularity(reg: Regularity, reason: str) -> Regularity:
    """The same regularity with its measures ``None``: too few nights to show them. The
    social jetlag keeps its own minimum (two nights of each kind of day)."""
    return replace(
        reg,
        consistency=None,
        method=None,
        sri=None,
        midpoint_sd_minutes=None,
        midpoint_circular_sd_minutes=None,
        composite_phase_deviation_hours=None,
        midpoint_consistency=None,
        reason=reason,
    )


def regularity(
    nights: Sequence[Night],
    naps: Sequence[Night] = (),
    *,
    min_day_pairs: int = MIN_SRI_DAY_PAIRS,
    workdays: Collection[int] = DEFAULT_WORKDAYS,
) -> Regularity:
    """Every regularity measure over counted nights (main sleeps) and naps; the social
    jetlag is ``circadian``'s, for the person's ``workdays``."""
    sri = sri_from_days(days_from_nights(nights, naps), min_day_pairs=min_day_pairs)
    clocks = [midpoint_clock_seconds(n) for n in nights]
    sd = midpoint_sd_minutes(clocks) if len(clocks) >= MIN_MIDPOINT_NIGHTS else None
    timing = circadian(nights, workdays)
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
        social_jetlag_minutes=timing.social_jetlag_minutes,
        relative_social_jetlag_minutes=timing.relative_social_jetlag_minutes,
        composite_phase_deviation_hours=composite_phase_deviation(unwrapped_hours),
        nights=len(nights),
        midpoint_consistency=consistency_score(None, sd)[0],
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


def midpoint_sd_minutes(clocks: Sequence[float]) -> float | None:
    """Sample SD (ddof=1) of noon-unwrapped midpoints, minutes."""
    return sample_sd([minutes_after_noon(c) for c in clocks])


def midpoint_sd_from_sums(n: int, total: float, total_sq: float) -> float | None:
    """The same SD from SQL's ``COUNT``, ``SUM(x)`` and ``SUM(x*x)`` of minutes after noon."""
    if n < 2:
        return None
    variance = (total_sq - total * total / n) / (n - 1)
    return math.sqrt(max(0.0, variance))


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
