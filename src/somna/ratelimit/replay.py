"""The signature replay cache: each signature is accepted once within a time window, in
process memory (one process) or in Redis (shared by every process), like the rate limits."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from somna.errors import ServiceUnavailable


@runtime_checkable  # read back from the app's state by type (somna.state)
class ReplayCache(Protocol):
    async def claim(self, token: str, ttl_seconds: int) -> bool:
        """True the first time ``token`` is seen within ``ttl_seconds``."""
        ...


class MemoryReplayCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: dict[str, float] = {}

    async def claim(self, token: str, ttl_seconds: int) -> bool:
        now = self._clock()
        if len(self._seen) > 10_000:
            self._seen = {k: until for k, until in self._seen.items() if until > now}
        until = self._seen.get(token)
        if until is not None and until > now:
            return False
        self._seen[token] = now + ttl_seconds
        return True


class RedisReplayCache:
    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client
        self._prefix = f"{prefix}sig:"

    async def claim(self, token: str, ttl_seconds: int) -> bool:
        try:
            return bool(await self._client.set(self._prefix + token, b"1", nx=True, ex=ttl_seconds))
        except (RedisError, OSError) as exc:
            # Without the cache a replay cannot be told apart, so refuse rather than guess.
            raise ServiceUnavailable("The signature replay cache is unavailable.") from exc


REPLAY_CACHE = "replay_cache"


def create_replay_cache(redis: Redis | None, prefix: str) -> ReplayCache:
    """Redis when the app has a client, else process memory (as ``create_limiter``)."""
    return RedisReplayCache(redis, prefix) if redis is not None else MemoryReplayCache()
