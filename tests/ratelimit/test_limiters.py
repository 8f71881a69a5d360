"""The limiter port, on both adapters: windows, cost, all-or-nothing, exactness."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from somna.ratelimit import (
    Limit,
    MemoryRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    create_redis,
)


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    if request.param == "memory":
        yield MemoryRateLimiter()
        return
    url: str = request.getfixturevalue("redis_test_url")
    client = create_redis(url)
    prefix = f"somna-test-{uuid.uuid4().hex[:8]}:"
    try:
        yield RedisRateLimiter(client, prefix)
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_counts_down_and_refuses_at_the_limit(limiter: RateLimiter) -> None:
    results = [await limiter.hit("k", limit=3, window_seconds=60) for _ in range(4)]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert [r.remaining for r in results] == [2, 1, 0, 0]
    assert [r.current_usage for r in results] == [1, 2, 3, 3]
    refused = results[-1]
    assert refused.retry_after >= 1
    assert refused.reset % 60 == 0  # windows align to the epoch
    assert results[0].retry_after == 0
    assert await limiter.usage("k", window_seconds=60) == 3


async def test_a_cost_that_does_not_fit_is_refused_whole(limiter: RateLimiter) -> None:
    first = await limiter.hit("batch", limit=250, window_seconds=3600, cost=100)
    second = await limiter.hit("batch", limit=250, window_seconds=3600, cost=100)
    third = await limiter.hit("batch", limit=250, window_seconds=3600, cost=100)
    assert (first.allowed, second.allowed, third.allowed) == (True, True, False)
    assert third.current_usage == 200  # nothing of the refused batch was counted
    assert await limiter.usage("batch", window_seconds=3600) == 200
    fits = await limiter.hit("batch", limit=250, window_seconds=3600, cost=50)
    assert fits.allowed
    assert fits.remaining == 0


async def test_hit_all_charges_every_bucket_or_none(limiter: RateLimiter) -> None:
    own, org = Limit("key:1", 5, 60), Limit("org:1", 2, 60)
    assert (await limiter.hit_all([own, org])).allowed
    tight = await limiter.hit_all([own, org])
    assert tight.allowed
    assert (tight.key, tight.remaining) == ("org:1", 0)  # the bucket with least room is reported
    refused = await limiter.hit_all([own, org])
    assert not refused.allowed
    assert refused.key == "org:1"
    assert await limiter.usage("key:1", window_seconds=60) == 2  # not charged by the refusal


async def test_windows_and_keys_are_independent(limiter: RateLimiter) -> None:
    await limiter.hit("a", limit=1, window_seconds=60)
    assert not (await limiter.hit("a", limit=1, window_seconds=60)).allowed
    assert (await limiter.hit("b", limit=1, window_seconds=60)).allowed
    assert (await limiter.hit("a", limit=1, window_seconds=3600)).allowed


async def test_concurrent_hits_admit_exactly_the_limit(limiter: RateLimiter) -> None:
    results = await asyncio.gather(
        *(limiter.hit("burst", limit=37, window_seconds=60) for _ in range(120))
    )
    assert sum(r.allowed for r in results) == 37


async def test_memory_window_rolls_over_at_its_end() -> None:
    clock = FakeClock(1_000_000.0)  # a multiple of 60 and 3600
    limiter = MemoryRateLimiter(clock=clock)
    first = await limiter.hit("k", limit=1, window_seconds=60)
    assert first.reset == 1_000_020  # 1_000_000 is not a multiple of 60; next boundary
    clock.now = 1_000_019.5
    refused = await limiter.hit("k", limit=1, window_seconds=60)
    assert not refused.allowed
    assert refused.retry_after == 1
    clock.now = 1_000_020.0
    assert (await limiter.hit("k", limit=1, window_seconds=60)).allowed


async def test_bad_arguments_are_refused() -> None:
    limiter = MemoryRateLimiter()
    with pytest.raises(ValueError, match="cost"):
        await limiter.hit("k", limit=1, window_seconds=60, cost=-1)
    with pytest.raises(ValueError, match="at least one"):
        await limiter.hit_all([])
