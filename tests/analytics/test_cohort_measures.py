"""Cohort measures from grouped sums (calculations/cohort_measures.py) equal the personal
definitions: social jetlag and MSFsc from weekday sums, the debt, the baselines' z and the
readiness, on worked numbers and edge cases."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import pytest

from somna.calculations.circadian import circadian
from somna.calculations.cohort_measures import (
    RecoverySums,
    WeekdaySums,
    metric_z,
    minutes_after_noon_of,
    person_measures,
    readiness_from,
    timing,
)
from somna.calculations.debt import sleep_debt
from somna.calculations.local_time import DEFAULT_WORKDAYS
from somna.calculations.metrics import night_metrics
from somna.calculations.nights import Night, resolve_sleep
from somna.calculations.readiness import baseline, readiness
from somna.calculations.timing import midpoint_clock_seconds
from tests.analytics.helpers import diary_night

H = 3600
MONDAY = date(2026, 1, 5)
AS_OF = date(2026, 3, 12)


def weekday_sums(nights: Sequence[Night]) -> dict[int, WeekdaySums]:
    """What the grouped statement returns per ISO weekday: nights, the midpoint in minutes
    after noon, total sleep."""
    out: dict[int, WeekdaySums] = {}
    for n in nights:
        s = out.setdefault(n.local_date.isoweekday(), WeekdaySums())
        s.nights += 1
        s.midpoint_sum += minutes_after_noon_of(midpoint_clock_seconds(n))
        tst = night_metrics(n.record).tst_seconds
        assert tst is not None
        s.sleep_n += 1
        s.sleep_sum += tst
    return out


def two_weeks() -> list[Night]:
    """Workday nights 23:00-05:00 (6 h, midpoint 02:00), free-day nights 00:30-07:30 (7 h,
    midpoint 04:00); the hypnograms are all sleep, so TST is onset to wake."""
    periods = [
        diary_night(MONDAY + timedelta(days=k), *(("00:30", "07:30") if k % 7 >= 5 else
                                                   ("23:00", "05:00")))
        for k in range(14)
    ]  # fmt: skip
    return list(resolve_sleep(periods).nights)


def test_timing_from_weekday_sums_worked_example() -> None:
    jetlag, msf_sc = timing(weekday_sums(two_weeks()), DEFAULT_WORKDAYS)
    assert jetlag == pytest.approx(120.0)
    # MSFsc = 04:00 - (7 h - SDweek) / 2, SDweek = (6 * 5 + 7 * 2) / 7 h.
    sd_week = (6 * 5 + 7 * 2) / 7 * H
    assert msf_sc == pytest.approx(4 * H - (7 * H - sd_week) / 2)


def test_timing_equals_the_personal_circadian_when_sleep_is_onset_to_wake() -> None:
    nights = two_weeks()
    personal = circadian(nights)
    jetlag, msf_sc = timing(weekday_sums(nights), DEFAULT_WORKDAYS)
    assert jetlag == pytest.approx(personal.relative_social_jetlag_minutes)
    assert msf_sc == pytest.approx(personal.msf_sc_clock_seconds)


def test_midpoints_around_midnight_average_as_minutes_after_noon() -> None:
    # Free-day midpoints 23:30 and 00:30 (minutes after noon 690 and 750): mean 00:00.
    sums = {6: WeekdaySums(1, 690.0, 1, 7 * H), 7: WeekdaySums(1, 750.0, 1, 7 * H)}
    sums |= {1: WeekdaySums(2, 600.0 * 2, 2, 7 * H * 2)}  # workday midpoints 22:00
    jetlag, msf_sc = timing(sums, DEFAULT_WORKDAYS)
    assert msf_sc == pytest.approx(0.0)  # equal durations: MSFsc is MSF
    assert jetlag == pytest.approx(120.0)


def test_timing_needs_two_nights_of_each_kind() -> None:
    assert timing({}, DEFAULT_WORKDAYS) == (None, None)
    one_free = {6: WeekdaySums(1, 900.0, 1, 7 * H), 1: WeekdaySums(3, 2520.0, 3, 18 * H)}
    assert timing(one_free, DEFAULT_WORKDAYS) == (None, None)
    # Free days only: no jetlag and no MSFsc (its correction needs workday sleep).
    free_only = {6: WeekdaySums(2, 1800.0, 2, 14 * H)}
    assert timing(free_only, DEFAULT_WORKDAYS) == (None, None)
    # Nobody's workdays at all: MSFsc is MSF, no jetlag.
    jetlag, msf_sc = timing(free_only, frozenset())
    assert jetlag is None
    assert msf_sc == pytest.approx(3 * H)  # 900 minutes after noon


def sums_of(values: Sequence[float]) -> RecoverySums:
    s = RecoverySums()
    s.add(len(values), sum(values), sum(v * v for v in values))
    return s


def recovery_history() -> tuple[dict[date, float], dict[date, float]]:
    """67 dates of ln rMSSD and resting HR with some spread, then a worse week."""
    hrv, rhr = {}, {}
    for k in range(67):
        day = AS_OF - timedelta(days=k)
        hrv[day] = math.log(55 + 6 * math.sin(k) - (8 if k < 7 else 0))
        rhr[day] = 52 + 2 * math.cos(k) + (4 if k < 7 else 0)
    return hrv, rhr


def split(daily: Mapping[date, float]) -> tuple[RecoverySums, RecoverySums]:
    recent_first = AS_OF - timedelta(days=6)
    recent = [v for d, v in daily.items() if d >= recent_first]
    normal = [v for d, v in daily.items() if d < recent_first]
    return sums_of(recent), sums_of(normal)


def test_the_baseline_z_from_sums_equals_the_readiness_baseline() -> None:
    hrv, rhr = recovery_history()
    z_hrv = metric_z("hrv", {"whoop": split(hrv)}, ())
    z_rhr = metric_z("resting_hr", {"whoop": split(rhr)}, ())
    assert z_hrv == pytest.approx(baseline("hrv", AS_OF, hrv).z)
    assert z_rhr == pytest.approx(baseline("resting_hr", AS_OF, rhr).z)
    # And the readiness from the two z and last night's sleep is the readiness.
    personal = readiness(AS_OF, hrv, rhr, 7 * H, 8 * H)
    assert personal.score is not None
    assert readiness_from(z_hrv, z_rhr, 7 * H, 8 * H) == pytest.approx(personal.score)
    without_night = readiness(AS_OF, hrv, rhr, None, 8 * H)
    assert readiness_from(z_hrv, z_rhr, None, 8 * H) == pytest.approx(without_night.score)


def test_warm_up_and_provider_order_in_metric_z() -> None:
    hrv, _ = recovery_history()
    recent, normal = split(hrv)
    thin = sums_of([4.0] * 13)  # 13 readings in the 60 days: warming up
    assert metric_z("hrv", {"whoop": (recent, thin)}, ()) is None
    assert readiness_from(None, 0.0, 8 * H, 8 * H) is None
    # The first provider of the order with a warm baseline is used.
    flat = sums_of([4.0] * 30)
    by_provider = {"oura": (sums_of([3.9] * 7), flat), "whoop": (recent, normal)}
    assert metric_z("hrv", by_provider, ("oura", "whoop")) == pytest.approx(-0.1 / 0.05)
    assert metric_z("hrv", by_provider, ("whoop",)) == pytest.approx(baseline("hrv", AS_OF, hrv).z)


def test_person_measures_debt_is_the_one_debt() -> None:
    daily = {AS_OF - timedelta(days=k): (6 + 0.25 * k) * H for k in range(10)}
    m = person_measures(
        as_of=AS_OF, by_weekday={}, daily_sleep=daily, hrv={}, resting_hr={},
        workdays=DEFAULT_WORKDAYS, goal_hours=8.0,
    )  # fmt: skip
    expected = sleep_debt(AS_OF, daily, 8 * H).debt_seconds
    assert expected is not None
    assert m.sleep_debt_hours == pytest.approx(expected / H)
    assert m.readiness is None  # no recovery readings
    assert m.social_jetlag_minutes is None


def test_no_data() -> None:
    m = person_measures(
        as_of=AS_OF, by_weekday={}, daily_sleep={}, hrv={}, resting_hr={},
        workdays=DEFAULT_WORKDAYS, goal_hours=None,
    )  # fmt: skip
    assert (m.social_jetlag_minutes, m.msf_sc_clock_seconds) == (None, None)
    assert (m.sleep_debt_hours, m.readiness) == (None, None)
