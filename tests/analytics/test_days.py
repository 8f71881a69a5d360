"""The per-person daily summary as a pure function (calculations/days.py): one row per date,
dates without data as nulls, the debt and its nights to repay, naps, DST and travel."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from somna.calculations.days import daily_rows, dates_between
from somna.calculations.debt import DECAY
from somna.calculations.inputs import RecoveryReading
from somna.calculations.nights import resolve_sleep
from somna.calculations.sources import SourcePriority, pick_recovery
from tests.analytics.helpers import at, diary_night, totals

H = 3600
NEED = 8 * H
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
DAY = date(2026, 3, 10)  # a Tuesday


def test_no_data_gives_a_row_of_nulls_per_date() -> None:
    rows = daily_rows(dates_between(DAY, DAY + timedelta(days=2)), (), (), {}, {}, NEED)
    assert [r.local_date for r in rows] == [DAY, DAY + timedelta(days=1), DAY + timedelta(days=2)]
    for row in rows:
        assert row.sleep_session_id is None
        assert row.sleep_seconds is None
        assert row.nap_sleep_seconds is None
        assert row.sleep_debt_seconds is None
        assert row.nights_to_repay is None
        assert row.readiness.score is None
        assert row.readiness.reason is not None
        assert row.readiness.reason.startswith("The HRV baseline is warming up")
        assert row.mood is None


def test_one_night_is_shown_but_gives_no_debt() -> None:
    night = diary_night(DAY, "23:00", "06:00", BERLIN)
    resolved = resolve_sleep([night], zone=BERLIN)
    (row,) = daily_rows([DAY], resolved.nights, resolved.naps, {}, {}, NEED)
    assert row.sleep_session_id == night.record_id
    assert row.sleep_source == "asleep"
    assert row.sleep_seconds == 7 * H
    # One recorded night of the last seven: the debt needs four.
    assert row.sleep_debt_seconds is None
    assert row.nights_to_repay is None


def test_debt_and_nights_to_repay_worked_example() -> None:
    # One night 4 h short, then three nights at the need (four recorded nights in the week).
    nights = [diary_night(DAY, "02:00", "06:00", BERLIN)] + [
        diary_night(DAY + timedelta(days=k), "22:00", "06:00", BERLIN) for k in (1, 2, 3)
    ]
    resolved = resolve_sleep(nights, zone=BERLIN)
    last = DAY + timedelta(days=3)
    (row,) = daily_rows([last], resolved.nights, resolved.naps, {}, {}, NEED)
    # 4 h decayed over the three later dates: 4 * DECAY**3 = 2.972 h.
    assert row.sleep_debt_seconds is not None
    assert row.sleep_debt_seconds == pytest.approx(4 * H * DECAY**3)
    assert row.sleep_debt_seconds / H == pytest.approx(2.972, abs=1e-3)
    # At the need, the deficit keeps decaying (4 * DECAY**13 = 1.10 h after ten more nights)
    # until it leaves the 14-date window: the eleventh night at the need repays it.
    assert row.nights_to_repay == 11


def test_naps_only() -> None:
    # Naps alone: shown per date, but a date with only a nap is not a recorded night.
    naps = [
        totals(at(DAY + timedelta(days=k), "14:00"), at(DAY + timedelta(days=k), "14:30"),
               asleep_hours=0.5, is_nap=True)
        for k in range(7)
    ]  # fmt: skip
    resolved = resolve_sleep(naps)
    assert not resolved.nights
    rows = daily_rows(dates_between(DAY, DAY + timedelta(days=6)), (), resolved.naps, {}, {}, NEED)
    assert [r.nap_sleep_seconds for r in rows] == [30 * 60] * 7
    assert all(r.sleep_session_id is None and r.sleep_seconds is None for r in rows)
    assert all(r.sleep_debt_seconds is None for r in rows)
    assert all(r.readiness.score is None for r in rows)


def test_a_nap_adds_to_the_dates_sleep_for_the_debt() -> None:
    days = dates_between(DAY, DAY + timedelta(days=3))
    nights = [diary_night(d, "23:00", "06:00", BERLIN) for d in days]  # 7 h each
    nap = totals(at(days[-1], "14:00", BERLIN), at(days[-1], "15:00", BERLIN), asleep_hours=1.0,
                 is_nap=True)  # fmt: skip
    resolved = resolve_sleep([*nights, nap], zone=BERLIN)
    rows = daily_rows(days, resolved.nights, resolved.naps, {}, {}, NEED)
    assert rows[-1].nap_sleep_seconds == H
    assert rows[-1].sleep_seconds == 7 * H  # the counted night alone
    # Three 1 h deficits, then the nap makes the last date 8 h: no new deficit.
    expected = H * (DECAY**3 + DECAY**2 + DECAY)
    assert rows[-1].sleep_debt_seconds == pytest.approx(expected)


def test_the_night_the_clocks_change() -> None:
    # Berlin springs forward on Sunday 2026-03-29: 23:00-07:00 is 7 hours that night.
    sunday = date(2026, 3, 29)
    resolved = resolve_sleep([diary_night(sunday, "23:00", "07:00", BERLIN)], zone=BERLIN)
    (row,) = daily_rows([sunday], resolved.nights, resolved.naps, {}, {}, NEED)
    assert row.sleep_seconds == 7 * H


def test_travel_dates_a_night_by_where_it_was_slept() -> None:
    # A Berlin person in Tokyo: woke at 06:30 Tokyo time on the 10th (21:30 UTC on the 9th).
    # The record's offset disagrees with Berlin, so the night is read in Tokyo time and
    # belongs to the 10th, the date it ended on where it was slept.
    trip = diary_night(DAY, "23:00", "06:30", TOKYO)
    resolved = resolve_sleep([trip], zone=BERLIN)
    rows = daily_rows([DAY - timedelta(days=1), DAY], resolved.nights, (), {}, {}, NEED)
    assert rows[0].sleep_session_id is None
    assert rows[1].sleep_session_id == trip.record_id
    assert rows[1].sleep_seconds == int(7.5 * H)


def test_readiness_and_recovery_per_date_with_the_provider_named() -> None:
    # Sixty days of steady readings, then a week with lower HRV and higher resting HR.
    readings = [
        RecoveryReading(DAY - timedelta(days=k), "whoop", 60.0 if k > 6 else 45.0,
                        50.0 if k > 6 else 55.0)
        for k in range(67)
    ]  # fmt: skip
    recovery = pick_recovery(readings, SourcePriority())
    (row,) = daily_rows([DAY], (), (), recovery, {DAY: 6.5}, NEED)
    assert row.hrv_rmssd_ms == 45.0
    assert row.hrv_source == row.resting_hr_source == "whoop"
    assert row.mood == 6.5
    # Flat 60-day history: the SDs are their floors (0.05 ln, 1 bpm).
    assert row.readiness.hrv.z is not None
    assert row.readiness.hrv.z < -2
    assert row.readiness.resting_hr.z == pytest.approx(5.0)
    assert row.readiness.hrv.within_normal_range is False
    # Both physiological components at 0 and no night that date: readiness 0.
    assert row.readiness.score == pytest.approx(0.0)
    assert row.sleep_debt_seconds is None
