"""The pacer settings ask for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import structlog

from somna.pacing.budget import Budget, provider_budgets
from somna.pacing.memory import MemoryPacer
from somna.pacing.port import Pacer
from somna.pacing.redis import RedisPacer

if TYPE_CHECKING:
    from somna.config import Settings

log = structlog.get_logger(__name__)


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
