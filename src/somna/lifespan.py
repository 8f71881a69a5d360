"""What the app opens on start and closes on stop, held on its typed state (``somna.state``).

It sits at the app layer: it is the one place that wires the services of several domains
together (keys' authenticator into auth's port, the audit writer, the job runtime).
"""

from __future__ import annotations

import structlog

from somna.audit.writer import AuditWriter
from somna.auth.credentials import KEY_AUTHENTICATOR
from somna.db import create_engine, create_sessionmaker
from somna.jobs.runtime import JobRuntime
from somna.keys.authentication import ApiKeyAuthenticator
from somna.keys.dependencies import KEY_CACHE
from somna.keys.service import KeyCache
from somna.ratelimit import create_limiter, create_redis
from somna.ratelimit.base import RateLimiter
from somna.ratelimit.http import RATE_LIMITER
from somna.ratelimit.replay import REPLAY_CACHE, create_replay_cache
from somna.state import AppState

log = structlog.get_logger(__name__)

AUDIT_WRITER = "audit_writer"
JOB_RUNTIME = "job_runtime"


async def open_state(state: AppState) -> None:
    """Engine and sessions, the audit writer, access (Redis, limiter, replay and key caches),
    then the job runtime, which may start a worker that needs all of them."""
    settings = state.settings
    state.engine = create_engine(settings.database_url)
    state.sessionmaker = create_sessionmaker(state.engine)
    audit_writer = AuditWriter(
        state.sessionmaker,
        interval=settings.audit_flush_seconds,
        batch_size=settings.audit_buffer_size,
    )
    audit_writer.start()
    state.install(AUDIT_WRITER, audit_writer)
    state.redis = create_redis(settings.redis_url) if settings.redis_url else None
    state.install(RATE_LIMITER, create_limiter(state.redis, settings.redis_prefix))
    replay_cache = create_replay_cache(state.redis, settings.redis_prefix)
    state.install(REPLAY_CACHE, replay_cache)
    key_cache = KeyCache(ttl=settings.api_key_cache_seconds)
    state.install(KEY_CACHE, key_cache)
    state.install(
        KEY_AUTHENTICATOR,
        ApiKeyAuthenticator(settings, state.sessionmaker, key_cache, replay_cache),
    )
    jobs = JobRuntime(settings, state.sessionmaker)
    await jobs.start(background_worker=settings.runs_worker_in_app)
    state.install(JOB_RUNTIME, jobs)
    # The queue and pacer by their own names too: tests and the demo reach for them.
    state.install("jobs", jobs.queue)
    state.install("pacer", jobs.pacer)


async def close_state(state: AppState) -> None:
    """Requests are over: the buffered audit reads are written before anything closes."""
    audit_writer = state.service(AUDIT_WRITER, AuditWriter)
    try:
        await audit_writer.aclose()
    except Exception:  # the database is gone: say how much was lost, close the rest
        log.exception("audit.final_flush_failed", lost=audit_writer.pending)
    await state.service(JOB_RUNTIME, JobRuntime).aclose()
    await state.service(RATE_LIMITER, RateLimiter).close()
    if state.redis is not None:
        await state.redis.aclose()
    await state.engine.dispose()
