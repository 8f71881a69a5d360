"""Too few nights: a score, regularity or trend is null with a reason, never a confident
number (minimums in calculations/sufficiency.py and docs/analytics.md)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from somna.calculations.cohort import cohort_statistics
from somna.calculations.inputs import PersonSummary
from somna.calculations.nights import resolve_sleep
from somna.calculations.reports import monthly_trends, weekly_report
from somna.calculations.sufficiency import (
    for_month,
    for_score,
    for_week,
    score_min_nights,
)
from tests.analytics.helpers import diary_night

MONDAY = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("days", "required"), [(1, 1), (3, 1), (4, 2), (7, 3), (14, 5), (30, 10), (100, 34)]
)
def test_score_minimum_scales_ten_nights_per_thirty_days(days: int, required: int) -> None:
    assert score_min_nights(days) == required


def test_minimums_of_week_month_and_score() -> None:
    assert for_week(3).sufficient is False
    assert for_week(4).sufficient is True
    assert for_month(6).sufficient is False
    assert for_month(7).sufficient is True
    assert for_score(9, 30).sufficient is False
    assert for_score(10, 30).reason is None
    assert for_week(3).reason == (
        "Too few nights: a week needs at least 4 recorded nights and has 3."
    )


def test_a_week_of_three_nights_has_no_score_and_no_regularity() -> None:
    # Three identical nights used to give a score of 88.9 and a consistency of 100.
    records = [diary_night(MONDAY + timedelta(days=k), "23:00", "07:00") for k in range(3)]
    report = weekly_report(resolve_sleep(records), MONDAY)
    assert report.session_count == 3
    assert report.sufficient is False
    assert report.reason is not None
    assert "at least 4" in report.reason
    assert report.score.overall is None
    assert report.score.reason == report.reason
    assert report.score.consistency.score is None
    assert report.regularity.consistency is None
    assert report.regularity.midpoint_sd_minutes is None
    assert report.regularity.reason == report.reason
    # The descriptive summary still shows what there is.
    assert report.summary.mean_sleep_seconds == 8 * 3600


def test_a_week_of_four_nights_has_a_score() -> None:
    records = [diary_night(MONDAY + timedelta(days=k), "23:00", "07:00") for k in range(4)]
    report = weekly_report(resolve_sleep(records), MONDAY)
    assert report.sufficient is True
    assert report.reason is None
    assert report.score.overall == pytest.approx(100.0)
    assert report.regularity.consistency == pytest.approx(100.0)


def test_a_month_needs_seven_nights_and_the_trend_seven_in_all() -> None:
    today = date(2026, 3, 31)
    six = [diary_night(date(2026, 3, 1) + timedelta(days=k), "23:00", "07:00") for k in range(6)]
    trends = monthly_trends(resolve_sleep(six), today, months=1)
    march = trends.months[0]
    assert (march.sufficient, march.score, march.midpoint_sd_minutes) == (False, None, None)
    assert march.reason is not None
    assert "a month needs at least 7" in march.reason
    assert trends.sleep_slope_minutes_per_week is None
    assert trends.trend_sufficient is False
    assert trends.trend_reason is not None
    assert "a trend needs at least 7" in trends.trend_reason

    seven = [*six, diary_night(date(2026, 3, 20), "23:00", "08:00")]
    trends = monthly_trends(resolve_sleep(seven), today, months=1)
    assert trends.months[0].sufficient is True
    assert trends.months[0].score is not None
    assert trends.trend_sufficient is True
    assert trends.sleep_slope_minutes_per_week is not None


def test_cohort_rows_use_the_personal_minimum() -> None:
    few = PersonSummary("few", 3, 8 * 3600, 95.0, midpoint_sd_minutes=0.0)
    enough = PersonSummary("enough", 10, 8 * 3600, 95.0, midpoint_sd_minutes=0.0)
    stats = cohort_statistics([few, enough], days=30)
    rows = {r.person_id: r for r in stats.rows}
    assert (rows["few"].score, rows["few"].regularity, rows["few"].sufficient) == (
        None,
        None,
        False,
    )
    assert rows["few"].reason is not None
    assert rows["enough"].score == pytest.approx(100.0)
    # Durations are still described for everyone with nights; scores only where sufficient.
    assert stats.duration_seconds.n == 2
    assert stats.score.n == 1
