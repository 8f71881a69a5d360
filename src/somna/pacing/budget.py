"""The limits of a provider app, and what a provider's answer says about them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from somna.kit.http import header, retry_after_seconds

if TYPE_CHECKING:
    from somna.config import Settings

DAY_BUCKETS = 24
SPACING_MARGIN = 0.02
DEFAULT_PAUSE_SECONDS = 60.0
MAX_PAUSE_SECONDS = 86_400.0


@dataclass(frozen=True)
class Budget:
    """The limits of one provider app."""

    provider: str
    app_key: str = "default"
    limit: int = 0  # requests per window; 0: not paced (pauses still apply)
    window_seconds: float = 60.0
    daily_limit: int = 0  # requests per day_seconds; 0: none
    day_seconds: float = 86_400.0
    burst: int = 1
    margin: float = SPACING_MARGIN

    @property
    def emission(self) -> float:
        """Seconds between two request starts."""
        if self.limit <= 0:
            return 0.0
        return self.window_seconds / self.limit * (1 + self.margin)

    @property
    def bucket_seconds(self) -> float:
        return self.day_seconds / DAY_BUCKETS

    @property
    def grace(self) -> float:
        """How long after its slot a connection still counts as asking."""
        return 2 * self.emission


@dataclass(frozen=True)
class Decision:
    granted: bool
    wait: float  # granted: sleep this long, then send; otherwise: ask again after this long
    final: bool = False  # not granted, and no slot within the allowed wait


def provider_budgets(settings: Settings) -> dict[str, Budget]:
    """The budgets Somna paces, from settings (WHOOP: 100 per minute, 10,000 per day)."""
    return {
        "whoop": Budget(
            "whoop",
            app_key=settings.whoop_client_id or "default",
            limit=settings.whoop_requests_per_minute,
            daily_limit=settings.whoop_requests_per_day,
        ),
        "asleep": Budget(
            "asleep",
            limit=settings.asleep_requests_per_minute,
            daily_limit=settings.asleep_requests_per_day,
        ),
    }


def _seconds(value: str | None) -> float | None:
    """A ``Retry-After``/``X-RateLimit-Reset`` value in seconds, at most the longest pause."""
    seconds = retry_after_seconds(value)
    return None if seconds is None else min(seconds, MAX_PAUSE_SECONDS)


def pause_for(status_code: int, headers: Mapping[str, str]) -> float | None:
    """How long a response says to stop: on 429, or when the last request of a window is used."""
    remaining = header(headers, "X-RateLimit-Remaining")
    exhausted = remaining is not None and remaining.split(",")[0].strip() == "0"
    if status_code != 429 and not exhausted:
        return None
    for name in ("Retry-After", "X-RateLimit-Reset"):
        seconds = _seconds(header(headers, name))
        if seconds is not None:
            return seconds
    return DEFAULT_PAUSE_SECONDS if status_code == 429 else None
