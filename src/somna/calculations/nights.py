"""One night counts once: collapse the same sleep recorded by several providers.

Main sleeps whose time spans overlap are one sleep; one record of the group is chosen by the
source priority, the others are kept aside as duplicates. Naps are resolved among naps only,
so a nap never merges into (or removes) a night. Every answer names the sources it used.

Priority: the person's ordered provider list first (providers not in it come after, in
alphabetical order); then the record with a hypnogram; then the longer sleep; then provider
and record id, so the choice never depends on input order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo

from somna.calculations.inputs import SleepPeriod
from somna.calculations.local_time import period_zone, wake_date

_Rank = Callable[[SleepPeriod], tuple[int, int, float, str, str]]


@dataclass(frozen=True, slots=True)
class Night:
    """A counted sleep: the chosen record, its local date and zone, and what it replaced."""

    record: SleepPeriod
    local_date: date
    zone: tzinfo
    duplicates: tuple[SleepPeriod, ...] = ()


@dataclass(frozen=True, slots=True)
class ResolvedSleep:
    nights: tuple[Night, ...]  # main sleeps, in time order
    naps: tuple[Night, ...]

    @property
    def sources_used(self) -> tuple[str, ...]:
        return tuple(sorted({n.record.provider for n in (*self.nights, *self.naps)}))

    @property
    def duplicate_ids(self) -> tuple[str, ...]:
        return tuple(d.record_id for n in (*self.nights, *self.naps) for d in n.duplicates)

    def between(self, first: date, last: date, *, include_naps: bool = False) -> list[Night]:
        """Nights (and naps if asked) whose local date lies in ``first..last``."""
        chosen = [*self.nights, *self.naps] if include_naps else list(self.nights)
        kept = [n for n in chosen if first <= n.local_date <= last]
        return sorted(kept, key=lambda n: n.record.start_at)


def resolve_sleep(
    periods: Iterable[SleepPeriod],
    *,
    zone: tzinfo | None = None,
    priority: Sequence[str] | None = None,
) -> ResolvedSleep:
    """Group overlapping records and keep one per group (see the module docstring)."""
    items = list(periods)
    mains = [p for p in items if not p.is_nap]
    naps = [p for p in items if p.is_nap]
    rank = _ranker(priority or ())
    return ResolvedSleep(
        nights=tuple(_night(g, rank, zone) for g in overlapping_groups(mains)),
        naps=tuple(_night(g, rank, zone) for g in overlapping_groups(naps)),
    )


def overlapping_groups(periods: Iterable[SleepPeriod]) -> list[list[SleepPeriod]]:
    """Records whose spans overlap (by more than an instant), chained, in time order."""
    groups: list[list[SleepPeriod]] = []
    group_end = None
    for p in sorted(periods, key=lambda p: (p.start_at, p.end_at)):
        if group_end is not None and p.start_at < group_end:
            groups[-1].append(p)
            group_end = max(group_end, p.end_at)
        else:
            groups.append([p])
            group_end = p.end_at
    return groups


def _ranker(priority: Sequence[str]) -> _Rank:
    order = {provider: i for i, provider in enumerate(priority)}

    def rank(p: SleepPeriod) -> tuple[int, int, float, str, str]:
        length = p.asleep_seconds or (p.end_at - p.start_at).total_seconds()
        listed = order.get(p.provider, len(order))
        return (listed, 0 if p.has_hypnogram else 1, -length, p.provider, p.record_id)

    return rank


def _night(group: list[SleepPeriod], rank: _Rank, zone: tzinfo | None) -> Night:
    ordered = sorted(group, key=rank)
    chosen = ordered[0]
    return Night(chosen, wake_date(chosen, zone), period_zone(chosen, zone), tuple(ordered[1:]))
