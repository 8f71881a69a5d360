"""Circadian timing: workday/free-day midpoints, social jetlag and MSFsc, on worked numbers."""

from __future__ import annotations

import math
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from somna.calculations.circadian import (
    circadian,
    format_hhmm,
    msf_sc,
    sd_week_seconds,
)
from somna.calculations.inputs import SleepPeriod
from somna.calculations.local_time import is_free_day
from somna.calculations.nights import resolve_sleep
from somna.calculations.stats import DAY_SECONDS, circular_mean_seconds
from tests.analytics.helpers import at, diary_night, staged, totals

MONDAY = date(2026, 1, 5)
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def week(
    work: tuple[str, str], free: tuple[str, str], zone: ZoneInfo = BERLIN
) -> list[SleepPeriod]:
    """Seven nights waking Monday..Sunday: workday times Mon-Fri, free-day times Sat, Sun."""
    return [
        diary_night(MONDAY + timedelta(days=k), *(free if k >= 5 else work), zone) for k in range(7)
    ]


def test_mctq_worked_example() -> None:
    # MSF 04:00, SDw 6 h, SDf 7 h, five workdays: SDweek = (6*5 + 7*2) / 7 = 6.2857 h and
    # MSFsc = 04:00 - (7 - 6.2857) / 2 h = 03:38:34.
    assert sd_week_seconds(6 * 3600, 7 * 3600, 5) == pytest.approx(44 / 7 * 3600)
    assert msf_sc(4 * 3600, 6 * 3600, 7 * 3600, 5) == pytest.approx(3 * 3600 + 38 * 60 + 34.2857)
    # No oversleep on free days: no correction.
    assert msf_sc(4 * 3600, 7 * 3600, 7 * 3600, 5) == 4 * 3600


def test_a_week_of_nights() -> None:
    # Workdays 23:00-05:00 (6 h, midpoint 02:00); free days 00:30-07:30 (7 h, midpoint 04:00).
    c = circadian(resolve_sleep(week(("23:00", "05:00"), ("00:30", "07:30"))).nights)
    assert (c.workdays.nights, c.free_days.nights) == (5, 2)
    assert c.workdays.midpoint_clock_seconds == pytest.approx(2 * 3600)
    assert c.free_days.midpoint_clock_seconds == pytest.approx(4 * 3600)
    assert format_hhmm(c.workdays.onset_clock_seconds) == "23:00"
    assert format_hhmm(c.free_days.offset_clock_seconds) == "07:30"
    assert c.workdays.sleep_duration_seconds == pytest.approx(6 * 3600)
    assert c.social_jetlag_minutes == pytest.approx(120.0)
    assert c.relative_social_jetlag_minutes == pytest.approx(120.0)
    assert c.msf_sc_clock_seconds == pytest.approx(3 * 3600 + 38 * 60 + 34.2857)
    assert format_hhmm(c.msf_sc_clock_seconds) == "03:39"
    assert c.reason is None


def test_midpoints_wrapping_around_midnight() -> None:
    # Workday midpoints 23:30 and 00:30 average to 00:00, not 12:00; free-day midpoints are
    # 01:30: social jetlag +90 min. Free-day sleep is shorter, so MSFsc = MSF.
    nights = [
        diary_night(MONDAY, "21:00", "02:00"),
        diary_night(MONDAY + timedelta(days=1), "22:00", "03:00"),
        diary_night(MONDAY + timedelta(days=5), "23:30", "03:30"),
        diary_night(MONDAY + timedelta(days=6), "23:30", "03:30"),
    ]
    c = circadian(resolve_sleep(nights).nights)
    assert c.workdays.midpoint_clock_seconds == pytest.approx(0.0, abs=1e-6)
    assert format_hhmm(c.workdays.midpoint_clock_seconds) == "00:00"
    assert c.relative_social_jetlag_minutes == pytest.approx(90.0)
    assert c.msf_sc_clock_seconds == pytest.approx(1.5 * 3600)
    # Reversed: free days earlier than workdays across midnight gives a negative value on
    # the shorter arc (-60 min, not +1380).
    earlier = [
        diary_night(MONDAY, "22:00", "03:00"),
        diary_night(MONDAY + timedelta(days=1), "22:00", "03:00"),
        diary_night(MONDAY + timedelta(days=5), "21:00", "02:00"),
        diary_night(MONDAY + timedelta(days=6), "21:00", "02:00"),
    ]
    c = circadian(resolve_sleep(earlier).nights)
    assert c.relative_social_jetlag_minutes == pytest.approx(-60.0)
    assert c.social_jetlag_minutes == pytest.approx(60.0)


def test_night_belongs_to_the_day_it_ends_on() -> None:
    friday, saturday, sunday = (MONDAY + timedelta(days=k) for k in (4, 5, 6))
    assert not is_free_day(friday)  # Thursday's night ends on a workday
    assert is_free_day(saturday)  # Friday's night is free-day sleep
    assert is_free_day(sunday)
    assert not is_free_day(sunday, workdays={7})


def test_the_persons_own_workdays() -> None:
    # Workdays Tuesday to Saturday: nights ending Sunday and Monday are free-day sleep.
    nights = [
        diary_night(MONDAY + timedelta(days=k), *(
            ("01:00", "09:00") if (MONDAY + timedelta(days=k)).isoweekday() in (7, 1)
            else ("23:00", "07:00")
        ))
        for k in range(7)
    ]  # fmt: skip
    c = circadian(resolve_sleep(nights).nights, workdays={2, 3, 4, 5, 6})
    assert (c.workdays.nights, c.free_days.nights) == (5, 2)
    assert c.social_jetlag_minutes == pytest.approx(120.0)
    assert c.workday_numbers == (2, 3, 4, 5, 6)


def test_no_data_one_night_and_free_days_only() -> None:
    empty = circadian([])
    assert empty.msf_sc_clock_seconds is None
    assert empty.social_jetlag_minutes is None
    assert empty.reason == (
        "Needs at least 2 nights ending on workdays (has 0) and nights ending on free days (has 0)."
    )
    one = circadian(resolve_sleep([diary_night(MONDAY, "23:00", "07:00")]).nights)
    assert one.workdays.midpoint_clock_seconds is None
    assert one.reason is not None
    free_only = [diary_night(MONDAY + timedelta(days=k), "00:00", "08:00") for k in (5, 6, 12)]
    c = circadian(resolve_sleep(free_only).nights)
    assert c.free_days.midpoint_clock_seconds == pytest.approx(4 * 3600)
    assert c.workdays.midpoint_clock_seconds is None
    assert (c.msf_sc_clock_seconds, c.social_jetlag_minutes) == (None, None)
    assert c.reason == "Needs at least 2 nights ending on workdays (has 0)."
    # A person without workdays: every night is free-day sleep, and MSFsc is MSF.
    c = circadian(resolve_sleep(free_only).nights, workdays=())
    assert c.msf_sc_clock_seconds == pytest.approx(4 * 3600)
    assert c.social_jetlag_minutes is None
    assert c.reason is None


def test_one_free_day_night_nulls_only_what_needs_free_days() -> None:
    # Issue 16's rule, read per figure: a figure is null with a reason when a kind of day it
    # uses has fewer than 2 nights. Two workday nights and one free-day night: the workday
    # midpoint stands on its own nights; free-day timing, jetlag and MSFsc are null.
    nights = [diary_night(MONDAY + timedelta(days=k), "23:00", "07:00") for k in (0, 1)]
    nights.append(diary_night(MONDAY + timedelta(days=5), "01:00", "09:00"))
    c = circadian(resolve_sleep(nights).nights)
    assert (c.workdays.nights, c.free_days.nights) == (2, 1)
    assert c.workdays.midpoint_clock_seconds == pytest.approx(3 * 3600)
    assert c.free_days.midpoint_clock_seconds is None
    assert c.free_days.sleep_duration_seconds is None
    assert (c.social_jetlag_minutes, c.relative_social_jetlag_minutes) == (None, None)
    assert (c.msf_sc_clock_seconds, c.sd_week_seconds) == (None, None)
    assert c.reason == "Needs at least 2 nights ending on free days (has 1)."
    # A second free-day night is enough for every figure.
    nights.append(diary_night(MONDAY + timedelta(days=6), "01:00", "09:00"))
    c = circadian(resolve_sleep(nights).nights)
    assert c.free_days.midpoint_clock_seconds == pytest.approx(5 * 3600)
    assert c.relative_social_jetlag_minutes == pytest.approx(120.0)
    assert c.msf_sc_clock_seconds is not None
    assert c.reason is None


def test_naps_and_never_slept_sessions_do_not_count() -> None:
    naps = [
        staged(at(MONDAY + timedelta(days=k), "13:00"), "L" * 120, is_nap=True) for k in range(7)
    ]
    awake = [staged(at(MONDAY + timedelta(days=k), "23:00"), "W" * 960) for k in range(7)]
    resolved = resolve_sleep([*naps, *awake])
    c = circadian(resolved.nights)
    assert (c.workdays.nights, c.free_days.nights) == (0, 0)
    assert c.msf_sc_clock_seconds is None


def test_pending_nights_count_for_timing() -> None:
    # Records with a start and an end but no totals yet (score pending).
    pending = [
        totals(at(MONDAY + timedelta(days=k - 1), "23:00"), at(MONDAY + timedelta(days=k), "07:00"))
        for k in (0, 1, 5, 6)
    ]
    c = circadian(resolve_sleep(pending).nights)
    assert c.workdays.midpoint_clock_seconds == pytest.approx(3 * 3600)
    assert c.social_jetlag_minutes == pytest.approx(0.0)


def test_dst_and_travel_keep_local_clock_times() -> None:
    # Berlin springs forward on Sunday 2026-03-29: 23:00-07:00 is 7 hours that night, and
    # its midpoint is still 03:00 on the wall clock.
    sunday = date(2026, 3, 29)
    dst = [diary_night(sunday + timedelta(days=k), "23:00", "07:00", BERLIN) for k in (-1, 0, 1, 2)]
    c = circadian(resolve_sleep(dst, zone=BERLIN).nights)
    assert c.free_days.midpoint_clock_seconds == pytest.approx(3 * 3600)
    assert c.workdays.midpoint_clock_seconds == pytest.approx(3 * 3600)
    assert c.social_jetlag_minutes == pytest.approx(0.0, abs=1e-6)
    # Workdays at home in Berlin, the weekend in New York, always 23:00-07:00 local: no
    # social jetlag on the local clock.
    home = [diary_night(MONDAY + timedelta(days=k), "23:00", "07:00", BERLIN) for k in range(5)]
    away = [diary_night(MONDAY + timedelta(days=k), "23:00", "07:00", NEW_YORK) for k in (5, 6)]
    c = circadian(resolve_sleep([*home, *away], zone=BERLIN).nights)
    assert c.free_days.nights == 2
    assert c.relative_social_jetlag_minutes == pytest.approx(0.0, abs=1e-6)


@given(
    st.lists(st.floats(0, DAY_SECONDS - 1), min_size=1, max_size=20),
    st.integers(-3, 3),
)
def test_circular_mean_is_invariant_to_shifting_every_time_by_a_day(
    clocks: list[float], days: int
) -> None:
    angles = [2 * math.pi * c / DAY_SECONDS for c in clocks]
    resultant = math.hypot(sum(map(math.cos, angles)), sum(map(math.sin, angles)))
    assume(resultant / len(clocks) > 1e-6)  # a mean direction exists
    shifted = [c + days * DAY_SECONDS for c in clocks]
    a, b = circular_mean_seconds(clocks), circular_mean_seconds(shifted)
    assert a is not None
    assert b is not None
    difference = (a - b) % DAY_SECONDS
    assert min(difference, DAY_SECONDS - difference) < 1e-3
