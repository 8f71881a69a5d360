"""Local time: which zone a night is seen in, which date it belongs to, weeks and months.

The rule (docs/analytics.md, "Local time"): a night is read in the person's IANA zone (their
preference) unless the record's own UTC offset says they were somewhere else that night
(travel), in which case the record's fixed offset is used; with neither, UTC. The IANA zone
keeps a night across a daylight-saving change right (23:00 CET to 07:00 CEST is 7 hours, and
it ends at 07:00). A night belongs to the local date on which the person woke up.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from somna.calculations.exceptions import InvalidPeriod
from somna.calculations.inputs import SleepPeriod

# ISO weekday numbers (Monday 1 ... Sunday 7) of a person's workdays, unless they say otherwise.
DEFAULT_WORKDAYS: frozenset[int] = frozenset({1, 2, 3, 4, 5})


def is_free_day(wake_date: date, workdays: Collection[int] = DEFAULT_WORKDAYS) -> bool:
    """Whether a night is free-day sleep: as in the MCTQ, a night belongs to the day it ends
    on, so with Monday-Friday workdays Friday's and Saturday's nights are free-day sleep."""
    return wake_date.isoweekday() not in workdays


def parse_zone(name: str | None) -> ZoneInfo | None:
    """The IANA zone of that name, or ``None`` for an empty or unknown name."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def night_zone(start_at: datetime, offset_minutes: int | None, zone: tzinfo | None) -> tzinfo:
    """The zone one record is read in (see the module docstring)."""
    if offset_minutes is None:
        return zone or UTC
    if zone is not None and start_at.astimezone(zone).utcoffset() == timedelta(
        minutes=offset_minutes
    ):
        return zone
    return timezone(timedelta(minutes=offset_minutes))


def period_zone(period: SleepPeriod, zone: tzinfo | None) -> tzinfo:
    return night_zone(period.start_at, period.timezone_offset_minutes, zone)


def wake_date(period: SleepPeriod, zone: tzinfo | None) -> date:
    """The local date a sleep belongs to: the date on which it ended."""
    return period.end_at.astimezone(period_zone(period, zone)).date()


def clock_seconds(instant: datetime, tz: tzinfo) -> int:
    """Seconds after local midnight on the wall clock."""
    local = instant.astimezone(tz)
    return local.hour * 3600 + local.minute * 60 + local.second


def week_bounds(day: date) -> tuple[date, date]:
    """Monday and Sunday of the ISO week containing ``day``."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """First and last day of a calendar month."""
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def last_months(today: date, count: int) -> list[tuple[date, date]]:
    """The ``count`` calendar months ending with the one containing ``today``, oldest first."""
    months = (shift_month(today.year, today.month, -k) for k in range(count - 1, -1, -1))
    return [month_bounds(y, m) for y, m in months]


def local_today(now: datetime, zone: tzinfo | None) -> date:
    """Today's date for the person, given the current instant."""
    return now.astimezone(zone or UTC).date()


def check_period(start: date, end: date, *, max_days: int) -> int:
    """The number of days in ``start..end`` (inclusive); 422 when reversed or too long."""
    days = (end - start).days + 1
    if days < 1:
        raise InvalidPeriod(
            "`end_date` is before `start_date`.",
            field="end_date",
            location="query",
            kind="reversed_period",
        )
    if days > max_days:
        raise InvalidPeriod(
            f"`start_date`..`end_date` spans {days} days; at most {max_days} are allowed.",
            field="end_date",
            location="query",
            kind="period_too_long",
            extra={"max_days": max_days},
        )
    return days


def parse_iso_week(text: str) -> date:
    """The Monday of an ISO week written ``YYYY-Www`` (``2026-W48``) or of a date's week."""
    try:
        if "W" in text.upper():
            year, week = text.upper().split("-W")
            return date.fromisocalendar(int(year), int(week), 1)
        return week_bounds(date.fromisoformat(text))[0]
    except ValueError:
        raise InvalidPeriod(
            f"{text!r} is not an ISO week (YYYY-Www) or a date.", field="week", location="query"
        ) from None
