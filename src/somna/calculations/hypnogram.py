"""Hypnogram statistics as YASA 0.8 defines them, plus Asleep's per-session extras.

Input is the canonical hypnogram string (``W L D R U``, one character per epoch, cropped to
time in bed). YASA's stage names: ``W`` WAKE, ``L`` LIGHT (N1+N2), ``D`` DEEP (N3), ``R`` REM,
``U`` UNS (unscored). Sleep = L, D, R; WAKE and UNS are not sleep, and UNS inside the sleep
period counts neither as sleep nor as WASO. Durations are whole seconds; ``to_yasa`` gives
YASA's keys in minutes for comparison with its output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import groupby, pairwise
from typing import Final

from somna.calculations.transitions import stage_shifts_per_hour
from somna.kit.numbers import OneDecimal, Percent

YASA_STAGES: Final = {"W": "WAKE", "L": "LIGHT", "D": "DEEP", "R": "REM", "U": "UNS"}
SLEEP_CHARS: Final = frozenset("LDR")
SLEEP_STAGE_NAMES: Final = ("LIGHT", "DEEP", "REM")


class InvalidHypnogram(ValueError):
    """The string holds a character that is not a canonical stage, or the epoch is not > 0."""


@dataclass(frozen=True, slots=True)
class Run:
    stage: str
    start: int  # epoch index
    length: int


@dataclass(frozen=True, slots=True)
class HypnogramStats:
    epoch_seconds: int
    tib_seconds: int
    spt_seconds: int
    tst_seconds: int
    waso_seconds: int | None  # None without sleep (YASA: NaN)
    se_pct: Percent
    sme_pct: Percent | None
    sfi_per_hour: OneDecimal | None
    stage_shifts_per_hour: OneDecimal | None  # changes between different stages per hour of TST
    sol_seconds: int | None
    sol_5min_seconds: int | None
    stage_seconds: dict[str, int]  # WAKE, LIGHT, DEEP, REM, UNS (WAKE includes pre/post sleep)
    stage_pct_of_tst: dict[str, Percent | None]  # LIGHT, DEEP, REM
    stage_latency_seconds: dict[str, int | None]  # from the start of the record (YASA)
    rem_latency_from_onset_seconds: int | None  # AASM / Asleep convention
    wakeup_latency_seconds: int | None  # start of the final wake to the end (Asleep)
    final_wake_offset_seconds: int | None  # start of the final wake, from the record start
    waso_count: int | None  # wake bouts inside the sleep period (Asleep); None without sleep
    longest_waso_seconds: int | None

    def to_yasa(self) -> dict[str, float | None]:
        """YASA ``Hypnogram.sleep_statistics()`` keys, minutes, rounded to 4 decimals."""
        out: dict[str, float | None] = {
            "TIB": self.tib_seconds,
            "SPT": self.spt_seconds,
            "WASO": self.waso_seconds,
            "TST": self.tst_seconds,
            "SOL": self.sol_seconds,
            "SOL_5min": self.sol_5min_seconds,
            "Lat_REM": self.stage_latency_seconds["REM"],
        }
        out = {k: None if v is None else v / 60 for k, v in out.items()}
        for name in ("WAKE", *SLEEP_STAGE_NAMES, "UNS"):
            if name != "UNS" or self.stage_seconds["UNS"]:
                out[name] = self.stage_seconds[name] / 60
        out |= {"SE": self.se_pct, "SME": self.sme_pct, "SFI": self.sfi_per_hour}
        out |= {f"%{name}": pct for name, pct in self.stage_pct_of_tst.items()}
        return {k: None if v is None else round(v, 4) for k, v in out.items()}


def runs(hypnogram: str) -> list[Run]:
    """The hypnogram as consecutive runs of one stage."""
    out: list[Run] = []
    index = 0
    for stage, group in groupby(hypnogram):
        length = sum(1 for _ in group)
        out.append(Run(stage, index, length))
        index += length
    return out


def validate(hypnogram: str, epoch_seconds: int) -> None:
    if epoch_seconds <= 0:
        raise InvalidHypnogram("epoch length must be positive")
    unknown = set(hypnogram) - YASA_STAGES.keys()
    if unknown:
        raise InvalidHypnogram(f"unknown stage characters: {''.join(sorted(unknown))}")


def hypnogram_statistics(hypnogram: str, epoch_seconds: int) -> HypnogramStats:
    """Compute every statistic of one night's hypnogram (see the module docstring)."""
    validate(hypnogram, epoch_seconds)
    e = epoch_seconds
    counts = {name: hypnogram.count(char) * e for char, name in YASA_STAGES.items()}
    sleep_idx = [i for i, c in enumerate(hypnogram) if c in SLEEP_CHARS]
    tib = len(hypnogram) * e
    if not sleep_idx:
        return _no_sleep(e, tib, counts)
    first, last = sleep_idx[0], sleep_idx[-1]
    period = hypnogram[first : last + 1]
    tst = len(sleep_idx) * e
    wake_bouts = [r.length * e for r in runs(period) if r.stage == "W"]
    latencies = {name: _first(hypnogram, name[0]) for name in SLEEP_STAGE_NAMES}
    lat = {k: None if v is None else v * e for k, v in latencies.items()}
    return HypnogramStats(
        epoch_seconds=e,
        tib_seconds=tib,
        spt_seconds=len(period) * e,
        tst_seconds=tst,
        waso_seconds=sum(wake_bouts),
        se_pct=100 * tst / tib,
        sme_pct=100 * tst / (len(period) * e),
        sfi_per_hour=_awakenings(hypnogram) / (tst / 3600),
        stage_shifts_per_hour=stage_shifts_per_hour(hypnogram, tst),
        sol_seconds=first * e,
        sol_5min_seconds=_first_sustained_sleep(hypnogram, e),
        stage_seconds=counts,
        stage_pct_of_tst={n: 100 * counts[n] / tst for n in SLEEP_STAGE_NAMES},
        stage_latency_seconds=lat,
        rem_latency_from_onset_seconds=None if lat["REM"] is None else lat["REM"] - first * e,
        wakeup_latency_seconds=tib - (last + 1) * e,
        final_wake_offset_seconds=(last + 1) * e,
        waso_count=len(wake_bouts),
        longest_waso_seconds=max(wake_bouts, default=0),
    )


def _no_sleep(e: int, tib: int, counts: dict[str, int]) -> HypnogramStats:
    # YASA: SPT = TST = 0, and WASO, SOL, SME, SFI and the latencies are undefined (NaN;
    # None here). So are the wake bouts inside a sleep period that does not exist.
    return HypnogramStats(
        epoch_seconds=e,
        tib_seconds=tib,
        spt_seconds=0,
        tst_seconds=0,
        waso_seconds=None,
        se_pct=0.0,
        sme_pct=None,
        sfi_per_hour=None,
        stage_shifts_per_hour=None,
        sol_seconds=None,
        sol_5min_seconds=None,
        stage_seconds=counts,
        stage_pct_of_tst=dict.fromkeys(SLEEP_STAGE_NAMES),
        stage_latency_seconds=dict.fromkeys(SLEEP_STAGE_NAMES),
        rem_latency_from_onset_seconds=None,
        wakeup_latency_seconds=None,
        final_wake_offset_seconds=None,
        waso_count=None,
        longest_waso_seconds=None,
    )


def _first(hypnogram: str, char: str) -> int | None:
    index = hypnogram.find(char)
    return None if index < 0 else index


def _awakenings(hypnogram: str) -> int:
    """Sleep-to-WAKE transitions, the final awakening included (YASA's SFI numerator)."""
    return sum(1 for a, b in pairwise(hypnogram) if a in SLEEP_CHARS and b == "W")


def _first_sustained_sleep(hypnogram: str, e: int) -> int | None:
    """Start of the first run of sleep lasting at least five minutes (YASA's SOL_5min)."""
    needed = math.ceil(300 / e)
    start, length = 0, 0
    for i, char in enumerate(hypnogram):
        if char in SLEEP_CHARS:
            start, length = (start, length + 1) if length else (i, 1)
            if length >= needed:
                return start * e
        else:
            length = 0
    return None
