"""Local dates and zones: DST, travel, fallbacks, weeks and calendar months."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from somna.calculations.exceptions import InvalidPeriod
from somna.calculations.local_time import (
    check_period,
    clock_seconds,
    last_months,
    local_today,
    parse_iso_week,
    parse_zone,
    period_zone,
    wake_date,
    week_bounds,
)
from somna.calculations.metrics import night_metrics
from tests.analytics.helpers import at, diary_night, totals

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")


def test_night_across_spring_forward_is_seven_hours_and_ends_at_seven() -> None:
    night = diary_night(date(2026, 3, 29), "23:00", "07:00", BERLIN)
    assert night.timezone_offset_minutes == 60  # recorded at the start, in CET
    zone = period_zone(night, BERLIN)
    assert zone is BERLIN
    assert night.end_at.astimezone(zone).hour == 7
    assert night_metrics(night).tst_seconds == 7 * 3600
    assert wake_date(night, BERLIN) == date(2026, 3, 29)


def test_night_across_fall_back_is_nine_hours() -> None:
    night = diary_night(date(2026, 10, 25), "23:00", "07:00", BERLIN)
    assert night_metrics(night).tst_seconds == 9 * 3600
    assert night.end_at.astimezone(period_zone(night, BERLIN)).hour == 7


def test_fixed_offset_alone_would_misread_the_dst_morning() -> None:
    """Why the IANA zone wins when it agrees with the record: the offset is from bedtime."""
    night = diary_night(date(2026, 3, 29), "23:00", "07:00", BERLIN)
    assert night.end_at.astimezone(period_zone(night, None)).hour == 6


def test_travel_uses_the_record_offset_where_it_disagrees_with_home() -> None:
    # A Berliner sleeps in New York: 23:00-07:00 there is 05:00-13:00 in Berlin.
    night = diary_night(date(2026, 6, 10), "23:00", "07:00", NEW_YORK)
    zone = period_zone(night, BERLIN)
    assert zone.utcoffset(None) == timedelta(hours=-4)
    assert clock_seconds(night.start_at, zone) == 23 * 3600
    assert wake_date(night, BERLIN) == date(2026, 6, 10)


def test_eastward_travel_night_lands_on_the_local_wake_date() -> None:
    # 23:00-07:00 in Tokyo is 16:00-00:00 the day before in Berlin (CEST).
    night = diary_night(date(2026, 6, 10), "23:00", "07:00", TOKYO)
    assert wake_date(night, BERLIN) == date(2026, 6, 10)
    assert night.end_at.astimezone(BERLIN).date() == date(2026, 6, 10)
    assert night.end_at.astimezone(BERLIN).hour == 0


def test_zone_without_record_offset_and_neither() -> None:
    start = at(date(2026, 1, 10), "23:30", TOKYO)
    night = totals(start, start + timedelta(hours=7), with_offset=False)
    assert period_zone(night, TOKYO) is TOKYO
    assert wake_date(night, TOKYO) == date(2026, 1, 11)
    # No preference and no offset: UTC, where the same night ends on 11 January at 21:30.
    assert period_zone(night, None) is UTC
    assert wake_date(night, None) == date(2026, 1, 10)


def test_night_starting_after_midnight_shares_the_wake_date() -> None:
    late = diary_night(date(2026, 2, 3), "00:45", "08:00", BERLIN)
    early = diary_night(date(2026, 2, 3), "22:30", "06:30", BERLIN)
    assert wake_date(late, BERLIN) == wake_date(early, BERLIN) == date(2026, 2, 3)


def test_utc_bucket_would_be_wrong() -> None:
    # Tokyo 06:30 on the 3rd is 21:30 UTC on the 2nd.
    night = diary_night(date(2026, 2, 3), "23:00", "06:30", TOKYO)
    assert night.end_at.date() == date(2026, 2, 2)
    assert wake_date(night, TOKYO) == date(2026, 2, 3)


@pytest.mark.parametrize("name", [None, "", "Mars/Olympus", "../etc/passwd"])
def test_unknown_zone_names_are_none(name: str | None) -> None:
    assert parse_zone(name) is None


def test_known_zone_name() -> None:
    assert parse_zone("Europe/Berlin") == BERLIN


def test_fixed_offset_zone_reads_clock() -> None:
    moment = datetime(2026, 1, 1, 22, 0, tzinfo=UTC)
    assert clock_seconds(moment, timezone(timedelta(hours=5, minutes=30))) == 3 * 3600 + 1800


def test_week_bounds_are_monday_to_sunday() -> None:
    assert week_bounds(date(2026, 11, 26)) == (date(2026, 11, 23), date(2026, 11, 29))
    assert week_bounds(date(2026, 11, 23))[0] == date(2026, 11, 23)


def test_last_months_are_calendar_months_across_a_year_end() -> None:
    months = last_months(date(2026, 2, 14), 4)
    assert months == [
        (date(2025, 11, 1), date(2025, 11, 30)),
        (date(2025, 12, 1), date(2025, 12, 31)),
        (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 2, 1), date(2026, 2, 28)),
    ]
    assert last_months(date(2028, 2, 29), 1) == [(date(2028, 2, 1), date(2028, 2, 29))]


def test_local_today_depends_on_the_zone() -> None:
    now = datetime(2026, 5, 1, 23, 30, tzinfo=UTC)
    assert local_today(now, TOKYO) == date(2026, 5, 2)
    assert local_today(now, NEW_YORK) == date(2026, 5, 1)
    assert local_today(now, None) == date(2026, 5, 1)


@pytest.mark.parametrize(
    ("text", "monday"),
    [
        ("2026-W48", date(2026, 11, 23)),
        ("2026-w01", date(2025, 12, 29)),
        ("2026-11-26", date(2026, 11, 23)),
    ],
)
def test_parse_iso_week(text: str, monday: date) -> None:
    assert parse_iso_week(text) == monday


@pytest.mark.parametrize("text", ["2026-W54", "2026-W", "last week", "2026-13-01", ""])
def test_parse_iso_week_refuses_nonsense(text: str) -> None:
    with pytest.raises(InvalidPeriod) as caught:
        parse_iso_week(text)
    assert caught.value.status_code == 422


def test_check_period_allows_exactly_the_maximum() -> None:
    assert check_period(date(2026, 1, 1), date(2026, 4, 10), max_days=100) == 100


def test_check_period_refuses_long_and_reversed_ranges() -> None:
    with pytest.raises(InvalidPeriod) as long:
        check_period(date(2026, 1, 1), date(2026, 4, 11), max_days=100)
    assert long.value.body() == {
        "error": "validation_error",
        "detail": "`start_date`..`end_date` spans 101 days; at most 100 are allowed.",
        "max_days": 100,
        "errors": [
            {
                "field": "end_date",
                "location": "query",
                "message": "`start_date`..`end_date` spans 101 days; at most 100 are allowed.",
                "type": "period_too_long",
            }
        ],
    }
    with pytest.raises(InvalidPeriod):
        check_period(date(2026, 1, 2), date(2026, 1, 1), max_days=100)
