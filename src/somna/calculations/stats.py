"""Small statistics helpers: means, sample SD, percentiles, a robust slope, clock-time circles.

Percentiles interpolate linearly between order statistics, as numpy's default and PostgreSQL's
``percentile_cont`` do, so a service that pushes them into SQL gets the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from somna.kit.numbers import OneDecimal, Seconds

DAY_SECONDS = 86_400


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not ``None``; ``None`` when there are none."""
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def sample_sd(values: Sequence[float]) -> float | None:
    """Standard deviation with ddof=1; ``None`` below two values."""
    if len(values) < 2:
        return None
    m = sum(values) / len(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-th quantile (0..1) of already sorted values, linear interpolation."""
    if not ordered:
        raise ValueError("percentile of no values")
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True, slots=True)
class Distribution:
    n: int
    mean: OneDecimal | None
    median: OneDecimal | None
    p10: OneDecimal | None
    p90: OneDecimal | None


@dataclass(frozen=True, slots=True)
class SecondsDistribution:
    """A distribution of durations, written as whole seconds like every ``*_seconds``."""

    n: int
    mean: Seconds | None
    median: Seconds | None
    p10: Seconds | None
    p90: Seconds | None


def seconds_distribution(values: Iterable[float | None]) -> SecondsDistribution:
    found = distribution(values)
    return SecondsDistribution(found.n, found.mean, found.median, found.p10, found.p90)


def distribution(values: Iterable[float | None]) -> Distribution:
    """Mean, median, 10th and 90th percentile of the known values."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return Distribution(0, None, None, None, None)
    return Distribution(
        n=len(ordered),
        mean=sum(ordered) / len(ordered),
        median=percentile(ordered, 0.5),
        p10=percentile(ordered, 0.1),
        p90=percentile(ordered, 0.9),
    )


def theil_sen_slope(points: Sequence[tuple[float, float]]) -> float | None:
    """Median of pairwise slopes (Theil-Sen); robust to a few odd nights."""
    slopes = sorted(
        (y2 - y1) / (x2 - x1)
        for i, (x1, y1) in enumerate(points)
        for x2, y2 in points[i + 1 :]
        if x2 != x1
    )
    return percentile(slopes, 0.5) if slopes else None


def circular_mean_seconds(clock_seconds: Sequence[float]) -> float | None:
    """Mean clock time on the 24-h circle, seconds after midnight; ``None`` if undefined."""
    resultant = _resultant(clock_seconds)
    if resultant is None or math.hypot(*resultant) < 1e-9:
        return None
    angle = math.atan2(resultant[1], resultant[0])
    seconds = (angle / (2 * math.pi) * DAY_SECONDS) % DAY_SECONDS
    return 0.0 if seconds > DAY_SECONDS - 1e-6 else seconds  # -0.0000001 s is midnight


def circular_sd_minutes(clock_seconds: Sequence[float]) -> float | None:
    """Circular SD, sqrt(-2 ln R) on the 24-h circle, in minutes."""
    resultant = _resultant(clock_seconds)
    if resultant is None:
        return None
    length = min(1.0, math.hypot(*resultant))
    if length <= 0:
        return None
    return math.sqrt(-2 * math.log(length)) * 1440 / (2 * math.pi)


def _resultant(clock_seconds: Sequence[float]) -> tuple[float, float] | None:
    if not clock_seconds:
        return None
    angles = [2 * math.pi * s / DAY_SECONDS for s in clock_seconds]
    n = len(angles)
    return sum(math.cos(a) for a in angles) / n, sum(math.sin(a) for a in angles) / n


def clock_difference_seconds(a: float, b: float) -> float:
    """Signed ``a - b`` on the shorter arc of the 24-h circle."""
    diff = (a - b) % DAY_SECONDS
    return diff - DAY_SECONDS if diff > DAY_SECONDS / 2 else diff


def format_clock(seconds: float | None) -> str | None:
    """``hh:mm:ss`` for seconds after midnight (rounded to the second)."""
    if seconds is None:
        return None
    total = round(seconds) % DAY_SECONDS
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"
