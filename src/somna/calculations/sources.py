"""Source priority per metric: which provider's value counts when several recorded it.

Three levels, the most specific winning (docs/analytics.md, "Source priority"):

1. the query's ``?sources=asleep,whoop``: an order for every metric that also **filters**
   (providers it does not name are left out);
2. the person's ``source_priority`` preference: an order for every metric;
3. the organisation's ``settings.source_priority``: a list for every metric, or an object with
   a list per metric (``sleep``, ``hrv``, ``resting_hr``) and optionally ``default``.

Providers an order does not name come after it, alphabetically (as ``resolve_sleep`` ranks
them). A night still counts once: the order only decides which record of it counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, Literal

from somna.calculations.inputs import RecoveryReading

MetricName = Literal["sleep", "hrv", "resting_hr"]
METRICS: Final[tuple[MetricName, ...]] = ("sleep", "hrv", "resting_hr")


@dataclass(frozen=True, slots=True)
class SourcePriority:
    orders: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    only: frozenset[str] | None = None  # the query's providers; None: every provider

    def order(self, metric: MetricName) -> tuple[str, ...]:
        return self.orders.get(metric, ())

    def allows(self, provider: str) -> bool:
        return self.only is None or provider in self.only


def parse_sources(text: str, known: Iterable[str]) -> tuple[str, ...]:
    """``"asleep,whoop"`` as an order; ``ValueError`` naming unknown or repeated providers."""
    names = tuple(part.strip().lower() for part in text.split(",") if part.strip())
    allowed = tuple(known)
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise ValueError(
            f"unknown provider {', '.join(unknown)}; known providers: {', '.join(allowed)}"
        )
    if not names:
        raise ValueError(f"name at least one provider: {', '.join(allowed)}")
    if len(set(names)) != len(names):
        raise ValueError("each provider may appear once")
    return names


def source_priority(
    *,
    query: Sequence[str] | None = None,
    person: Sequence[str] | None = None,
    organization: Any = None,
) -> SourcePriority:
    """The priority for one answer from the three levels (see the module docstring)."""
    if query:
        order = tuple(query)
        return SourcePriority(dict.fromkeys(METRICS, order), frozenset(order))
    if person:
        return SourcePriority(dict.fromkeys(METRICS, tuple(person)))
    return SourcePriority(organization_orders(organization))


def organization_orders(setting: Any) -> dict[str, tuple[str, ...]]:
    """Orders per metric from an organisation's ``source_priority`` setting; anything that is
    not a list of names is ignored rather than failing a read."""
    if _names(setting) is not None:
        return dict.fromkeys(METRICS, _names(setting) or ())
    if not isinstance(setting, Mapping):
        return {}
    default = _names(setting.get("default")) or ()
    return {metric: _names(setting.get(metric)) or default for metric in METRICS}


def _names(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return None


def rank(order: Sequence[str]) -> dict[str, int]:
    return {provider: i for i, provider in enumerate(order)}


@dataclass(frozen=True, slots=True)
class DailyRecovery:
    """One date's HRV and resting heart rate, each from the first provider of its metric's
    order that has it, with that provider named."""

    local_date: date
    hrv_rmssd_ms: float | None = None
    hrv_provider: str | None = None
    resting_hr_bpm: float | None = None
    resting_hr_provider: str | None = None


def pick_recovery(
    readings: Iterable[RecoveryReading], priority: SourcePriority
) -> dict[date, DailyRecovery]:
    """One value per date and metric (see ``DailyRecovery``); filtered providers left out."""
    allowed = [r for r in readings if priority.allows(r.provider)]
    hrv = _first_by_date(allowed, priority.order("hrv"), lambda r: r.hrv_rmssd_ms)
    rhr = _first_by_date(allowed, priority.order("resting_hr"), lambda r: r.resting_hr_bpm)
    out: dict[date, DailyRecovery] = {}
    for day in sorted(hrv.keys() | rhr.keys()):
        h, r = hrv.get(day), rhr.get(day)
        out[day] = DailyRecovery(
            day,
            None if h is None else h[0],
            None if h is None else h[1],
            None if r is None else r[0],
            None if r is None else r[1],
        )
    return out


def _first_by_date(
    readings: Sequence[RecoveryReading], order: Sequence[str], pick: Any
) -> dict[date, tuple[float, str]]:
    ranks = rank(order)
    ranked = sorted(readings, key=lambda r: (ranks.get(r.provider, len(ranks)), r.provider))
    out: dict[date, tuple[float, str]] = {}
    for reading in ranked:
        value = pick(reading)
        if value is not None and reading.local_date not in out:
            out[reading.local_date] = (value, reading.provider)
    return out


def named_sources(providers: Iterable[str | None], order: Sequence[str]) -> str | None:
    """The providers used for one metric in priority order, comma-separated as in the query
    (``"asleep"``, ``"asleep,whoop"``); ``None`` when none was used."""
    used = {p for p in providers if p}
    if not used:
        return None
    ranks = rank(order)
    return ",".join(sorted(used, key=lambda p: (ranks.get(p, len(ranks)), p)))
