"""The provider budget: one pacer per provider app, shared by every process that calls it.

Each request first awaits ``pacer.acquire(provider, connection_key)``. Three rules decide when
it may go:

* **Spacing** (GCRA): requests of one provider app start at least ``window / limit`` apart
  (2 % wider, so network jitter cannot push the provider's own count over), which keeps every
  window of the provider at or under its limit. The slot is reserved first, then slept to, so
  waiters are served in order without polling.
* **Daily budget**: a rolling count in hourly buckets, read conservatively (the current bucket
  plus the previous 24), so the provider's 24-hour window is never exceeded.
* **Fair share**: a connection may take its next slot only ``n * spacing`` after its previous
  one, where ``n`` is the number of connections currently asking. Alone, a backfill runs at
  the full rate; once others ask, each gets an equal share, so no backfill starves them.

A 429 from the provider calls :meth:`Pacer.pause`, which pushes the shared schedule past the
announced reset: every worker in every process waits. Waits longer than
``pacer_max_wait_seconds`` raise :class:`BudgetExhausted` (a ``RetryLater``) so the job gives
its worker slot back instead of sleeping in it.

The memory adapter keeps the state in the process (embedded mode); the Redis adapter keeps it
in five keys per provider app and decides in one atomic Lua call, on Redis's clock.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import structlog

from somna.jobs.port import RetryLater
from somna.kit.time import utc_now

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from somna.config import Settings

log = structlog.get_logger(__name__)

DAY_BUCKETS = 24
SPACING_MARGIN = 0.02
DEFAULT_PAUSE_SECONDS = 60.0
MAX_PAUSE_SECONDS = 86_400.0
UNAVAILABLE_RETRY_SECONDS = 5.0


class BudgetExhausted(RetryLater):
    """The provider's budget has no slot within the allowed wait: run the job later."""


class PacerUnavailable(RetryLater):
    """The shared pacer (Redis) does not answer: send nothing, retry the job later."""


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


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = {key.lower(): item for key, item in headers.items()}
        value = lowered.get(name.lower())
    return value


def _seconds(value: str | None) -> float | None:
    """A ``Retry-After``/``X-RateLimit-Reset`` value: seconds, or an HTTP date."""
    if value is None or not value.strip():
        return None
    text = value.split(",")[0].strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(text) - utc_now()).total_seconds()
        except (TypeError, ValueError):
            return None
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_PAUSE_SECONDS)


def pause_for(status_code: int, headers: Mapping[str, str]) -> float | None:
    """How long a response says to stop: on 429, or when the last request of a window is used."""
    remaining = _header(headers, "X-RateLimit-Remaining")
    exhausted = remaining is not None and remaining.split(",")[0].strip() == "0"
    if status_code != 429 and not exhausted:
        return None
    for name in ("Retry-After", "X-RateLimit-Reset"):
        seconds = _seconds(_header(headers, name))
        if seconds is not None:
            return seconds
    return DEFAULT_PAUSE_SECONDS if status_code == 429 else None


class Pacer(ABC):
    """The port: ``acquire`` before each provider request, ``note_response`` after it."""

    def __init__(self, budgets: Mapping[str, Budget], *, max_wait: float) -> None:
        self.budgets = dict(budgets)
        self.max_wait = max_wait

    def budget(self, provider: str) -> Budget:
        try:
            return self.budgets[provider]
        except KeyError:
            raise LookupError(f"no budget is configured for provider {provider!r}") from None

    async def acquire(self, provider: str, connection_key: str) -> float:
        """Wait for this request's slot; returns the seconds waited.

        Raises :class:`BudgetExhausted` when no slot comes within ``max_wait`` (nothing is
        reserved then) and :class:`PacerUnavailable` when the shared state cannot be reached.
        """
        budget = self.budget(provider)
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            remaining = self.max_wait - (loop.time() - started)
            decision = await self._decide(budget, connection_key, max(remaining, 0.0))
            if decision.granted:
                if decision.wait > 0:
                    await asyncio.sleep(decision.wait)
                    # A 429 may have come in while this slot was being slept to: it wins.
                    if await self._paused_for(budget) > 0:
                        continue
                return loop.time() - started
            if decision.final or decision.wait > remaining:
                raise BudgetExhausted(
                    decision.wait, f"{provider} budget has no slot within {self.max_wait:.0f} s"
                )
            await asyncio.sleep(decision.wait)

    async def pause(self, provider: str, seconds: float) -> None:
        """Hold every request of this provider app for ``seconds`` (a 429's reset)."""
        seconds = min(max(seconds, 0.0), MAX_PAUSE_SECONDS)
        await self._pause(self.budget(provider), seconds)
        log.warning("pacer.paused", provider=provider, seconds=round(seconds, 3))

    async def note_response(
        self, provider: str, status_code: int, headers: Mapping[str, str]
    ) -> float | None:
        """Pause everyone when a response says the app's window is spent; returns the pause."""
        seconds = pause_for(status_code, headers)
        if seconds is not None and seconds > 0:
            await self.pause(provider, seconds)
        return seconds

    @abstractmethod
    async def _decide(self, budget: Budget, connection_key: str, max_wait: float) -> Decision: ...

    @abstractmethod
    async def _pause(self, budget: Budget, seconds: float) -> None: ...

    @abstractmethod
    async def _paused_for(self, budget: Budget) -> float:
        """Seconds left of a pause in force, or 0."""

    async def aclose(self) -> None:
        return None


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


def create_pacer(settings: Settings, budgets: Mapping[str, Budget] | None = None) -> Pacer:
    """Redis when ``SOMNA_REDIS_URL`` is set, else this process's memory."""
    chosen = dict(budgets) if budgets is not None else provider_budgets(settings)
    if settings.redis_url:
        from redis.asyncio import Redis

        client = Redis.from_url(settings.redis_url)
        return RedisPacer(
            client, settings.redis_prefix, chosen, max_wait=settings.pacer_max_wait_seconds
        )
    if settings.run_mode == "distributed":
        log.warning("pacer.per_process", reason="SOMNA_REDIS_URL is not set")
    return MemoryPacer(chosen, max_wait=settings.pacer_max_wait_seconds)
