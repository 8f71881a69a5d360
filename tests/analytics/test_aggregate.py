"""Average stats with Asleep's fields, across providers, in local time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from somna.calculations.aggregate import asleep_result, average_stats, session_summary
from somna.calculations.nights import resolve_sleep
from tests.analytics.helpers import at, diary_night, staged, totals

SEOUL = ZoneInfo("Asia/Seoul")
DAY = date(2026, 4, 14)
# The official Asleep get-session example (providers.md B.4): 02:50:29-03:50:29 UTC,
# 15 min to fall asleep, one 3-min wake bout, 24 min awake before the end.
ASLEEP_EXAMPLE = "W" * 30 + "L" * 18 + "W" * 6 + "L" * 18 + "W" * 48


def test_session_stat_reproduces_asleeps_official_example() -> None:
    start = datetime(2025, 1, 15, 2, 50, 29, tzinfo=UTC)
    night = resolve_sleep([staged(start, ASLEEP_EXAMPLE)]).nights[0]
    s = session_summary(night)
    assert s.stat is not None
    stat = s.stat
    assert (stat.time_in_bed, stat.time_in_sleep_period, stat.time_in_sleep) == (3600, 1260, 1080)
    assert (stat.sleep_latency, stat.wakeup_latency, stat.time_in_wake) == (900, 1440, 180)
    assert (stat.time_in_light, stat.time_in_deep, stat.time_in_rem) == (1080, 0, 0)
    assert stat.sleep_efficiency == pytest.approx(0.3)
    assert round(stat.sleep_ratio or 0, 2) == 0.86
    assert round(stat.wake_ratio or 0, 2) == 0.14
    assert round(stat.light_ratio or 0, 2) == 0.86
    assert (stat.deep_ratio, stat.rem_ratio) == (0.0, 0.0)
    assert (stat.light_latency, stat.deep_latency, stat.rem_latency) == (0, None, None)
    assert (stat.waso_count, stat.longest_waso) == (1, 180)
    assert s.sleep_time == datetime(2025, 1, 15, 3, 5, 29, tzinfo=UTC)
    assert s.wake_time == datetime(2025, 1, 15, 3, 26, 29, tzinfo=UTC)
    assert stat.time_in_snoring is None  # not ingested by Somna


def test_clock_times_average_on_the_circle_in_local_time() -> None:
    nights = [
        diary_night(DAY, "23:30", "07:00", SEOUL),
        diary_night(DAY + timedelta(days=1), "00:30", "08:00", SEOUL),
    ]
    result = average_stats(resolve_sleep(nights, zone=SEOUL), DAY, DAY + timedelta(days=1))
    avg = result.average_stats
    assert avg is not None
    assert avg.start_time == "00:00:00"  # not 12:00, and not the UTC clock (15:00)
    assert avg.end_time == "07:30:00"
    assert avg.sleep_time == "00:00:00"
    assert avg.wake_time == "07:30:00"
    assert avg.stat.time_in_sleep == 7.5 * 3600
    assert avg.stat.sleep_efficiency == pytest.approx(1.0)
    assert [s.local_date for s in result.slept_sessions] == [DAY, DAY + timedelta(days=1)]
    assert result.slept_sessions[0].timezone == "Asia/Seoul"


def test_a_night_from_two_providers_counts_once_and_names_its_source() -> None:
    asleep = diary_night(DAY, "23:00", "07:00", SEOUL)
    whoop_bed, whoop_up = at(DAY - timedelta(days=1), "22:55", SEOUL), at(DAY, "07:10", SEOUL)
    whoop = totals(whoop_bed, whoop_up, asleep_hours=6.0, efficiency_pct=80.0)
    next_day = DAY + timedelta(days=1)
    other = totals(at(next_day, "00:10", SEOUL), at(next_day, "06:10", SEOUL), asleep_hours=5.0)
    result = average_stats(
        resolve_sleep([asleep, whoop, other], zone=SEOUL), DAY, DAY + timedelta(days=1)
    )
    assert [s.id for s in result.slept_sessions] == [asleep.record_id, other.record_id]
    assert result.sources_used == ("asleep", "whoop")
    avg = result.average_stats
    assert avg is not None
    assert avg.stat.time_in_sleep == pytest.approx((8 + 5) / 2 * 3600)
    # Only the hypnogram night knows its wake-up latency; the average uses what is known.
    assert avg.stat.wakeup_latency == 0
    assert avg.wake_time == "07:00:00"


def test_never_slept_sessions_are_listed_apart_and_not_averaged() -> None:
    slept = diary_night(DAY, "23:00", "07:00", SEOUL)
    awake = staged(at(DAY + timedelta(days=1), "01:00", SEOUL), "W" * 120)
    result = average_stats(resolve_sleep([slept, awake], zone=SEOUL), DAY, DAY + timedelta(days=1))
    assert [s.id for s in result.never_slept_sessions] == [awake.record_id]
    assert result.never_slept_sessions[0].stat is None
    assert len(result.slept_sessions) == 1
    assert result.average_stats is not None
    assert result.average_stats.stat.time_in_sleep == 8 * 3600


def test_naps_are_left_out_unless_asked_for() -> None:
    night = diary_night(DAY, "23:00", "07:00", SEOUL)
    nap = staged(at(DAY, "14:00", SEOUL), "L" * 60, is_nap=True)
    resolved = resolve_sleep([night, nap], zone=SEOUL)
    without = average_stats(resolved, DAY, DAY)
    assert len(without.slept_sessions) == 1
    with_naps = average_stats(resolved, DAY, DAY, include_naps=True)
    assert len(with_naps.slept_sessions) == 2
    assert with_naps.average_stats is not None
    assert with_naps.average_stats.stat.time_in_sleep == (8 * 3600 + 1800) / 2


def test_no_data_gives_null_averages() -> None:
    result = average_stats(resolve_sleep([]), DAY, DAY + timedelta(days=6))
    assert result.average_stats is None
    assert result.slept_sessions == ()
    assert result.never_slept_sessions == ()
    assert result.sources_used == ()
    assert result.peculiarities == ()


def test_the_period_is_in_local_dates() -> None:
    # Woke at 06:30 in Seoul on the 14th, which is still the 13th in UTC.
    night = diary_night(DAY, "22:30", "06:30", SEOUL)
    resolved = resolve_sleep([night], zone=SEOUL)
    assert len(average_stats(resolved, DAY, DAY).slept_sessions) == 1
    assert (
        average_stats(resolved, DAY - timedelta(days=1), DAY - timedelta(days=1)).average_stats
        is None
    )


def test_asleep_result_has_asleeps_flat_shape() -> None:
    night = diary_night(DAY, "23:00", "07:00", SEOUL)
    awake = staged(at(DAY + timedelta(days=1), "01:00", SEOUL), "W" * 120)
    stats = average_stats(resolve_sleep([night, awake], zone=SEOUL), DAY, DAY + timedelta(days=1))
    result = asleep_result(stats, "Asia/Seoul")
    assert result["period"] == {
        "timezone": "Asia/Seoul",
        "start_date": DAY,
        "end_date": DAY + timedelta(days=1),
        "days": 2,
    }
    avg = result["average_stats"]
    assert avg["start_time"] == "23:00:00"
    assert avg["time_in_sleep"] == 8 * 3600
    assert avg["sleep_efficiency"] == 1.0
    slept = result["slept_sessions"][0]
    assert {"id", "created_timezone", "start_time", "end_time", "completed_time"} <= set(slept)
    assert slept["time_in_bed"] == 8 * 3600
    never = result["never_slept_sessions"][0]
    assert set(never) == {
        "id",
        "start_time",
        "end_time",
        "completed_time",
        "provider",
        "local_date",
    }
    assert result["sources_used"] == ["asleep"]
