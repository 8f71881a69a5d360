"""Builders for sleep periods in local time, so tests read like a sleep diary."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from somna.calculations.inputs import SleepPeriod

_ids = itertools.count(1)
UTC = ZoneInfo("UTC")


def at(day: date, clock: str, zone: ZoneInfo = UTC) -> datetime:
    """An aware instant from a local date and ``HH:MM`` in a zone."""
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=zone)


def offset_of(instant: datetime) -> int:
    delta = instant.utcoffset()
    assert delta is not None
    return int(delta.total_seconds() // 60)


def staged(
    start: datetime,
    hypnogram: str,
    *,
    epoch: int = 30,
    provider: str = "asleep",
    is_nap: bool = False,
    with_offset: bool = True,
) -> SleepPeriod:
    """A record with a hypnogram starting at ``start`` (its offset recorded unless told)."""
    return SleepPeriod(
        record_id=f"{provider}-{next(_ids)}",
        provider=provider,
        start_at=start,
        end_at=start.astimezone(UTC) + timedelta(seconds=len(hypnogram) * epoch),
        timezone_offset_minutes=offset_of(start) if with_offset else None,
        is_nap=is_nap,
        hypnogram=hypnogram,
        hypnogram_epoch_seconds=epoch,
    )


def totals(
    start: datetime,
    end: datetime,
    *,
    asleep_hours: float | None = None,
    provider: str = "whoop",
    is_nap: bool = False,
    with_offset: bool = True,
    **fields: Any,
) -> SleepPeriod:
    """A record with stage totals only (WHOOP-like)."""
    asleep = None if asleep_hours is None else round(asleep_hours * 3600)
    record = SleepPeriod(
        record_id=f"{provider}-{next(_ids)}",
        provider=provider,
        start_at=start,
        end_at=end,
        timezone_offset_minutes=offset_of(start) if with_offset else None,
        is_nap=is_nap,
        asleep_seconds=asleep,
    )
    return replace(record, **fields)


def asleep_between(
    bed: datetime, wake: datetime, *, provider: str = "asleep", epoch: int = 30
) -> SleepPeriod:
    """A hypnogram that is light sleep from ``bed`` to ``wake`` (no wake epochs)."""
    epochs = int((wake.astimezone(UTC) - bed.astimezone(UTC)).total_seconds() // epoch)
    return staged(bed, "L" * epochs, epoch=epoch, provider=provider)


def diary_night(
    wake_day: date, bed: str, wake: str, zone: ZoneInfo = UTC, *, provider: str = "asleep"
) -> SleepPeriod:
    """Asleep from ``bed`` (the evening before ``wake_day`` if later than ``wake``) to
    ``wake`` on ``wake_day``, local clock times."""
    end = at(wake_day, wake, zone)
    bed_day = wake_day - timedelta(days=1) if bed > wake else wake_day
    start = at(bed_day, bed, zone)
    return asleep_between(start, end, provider=provider)
