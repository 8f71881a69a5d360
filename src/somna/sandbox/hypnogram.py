"""Nights with a realistic stage architecture, as runs of 30-second epochs.

A night is sleep-onset latency, then NREM/REM cycles of about 90 minutes: each cycle descends
through light sleep into deep sleep and comes back up into REM. Deep sleep is concentrated in
the first cycles and REM lengthens towards morning; brief awakenings cluster at cycle
boundaries; the night ends with a few minutes awake in bed. Strain lightens and fragments sleep.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from somna.records.canonical import Stage

EPOCH_SECONDS = 30
EPOCHS_PER_MINUTE = 2
Run = tuple[Stage, int]  # (stage, number of epochs)


def _epochs(minutes: float) -> int:
    return max(0, round(minutes * EPOCHS_PER_MINUTE))


def _append(runs: list[Run], stage: Stage, epochs: int) -> None:
    if epochs <= 0:
        return
    if runs and runs[-1][0] is stage:
        runs[-1] = (stage, runs[-1][1] + epochs)
    else:
        runs.append((stage, epochs))


def _trim(runs: list[Run], total: int) -> list[Run]:
    out: list[Run] = []
    left = total
    for stage, n in runs:
        if left <= 0:
            break
        _append(out, stage, min(n, left))
        left -= n
    return out


def night_runs(
    rng: random.Random, minutes_in_bed: float, *, strain: float = 0.0, nap: bool = False
) -> list[Run]:
    """The hypnogram of one sleep lasting ``minutes_in_bed``. ``strain`` in [0, 1] shortens deep
    and REM sleep and adds awakenings."""
    total = _epochs(minutes_in_bed)
    runs: list[Run] = []
    latency = max(1.0, rng.gauss(5.0 if nap else 13.0 + 8 * strain, 3.0 if nap else 6.0))
    _append(runs, Stage.WAKE, _epochs(latency))
    # Leave room for the final minutes awake before getting up.
    final_wake = _epochs(max(0.5, rng.gauss(1.5 if nap else 5.0, 2.0)))
    budget = total - final_wake
    if nap:
        _nap_body(rng, runs, budget)
    else:
        _night_body(rng, runs, budget, strain)
    _append(runs, Stage.WAKE, total - sum(n for _, n in runs))
    return _trim(runs, total)


def _nap_body(rng: random.Random, runs: list[Run], budget: int) -> None:
    used = sum(n for _, n in runs)
    light = max(0, min(budget - used, _epochs(rng.uniform(12, 22))))
    _append(runs, Stage.LIGHT, light)
    remaining = budget - sum(n for _, n in runs)
    if remaining > _epochs(8):
        _append(runs, Stage.DEEP, _epochs(rng.uniform(3, 10)))
    _append(runs, Stage.LIGHT, budget - sum(n for _, n in runs))


def _night_body(rng: random.Random, runs: list[Run], budget: int, strain: float) -> None:
    cycle = 0
    while sum(n for _, n in runs) < budget:
        length = min(120.0, max(70.0, rng.gauss(92.0, 9.0)))
        deep = max(0.0, rng.gauss(max(2.0, 34.0 - 12.0 * cycle), 5.0)) * (1 - 0.35 * strain)
        rem = min(45.0, max(3.0, rng.gauss(7.0 + 8.0 * cycle, 4.0))) * (1 - 0.2 * strain)
        ascent = rng.uniform(4.0, 10.0)
        descent = max(6.0, length - deep - rem - ascent)
        # An occasional micro-arousal inside light sleep; more of them under strain.
        if rng.random() < 0.15 + 0.3 * strain:
            split = rng.uniform(0.3, 0.7)
            _append(runs, Stage.LIGHT, _epochs(descent * split))
            _append(runs, Stage.WAKE, rng.randint(1, 3))
            _append(runs, Stage.LIGHT, _epochs(descent * (1 - split)))
        else:
            _append(runs, Stage.LIGHT, _epochs(descent))
        _append(runs, Stage.DEEP, _epochs(deep))
        _append(runs, Stage.LIGHT, _epochs(ascent))
        _append(runs, Stage.REM, _epochs(rem))
        # Brief awakenings come at the end of a cycle, as in polysomnography.
        if rng.random() < 0.35 + 0.35 * strain:
            _append(runs, Stage.WAKE, _epochs(rng.uniform(0.5, 4.0 + 6.0 * strain)))
        cycle += 1
    runs[:] = _trim(runs, budget)


@dataclass(frozen=True, slots=True)
class NightStats:
    """Totals of one hypnogram, in seconds; latency and WASO as Asleep and YASA define them."""

    in_bed: int
    awake: int
    light: int
    deep: int
    rem: int
    unknown: int
    latency: int | None
    wake_after_onset: int
    wake_bouts: int
    longest_wake_bout: int
    disturbances: int
    cycles: int
    first_sleep_epoch: int | None
    last_sleep_epoch: int | None

    @property
    def asleep(self) -> int:
        return self.light + self.deep + self.rem


def stats(runs: list[Run]) -> NightStats:
    """Totals and the run-based measures, straight from the runs (no epoch expansion)."""
    totals = dict.fromkeys(Stage, 0)
    for stage, n in runs:
        totals[stage] += n
    sleep_positions = []
    position = 0
    for stage, n in runs:
        if stage in (Stage.LIGHT, Stage.DEEP, Stage.REM):
            sleep_positions.append((position, position + n - 1))
        position += n
    first = sleep_positions[0][0] if sleep_positions else None
    last = sleep_positions[-1][1] if sleep_positions else None
    bouts: list[int] = []
    position = 0
    for stage, n in runs:
        inside = first is not None and last is not None and first < position <= last
        if stage is Stage.WAKE and inside:
            bouts.append(n)
        position += n
    e = EPOCH_SECONDS
    return NightStats(
        in_bed=sum(n for _, n in runs) * e,
        awake=totals[Stage.WAKE] * e,
        light=totals[Stage.LIGHT] * e,
        deep=totals[Stage.DEEP] * e,
        rem=totals[Stage.REM] * e,
        unknown=totals[Stage.UNKNOWN] * e,
        latency=None if first is None else first * e,
        wake_after_onset=sum(bouts) * e,
        wake_bouts=len(bouts),
        longest_wake_bout=max(bouts, default=0) * e,
        disturbances=len(bouts) + (1 if last is not None else 0),
        cycles=count_cycles(runs),
        first_sleep_epoch=first,
        last_sleep_epoch=last,
    )


def count_cycles(runs: list[Run], *, merge_gap: int = 20, min_rem: int = 6) -> int:
    """Sleep cycles = REM periods: REM runs closer than ``merge_gap`` epochs merge into one
    period, and a period needs ``min_rem`` REM epochs (3 minutes) to count."""
    periods: list[int] = []
    gap = merge_gap + 1
    for stage, n in runs:
        if stage is Stage.REM:
            if gap <= merge_gap and periods:
                periods[-1] += n
            else:
                periods.append(n)
            gap = 0
        else:
            gap += n
    return sum(1 for rem in periods if rem >= min_rem)


def as_string(runs: list[Run]) -> str:
    """The canonical hypnogram string, one character per 30-second epoch."""
    return "".join(stage.value * n for stage, n in runs)
