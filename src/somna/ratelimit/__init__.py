"""Rate limits: a limiter port with an in-memory adapter (embedded) and a Redis one
(distributed), chosen from ``settings.redis_url``.

Routes charge limits with ``somna.ratelimit.http.check``, which finds the app's limiter (a
:class:`RateLimiter`) on its state and calls ``await limiter.hit(...)``.
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

from somna.ratelimit.base import (
    Limit,
    RateLimiter,
    RateLimiterUnavailable,
    RateLimitResult,
    window_bounds,
)
from somna.ratelimit.memory import MemoryRateLimiter
from somna.ratelimit.redis import RedisRateLimiter

__all__ = [
    "Limit",
    "MemoryRateLimiter",
    "RateLimitResult",
    "RateLimiter",
    "RateLimiterUnavailable",
    "RedisRateLimiter",
    "create_limiter",
    "create_redis",
    "window_bounds",
]


def create_limiter(redis: Redis | None, prefix: str) -> RateLimiter:
    """Redis when the app has a client (shared by every process), else process memory."""
    if redis is None:
        return MemoryRateLimiter()
    return RedisRateLimiter(redis, prefix)


def create_redis(url: str, *, max_connections: int = 64) -> Redis:
    """A client whose pool waits (up to 2 s) for a free connection under bursts instead of
    failing; connections open lazily, so start-up does not depend on Redis being up."""
    pool = BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=2, socket_timeout=2, socket_connect_timeout=2
    )
    return Redis.from_pool(pool)  # the client owns the pool: aclose() closes both
