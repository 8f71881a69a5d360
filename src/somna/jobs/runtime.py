"""Wiring: the queue adapter and pacer chosen by settings, and the worker that runs tasks.

Used by the app lifespan (``somna serve``: enqueue, and in the embedded mode run jobs too) and
by ``somna worker`` (run jobs only).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from somna.config import Settings
from somna.jobs.port import JobQueue, WorkerServices
from somna.jobs.registry import TaskRegistry, load_task_modules
from somna.sync.pacer import Pacer, create_pacer

log = structlog.get_logger(__name__)


def create_job_queue(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    registry: TaskRegistry | None = None,
) -> JobQueue:
    """The adapter ``settings.job_backend`` names, over every registered task."""
    registry = registry if registry is not None else load_task_modules()
    if settings.job_backend == "procrastinate":
        from somna.jobs.distributed import ProcrastinateQueue

        return ProcrastinateQueue(settings, registry)
    from somna.jobs.embedded import EmbeddedQueue

    return EmbeddedQueue(settings, registry, sessionmaker)


class JobRuntime:
    """One process's queue, pacer and (optionally) background worker."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        registry: TaskRegistry | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self.settings = settings
        self.queue = create_job_queue(settings, sessionmaker, registry)
        self.pacer = pacer if pacer is not None else create_pacer(settings)
        self.services = WorkerServices(settings, sessionmaker, self.pacer)
        self._stop = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None

    async def start(self, *, background_worker: bool = False) -> None:
        try:
            await self.queue.open()
        except Exception as exc:
            # The API must come up (and say 503 on /health) while the database is away; the
            # queue opens itself on first use.
            log.warning("jobs.queue_unavailable", error=f"{type(exc).__name__}: {exc}")
        if background_worker:
            self._worker = asyncio.create_task(self._run_background())

    async def _run_background(self) -> None:
        try:
            await self.run_worker(self.settings.worker_concurrency, self._stop)
        except Exception:
            log.exception("worker.crashed")
            raise

    async def run_worker(self, concurrency: int, stop: asyncio.Event) -> None:
        await self.queue.run_worker(self.services, concurrency=concurrency, stop=stop)

    async def run_until_idle(self) -> int:
        """Run every due job in this process, then return how many ran (tests, scripts)."""
        return await self.queue.run_until_idle(self.services)

    async def aclose(self) -> None:
        self._stop.set()
        if self._worker is not None:
            with contextlib.suppress(Exception):
                await self._worker
            self._worker = None
        await self.queue.close()
        await self.pacer.aclose()
        for resource in list(self.services.state.values()):
            closer: Any = getattr(resource, "aclose", None)
            if closer is not None:
                with contextlib.suppress(Exception):
                    await closer()
        self.services.state.clear()


async def run_worker_process(
    settings: Settings, *, concurrency: int, registry: TaskRegistry | None = None
) -> None:
    """``somna worker``: run jobs until SIGINT or SIGTERM, then stop gracefully."""
    from somna.db import create_engine, create_sessionmaker
    from somna.logging import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    engine = create_engine(settings.database_url)
    runtime = JobRuntime(settings, create_sessionmaker(engine), registry=registry)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await runtime.start()
        await runtime.run_worker(concurrency, stop)
    finally:
        await runtime.aclose()
        await engine.dispose()
