"""One night's numbers, from its hypnogram when it has one, else from the provider's totals.

Every aggregate (average stats, score, reports, burnout) reads these, so a WHOOP night (stage
totals only) and an Asleep night (30-s hypnogram) feed the same statistics. A value the record
cannot give is ``None`` and is left out of the averages of that value only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from somna.calculations.hypnogram import HypnogramStats, hypnogram_statistics
from somna.calculations.inputs import SleepPeriod


@dataclass(frozen=True, slots=True)
class NightMetrics:
    period: SleepPeriod
    tib_seconds: int
    tst_seconds: int | None
    spt_seconds: int | None
    waso_seconds: int | None
    efficiency_pct: float | None
    latency_seconds: int | None
    wakeup_latency_seconds: int | None
    waso_count: int | None
    longest_waso_seconds: int | None
    light_seconds: int | None
    deep_seconds: int | None
    rem_seconds: int | None
    cycle_count: int | None
    onset_at: datetime  # sleep onset: start + latency when known, else the start
    offset_at: datetime  # final awakening: end - wake-up latency when known, else the end
    hypnogram: HypnogramStats | None

    @property
    def slept(self) -> bool:
        """False only when the record says the person never fell asleep."""
        return self.tst_seconds != 0


@lru_cache(maxsize=8192)
def night_metrics(period: SleepPeriod) -> NightMetrics:
    """The numbers of one recorded sleep (memoised: records are immutable values and every
    report asks for the same nights more than once)."""
    if period.staged is not None:
        return _from_hypnogram(period, hypnogram_statistics(*period.staged))
    return _from_totals(period)


def _from_hypnogram(period: SleepPeriod, s: HypnogramStats) -> NightMetrics:
    onset = period.start_at + timedelta(seconds=s.sol_seconds or 0)
    offset = period.start_at + timedelta(seconds=s.final_wake_offset_seconds or s.tib_seconds)
    slept = s.tst_seconds > 0
    return NightMetrics(
        period=period,
        tib_seconds=s.tib_seconds,
        tst_seconds=s.tst_seconds,
        spt_seconds=s.spt_seconds,
        waso_seconds=s.waso_seconds,
        efficiency_pct=s.se_pct,
        latency_seconds=s.sol_seconds,
        wakeup_latency_seconds=s.wakeup_latency_seconds,
        waso_count=s.waso_count,
        longest_waso_seconds=s.longest_waso_seconds if slept else None,
        light_seconds=s.stage_seconds["LIGHT"],
        deep_seconds=s.stage_seconds["DEEP"],
        rem_seconds=s.stage_seconds["REM"],
        cycle_count=period.cycle_count,
        onset_at=onset if slept else period.start_at,
        offset_at=offset if slept else period.end_at,
        hypnogram=s,
    )


def _from_totals(p: SleepPeriod) -> NightMetrics:
    tib = p.in_bed_seconds or int((p.end_at - p.start_at).total_seconds())
    stages = (p.light_seconds, p.deep_seconds, p.rem_seconds)
    tst = p.asleep_seconds
    if tst is None and any(s is not None for s in stages):
        tst = sum(s or 0 for s in stages)
    efficiency = p.efficiency_pct
    if efficiency is None and tst is not None and tib > 0:
        efficiency = min(100.0, 100 * tst / tib)
    never_slept = tst == 0
    # Without sleep there is no sleep period, so WASO and latency are undefined (YASA), not 0,
    # whatever a provider sent for them.
    waso = None if never_slept else p.waso_seconds
    latency = None if never_slept else p.latency_seconds
    spt = tst + waso if tst is not None and waso is not None else None
    if never_slept:
        spt = 0
    return NightMetrics(
        period=p,
        tib_seconds=tib,
        tst_seconds=tst,
        spt_seconds=spt,
        waso_seconds=waso,
        efficiency_pct=efficiency,
        latency_seconds=latency,
        wakeup_latency_seconds=None,
        waso_count=None if never_slept else p.waso_count,
        longest_waso_seconds=None,
        light_seconds=p.light_seconds,
        deep_seconds=p.deep_seconds,
        rem_seconds=p.rem_seconds,
        cycle_count=p.cycle_count,
        onset_at=p.start_at + timedelta(seconds=latency or 0),
        offset_at=p.end_at,
        hypnogram=None,
    )
