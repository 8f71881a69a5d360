"""The limiter port: fixed windows aligned to the epoch, charged by cost, refused whole."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Limit:
    """One bucket to charge: ``key`` may hold at most ``limit`` units per ``window_seconds``."""

    key: str
    limit: int
    window_seconds: int


@dataclass(frozen=True, slots=True)
class RateLimitResult:
    """The answer to one check. ``reset`` is epoch seconds; ``retry_after`` is 0 when allowed."""

    allowed: bool
    limit: int
    remaining: int
    reset: int
    retry_after: int
    current_usage: int
    window_seconds: int
    key: str = ""


class RateLimiterUnavailable(RuntimeError):
    """The store behind the limiter did not answer."""


@runtime_checkable  # read back from the app's state by type (somna.state)
class RateLimiter(Protocol):
    """Count usage in windows. A check either charges every bucket its full cost or none."""

    async def hit(
        self, key: str, *, limit: int, window_seconds: int, cost: int = 1
    ) -> RateLimitResult: ...

    async def hit_all(self, limits: Sequence[Limit], *, cost: int = 1) -> RateLimitResult: ...

    async def usage(self, key: str, *, window_seconds: int) -> int: ...

    async def close(self) -> None: ...


def window_bounds(now: float, window_seconds: int) -> tuple[int, int]:
    """Start and end (epoch seconds) of the window containing ``now``."""
    start = int(now // window_seconds) * window_seconds
    return start, start + window_seconds


def summarise(
    limits: Sequence[Limit], counts: Sequence[int], allowed: bool, cost: int, now: float
) -> RateLimitResult:
    """Pick the bucket to report: a refusing one if any, else the one with least room.

    ``counts`` are the usages after the check (charged only when ``allowed``).
    """
    chosen = 0
    best: tuple[int, float] | None = None
    for index, (item, count) in enumerate(zip(limits, counts, strict=True)):
        refused = not allowed and count + cost > item.limit
        room = item.limit - count
        rank = (0 if refused else 1, room)
        if best is None or rank < best:
            best, chosen = rank, index
    item, count = limits[chosen], counts[chosen]
    _, end = window_bounds(now, item.window_seconds)
    retry_after = 0 if allowed else max(1, math.ceil(end - now))
    return RateLimitResult(
        allowed=allowed,
        limit=item.limit,
        remaining=max(0, item.limit - count),
        reset=end,
        retry_after=retry_after,
        current_usage=count,
        window_seconds=item.window_seconds,
        key=item.key,
    )


class CheckedLimiter(ABC):
    """What every adapter shares: the one-limit form and the argument checks; an adapter
    implements only ``_charge``."""

    async def hit(
        self, key: str, *, limit: int, window_seconds: int, cost: int = 1
    ) -> RateLimitResult:
        return await self.hit_all([Limit(key, limit, window_seconds)], cost=cost)

    async def hit_all(self, limits: Sequence[Limit], *, cost: int = 1) -> RateLimitResult:
        if not limits:
            raise ValueError("hit_all needs at least one limit")
        if cost < 0:
            raise ValueError("cost must not be negative")
        return await self._charge(limits, cost)

    @abstractmethod
    async def _charge(self, limits: Sequence[Limit], cost: int) -> RateLimitResult:
        """Charge every limit ``cost`` or none (all-or-nothing), and report the tightest."""
