"""Credentials: a fixed API key, or a JWT pair from ``login`` refreshed with rotation.

The server accepts each refresh token once and revokes the whole session when one is
presented twice, so a refresh token is forgotten the moment it is sent, and concurrent
requests that find the access token stale share one refresh (single flight).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

# Refresh this long before the access token's stated expiry, to absorb clock and queue delay.
REFRESH_MARGIN_SECONDS = 30.0


@dataclass
class TokenPair:
    access_token: str
    refresh_token: str | None
    expires_at: float  # time.monotonic() deadline
    generation: int = 0

    @classmethod
    def of(cls, answer: dict[str, Any], generation: int = 0) -> TokenPair:
        expires_in = float(answer.get("expires_in") or 0)
        return cls(
            access_token=str(answer["access_token"]),
            refresh_token=answer.get("refresh_token"),
            expires_at=time.monotonic() + expires_in,
            generation=generation,
        )

    def stale(self) -> bool:
        return time.monotonic() >= self.expires_at - REFRESH_MARGIN_SECONDS

    def take_refresh_token(self) -> str | None:
        """The refresh token, forgotten at once so that it can never be sent twice."""
        token, self.refresh_token = self.refresh_token, None
        return token
