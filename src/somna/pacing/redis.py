"""The pacer in Redis: five keys per provider app, each decision one atomic Lua call on
Redis's clock, so every process and machine shares one schedule."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import structlog

from somna.pacing.budget import DAY_BUCKETS, Budget, Decision
from somna.pacing.port import Pacer, PacerUnavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = structlog.get_logger(__name__)

UNAVAILABLE_RETRY_SECONDS = 5.0

# KEYS: tat, last starts (zset), asking (zset), day buckets (hash); the pause key is separate.
# ARGV: key, spacing, burst, max_wait, daily_limit, bucket_seconds, buckets, grace, day_ttl_ms.
_DECIDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local key = ARGV[1]
local spacing, burst, max_wait = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local daily, bucket_s, buckets = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local grace, day_ttl = tonumber(ARGV[8]), tonumber(ARGV[9])
local ttl = 3600000
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. now)
local contenders = redis.call('ZCARD', KEYS[3])
if not redis.call('ZSCORE', KEYS[3], key) then contenders = contenders + 1 end
local last = redis.call('ZSCORE', KEYS[2], key)
if spacing > 0 and last then
  local eligible = tonumber(last) + contenders * spacing
  if eligible > now then
    redis.call('ZADD', KEYS[3], eligible + grace, key)
    redis.call('PEXPIRE', KEYS[3], ttl)
    return {0, tostring(eligible - now), 0}
  end
end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local start = tat - (burst - 1) * spacing
if start < now then start = now end
local bucket = 0
if daily > 0 then
  bucket = math.floor(start / bucket_s)
  local fields = redis.call('HGETALL', KEYS[4])
  local total, kept = 0, {}
  for i = 1, #fields, 2 do
    local b, n = tonumber(fields[i]), tonumber(fields[i + 1])
    if b < bucket - buckets then
      redis.call('HDEL', KEYS[4], fields[i])
    else
      total = total + n
      table.insert(kept, {b, n})
    end
  end
  if total >= daily then
    table.sort(kept, function(x, y) return x[1] < y[1] end)
    local free_at = now
    for _, item in ipairs(kept) do
      total = total - item[2]
      if total < daily then
        free_at = (item[1] + buckets + 1) * bucket_s
        break
      end
    end
    local wait = free_at - now
    if wait > max_wait then return {0, tostring(wait), 1} end
    return {0, tostring(wait), 0}
  end
end
local wait = start - now
if wait > max_wait then return {0, tostring(wait), 1} end
redis.call('SET', KEYS[1], tostring(tat + spacing), 'PX', ttl + math.ceil((tat - now) * 1000))
redis.call('ZADD', KEYS[2], start, key)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - (contenders + 1) * spacing - grace))
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('ZADD', KEYS[3], start + grace, key)
redis.call('PEXPIRE', KEYS[3], ttl)
if daily > 0 then
  redis.call('HINCRBY', KEYS[4], tostring(bucket), 1)
  redis.call('PEXPIRE', KEYS[4], day_ttl)
end
return {1, tostring(wait), 0}
"""

# KEYS: tat, pause. ARGV: seconds.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local until_ = now + tonumber(ARGV[1])
local ttl = math.ceil(tonumber(ARGV[1]) * 1000) + 1
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > tat then
  redis.call('SET', KEYS[1], tostring(until_), 'PX', ttl + 3600000)
end
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if until_ > paused then
  redis.call('SET', KEYS[2], tostring(until_), 'PX', ttl)
end
return tostring(math.max(tat, until_) - now)
"""

# KEYS: pause. Seconds left of a pause in force.
_PAUSED_FOR = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
return tostring(math.max(0, paused - now))
"""


class RedisPacer(Pacer):
    """State in Redis: every process and machine shares one schedule per provider app."""

    def __init__(
        self, redis: Redis, prefix: str, budgets: Mapping[str, Budget], *, max_wait: float
    ) -> None:
        super().__init__(budgets, max_wait=max_wait)
        self.redis = redis
        self.prefix = prefix
        self._decide_script = redis.register_script(_DECIDE)
        self._pause_script = redis.register_script(_PAUSE)
        self._paused_for_script = redis.register_script(_PAUSED_FOR)

    def keys(self, budget: Budget) -> list[str]:
        app = hashlib.sha256(budget.app_key.encode()).hexdigest()[:16]
        base = f"{self.prefix}pacer:{budget.provider}:{app}"
        return [f"{base}:tat", f"{base}:last", f"{base}:asking", f"{base}:day", f"{base}:pause"]

    async def _call(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        from redis.exceptions import RedisError

        try:
            return await script(keys=keys, args=args)
        except (RedisError, OSError) as exc:
            # Fail closed: without the shared schedule no process may know it is in budget.
            log.error("pacer.unavailable", error=f"{type(exc).__name__}: {exc}")
            raise PacerUnavailable(
                UNAVAILABLE_RETRY_SECONDS, "the provider pacer is unreachable"
            ) from exc

    async def _decide(self, budget: Budget, connection_key: str, max_wait: float) -> Decision:
        args = [
            connection_key,
            repr(budget.emission),
            budget.burst,
            repr(max_wait),
            budget.daily_limit,
            repr(budget.bucket_seconds),
            DAY_BUCKETS,
            repr(budget.grace),
            math.ceil((budget.day_seconds + budget.bucket_seconds) * 1000),
        ]
        keys = self.keys(budget)[:4]
        granted, wait, final = await self._call(self._decide_script, keys, args)
        return Decision(bool(int(granted)), float(wait), bool(int(final)))

    async def _pause(self, budget: Budget, seconds: float) -> None:
        keys = self.keys(budget)
        await self._call(self._pause_script, [keys[0], keys[4]], [repr(seconds)])

    async def _paused_for(self, budget: Budget) -> float:
        left = await self._call(self._paused_for_script, [self.keys(budget)[4]], [])
        return float(left)

    async def aclose(self) -> None:
        await self.redis.aclose()
