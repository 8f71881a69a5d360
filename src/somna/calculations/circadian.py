"""Circadian timing over a window: onset, offset and midpoint on workdays and free days,
social jetlag (Wittmann et al. 2006) and chronotype as MSFsc (Roenneberg et al.; the MCTQ).

* A night is workday or free-day sleep by the date it ends on (``local_time.is_free_day``).
* Clock times are wall-clock times in each night's zone, averaged on the 24-hour circle.
* Sleep duration is sleep onset to the final awakening (``night_metrics``), the MCTQ's SD.
* ``SDweek = (SDw * WD + SDf * FD) / 7`` with WD the person's number of workdays a week and
  ``FD = 7 - WD``; ``MSFsc = MSF`` when ``SDf <= SDw``, else ``MSF - (SDf - SDweek) / 2``.
* Social jetlag is ``MSF - MSW`` on the shorter arc of the clock: signed (``relative``,
  positive when free-day sleep is later) and absolute.

A figure needs at least ``MIN_NIGHTS_PER_KIND`` nights of each kind of day it uses; below that
it is ``None`` and ``reason`` says what is missing. Never-slept sessions are left out.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from somna.calculations.local_time import DEFAULT_WORKDAYS, clock_seconds, is_free_day
from somna.calculations.metrics import night_metrics
from somna.calculations.nights import Night
from somna.calculations.stats import (
    DAY_SECONDS,
    circular_mean_seconds,
    clock_difference_seconds,
    mean,
)
from somna.calculations.timing import midpoint_clock_seconds

MIN_NIGHTS_PER_KIND = 2


@dataclass(frozen=True, slots=True)
class DayKindTiming:
    """Mean timing of the nights ending on one kind of day (clock seconds after midnight)."""

    nights: int
    onset_clock_seconds: float | None
    offset_clock_seconds: float | None
    midpoint_clock_seconds: float | None
    sleep_duration_seconds: float | None  # onset to final awakening


@dataclass(frozen=True, slots=True)
class Circadian:
    workdays: DayKindTiming
    free_days: DayKindTiming
    workday_numbers: tuple[int, ...]  # ISO weekdays, Monday 1
    msf_sc_clock_seconds: float | None
    sd_week_seconds: float | None
    social_jetlag_minutes: float | None  # |MSF - MSW|
    relative_social_jetlag_minutes: float | None  # MSF - MSW, shorter arc
    reason: str | None  # what is missing when a figure is None


def circadian(nights: Sequence[Night], workdays: Collection[int] = DEFAULT_WORKDAYS) -> Circadian:
    """Timing, social jetlag and MSFsc of counted main sleeps (see the module docstring)."""
    slept = [n for n in nights if night_metrics(n.record).slept]
    work = [n for n in slept if not is_free_day(n.local_date, workdays)]
    free = [n for n in slept if is_free_day(n.local_date, workdays)]
    w, f = day_kind_timing(work), day_kind_timing(free)
    jetlag = social_jetlag(w, f)
    msf_sc, sd_week = chronotype(w, f, len(set(workdays)))
    return Circadian(
        workdays=w,
        free_days=f,
        workday_numbers=tuple(sorted(set(workdays))),
        msf_sc_clock_seconds=msf_sc,
        sd_week_seconds=sd_week,
        social_jetlag_minutes=None if jetlag is None else abs(jetlag),
        relative_social_jetlag_minutes=jetlag,
        reason=_reason(w, f, len(set(workdays))),
    )


def day_kind_timing(nights: Sequence[Night]) -> DayKindTiming:
    """Circular means of onset, offset and midpoint, and the mean onset-to-wake duration;
    ``None`` below ``MIN_NIGHTS_PER_KIND`` nights."""
    if len(nights) < MIN_NIGHTS_PER_KIND:
        return DayKindTiming(len(nights), None, None, None, None)
    metrics = [(n, night_metrics(n.record)) for n in nights]
    return DayKindTiming(
        nights=len(nights),
        onset_clock_seconds=circular_mean_seconds(
            [clock_seconds(m.onset_at, n.zone) for n, m in metrics]
        ),
        offset_clock_seconds=circular_mean_seconds(
            [clock_seconds(m.offset_at, n.zone) for n, m in metrics]
        ),
        midpoint_clock_seconds=circular_mean_seconds([midpoint_clock_seconds(n) for n in nights]),
        sleep_duration_seconds=mean((m.offset_at - m.onset_at).total_seconds() for _, m in metrics),
    )


def social_jetlag(work: DayKindTiming, free: DayKindTiming) -> float | None:
    """``MSF - MSW`` in minutes on the shorter arc; ``None`` without both midpoints."""
    if work.midpoint_clock_seconds is None or free.midpoint_clock_seconds is None:
        return None
    return clock_difference_seconds(free.midpoint_clock_seconds, work.midpoint_clock_seconds) / 60


def msf_sc(msf: float, sd_workdays: float, sd_free_days: float, workdays: int) -> float:
    """MSFsc in clock seconds from MSF (clock seconds) and the mean sleep durations."""
    if sd_free_days <= sd_workdays:
        return msf
    sd_week = sd_week_seconds(sd_workdays, sd_free_days, workdays)
    return (msf - (sd_free_days - sd_week) / 2) % DAY_SECONDS


def sd_week_seconds(sd_workdays: float, sd_free_days: float, workdays: int) -> float:
    """The week's mean sleep duration, weighting workdays and free days by their number."""
    return (sd_workdays * workdays + sd_free_days * (7 - workdays)) / 7


def chronotype(
    work: DayKindTiming, free: DayKindTiming, workdays: int
) -> tuple[float | None, float | None]:
    """(MSFsc, SDweek). With no workdays at all there is no workday sleep debt to correct
    for, so MSFsc is MSF."""
    msf, sd_free = free.midpoint_clock_seconds, free.sleep_duration_seconds
    if msf is None or sd_free is None:
        return None, None
    if workdays == 0:
        return msf, sd_free
    sd_work = work.sleep_duration_seconds
    if sd_work is None:
        return None, None
    return msf_sc(msf, sd_work, sd_free, workdays), sd_week_seconds(sd_work, sd_free, workdays)


def _reason(work: DayKindTiming, free: DayKindTiming, workdays: int) -> str | None:
    missing = [
        f"{label} (has {kind.nights})"
        for label, kind, needed in (
            ("nights ending on workdays", work, workdays > 0),
            ("nights ending on free days", free, workdays < 7),
        )
        if needed and kind.nights < MIN_NIGHTS_PER_KIND
    ]
    if not missing:
        return None
    return f"Needs at least {MIN_NIGHTS_PER_KIND} " + " and ".join(missing) + "."


def format_hhmm(seconds: float | None) -> str | None:
    """``HH:MM`` for clock seconds, rounded to the minute."""
    if seconds is None or math.isnan(seconds):
        return None
    minutes = round(seconds / 60) % 1440
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
