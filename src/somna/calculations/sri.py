"""The Sleep Regularity Index (Phillips et al. 2017), pooled over valid pairs.

``SRI = 200 * P(same state at the same wall-clock time on consecutive days) - 100``, with
noon-to-noon local days (GGIR's convention, so a night is never cut at midnight). Each day is
a list of segments ``(start, end, state)`` in seconds after local noon, covering the day;
state ``True`` asleep, ``False`` awake, ``None`` unknown. Only pairs where both days know the
state count: the pooled form of Phillips et al.'s formula over valid pairs (docs/analytics.md,
"Regularity", on missing data).

Building days from nights: a day is observed when a counted main sleep with a hypnogram
touches it. On an observed day, time outside every recorded sleep is awake (the device would
have recorded a sleep), hypnogram epochs give their state (``U`` unknown), and a sleep without
a hypnogram (a totals-only nap) is unknown. Times are wall-clock times in each night's zone,
so on a daylight-saving day the missing hour has no data and the repeated hour counts once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from somna.calculations.hypnogram import Run, runs
from somna.calculations.nights import Night
from somna.calculations.stats import DAY_SECONDS

Segment = tuple[int, int, bool | None]
_NOON = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class SriResult:
    sri: float | None  # withheld (None) below the minimum number of day pairs
    day_pairs: int  # consecutive observed days compared
    valid_seconds: int  # seconds of time-of-day compared, summed over the pairs


def sri_from_days(days: Mapping[date, Sequence[Segment]], *, min_day_pairs: int = 5) -> SriResult:
    """Pooled SRI over every pair of consecutive days present in ``days``."""
    pairs = valid = same = 0
    for day, segments in days.items():
        following = days.get(day + timedelta(days=1))
        if following is None:
            continue
        pair_valid, pair_same = _concordance(segments, following)
        if pair_valid:
            pairs, valid, same = pairs + 1, valid + pair_valid, same + pair_same
    if pairs < max(1, min_day_pairs):
        return SriResult(None, pairs, valid)
    return SriResult(200 * same / valid - 100, pairs, valid)


def _concordance(a: Sequence[Segment], b: Sequence[Segment]) -> tuple[int, int]:
    """Seconds where both days are known, and where they also agree (a two-pointer merge)."""
    i = j = valid = same = 0
    position = 0
    while i < len(a) and j < len(b):
        end = min(a[i][1], b[j][1])
        state_a, state_b = a[i][2], b[j][2]
        if end > position and state_a is not None and state_b is not None:
            valid += end - position
            same += end - position if state_a == state_b else 0
        position = max(position, end)
        if a[i][1] == end:
            i += 1
        if b[j][1] == end:
            j += 1
    return valid, same


def days_from_nights(
    nights: Iterable[Night], naps: Iterable[Night] = ()
) -> dict[date, list[Segment]]:
    """Noon-to-noon day segments from counted sleeps (see the module docstring)."""
    paints: dict[date, list[Segment]] = defaultdict(list)
    observed: set[date] = set()
    for night, is_main in [*((n, True) for n in nights), *((n, False) for n in naps)]:
        for day, segment in _wall_segments(night):
            paints[day].append(segment)
            if is_main and night.record.has_hypnogram:
                observed.add(day)
    return {day: _cover(paints[day]) for day in sorted(observed)}


_STATE_OF = str.maketrans({"L": "S", "D": "S", "R": "S"})  # sleep/wake is all SRI needs


@lru_cache(maxsize=8192)
def _wall_segments(night: Night) -> tuple[tuple[date, Segment], ...]:
    """One sleep cut into day segments (memoised: burnout history asks for the same nights
    once per day)."""
    p = night.record
    if p.staged is None:
        return tuple(_split(_wall(p.start_at, night), _wall(p.end_at, night), None))
    hypnogram, e = p.staged
    binary = runs(hypnogram.translate(_STATE_OF))
    states = [None if r.stage == "U" else r.stage == "S" for r in binary]
    wall_start = _wall(p.start_at, night)
    if _wall(p.end_at, night) - wall_start != p.end_at - p.start_at:
        return _segments_across_clock_change(night, binary, states, e)
    day = (wall_start - _NOON).date()
    first = _seconds(wall_start - datetime.combine(day, time(12)))
    out: list[tuple[date, Segment]] = []
    for run, state in zip(binary, states, strict=True):
        start = first + run.start * e
        out.extend(_split_seconds(day, start, start + run.length * e, state))
    return tuple(out)


def _segments_across_clock_change(
    night: Night, binary: list[Run], states: list[bool | None], e: int
) -> tuple[tuple[date, Segment], ...]:
    """The slow path for the one night a year the clocks change: convert every boundary."""
    out: list[tuple[date, Segment]] = []
    for run, state in zip(binary, states, strict=True):
        start = night.record.start_at + timedelta(seconds=run.start * e)
        end = start + timedelta(seconds=run.length * e)
        out.extend(_split(_wall(start, night), _wall(end, night), state))
    return tuple(out)


def _split_seconds(
    day: date, start: int, end: int, state: bool | None
) -> Iterable[tuple[date, Segment]]:
    """Cut ``start..end`` (seconds after noon of ``day``) at the following noons."""
    while start < end:
        index, position = divmod(start, DAY_SECONDS)
        piece = min(end - start, DAY_SECONDS - position)
        yield day + timedelta(days=index), (position, position + piece, state)
        start += piece


def _wall(instant: datetime, night: Night) -> datetime:
    return instant.astimezone(night.zone).replace(tzinfo=None)


def _split(start: datetime, end: datetime, state: bool | None) -> Iterable[tuple[date, Segment]]:
    """Cut one wall-clock interval at local noons."""
    while start < end:
        day = (start - _NOON).date()
        noon = datetime.combine(day, time(12))
        piece_end = min(end, noon + timedelta(days=1))
        yield day, (_seconds(start - noon), _seconds(piece_end - noon), state)
        start = piece_end


def _seconds(delta: timedelta) -> int:
    return round(delta.total_seconds())


def _cover(paints: list[Segment]) -> list[Segment]:
    """Fill a whole day: painted segments in time order (the first wins an overlap), awake
    elsewhere."""
    out: list[Segment] = []
    cursor = 0
    for start, end, state in sorted(paints, key=lambda s: s[0]):
        start = max(start, cursor)
        if end <= start:
            continue
        if start > cursor:
            out.append((cursor, start, False))
        out.append((start, end, state))
        cursor = end
    if cursor < DAY_SECONDS:
        out.append((cursor, DAY_SECONDS, False))
    return out
