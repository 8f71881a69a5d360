"""What identity and access keep on ``app.state`` for the app's lifetime: the Redis client
(when configured), the rate limiter, the signature replay cache and the API-key cache."""

from __future__ import annotations

from fastapi import FastAPI
from redis.asyncio import Redis

from somna.config import Settings
from somna.keys.service import KeyCache
from somna.keys.signing import MemoryReplayCache, RedisReplayCache, ReplayCache
from somna.ratelimit import create_limiter, create_redis


def open_access_state(app: FastAPI, settings: Settings) -> None:
    redis: Redis | None = None
    if settings.redis_url:
        redis = create_redis(settings.redis_url)
    app.state.redis = redis
    app.state.rate_limiter = create_limiter(redis, settings.redis_prefix)
    replay: ReplayCache = (
        RedisReplayCache(redis, settings.redis_prefix) if redis else MemoryReplayCache()
    )
    app.state.replay_cache = replay
    app.state.api_key_cache = KeyCache(ttl=settings.api_key_cache_seconds)


async def close_access_state(app: FastAPI) -> None:
    await app.state.rate_limiter.close()
    redis: Redis | None = app.state.redis
    if redis is not None:
        await redis.aclose()
