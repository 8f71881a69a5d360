"""Asleep's per-session ``stat``, computed from the 30-second stage array the way Asleep
defines it (latencies of stages from sleep onset, ratios of the sleep period, WASO inside it)."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from somna.records.canonical import Stage
from somna.sandbox.hypnogram import Run, count_cycles

EPOCH = 30
WAKE, LIGHT, DEEP, REM = 0, 1, 2, 3
CODES = {Stage.WAKE: WAKE, Stage.LIGHT: LIGHT, Stage.DEEP: DEEP, Stage.REM: REM, Stage.UNKNOWN: -1}


def codes_of(runs: list[Run]) -> list[int]:
    return [CODES[stage] for stage, n in runs for _ in range(n)]


def snoring_of(codes: list[int], rate: float, salt: int) -> list[int]:
    """Deterministic snoring bouts during light and deep sleep."""
    out = [0] * len(codes)
    step = max(1, round(1 / rate)) if rate > 0 else 0
    if step:
        for i, code in enumerate(codes):
            if code in (LIGHT, DEEP) and (i + salt) % step < 3:
                out[i] = 1
    return out


def _r(value: float) -> float:
    return round(value, 2)


def compute(
    codes: list[int], snoring: list[int], start: datetime, runs: list[Run]
) -> dict[str, Any]:
    n = len(codes)
    sleep_idx = [i for i, c in enumerate(codes) if c in (LIGHT, DEEP, REM)]
    first, last = sleep_idx[0], sleep_idx[-1]
    period = codes[first : last + 1]
    spt = len(period) * EPOCH
    in_sleep = len(sleep_idx) * EPOCH
    light, deep, rem, wake = (period.count(code) * EPOCH for code in (LIGHT, DEEP, REM, WAKE))
    snore = sum(snoring[first : last + 1]) * EPOCH
    efficiency = in_sleep / (n * EPOCH)
    wake_runs = [len(list(g)) for k, g in groupby(period) if k == WAKE]
    cycles = count_cycles(runs)
    return {
        "sleep_time": start + timedelta(seconds=first * EPOCH),
        "wake_time": start + timedelta(seconds=(last + 1) * EPOCH),
        "sleep_index": _sleep_index(efficiency, deep + rem, in_sleep),
        "sleep_latency": first * EPOCH,
        "wakeup_latency": (n - last - 1) * EPOCH,
        **{f"{name}_latency": _latency(period, code) for name, code in _LATENCY_STAGES},
        "time_in_bed": n * EPOCH,
        "time_in_sleep_period": spt,
        "time_in_sleep": in_sleep,
        "time_in_wake": wake,
        "time_in_light": light,
        "time_in_deep": deep,
        "time_in_rem": rem,
        "time_in_stable_breath": None,
        "time_in_unstable_breath": None,
        "time_in_snoring": snore,
        "time_in_no_snoring": spt - snore,
        "sleep_efficiency": _r(efficiency),
        **_ratios(spt, in_sleep=in_sleep, wake=wake, light=light, deep=deep, rem=rem, snore=snore),
        "breathing_index": None,
        "breathing_pattern": None,
        "waso_count": len(wake_runs),
        "longest_waso": max(wake_runs, default=0) * EPOCH,
        "sleep_cycle_count": cycles,
        "sleep_cycle": cycles,
        "sleep_cycle_time": _cycle_boundaries(runs, start),
        "snoring_count": sum(1 for k, _ in groupby(snoring[first : last + 1]) if k == 1),
        "unstable_breath_count": None,
    }


_LATENCY_STAGES = (("light", LIGHT), ("deep", DEEP), ("rem", REM))


def _latency(period: list[int], stage: int) -> int | None:
    """Seconds from sleep onset to the first epoch of ``stage``; None when it never came."""
    index = next((i for i, code in enumerate(period) if code == stage), None)
    return None if index is None else index * EPOCH


def _sleep_index(efficiency: float, deep_and_rem: int, in_sleep: int) -> int:
    """The sandbox's stand-in for Asleep's proprietary index: efficiency and restorative share."""
    restorative = min(1.0, deep_and_rem / max(1, in_sleep) / 0.4)
    return round(50 + 50 * min(1.0, max(0.0, (efficiency - 0.6) / 0.35)) * restorative)


def _ratios(spt: int, **seconds: int) -> dict[str, float | None]:
    """Each duration as a share of the sleep period, in Asleep's field order."""
    snore = seconds["snore"]
    return {
        "sleep_ratio": _r(seconds["in_sleep"] / spt),
        "wake_ratio": _r(seconds["wake"] / spt),
        "light_ratio": _r(seconds["light"] / spt),
        "deep_ratio": _r(seconds["deep"] / spt),
        "rem_ratio": _r(seconds["rem"] / spt),
        "stable_breath_ratio": None,
        "unstable_breath_ratio": None,
        "snoring_ratio": _r(snore / spt),
        "no_snoring_ratio": _r(1 - snore / spt),
    }


def _cycle_boundaries(runs: list[Run], start: datetime) -> list[datetime]:
    """Where each sleep cycle ends: after every REM run of three minutes or more."""
    boundaries = []
    position = 0
    for stage, length in runs:
        position += length
        if stage is Stage.REM and length >= 6:
            boundaries.append(start + timedelta(seconds=position * EPOCH))
    return boundaries
