"""Wiring: the queue adapter and pacer chosen by settings, and the worker that runs tasks.

Used by the app lifespan (``somna serve``: enqueue, and in the embedded mode run jobs too) and
by ``somna worker`` (run jobs only).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass
from typing import Any, Literal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from somna.config import Settings
from somna.jobs.port import JobQueue, WorkerServices, backoff_seconds
from somna.jobs.registry import TaskRegistry, load_task_modules
from somna.pacing import Pacer, create_pacer

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

        return ProcrastinateQueue(settings, registry, sessionmaker)
    from somna.jobs.embedded import EmbeddedQueue

    return EmbeddedQueue(settings, registry, sessionmaker)


@dataclass
class WorkerHealth:
    """The in-process worker as ``/health`` reports it: ``ok`` while it runs, ``degraded``
    while it waits to restart after a crash, ``unavailable`` while it waits after crashing
    ``SOMNA_WORKER_RESTART_LIMIT`` times in a row (it keeps trying, with backoff)."""

    status: Literal["ok", "degraded", "unavailable"] = "ok"
    restarts: int = 0
    failures: int = 0  # crashes in a row, each soon after its restart


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
        self.worker_health: WorkerHealth | None = None

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
        """The in-process worker, restarted with backoff whenever it dies unexpectedly."""
        health = self.worker_health = WorkerHealth()
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            started = loop.time()
            health.status = "ok"
            try:
                await self.run_worker(self.settings.worker_concurrency, self._stop)
                return
            except Exception:
                if loop.time() - started >= self.settings.worker_restart_max_seconds:
                    health.failures = 0  # it ran well for a while: a new crash, not a loop
                health.failures += 1
                health.restarts += 1
                delay = backoff_seconds(
                    health.failures,
                    self.settings.worker_restart_base_seconds,
                    self.settings.worker_restart_max_seconds,
                )
                gave_up = health.failures >= self.settings.worker_restart_limit
                health.status = "unavailable" if gave_up else "degraded"
                log.exception(
                    "worker.crashed",
                    restarts=health.restarts,
                    consecutive=health.failures,
                    restart_in=round(delay, 3),
                    status=health.status,
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)

    async def run_worker(self, concurrency: int, stop: asyncio.Event) -> None:
        await self._relay_leftovers()
        await self.queue.run_worker(self.services, concurrency=concurrency, stop=stop)

    async def run_until_idle(self) -> int:
        """Run every due job in this process, then return how many ran (tests, scripts)."""
        return await self.queue.run_until_idle(self.services)

    async def _relay_leftovers(self) -> None:
        # Jobs whose hand-off failed while no worker ran go out now, not at the next tick.
        try:
            await self.queue.relay_outbox()
        except Exception as exc:
            log.warning("jobs.outbox_relay_failed", error=f"{type(exc).__name__}: {exc}")

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
