"""The values the calculations take: small frozen dataclasses, filled by the service.

Each mirrors the columns of its table (``somna.models``) so a service can build one from an ORM
row or a canonical record with ``from_row``; nothing here touches a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class SleepPeriod:
    """One recorded sleep (a main sleep or a nap) from one provider.

    ``hypnogram`` uses the canonical stage characters (``W L D R U``), one per epoch of
    ``hypnogram_epoch_seconds`` starting at ``start_at``. Totals are whole seconds; the
    efficiency is 0-100. Anything the provider did not give is ``None``.
    """

    record_id: str
    provider: str
    start_at: datetime
    end_at: datetime
    timezone_offset_minutes: int | None = None
    is_nap: bool = False
    hypnogram: str | None = None
    hypnogram_epoch_seconds: int | None = None
    in_bed_seconds: int | None = None
    asleep_seconds: int | None = None
    light_seconds: int | None = None
    deep_seconds: int | None = None
    rem_seconds: int | None = None
    latency_seconds: int | None = None
    waso_seconds: int | None = None
    waso_count: int | None = None
    cycle_count: int | None = None
    efficiency_pct: float | None = None

    def __post_init__(self) -> None:
        if self.start_at.tzinfo is None or self.end_at.tzinfo is None:
            raise ValueError("start_at and end_at must be timezone-aware")
        if self.end_at < self.start_at:
            raise ValueError("end_at is before start_at")
        # Arithmetic on datetimes sharing an IANA zone is wall-clock arithmetic in Python,
        # wrong across a DST change; in UTC it is exact.
        object.__setattr__(self, "start_at", self.start_at.astimezone(UTC))
        object.__setattr__(self, "end_at", self.end_at.astimezone(UTC))
        if self.hypnogram and not _valid_hypnogram(self.hypnogram, self.hypnogram_epoch_seconds):
            # A malformed stored hypnogram must not turn a report into a 500: the record
            # then counts with its totals, like a record without one.
            object.__setattr__(self, "hypnogram", None)

    @property
    def staged(self) -> tuple[str, int] | None:
        """(hypnogram, epoch seconds) when the record has an epoch-level hypnogram."""
        if self.hypnogram and self.hypnogram_epoch_seconds:
            return self.hypnogram, self.hypnogram_epoch_seconds
        return None

    @property
    def has_hypnogram(self) -> bool:
        return self.staged is not None

    @classmethod
    def from_row(cls, row: Any) -> SleepPeriod:
        """Build from anything with the ``sleep_sessions`` column names (ORM row, record)."""
        record_id = getattr(row, "id", None) or row.provider_record_id
        values: dict[str, Any] = {name: getattr(row, name, None) for name in _SLEEP_COLUMNS}
        return cls(record_id=str(record_id), **values)


_STAGES = frozenset("WLDRU")


def _valid_hypnogram(hypnogram: str, epoch_seconds: int | None) -> bool:
    return bool(epoch_seconds and epoch_seconds > 0) and set(hypnogram) <= _STAGES


_SLEEP_COLUMNS = tuple(f for f in SleepPeriod.__dataclass_fields__ if f != "record_id")


@dataclass(frozen=True, slots=True)
class RecoveryReading:
    """A morning reading: HRV as rMSSD in milliseconds and resting heart rate in bpm."""

    local_date: date
    provider: str = ""
    hrv_rmssd_ms: float | None = None
    resting_hr_bpm: float | None = None


@dataclass(frozen=True, slots=True)
class MoodEntry:
    """A self-reported mood from 1 (worst) to 10 (best) for the person's local date."""

    local_date: date
    score: int

    def __post_init__(self) -> None:
        if not 1 <= self.score <= 10:
            raise ValueError("mood score must be 1-10")


@dataclass(frozen=True, slots=True)
class PersonSummary:
    """One person's nights over a period, as one grouped SQL query can produce it.

    ``midpoint_sd_minutes`` is the sample SD (ddof=1) of the sleep midpoint in minutes after
    local noon (``regularity.midpoint_sd_from_sums`` turns SQL sums into it); ``sri`` is
    optional (a cached Sleep Regularity Index) and wins over the midpoint spread when present.
    """

    person_id: str
    nights: int
    mean_duration_seconds: float | None
    mean_efficiency_pct: float | None
    midpoint_sd_minutes: float | None = None
    sri: float | None = None
