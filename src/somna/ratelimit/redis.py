"""Redis limiter for the distributed mode: one Lua call per check, exact across processes.

The script reads the clock from Redis (``TIME``), so every API process agrees on the window
even when their own clocks drift, and it checks and charges all buckets of one request
atomically: either each bucket is charged the whole cost or none is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from somna.ratelimit.base import (
    CheckedLimiter,
    Limit,
    RateLimiterUnavailable,
    RateLimitResult,
    summarise,
)

# KEYS: bucket names. ARGV[1]: cost; then (limit, window) per key. Returns
# {allowed, now, count1, count2, ...} with counts after the check.
_HIT_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local cost = tonumber(ARGV[1])
local names, counts, allowed = {}, {}, 1
for i = 1, #KEYS do
  local limit = tonumber(ARGV[2 * i])
  local window = tonumber(ARGV[2 * i + 1])
  local start = math.floor(now / window) * window
  names[i] = KEYS[i] .. ':' .. window .. ':' .. start
  counts[i] = tonumber(redis.call('GET', names[i]) or '0')
  if counts[i] + cost > limit then allowed = 0 end
end
if allowed == 1 and cost > 0 then
  for i = 1, #KEYS do
    local window = tonumber(ARGV[2 * i + 1])
    local start = math.floor(now / window) * window
    counts[i] = redis.call('INCRBY', names[i], cost)
    redis.call('EXPIREAT', names[i], start + window + 1)
  end
end
local out = {allowed, tostring(now)}
for i = 1, #KEYS do out[#out + 1] = counts[i] end
return out
"""

_USAGE_SCRIPT = """
local t = redis.call('TIME')
local window = tonumber(ARGV[1])
local start = math.floor(tonumber(t[1]) / window) * window
return tonumber(redis.call('GET', KEYS[1] .. ':' .. window .. ':' .. start) or '0')
"""


class RedisRateLimiter(CheckedLimiter):
    """Fixed windows in Redis, keyed under ``prefix``."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client
        self._prefix = f"{prefix}rl:"
        self._hit = client.register_script(_HIT_SCRIPT)
        self._usage = client.register_script(_USAGE_SCRIPT)

    async def _charge(self, limits: Sequence[Limit], cost: int) -> RateLimitResult:
        args: list[int] = [cost]
        for item in limits:
            args += [item.limit, item.window_seconds]
        keys = [self._prefix + item.key for item in limits]
        try:
            reply: list[Any] = await self._hit(keys=keys, args=args)
        except (RedisError, OSError) as exc:
            raise RateLimiterUnavailable(f"Redis did not answer: {type(exc).__name__}") from exc
        allowed = int(reply[0]) == 1
        now = float(reply[1])
        counts = [int(value) for value in reply[2:]]
        return summarise(limits, counts, allowed, cost, now)

    async def usage(self, key: str, *, window_seconds: int) -> int:
        try:
            return int(await self._usage(keys=[self._prefix + key], args=[window_seconds]))
        except (RedisError, OSError) as exc:
            raise RateLimiterUnavailable(f"Redis did not answer: {type(exc).__name__}") from exc

    async def close(self) -> None:
        """The Redis client belongs to the app; closing it is the lifespan's job."""
