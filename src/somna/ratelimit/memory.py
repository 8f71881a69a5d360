"""In-process limiter for the embedded mode (one process, so memory is the whole truth)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from somna.ratelimit.base import CheckedLimiter, Limit, RateLimitResult, summarise, window_bounds

# Sweep expired windows every so many checks, so memory stays bounded by live keys.
_SWEEP_EVERY = 4096


class MemoryRateLimiter(CheckedLimiter):
    """Fixed windows in a dict. Each check runs without an ``await``, so it is atomic on the
    event loop."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[int, int]] = {}  # key -> (window end, count)
        self._checks = 0

    async def _charge(self, limits: Sequence[Limit], cost: int) -> RateLimitResult:
        now = self._clock()
        self._maybe_sweep(now)
        counts = [self._count(item, now) for item in limits]
        allowed = all(
            count + cost <= item.limit for item, count in zip(limits, counts, strict=True)
        )
        if allowed:
            for index, item in enumerate(limits):
                counts[index] += cost
                _, end = window_bounds(now, item.window_seconds)
                self._windows[self._slot(item)] = (end, counts[index])
        return summarise(limits, counts, allowed, cost, now)

    async def usage(self, key: str, *, window_seconds: int) -> int:
        return self._count(Limit(key, 0, window_seconds), self._clock())

    async def close(self) -> None:
        self._windows.clear()

    @staticmethod
    def _slot(item: Limit) -> str:
        return f"{item.key}|{item.window_seconds}"

    def _count(self, item: Limit, now: float) -> int:
        entry = self._windows.get(self._slot(item))
        if entry is None or entry[0] <= now:
            return 0
        return entry[1]

    def _maybe_sweep(self, now: float) -> None:
        self._checks += 1
        if self._checks % _SWEEP_EVERY:
            return
        for slot in [slot for slot, (end, _) in self._windows.items() if end <= now]:
            del self._windows[slot]
