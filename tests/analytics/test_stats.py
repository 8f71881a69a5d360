"""Statistics helpers: percentiles, circular clock statistics, robust slope."""

from __future__ import annotations

import math

import pytest

from somna.calculations.stats import (
    circular_mean_seconds,
    circular_sd_minutes,
    clock_difference_seconds,
    distribution,
    format_clock,
    mean,
    percentile,
    sample_sd,
    theil_sen_slope,
)

# sleep-science.md 2.2: midpoints of the seven-night example, minutes after midnight.
MIDPOINTS_MIN = [180, 195, 240, 210, 180, 315, 345]


def test_circular_mean_and_sd_of_the_worked_midpoints() -> None:
    seconds = [m * 60 for m in MIDPOINTS_MIN]
    mean_seconds = circular_mean_seconds(seconds)
    assert mean_seconds is not None
    assert mean_seconds / 60 == pytest.approx(237.299, abs=1e-3)
    assert circular_sd_minutes(seconds) == pytest.approx(62.016, abs=1e-3)


def test_circular_mean_wraps_midnight() -> None:
    # 23:30 and 00:30 average to midnight, not noon.
    assert circular_mean_seconds([23.5 * 3600, 0.5 * 3600]) == pytest.approx(0, abs=1e-6)


def test_circular_mean_of_opposite_times_is_undefined() -> None:
    assert circular_mean_seconds([0, 12 * 3600]) is None
    assert circular_mean_seconds([]) is None
    assert circular_sd_minutes([]) is None


def test_identical_clock_times_have_zero_spread() -> None:
    assert circular_sd_minutes([3600, 3600, 3600]) == pytest.approx(0, abs=1e-6)


def test_percentiles_interpolate_like_numpy_and_postgres() -> None:
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 0.1) == pytest.approx(1.9)
    assert percentile(values, 0.5) == pytest.approx(5.5)
    assert percentile(values, 0.9) == pytest.approx(9.1)
    assert percentile([4.0], 0.9) == 4.0
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)


def test_distribution_skips_unknown_values() -> None:
    d = distribution([3.0, None, 1.0, 2.0])
    assert (d.n, d.mean, d.median) == (3, 2.0, 2.0)
    empty = distribution([None])
    assert (empty.n, empty.mean, empty.p10, empty.p90) == (0, None, None, None)


def test_mean_and_sample_sd() -> None:
    assert mean([None, 2, 4]) == 3
    assert mean([]) is None
    assert sample_sd([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]) == pytest.approx(2.13809, 1e-5)
    assert sample_sd([1.0]) is None


def test_theil_sen_ignores_an_outlier() -> None:
    points = [(float(x), 2.0 * x + 1) for x in range(10)]
    points[4] = (4.0, 100.0)
    assert theil_sen_slope(points) == pytest.approx(2.0)
    assert theil_sen_slope([(1.0, 5.0)]) is None


@pytest.mark.parametrize(
    ("a", "b", "diff"),
    [(5 * 3600, 3 * 3600, 7200), (1 * 3600, 23 * 3600, 7200), (23 * 3600, 1 * 3600, -7200)],
)
def test_clock_difference_takes_the_shorter_arc(a: int, b: int, diff: int) -> None:
    assert clock_difference_seconds(a, b) == diff


def test_format_clock() -> None:
    assert format_clock(3 * 3600 + 57 * 60 + 51.4) == "03:57:51"
    assert format_clock(86_399.6) == "00:00:00"
    assert format_clock(None) is None
    assert not math.isnan(circular_mean_seconds([1.0]) or 0.0)
