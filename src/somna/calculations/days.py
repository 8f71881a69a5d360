"""The per-person daily summary: one row per local date of a window, dates without data
included (their values ``None``), the table a researcher exports (docs/analytics.md).

Each row: the counted night that ended that date (its record id and provider; the longest
when two main sleeps ended on one date), its sleep, the naps' sleep, the running sleep debt,
readiness with its HRV and resting-HR baselines (z and normal-range flag), mood, and the
providers used per metric.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from somna.calculations.daily import daily_sleep_seconds
from somna.calculations.debt import sleep_debt
from somna.calculations.metrics import night_metrics
from somna.calculations.nights import Night
from somna.calculations.readiness import Readiness, ln_values, readiness
from somna.calculations.sources import DailyRecovery


@dataclass(frozen=True, slots=True)
class DayRow:
    local_date: date
    sleep_session_id: str | None
    sleep_source: str | None
    sleep_seconds: int | None  # total sleep of the counted night
    nap_sleep_seconds: int | None  # naps that ended that date; None without naps
    sleep_debt_seconds: float | None
    nights_to_repay: int | None  # nights at the need until the debt is under 15 minutes
    readiness: Readiness
    hrv_rmssd_ms: float | None
    hrv_source: str | None
    resting_hr_bpm: float | None
    resting_hr_source: str | None
    mood: float | None


def dates_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]


def daily_rows(
    dates: Sequence[date],
    nights: Sequence[Night],
    naps: Sequence[Night],
    recovery: Mapping[date, DailyRecovery],
    moods: Mapping[date, float],
    need_seconds: float,
) -> list[DayRow]:
    """One row per date in ``dates`` (see the module docstring). ``nights``, ``naps`` and
    ``recovery`` must reach back far enough for the debt (14 days) and baselines (67 days)."""
    counted = _night_per_date(nights)
    nap_sleep: dict[date, int] = defaultdict(int)
    for nap in naps:
        nap_sleep[nap.local_date] += night_metrics(nap.record).tst_seconds or 0
    sleep_by_date = _sleep_by_date(nights, naps)
    hrv = ln_values({d: r.hrv_rmssd_ms for d, r in recovery.items() if r.hrv_rmssd_ms})
    rhr = {d: r.resting_hr_bpm for d, r in recovery.items() if r.resting_hr_bpm is not None}
    rows = []
    for day in dates:
        night = counted.get(day)
        tst = night_metrics(night.record).tst_seconds if night else None
        reading = recovery.get(day)
        debt = sleep_debt(day, sleep_by_date, need_seconds)
        rows.append(
            DayRow(
                local_date=day,
                sleep_session_id=night.record.record_id if night else None,
                sleep_source=night.record.provider if night else None,
                sleep_seconds=tst,
                nap_sleep_seconds=nap_sleep.get(day),
                sleep_debt_seconds=debt.debt_seconds,
                nights_to_repay=debt.nights_to_repay,
                readiness=readiness(day, hrv, rhr, sleep_by_date.get(day), need_seconds),
                hrv_rmssd_ms=reading.hrv_rmssd_ms if reading else None,
                hrv_source=reading.hrv_provider if reading else None,
                resting_hr_bpm=reading.resting_hr_bpm if reading else None,
                resting_hr_source=reading.resting_hr_provider if reading else None,
                mood=moods.get(day),
            )
        )
    return rows


def _night_per_date(nights: Sequence[Night]) -> dict[date, Night]:
    out: dict[date, Night] = {}
    for night in nights:
        seen = out.get(night.local_date)
        if seen is None or _sleep(night) > _sleep(seen):
            out[night.local_date] = night
    return out


def _sleep(night: Night) -> float:
    tst = night_metrics(night.record).tst_seconds
    return -math.inf if tst is None else tst


def _sleep_by_date(nights: Sequence[Night], naps: Sequence[Night]) -> dict[date, float]:
    return {d: float(s) for d, s in daily_sleep_seconds(nights, naps).items()}
