"""The provider budget on both adapters: spacing, daily budget, 429 pauses and fair shares."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from email.utils import format_datetime

import pytest

from somna.jobs import RetryLater
from somna.kit.time import utc_now
from somna.pacing import (
    Budget,
    BudgetExhausted,
    MemoryPacer,
    Pacer,
    PacerUnavailable,
    RedisPacer,
    pause_for,
)

# Small limits and short windows: each test runs in a second or two. The spacing margin is the
# lateness a send may have without crowding a window (margin x window): 100 ms here, for a
# busy 2-core test machine (WHOOP's default 2 % of 60 s gives 1.2 s).
FAST = Budget("fake", limit=20, window_seconds=1.0, margin=0.1)


def max_in_window(times: list[float], window: float) -> int:
    ordered = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def make_pacer(kind: str, budget: Budget, redis_url: str | None, max_wait: float) -> Pacer:
    budgets = {budget.provider: budget}
    if kind == "memory":
        return MemoryPacer(budgets, max_wait=max_wait)
    import uuid

    from redis.asyncio import Redis

    assert redis_url is not None
    prefix = f"somna-test-{uuid.uuid4().hex[:8]}:"
    return RedisPacer(Redis.from_url(redis_url), prefix, budgets, max_wait=max_wait)


@pytest.fixture(params=["memory", "redis"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def redis_url(kind: str, request: pytest.FixtureRequest) -> str | None:
    if kind == "redis":
        url: str = request.getfixturevalue("redis_test_url")
        return url
    return None


@pytest.fixture
async def pacer(kind: str, redis_url: str | None) -> AsyncIterator[Pacer]:
    made = make_pacer(kind, FAST, redis_url, max_wait=10)
    yield made
    await made.aclose()


async def grab(pacer: Pacer, key: str, count: int, times: list[float]) -> None:
    for _ in range(count):
        await pacer.acquire("fake", key)
        times.append(time.monotonic())


async def test_requests_are_spaced_to_stay_inside_the_window(pacer: Pacer) -> None:
    times: list[float] = []
    await asyncio.gather(*(grab(pacer, f"conn{i}", 6, times) for i in range(5)))
    assert len(times) == 30
    # 20 per second allowed: 30 requests need at least 1.5 s, and no second holds more than 20.
    assert max_in_window(times, 1.0) <= 20
    assert max(times) - min(times) >= 28 * FAST.emission


async def test_a_pause_holds_every_caller_until_it_ends(pacer: Pacer) -> None:
    await pacer.acquire("fake", "warm")
    # Read the clock before the pause starts: the pause ends at least 0.6 s after this,
    # however late the call returns on a loaded machine.
    paused_at = time.monotonic()
    await pacer.pause("fake", 0.6)
    times: list[float] = []
    await asyncio.gather(*(grab(pacer, f"c{i}", 1, times) for i in range(4)))
    assert min(times) - paused_at >= 0.6 - 0.01


async def test_a_429_pauses_until_the_announced_reset(pacer: Pacer) -> None:
    started = time.monotonic()  # before the 429 is noted: the pause cannot end earlier
    paused = await pacer.note_response("fake", 429, {"X-RateLimit-Reset": "0.5"})
    await pacer.acquire("fake", "after")
    assert paused == 0.5
    assert time.monotonic() - started >= 0.5 - 0.01
    assert await pacer.note_response("fake", 200, {"X-RateLimit-Remaining": "7"}) is None


async def test_a_wait_beyond_max_wait_raises_retry_later_and_reserves_nothing(
    kind: str, redis_url: str | None
) -> None:
    pacer = make_pacer(kind, FAST, redis_url, max_wait=0.2)
    try:
        await pacer.pause("fake", 5)
        with pytest.raises(BudgetExhausted) as raised:
            await pacer.acquire("fake", "late")
        assert isinstance(raised.value, RetryLater)
        assert 4 < raised.value.seconds <= 5
        await pacer.pause("fake", 0)  # no-op: a pause never shortens an earlier one
        with pytest.raises(BudgetExhausted):
            await pacer.acquire("fake", "late")
    finally:
        await pacer.aclose()


async def test_the_daily_budget_stops_requests_until_its_oldest_bucket_expires(
    kind: str, redis_url: str | None
) -> None:
    budget = Budget("fake", limit=1000, window_seconds=1.0, daily_limit=5, day_seconds=2.4)
    pacer = make_pacer(kind, budget, redis_url, max_wait=0.05)
    try:
        for _ in range(5):
            await pacer.acquire("fake", "daily")
        with pytest.raises(BudgetExhausted) as raised:
            await pacer.acquire("fake", "daily")
        # Counted in 0.1-s buckets over 2.4 s (+1 bucket): free again within 2.6 s.
        assert 2.2 <= raised.value.seconds <= 2.6
    finally:
        await pacer.aclose()


async def test_a_small_consumer_is_not_starved_by_a_large_backfill(pacer: Pacer) -> None:
    grants: list[str] = []

    async def consumer(key: str, count: int) -> None:
        for _ in range(count):
            await pacer.acquire("fake", key)
            grants.append(key)

    backfill = [asyncio.create_task(consumer("backfill", 100)) for _ in range(8)]
    await asyncio.sleep(0.3)  # the backfill has the budget to itself for a while
    await consumer("small", 5)
    for task in backfill:
        task.cancel()
    await asyncio.gather(*backfill, return_exceptions=True)

    first, last = grants.index("small"), len(grants) - 1 - grants[::-1].index("small")
    during = grants[first : last + 1]
    # Served first-come, the eight backfill callers would take 8 slots per small one; fair
    # sharing alternates them.
    assert during.count("small") == 5
    assert during.count("backfill") <= 6
    assert grants[:first].count("backfill") >= 3  # and alone, the backfill ran at full rate


async def test_an_unreachable_redis_fails_closed() -> None:
    from redis.asyncio import Redis

    pacer = RedisPacer(
        Redis.from_url("redis://127.0.0.1:1/0"), "somna-test:", {"fake": FAST}, max_wait=1
    )
    try:
        with pytest.raises(PacerUnavailable):
            await pacer.acquire("fake", "x")
    finally:
        await pacer.aclose()


async def test_unknown_providers_are_refused(pacer: Pacer) -> None:
    with pytest.raises(LookupError):
        await pacer.acquire("nobody", "x")


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (429, {"Retry-After": "12"}, 12.0),
        (429, {"retry-after": "3", "X-RateLimit-Reset": "9"}, 3.0),
        (429, {"X-RateLimit-Reset": "9"}, 9.0),
        (429, {}, 60.0),
        (200, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "4"}, 4.0),
        (200, {"X-RateLimit-Remaining": "5", "X-RateLimit-Reset": "4"}, None),
        (429, {"Retry-After": "not a number"}, 60.0),
        (429, {"Retry-After": "-5"}, 0.0),
        (429, {"Retry-After": "99999999"}, 86_400.0),
    ],
)
def test_pause_for_reads_the_reset_a_response_announces(
    status: int, headers: dict[str, str], expected: float | None
) -> None:
    assert pause_for(status, headers) == expected


async def test_a_pause_also_holds_slots_reserved_before_it(pacer: Pacer) -> None:
    times: list[float] = []
    callers = [asyncio.create_task(grab(pacer, f"r{i}", 3, times)) for i in range(10)]
    await asyncio.sleep(0.2)  # callers hold reservations they are sleeping to
    await pacer.pause("fake", 0.6)
    paused_at = time.monotonic()
    await asyncio.gather(*callers)
    assert len(times) == 30
    assert [t for t in times if paused_at + 0.02 < t < paused_at + 0.59] == []


def test_pause_for_reads_a_retry_after_given_as_an_http_date() -> None:
    """An HTTP date has a comma of its own ("Thu, 03 Dec ..."): splitting repeated values on
    commas first read it as no wait at all, and the pacer fell back to its default."""
    later = utc_now() + timedelta(seconds=120)
    paused = pause_for(429, {"Retry-After": format_datetime(later, usegmt=True)})
    assert paused is not None
    assert 100 <= paused <= 120
