"""Sliding-window request counting for the sandboxes: limits, headers, and the request log
tests read to prove that a client never went over a limit in any window."""

from __future__ import annotations

import bisect
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    window_seconds: int
    header_limit: str


class SlidingWindowLimiter:
    """Exact sliding windows (a log of admitted requests), e.g. 100/60 s and 10,000/86,400 s."""

    def __init__(
        self, windows: list[tuple[int, int]], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.windows = windows  # (limit, window seconds)
        self._clock = clock
        self._log: deque[float] = deque()
        self._all: list[float] = []
        self._lock = threading.Lock()

    def configure(self, windows: list[tuple[int, int]]) -> None:
        with self._lock:
            self.windows = windows

    def check(self) -> Decision:
        """Admit and record one request, or refuse it; either way say how the windows stand."""
        with self._lock:
            now = self._clock()
            longest = max((w for _, w in self.windows), default=0)
            while self._log and self._log[0] <= now - longest:
                self._log.popleft()
            states = []
            for limit, window in self.windows:
                start = bisect.bisect_right(self._log, now - window)
                used = len(self._log) - start
                oldest = self._log[start] if used else now
                reset = max(1, math.ceil(oldest + window - now)) if used else window
                states.append((limit - used, limit, window, reset))
            allowed = all(remaining > 0 for remaining, *_ in states)
            if allowed:
                self._log.append(now)
                self._all.append(now)
                states = [(r - 1, lim, w, reset) for r, lim, w, reset in states]
            # The closest window is the one with the fewest requests left (WHOOP's rule).
            remaining, limit, window, reset = min(states, key=lambda s: (s[0], s[2]))
            header = ", ".join(
                [
                    str(limit),
                    *(f"{lim};window={w}" for lim, w in sorted(self.windows, key=lambda x: x[1])),
                ]
            )
            return Decision(allowed, limit, max(0, remaining), reset, window, header)

    def count(self, last_seconds: float | None = None) -> int:
        """Admitted requests in the last ``last_seconds`` (all of them when None)."""
        with self._lock:
            if last_seconds is None:
                return len(self._all)
            now = self._clock()
            return len(self._all) - bisect.bisect_right(self._all, now - last_seconds)

    def max_in_any_window(self, window_seconds: float) -> int:
        """The most requests admitted inside any window of this length, over the whole run."""
        with self._lock:
            best = 0
            start = 0
            for end, moment in enumerate(self._all):
                while moment - self._all[start] >= window_seconds:
                    start += 1
                best = max(best, end - start + 1)
            return best

    def reset(self) -> None:
        with self._lock:
            self._log.clear()
            self._all.clear()
