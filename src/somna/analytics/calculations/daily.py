"""Daily series by local date: sleep per date, one recovery reading per date, mood per date."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from somna.analytics.calculations.inputs import MoodEntry, RecoveryReading
from somna.analytics.calculations.metrics import night_metrics
from somna.analytics.calculations.nights import Night


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
    readings: Sequence[RecoveryReading], priority: Sequence[str] = ()
) -> dict[date, RecoveryReading]:
    """One reading per date; each value from the first provider in ``priority`` (then
    alphabetical) that has it, so HRV and resting HR may come from different devices."""
    order = {p: i for i, p in enumerate(priority)}
    ranked = sorted(readings, key=lambda r: (order.get(r.provider, len(order)), r.provider))
    out: dict[date, RecoveryReading] = {}
    for r in ranked:
        seen = out.get(r.local_date)
        if seen is None:
            out[r.local_date] = r
            continue
        out[r.local_date] = replace(
            seen,
            hrv_rmssd_ms=seen.hrv_rmssd_ms if seen.hrv_rmssd_ms is not None else r.hrv_rmssd_ms,
            resting_hr_bpm=(
                seen.resting_hr_bpm if seen.resting_hr_bpm is not None else r.resting_hr_bpm
            ),
        )
    return out


def daily_mood(entries: Sequence[MoodEntry]) -> dict[date, float]:
    """Mean mood per date (a person may rate more than once a day)."""
    by_date: dict[date, list[int]] = defaultdict(list)
    for entry in entries:
        by_date[entry.local_date].append(entry.score)
    return {d: sum(v) / len(v) for d, v in by_date.items()}
