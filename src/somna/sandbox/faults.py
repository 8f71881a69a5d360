"""Fault knobs shared by the sandboxes. Counted knobs ("the next N requests") are exact and are
what tests use; rate knobs draw from a seeded generator, so a run is repeatable."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

NextTokenStyle = Literal["null", "empty", "omit"]


@dataclass
class Faults:
    latency_seconds: float = 0.0  # added to every API answer
    error_rate: float = 0.0  # share of API requests answered with error_status
    error_status: int = 503
    errors_next: int = 0  # the next N API requests fail with error_status
    rate_limit_next: int = 0  # the next N API requests are refused for pace
    rate_limit_retry_after: int = 1  # seconds advertised on those refusals
    malformed_rate: float = 0.0  # share of 200 bodies cut in half
    malformed_next: int = 0
    token_lifetime_requests: int | None = None  # early expiry: tokens die after N API calls
    next_token_style: NextTokenStyle = "null"  # WHOOP's last page: null, "" or no key


class FaultPlan:
    """The knobs plus the decisions drawn from them, safe to change from another thread."""

    def __init__(self, seed: int = 0) -> None:
        self.faults = Faults()
        self._rng = random.Random(f"somna-faults:{seed}")
        self._lock = threading.Lock()

    def update(self, **changes: Any) -> Faults:
        names = {f.name for f in fields(Faults)}
        unknown = set(changes) - names
        if unknown:
            raise ValueError(f"unknown fault knobs: {', '.join(sorted(unknown))}")
        with self._lock:
            for name, value in changes.items():
                setattr(self.faults, name, value)
            return Faults(**asdict(self.faults))

    def reset(self) -> None:
        with self._lock:
            self.faults = Faults()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return asdict(self.faults)

    def _take(self, counter: str, rate: float) -> bool:
        with self._lock:
            left = getattr(self.faults, counter)
            if left > 0:
                setattr(self.faults, counter, left - 1)
                return True
            return rate > 0 and self._rng.random() < rate

    def rate_limited(self) -> bool:
        return self._take("rate_limit_next", 0.0)

    def server_error(self) -> bool:
        return self._take("errors_next", self.faults.error_rate)

    def malformed(self) -> bool:
        return self._take("malformed_next", self.faults.malformed_rate)
