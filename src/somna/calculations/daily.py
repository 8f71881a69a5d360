"""Daily series by local date: sleep per date, one recovery reading per date, mood per date."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from somna.calculations.inputs import MoodEntry, RecoveryReading
from somna.calculations.metrics import night_metrics
from somna.calculations.nights import Night
from somna.calculations.sources import SourcePriority, pick_recovery


def daily_sleep_seconds(nights: Sequence[Night], naps: Sequence[Night] = ()) -> dict[date, int]:
    """Total sleep per local date: the counted main sleeps plus naps on dates with a night.

    A date with only a nap is not a recorded night (the main sleep may just be missing).
    """
    totals: dict[date, int] = defaultdict(int)
    for night in nights:
        tst = night_metrics(night.record).tst_seconds
        if tst is not None:
            totals[night.local_date] += tst
    for nap in naps:
        tst = night_metrics(nap.record).tst_seconds
        if tst is not None and nap.local_date in totals:
            totals[nap.local_date] += tst
    return dict(totals)


def daily_recovery(
    readings: Sequence[RecoveryReading],
    priority: Sequence[str] = (),
    rhr_priority: Sequence[str] | None = None,
) -> dict[date, RecoveryReading]:
    """One reading per date; HRV from the first provider in ``priority`` (then alphabetical)
    that has it, resting HR likewise by ``rhr_priority`` (default: the same order), so the two
    may come from different devices (``sources.pick_recovery``)."""
    order = SourcePriority({"hrv": tuple(priority), "resting_hr": tuple(rhr_priority or priority)})
    return {
        day: RecoveryReading(
            day, v.hrv_provider or v.resting_hr_provider or "", v.hrv_rmssd_ms, v.resting_hr_bpm
        )
        for day, v in pick_recovery(readings, order).items()
    }


def daily_mood(entries: Sequence[MoodEntry]) -> dict[date, float]:
    """Mean mood per date (a person may rate more than once a day)."""
    by_date: dict[date, list[int]] = defaultdict(list)
    for entry in entries:
        by_date[entry.local_date].append(entry.score)
    return {d: sum(v) / len(v) for d, v in by_date.items()}
