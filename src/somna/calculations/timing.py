"""Clock-time helpers for one night: its sleep midpoint, and clock times unwrapped at noon."""

from __future__ import annotations

from somna.calculations.local_time import clock_seconds
from somna.calculations.metrics import night_metrics
from somna.calculations.nights import Night
from somna.calculations.stats import DAY_SECONDS


def midpoint_clock_seconds(night: Night) -> float:
    """The sleep midpoint on the local wall clock, seconds after midnight: halfway between
    the wall-clock onset and offset, so 23:00-07:00 has its midpoint at 03:00 even on the
    night the clocks change (like the SRI, regularity is judged on the wall clock)."""
    m = night_metrics(night.record)
    onset = clock_seconds(m.onset_at, night.zone)
    span = (clock_seconds(m.offset_at, night.zone) - onset) % DAY_SECONDS
    return (onset + span / 2) % DAY_SECONDS


def minutes_after_noon(clock: float) -> float:
    """Unwrap a clock time relative to noon, so 23:00 and 01:00 are 2 h apart, not 22."""
    return ((clock - DAY_SECONDS / 2) % DAY_SECONDS) / 60
