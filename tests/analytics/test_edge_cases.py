"""The edge cases every calculation must survive: no data, one night, naps only, a night
across a DST change, a travelling person."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from somna.calculations.aggregate import average_stats
from somna.calculations.burnout import BurnoutInputs, burnout_risk
from somna.calculations.cohort import cohort_statistics, summarise_person
from somna.calculations.inputs import SleepPeriod
from somna.calculations.nights import ResolvedSleep, resolve_sleep
from somna.calculations.regularity import regularity
from somna.calculations.reports import monthly_trends, weekly_report
from somna.calculations.score import score_from_summary
from tests.analytics.helpers import at, diary_night, staged

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
DST_DAY = date(2026, 3, 29)  # Berlin springs forward at 02:00


def scenario(name: str) -> tuple[list[SleepPeriod], date]:
    """Records and the last local date of the scenario."""
    if name == "no data":
        return [], DST_DAY
    if name == "one night":
        return [diary_night(DST_DAY - timedelta(days=3), "23:00", "07:00", BERLIN)], DST_DAY
    if name == "naps only":
        naps = [
            staged(at(DST_DAY - timedelta(days=k), "14:00", BERLIN), "L" * 60, is_nap=True)
            for k in range(5)
        ]
        return naps, DST_DAY
    if name == "dst night":
        return [
            diary_night(DST_DAY + timedelta(days=k), "23:00", "07:00", BERLIN) for k in range(-3, 1)
        ], DST_DAY
    # Travelling: three nights at home in Berlin, three in New York.
    home = [diary_night(DST_DAY - timedelta(days=k), "23:00", "07:00", BERLIN) for k in (5, 4, 3)]
    away = [diary_night(DST_DAY - timedelta(days=k), "23:00", "07:00", NEW_YORK) for k in (1, 0)]
    return [*home, *away], DST_DAY


SCENARIOS = ["no data", "one night", "naps only", "dst night", "travelling"]


def resolved_for(name: str) -> tuple[ResolvedSleep, date]:
    records, last = scenario(name)
    return resolve_sleep(records, zone=BERLIN), last


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_calculation_answers(name: str) -> None:
    resolved, last = resolved_for(name)
    first = last - timedelta(days=6)
    stats = average_stats(resolved, first, last)
    reg = regularity(resolved.between(first, last), resolved.naps)
    summary = summarise_person("p", resolved.between(first, last), reg)
    score = score_from_summary(summary)
    week = weekly_report(resolved, first)
    months = monthly_trends(resolved, last, months=2)
    risk = burnout_risk(last, BurnoutInputs(nights=resolved.nights, naps=resolved.naps))
    cohort = cohort_statistics([summary])
    nights = len(resolved.between(first, last))
    assert len(stats.slept_sessions) == nights
    assert (stats.average_stats is None) == (nights == 0)
    assert (score.overall is None) == (nights == 0)
    assert cohort.people_with_data == (1 if nights else 0)
    assert len(months.months) == 2
    assert risk.level == "insufficient_data"
    assert week.start_date.weekday() == 0


def test_naps_only_are_not_nights() -> None:
    resolved, last = resolved_for("naps only")
    assert resolved.nights == ()
    assert len(resolved.naps) == 5
    stats = average_stats(resolved, last - timedelta(days=6), last, include_naps=True)
    assert len(stats.slept_sessions) == 5
    assert stats.average_stats is not None
    assert stats.average_stats.start_time == "14:00:00"


def test_one_night_has_no_regularity_but_a_score() -> None:
    resolved, last = resolved_for("one night")
    nights = resolved.between(last - timedelta(days=6), last)
    score = score_from_summary(summarise_person("p", nights, regularity(nights)))
    assert score.consistency.score is None
    assert score.overall == pytest.approx(100.0)  # 8 h at 100 % efficiency


def test_dst_night_is_seven_hours_with_local_clock_times() -> None:
    resolved, last = resolved_for("dst night")
    stats = average_stats(resolved, last, last)
    assert stats.slept_sessions[0].stat is not None
    assert stats.slept_sessions[0].stat.time_in_sleep == 7 * 3600
    assert stats.slept_sessions[0].end_time.hour == 7
    week = average_stats(resolved, last - timedelta(days=3), last)
    assert week.average_stats is not None
    assert week.average_stats.start_time == "23:00:00"
    assert week.average_stats.end_time == "07:00:00"


def test_travelling_person_keeps_local_clock_times_and_dates() -> None:
    resolved, last = resolved_for("travelling")
    assert [n.local_date for n in resolved.nights] == [
        last - timedelta(days=k) for k in (5, 4, 3, 1, 0)
    ]
    stats = average_stats(resolved, last - timedelta(days=6), last)
    assert stats.average_stats is not None
    # Bed at 23:00 wherever the person was, not 05:00 on the home clock.
    assert stats.average_stats.start_time == "23:00:00"
    reg = regularity(resolved.nights)
    assert reg.midpoint_sd_minutes == pytest.approx(0.0)
