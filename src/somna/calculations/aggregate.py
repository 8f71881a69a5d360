"""Average stats with the fields of Asleep's ``average-stats`` answer, over every provider.

Per session the ``stat`` keys follow Asleep's conventions (providers.md B.4): durations in
seconds, ``sleep_efficiency`` = TST / TIB as a 0-1 ratio, the other ratios of the sleep period
(SPT), stage latencies from sleep onset. ``average_stats`` averages slept sessions only; each
field over the sessions that have it; clock times (``start_time`` ...) on the 24-h circle in
each night's local time, as ``hh:mm:ss``. Breathing and snoring need Asleep's contract
features that Somna does not ingest, so they are always ``None``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from typing import Any

from somna.calculations.local_time import clock_seconds
from somna.calculations.metrics import NightMetrics, night_metrics
from somna.calculations.nights import Night, ResolvedSleep
from somna.calculations.stats import circular_mean_seconds, format_clock, mean


@dataclass(frozen=True, slots=True)
class SessionStat:
    """Asleep's per-session ``stat`` numbers (seconds, 0-1 ratios, counts)."""

    sleep_latency: float | None = None
    wakeup_latency: float | None = None
    light_latency: float | None = None
    deep_latency: float | None = None
    rem_latency: float | None = None
    time_in_bed: float | None = None
    time_in_sleep_period: float | None = None
    time_in_sleep: float | None = None
    time_in_wake: float | None = None
    time_in_light: float | None = None
    time_in_deep: float | None = None
    time_in_rem: float | None = None
    time_in_stable_breath: float | None = None
    time_in_unstable_breath: float | None = None
    time_in_snoring: float | None = None
    time_in_no_snoring: float | None = None
    sleep_efficiency: float | None = None
    sleep_ratio: float | None = None
    wake_ratio: float | None = None
    light_ratio: float | None = None
    deep_ratio: float | None = None
    rem_ratio: float | None = None
    stable_breath_ratio: float | None = None
    unstable_breath_ratio: float | None = None
    snoring_ratio: float | None = None
    no_snoring_ratio: float | None = None
    waso_count: float | None = None
    longest_waso: float | None = None
    sleep_cycle_count: float | None = None


@dataclass(frozen=True, slots=True)
class SessionSummary:
    id: str
    provider: str
    local_date: date
    timezone: str
    start_time: datetime  # local
    end_time: datetime
    sleep_time: datetime | None  # sleep onset, local
    wake_time: datetime | None  # start of the final wake, local
    stat: SessionStat | None  # None for a session without sleep


@dataclass(frozen=True, slots=True)
class AverageValues:
    start_time: str | None
    end_time: str | None
    sleep_time: str | None
    wake_time: str | None
    stat: SessionStat


@dataclass(frozen=True, slots=True)
class AverageStats:
    start_date: date
    end_date: date
    average_stats: AverageValues | None
    slept_sessions: tuple[SessionSummary, ...]
    never_slept_sessions: tuple[SessionSummary, ...]
    sources_used: tuple[str, ...]
    peculiarities: tuple[str, ...]


def average_stats(
    resolved: ResolvedSleep, start: date, end: date, *, include_naps: bool = False
) -> AverageStats:
    """Asleep-style average stats over the counted sleeps with a local date in start..end."""
    sessions = [session_summary(n) for n in resolved.between(start, end, include_naps=include_naps)]
    slept = tuple(s for s in sessions if s.stat is not None)
    never = tuple(s for s in sessions if s.stat is None)
    used = tuple(sorted({s.provider for s in sessions}))
    peculiarities = ("NO_BREATHING_STABILITY",) if slept else ()
    return AverageStats(start, end, _average(slept), slept, never, used, peculiarities)


def session_summary(night: Night) -> SessionSummary:
    m = night_metrics(night.record)

    def local(t: datetime) -> datetime:
        return t.astimezone(night.zone)

    return SessionSummary(
        id=night.record.record_id,
        provider=night.record.provider,
        local_date=night.local_date,
        timezone=str(night.zone),
        start_time=local(night.record.start_at),
        end_time=local(night.record.end_at),
        sleep_time=local(m.onset_at) if m.slept and m.latency_seconds is not None else None,
        wake_time=local(m.offset_at) if m.slept and m.wakeup_latency_seconds is not None else None,
        stat=session_stat(m) if m.slept else None,
    )


def session_stat(m: NightMetrics) -> SessionStat:
    spt = m.spt_seconds

    def ratio(x: int | None) -> float | None:
        return None if x is None or not spt else x / spt

    from_onset = dict.fromkeys(("LIGHT", "DEEP", "REM"), None)
    if m.hypnogram is not None and m.hypnogram.sol_seconds is not None:
        sol = m.hypnogram.sol_seconds
        lat = m.hypnogram.stage_latency_seconds
        from_onset = {k: None if v is None else v - sol for k, v in lat.items()}
    return SessionStat(
        sleep_latency=m.latency_seconds,
        wakeup_latency=m.wakeup_latency_seconds,
        light_latency=from_onset["LIGHT"],
        deep_latency=from_onset["DEEP"],
        rem_latency=from_onset["REM"],
        time_in_bed=m.tib_seconds,
        time_in_sleep_period=spt,
        time_in_sleep=m.tst_seconds,
        time_in_wake=m.waso_seconds,
        time_in_light=m.light_seconds,
        time_in_deep=m.deep_seconds,
        time_in_rem=m.rem_seconds,
        sleep_efficiency=None if m.efficiency_pct is None else m.efficiency_pct / 100,
        sleep_ratio=ratio(m.tst_seconds),
        wake_ratio=ratio(m.waso_seconds),
        light_ratio=ratio(m.light_seconds),
        deep_ratio=ratio(m.deep_seconds),
        rem_ratio=ratio(m.rem_seconds),
        waso_count=m.waso_count,
        longest_waso=m.longest_waso_seconds,
        sleep_cycle_count=m.cycle_count,
    )


def _average(sessions: tuple[SessionSummary, ...]) -> AverageValues | None:
    if not sessions:
        return None
    stats = [s.stat for s in sessions if s.stat is not None]
    means = {f.name: mean(getattr(s, f.name) for s in stats) for f in fields(SessionStat)}
    return AverageValues(
        start_time=_mean_clock([s.start_time for s in sessions]),
        end_time=_mean_clock([s.end_time for s in sessions]),
        sleep_time=_mean_clock([s.sleep_time for s in sessions if s.sleep_time]),
        wake_time=_mean_clock([s.wake_time for s in sessions if s.wake_time]),
        stat=SessionStat(**means),
    )


def _mean_clock(local_times: list[datetime]) -> str | None:
    clocks = [clock_seconds(t, t.tzinfo) for t in local_times if t.tzinfo is not None]
    return format_clock(circular_mean_seconds(clocks))


def asleep_result(stats: AverageStats, timezone: str) -> dict[str, Any]:
    """Asleep's ``result`` shape (providers.md B.6), plus Somna's ``sources_used`` and, per
    session, ``provider`` and ``local_date``. ``completed_time`` is the end of the sleep:
    Somna has no separate analysis step."""
    average = stats.average_stats
    return {
        "period": {
            "timezone": timezone,
            "start_date": stats.start_date,
            "end_date": stats.end_date,
            "days": (stats.end_date - stats.start_date).days + 1,
        },
        "peculiarities": list(stats.peculiarities),
        "average_stats": None if average is None else _flat_average(average),
        "never_slept_sessions": [
            _session_item(s, with_stat=False) for s in stats.never_slept_sessions
        ],
        "slept_sessions": [_session_item(s, with_stat=True) for s in stats.slept_sessions],
        "sources_used": list(stats.sources_used),
    }


def _flat_average(average: AverageValues) -> dict[str, Any]:
    clocks = {"start_time": average.start_time, "end_time": average.end_time}
    clocks |= {"sleep_time": average.sleep_time, "wake_time": average.wake_time}
    return clocks | asdict(average.stat)


def _session_item(s: SessionSummary, *, with_stat: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"id": s.id, "start_time": s.start_time, "end_time": s.end_time}
    item |= {"completed_time": s.end_time, "provider": s.provider, "local_date": s.local_date}
    if with_stat and s.stat is not None:
        item |= {"created_timezone": s.timezone, "sleep_time": s.sleep_time}
        item |= {"wake_time": s.wake_time} | asdict(s.stat)
    return item
