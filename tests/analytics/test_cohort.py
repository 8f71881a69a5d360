"""Cohort statistics: distributions across people, per-person rows, SQL-shaped inputs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from somna.calculations.cohort import cohort_statistics, person_row, summarise_person
from somna.calculations.inputs import PersonSummary
from somna.calculations.nights import resolve_sleep
from somna.calculations.regularity import (
    midpoint_clock_seconds,
    midpoint_sd_from_sums,
    minutes_after_noon,
)
from somna.calculations.score import score_from_summary
from tests.analytics.helpers import at, diary_night, staged

MONDAY = date(2026, 3, 2)


def person(i: int, nights: int = 20) -> PersonSummary:
    return PersonSummary(
        person_id=f"p{i}",
        nights=nights,
        mean_duration_seconds=(5 + i * 0.5) * 3600,
        mean_efficiency_pct=70.0 + 2 * i,
        midpoint_sd_minutes=30.0 + 10 * i,
    )


def test_distributions_over_people() -> None:
    stats = cohort_statistics([person(i) for i in range(10)])
    assert stats.people == stats.people_with_data == 10
    assert stats.total_nights == 200
    d = stats.duration_seconds
    assert d.n == 10
    assert d.mean == pytest.approx(7.25 * 3600)
    assert d.median == pytest.approx(7.25 * 3600)
    assert d.p10 == pytest.approx((5 + 0.45) * 3600)
    assert d.p90 == pytest.approx((5 + 4.05) * 3600)
    assert stats.efficiency_pct.p90 == pytest.approx(70 + 2 * 8.1)
    assert stats.regularity.median == pytest.approx(100 * (120 - 75) / 90)
    rows = {r.person_id: r for r in stats.rows}
    assert rows["p4"].score == pytest.approx(score_from_summary(person(4)).overall)
    assert rows["p4"].regularity_method == "midpoint_sd"


def test_people_without_nights_are_rows_but_not_in_the_distributions() -> None:
    empty = PersonSummary("quiet", 0, None, None)
    stats = cohort_statistics([person(1), empty])
    assert stats.people == 2
    assert stats.people_with_data == 1
    assert stats.score.n == 1
    assert next(r for r in stats.rows if r.person_id == "quiet").score is None


def test_empty_cohort() -> None:
    stats = cohort_statistics([])
    assert (stats.people, stats.total_nights, stats.score.n, stats.score.mean) == (0, 0, 0, None)


def test_summary_from_nights_matches_what_one_grouped_query_gives() -> None:
    nights = resolve_sleep(
        [
            diary_night(MONDAY + timedelta(days=d), bed, "07:00")
            for d, bed in enumerate(["22:30", "23:00", "23:45", "00:30", "23:10"])
        ]
    ).nights
    summary = summarise_person("p", nights)
    # What SQL computes: COUNT, AVG(asleep), AVG(efficiency), SUM(x), SUM(x*x) of midpoints.
    xs = [minutes_after_noon(midpoint_clock_seconds(n)) for n in nights]
    assert summary.nights == 5
    assert summary.midpoint_sd_minutes == pytest.approx(
        midpoint_sd_from_sums(len(xs), sum(xs), sum(x * x for x in xs))
    )
    assert summary.mean_efficiency_pct == pytest.approx(100.0)
    hours = [8.5, 8.0, 7.25, 6.5, 7 + 50 / 60]
    assert summary.mean_duration_seconds == pytest.approx(sum(hours) / 5 * 3600)
    assert person_row(summary).nights == 5


def test_never_slept_sessions_do_not_count_as_nights() -> None:
    slept = diary_night(MONDAY, "23:00", "07:00")
    awake = staged(at(MONDAY + timedelta(days=1), "02:00"), "W" * 60)
    summary = summarise_person("p", resolve_sleep([slept, awake]).nights)
    assert summary.nights == 1
    assert summary.mean_duration_seconds == 8 * 3600


def test_ten_thousand_people_in_one_pass() -> None:
    stats = cohort_statistics(person(i % 10, nights=90) for i in range(10_000))
    assert stats.people == 10_000
    assert stats.total_nights == 900_000
    kinds = sorted(score_from_summary(person(i, nights=90)).overall or 0 for i in range(10))
    assert stats.score.median == pytest.approx((kinds[4] + kinds[5]) / 2)
    assert stats.score.p10 == pytest.approx(kinds[0] + 0.9 * (kinds[1] - kinds[0]))
