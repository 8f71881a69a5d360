"""Chart data for the pages: plain JSON-ready dicts built from the services' answers.

Pure functions; the browser draws them with uPlot (``assets/app.js``). Dates on the x axis are
UTC midnights of the person's local dates, so the axis shows the local date whatever zone the
browser is in; instants (the hypnogram) come with the zone they are to be read in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from somna.analytics.schemas import CohortRow
from somna.calculations.nights import Night
from somna.records.schemas import SleepSessionDetail

# Stage characters to hypnogram levels (wake on top, deep at the bottom).
STAGE_LEVELS = {"W": 4, "R": 3, "L": 2, "D": 1, "U": 0}
STAGE_NAMES = {"W": "WAKE", "R": "REM", "L": "LIGHT", "D": "DEEP", "U": "UNS"}
# A sleep midpoint is shown as hours from local midnight in -6..18, so that nights just
# before and just after midnight sit next to each other.
MIDPOINT_WRAP_HOURS = 18.0


def day_stamp(day: date) -> int:
    return int(datetime.combine(day, time(), tzinfo=UTC).timestamp())


def hypnogram(detail: SleepSessionDetail, zone_name: str) -> dict[str, Any] | None:
    """Epoch start times and levels, with the stage string for the legend and checks."""
    if detail.hypnogram is None:
        return None
    start = int(detail.start_at.timestamp())
    return {
        "kind": "hypnogram",
        "zone": zone_name,
        "start": start,
        "epoch_seconds": detail.hypnogram.epoch_seconds,
        "stages": detail.hypnogram.stages,
        "levels": STAGE_LEVELS,
        "names": STAGE_NAMES,
    }


def midpoint_hours(night: Night, zone: tzinfo) -> float:
    record = night.record
    middle = record.start_at + (record.end_at - record.start_at) / 2
    local = middle.astimezone(zone)
    hours = local.hour + local.minute / 60 + local.second / 3600
    return hours - 24 if hours >= MIDPOINT_WRAP_HOURS else hours


def _duration_hours(night: Night) -> float | None:
    record = night.record
    if record.asleep_seconds is not None:
        return round(record.asleep_seconds / 3600, 3)
    return None


def trends(
    nights: Sequence[Night], first: date, last: date, zone: tzinfo, goal_hours: float
) -> dict[str, Any]:
    """One value per local date in ``first..last`` (null where no night was recorded)."""
    by_date = {night.local_date: night for night in nights}
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    duration: list[float | None] = []
    efficiency: list[float | None] = []
    midpoint: list[float | None] = []
    for day in days:
        night = by_date.get(day)
        duration.append(_duration_hours(night) if night else None)
        efficiency.append(night.record.efficiency_pct if night else None)
        midpoint.append(round(midpoint_hours(night, zone), 3) if night else None)
    known = [value for value in midpoint if value is not None]
    return {
        "kind": "trends",
        "x": [day_stamp(day) for day in days],
        "duration": duration,
        "efficiency": efficiency,
        "midpoint": midpoint,
        "goal_hours": goal_hours,
        "mean_midpoint": round(sum(known) / len(known), 3) if known else None,
        "nights": sum(value is not None for value in duration),
    }


def histogram(
    values: Sequence[float | None], *, bins: int = 8, scale: float = 1.0
) -> dict[str, Any]:
    """Counts of people per equal-width bin of their values (``scale`` converts units)."""
    known = [value * scale for value in values if value is not None]
    if not known:
        return {"kind": "histogram", "x": [], "counts": [], "width": 0}
    low, high = min(known), max(known)
    if high == low:  # everyone alike: one bar
        return {"kind": "histogram", "x": [round(low, 3)], "counts": [len(known)], "width": 1.0}
    width = (high - low) / bins
    counts = [0] * bins
    for value in known:
        counts[min(int((value - low) / width), bins - 1)] += 1
    centres = [round(low + width * (index + 0.5), 3) for index in range(bins)]
    return {"kind": "histogram", "x": centres, "counts": counts, "width": round(width, 3)}


def cohort_histograms(rows: Sequence[CohortRow]) -> dict[str, dict[str, Any]]:
    return {
        "duration": histogram([row.mean_duration_seconds for row in rows], scale=1 / 3600),
        "efficiency": histogram([row.mean_efficiency_pct for row in rows]),
        "score": histogram([row.score for row in rows]),
        "regularity": histogram([row.regularity for row in rows]),
    }
