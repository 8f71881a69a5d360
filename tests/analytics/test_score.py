"""The sleep score: component mappings, the seed's weights, missing components."""

from __future__ import annotations

import pytest

from somna.calculations.inputs import PersonSummary
from somna.calculations.score import (
    duration_component,
    efficiency_component,
    score_from_summary,
    sleep_score,
)


@pytest.mark.parametrize(
    ("hours", "points"),
    [(3.0, 0.0), (4.0, 0.0), (5.5, 50.0), (6.5, 83.3333), (7.0, 100.0), (8.0, 100.0),
     (9.0, 100.0), (10.5, 50.0), (12.0, 0.0), (14.0, 0.0)],
)  # fmt: skip
def test_duration_mapping(hours: float, points: float) -> None:
    # sleep-science.md 3.5: TST 6.5 h gives the duration component 0.8333.
    assert duration_component(hours) == pytest.approx(points, abs=1e-4)


@pytest.mark.parametrize(
    ("efficiency", "points"), [(60.0, 0.0), (65.0, 0.0), (75.0, 50.0), (85.0, 100.0), (86.0, 100.0)]
)
def test_efficiency_mapping(efficiency: float, points: float) -> None:
    assert efficiency_component(efficiency) == pytest.approx(points)


def test_overall_is_the_weighted_sum() -> None:
    """The seed's weights (0.4 efficiency, 0.3 consistency, 0.3 duration) on computed parts."""
    s = sleep_score(
        mean_duration_seconds=6.5 * 3600,
        mean_efficiency_pct=86.0,
        consistency=80.0,
        consistency_method="sri",
        nights=7,
    )
    assert s.overall == pytest.approx(0.4 * 100 + 0.3 * 80 + 0.3 * 83.3333, abs=1e-3)
    assert (s.efficiency.score, s.consistency.score) == (100.0, 80.0)
    assert s.duration.measure == pytest.approx(6.5)
    assert s.consistency_method == "sri"
    assert sum(c.weight for c in (s.efficiency, s.consistency, s.duration)) == pytest.approx(1)


def test_missing_consistency_rescales_the_other_weights() -> None:
    s = sleep_score(mean_duration_seconds=8 * 3600, mean_efficiency_pct=75.0, consistency=None)
    assert s.consistency.score is None
    assert s.consistency.weight == 0.0
    assert s.efficiency.weight == pytest.approx(0.4 / 0.7)
    assert s.overall == pytest.approx((0.4 * 50 + 0.3 * 100) / 0.7)
    assert s.consistency_method is None


def test_no_data_no_score() -> None:
    s = sleep_score(mean_duration_seconds=None, mean_efficiency_pct=None, consistency=None)
    assert s.overall is None
    assert s.nights == 0


def summary(nights: int, sd: float | None = None, sri: float | None = None) -> PersonSummary:
    return PersonSummary("p", nights, 8 * 3600.0, 90.0, midpoint_sd_minutes=sd, sri=sri)


def test_score_from_summary_prefers_sri_and_needs_three_nights_for_the_spread() -> None:
    with_sri = score_from_summary(summary(10, sd=120, sri=70))
    assert with_sri.consistency.score == 70
    assert with_sri.consistency_method == "sri"
    spread = score_from_summary(summary(3, sd=75))
    assert spread.consistency.score == pytest.approx(50)
    assert spread.overall == pytest.approx(0.4 * 100 + 0.3 * 50 + 0.3 * 100)
    two = score_from_summary(summary(2, sd=5))
    assert two.consistency.score is None
    assert two.overall == pytest.approx(100)
