"""Which time window a sync fetches, per collection. Pure: values in, values out.

* The first sync of a collection backfills ``backfill`` (90 days by default).
* Later syncs are incremental: from the end of the last completed window minus ``overlap``
  (providers re-score and edit recent records), reaching further back to the oldest record
  still waiting for its score, so a late score is never missed.
* A run asked for explicit dates fetches exactly those local days, and never moves the
  incremental position (it neither skips nor repeats history the schedule still owes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from somna.kit.time import as_utc

# A record still pending after this long will not be scored; stop reaching back for it.
PENDING_LOOKBACK = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime


def incremental_window(
    *,
    now: datetime,
    synced_until: datetime | None,
    backfill: timedelta,
    overlap: timedelta,
    oldest_pending: datetime | None = None,
) -> Window:
    """The window an incremental sync of one collection fetches at ``now``."""
    if synced_until is None:
        return Window(now - backfill, now)
    start = min(synced_until, now) - overlap
    if oldest_pending is not None and oldest_pending >= synced_until - PENDING_LOOKBACK:
        start = min(start, oldest_pending)
    return Window(start, now)


def pending_horizon(synced_until: datetime | None) -> datetime | None:
    """How far back to look for pending records (None: no incremental position yet)."""
    return None if synced_until is None else synced_until - PENDING_LOOKBACK


def local_day_start(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def explicit_window(
    *,
    start_date: date | None,
    end_date: date | None,
    zone: tzinfo,
    now: datetime,
    backfill: timedelta,
) -> Window:
    """Local calendar days ``start_date`` to ``end_date`` inclusive, never past ``now``.

    A missing end means today; a missing start means ``backfill`` before the end.
    """
    end = now if end_date is None else min(now, local_day_start(end_date + timedelta(days=1), zone))
    start = end - backfill if start_date is None else local_day_start(start_date, zone)
    return Window(as_utc(min(start, end)), as_utc(end))
