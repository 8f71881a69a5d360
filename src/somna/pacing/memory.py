"""The pacer in process memory: the embedded mode, where one process makes every request."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from somna.pacing.budget import DAY_BUCKETS, Budget, Decision
from somna.pacing.port import Pacer


@dataclass
class _AppState:
    tat: float = 0.0  # theoretical arrival time: when the next slot starts
    paused_until: float = 0.0
    last_start: dict[str, float] = field(default_factory=dict)
    asking: dict[str, float] = field(default_factory=dict)  # connection -> counts until
    day: dict[int, int] = field(default_factory=dict)  # hour bucket -> requests


def decide(state: _AppState, budget: Budget, key: str, now: float, max_wait: float) -> Decision:
    """The pacing rules on in-memory state; the Redis script below is the same algorithm."""
    spacing, grace = budget.emission, budget.grace
    state.asking = {k: until for k, until in state.asking.items() if until >= now}
    contenders = len(state.asking) + (0 if key in state.asking else 1)
    last = state.last_start.get(key)
    if spacing > 0 and last is not None:
        eligible = last + contenders * spacing
        if eligible > now:
            state.asking[key] = eligible + grace
            return Decision(False, eligible - now)
    tat = max(state.tat, now)
    start = max(now, tat - (budget.burst - 1) * spacing)
    bucket = 0
    if budget.daily_limit > 0:
        bucket = math.floor(start / budget.bucket_seconds)
        state.day = {b: n for b, n in state.day.items() if b >= bucket - DAY_BUCKETS}
        total = sum(state.day.values())
        if total >= budget.daily_limit:
            free_at = now
            for old in sorted(state.day):
                total -= state.day[old]
                if total < budget.daily_limit:
                    free_at = (old + DAY_BUCKETS + 1) * budget.bucket_seconds
                    break
            return Decision(False, free_at - now, final=free_at - now > max_wait)
    wait = start - now
    if wait > max_wait:
        return Decision(False, wait, final=True)
    state.tat = tat + spacing
    state.last_start[key] = start
    state.last_start = {
        k: v for k, v in state.last_start.items() if v >= now - (contenders + 1) * spacing - grace
    }
    state.asking[key] = start + grace
    if budget.daily_limit > 0:
        state.day[bucket] = state.day.get(bucket, 0) + 1
    return Decision(True, wait)


class MemoryPacer(Pacer):
    """State in this process: the embedded mode, where one process makes every request."""

    def __init__(self, budgets: Mapping[str, Budget], *, max_wait: float) -> None:
        super().__init__(budgets, max_wait=max_wait)
        self._states: dict[str, _AppState] = {}

    def _state(self, budget: Budget) -> _AppState:
        return self._states.setdefault(f"{budget.provider}:{budget.app_key}", _AppState())

    async def _decide(self, budget: Budget, connection_key: str, max_wait: float) -> Decision:
        # No await between reading and writing the state: the event loop makes it atomic.
        return decide(self._state(budget), budget, connection_key, time.time(), max_wait)

    async def _pause(self, budget: Budget, seconds: float) -> None:
        state = self._state(budget)
        state.paused_until = max(state.paused_until, time.time() + seconds)
        state.tat = max(state.tat, state.paused_until)

    async def _paused_for(self, budget: Budget) -> float:
        return max(0.0, self._state(budget).paused_until - time.time())
