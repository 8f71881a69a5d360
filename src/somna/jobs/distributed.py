"""The distributed adapter: Procrastinate on PostgreSQL, for any number of worker processes.

Lock and dedup keys become Procrastinate's ``lock`` and ``queueing_lock``. Procrastinate only
*detects* jobs of dead workers; ``somna.jobs.retry_stalled`` (a periodic task with the highest
priority, also run once when a worker starts) puts them back in the queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import procrastinate
import structlog
from procrastinate import exceptions as procrastinate_errors
from procrastinate import jobs as procrastinate_jobs
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from somna.config import Settings
from somna.jobs.port import (
    Deferred,
    JobInfo,
    JobQueue,
    JobRequest,
    JobStatus,
    RetryLater,
    WorkerServices,
    backoff_seconds,
)
from somna.jobs.registry import PeriodicSpec, TaskRegistry, TaskSpec
from somna.jobs.repository import (
    ProcrastinateJobRepository,
    ProcrastinateRows,
    ensure_schema,
    libpq_url,
)

log = structlog.get_logger(__name__)

JANITOR_TASK = "somna.jobs.retry_stalled"
# Above every Somna task, so recovery never queues behind the backlog it is meant to unblock.
JANITOR_PRIORITY = 1_000
# A per-job max_attempts travels in the job's kwargs (Procrastinate has no such column).
MAX_ATTEMPTS_ARG = "_somna_max_attempts"
_STATUSES: dict[str, JobStatus] = {
    "todo": "queued",
    "doing": "running",
    "succeeded": "succeeded",
    "failed": "failed",
    "cancelled": "failed",
    "aborted": "failed",
}


def stalled_check_cron(seconds: int) -> str:
    # Procrastinate reads an optional sixth column as seconds.
    return "* * * * *" if seconds >= 60 else f"* * * * * */{seconds}"


def _retry_in(seconds: float) -> RetryDecision:
    return RetryDecision(retry_in={"seconds": round(seconds, 3)})  # type: ignore[call-overload,no-any-return]


def _max_attempts(kwargs: Mapping[str, Any], default: int) -> int:
    value = kwargs.get(MAX_ATTEMPTS_ARG, default)
    return value if isinstance(value, int) else default


class _Retry(BaseRetryStrategy):
    """Exponential backoff with jitter; ``RetryLater`` always retries at its own delay."""

    def __init__(self, spec: TaskSpec, settings: Settings) -> None:
        self.spec = spec
        self.settings = settings

    def get_retry_decision(
        self, *, exception: BaseException, job: procrastinate_jobs.Job
    ) -> RetryDecision | None:
        if isinstance(exception, RetryLater):
            return _retry_in(exception.seconds)
        if not isinstance(exception, Exception):
            return None
        attempt = job.attempts + 1  # Procrastinate counts earlier attempts only
        if attempt >= _max_attempts(job.task_kwargs, self.spec.max_attempts):
            return None
        delay = backoff_seconds(
            attempt, self.settings.job_retry_base_seconds, self.settings.job_retry_max_seconds
        )
        return _retry_in(delay)


class ProcrastinateQueue(JobQueue):
    backend = "procrastinate"

    def __init__(
        self,
        settings: Settings,
        registry: TaskRegistry,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        super().__init__(settings, registry, sessionmaker)
        connector = procrastinate.PsycopgConnector(
            conninfo=libpq_url(settings.database_url),
            min_size=1,
            max_size=max(4, settings.worker_concurrency + 2),
        )
        self.app = procrastinate.App(connector=connector)
        self._services: WorkerServices | None = None
        self._opened = False
        self._opening = asyncio.Lock()
        self._runs = 0
        for spec in registry.tasks.values():
            self._register_task(spec)
        for periodic in registry.periodic_specs.values():
            self._register_periodic(periodic)
        self._register_janitor()

    # --- registration ----------------------------------------------------------------------

    async def _run(
        self,
        spec: TaskSpec,
        context: procrastinate.JobContext,
        max_attempts: int,
        args: Mapping[str, Any],
    ) -> None:
        try:
            await spec.run(self._context(context, spec.name, max_attempts), args)
        except RetryLater:
            # A pause, not an attempt: Procrastinate's retry adds one to ``attempts``, so it is
            # given back first (the job is still ``doing`` and this worker's), and both
            # adapters count only the runs that ended in an error.
            await ProcrastinateRows(self.app.connector).refund_attempt(context.job.id)
            raise

    def _register_task(self, spec: TaskSpec) -> None:
        async def run(context: procrastinate.JobContext, /, **kwargs: Any) -> None:
            max_attempts = int(kwargs.pop(MAX_ATTEMPTS_ARG, spec.max_attempts))
            await self._run(spec, context, max_attempts, kwargs)

        self.app.task(
            name=spec.name,
            pass_context=True,
            retry=_Retry(spec, self.settings),
            priority=spec.priority,
        )(run)

    def _register_periodic(self, periodic: PeriodicSpec) -> None:
        spec = self.registry.get(periodic.task)

        async def run(context: procrastinate.JobContext, timestamp: int) -> None:
            await self._run(spec, context, spec.max_attempts, periodic.args)

        task = self.app.task(
            name=f"periodic.{periodic.name}",
            pass_context=True,
            retry=_Retry(spec, self.settings),
            priority=periodic.priority if periodic.priority is not None else spec.priority,
            queueing_lock=periodic.dedup_key,
        )(run)
        self.app.periodic(cron=periodic.cron, periodic_id=periodic.name)(task)

    def _register_janitor(self) -> None:
        async def retry_stalled(context: procrastinate.JobContext, timestamp: int) -> None:
            await self.retry_stalled_jobs()

        task = self.app.task(
            name=JANITOR_TASK,
            pass_context=True,
            priority=JANITOR_PRIORITY,
            queueing_lock=JANITOR_TASK,
        )(retry_stalled)
        cron = stalled_check_cron(self.settings.job_stalled_check_seconds)
        self.app.periodic(cron=cron, periodic_id="stalled")(task)

    def _context(self, context: procrastinate.JobContext, task: str, max_attempts: int) -> Any:
        if self._services is None:
            raise RuntimeError("a Procrastinate job ran outside a Somna worker")
        job = context.job
        self._runs += 1
        return self._services.context(
            self,
            job_id=str(job.id),
            task=task,
            attempt=job.attempts + 1,
            max_attempts=max_attempts,
        )

    # --- the port --------------------------------------------------------------------------

    def _deferrer(self, request: JobRequest) -> Any:
        args = dict(request.args)
        spec = self.registry.get(request.task)
        if request.max_attempts != spec.max_attempts:
            args[MAX_ATTEMPTS_ARG] = request.max_attempts
        return self.app.configure_task(
            request.task,
            lock=request.lock_key,
            queueing_lock=request.dedup_key,
            priority=request.priority,
            schedule_at=request.run_at,
            task_kwargs=args,
        )

    async def _defer(self, request: JobRequest) -> Deferred:
        await self.open()
        try:
            job_id = await self._deferrer(request).defer_async()
        except procrastinate_errors.AlreadyEnqueued:
            return Deferred(None)
        return Deferred(str(job_id))

    async def deliver_in(self, session: AsyncSession, request: JobRequest) -> None:
        # Procrastinate's tables live in the same PostgreSQL database as the outbox, so the
        # relay inserts through its own session: the job appears exactly when the outbox row
        # goes. A queued job holding the queueing lock refuses the insert.
        job = self._deferrer(request).job
        try:
            await ProcrastinateJobRepository(session).defer(job)
        except IntegrityError:
            log.debug("jobs.outbox_deduplicated", task=request.task, key=request.dedup_key)

    async def get_job(self, job_id: str) -> JobInfo | None:
        if not job_id.isdigit():
            return None
        await self.open()
        found = list(await self.app.job_manager.list_jobs_async(id=int(job_id)))
        if not found:
            return None
        job = found[0]
        status = job.status or "todo"
        args = {k: v for k, v in job.task_kwargs.items() if k != MAX_ATTEMPTS_ARG}
        return JobInfo(
            id=str(job.id),
            task=job.task_name,
            status=_STATUSES.get(status, "failed"),
            attempts=job.attempts,
            args=args,
        )

    async def open(self) -> None:
        async with self._opening:
            if not self._opened:
                await ensure_schema(self.settings.database_url)
                await self.app.open_async()
                self._opened = True

    async def close(self) -> None:
        if self._opened:
            await self.app.close_async()
            self._opened = False

    async def prune(self, older_than: timedelta) -> int:
        await self.open()
        hours = max(1, int(older_than.total_seconds() // 3600))
        await self.app.job_manager.delete_old_jobs(
            nb_hours=hours, include_failed=True, include_cancelled=True, include_aborted=True
        )
        return 0  # Procrastinate does not report the count

    async def retry_stalled_jobs(self) -> int:
        """Requeue (or, past their last attempt, fail) jobs whose worker stopped beating."""
        await self.open()
        manager = self.app.job_manager
        stalled = await manager.get_stalled_jobs(
            seconds_since_heartbeat=self.settings.job_stalled_seconds
        )
        count = 0
        for job in stalled:
            spec = self.registry.tasks.get(job.task_name)
            limit = _max_attempts(job.task_kwargs, spec.max_attempts if spec else 5)
            if job.attempts + 1 >= limit:
                await manager.finish_job(job, procrastinate_jobs.Status.FAILED, delete_job=False)
                log.error("job.stalled_failed", job_id=job.id, task=job.task_name)
            else:
                await self._retry_stalled(job)
                log.warning("job.stalled_retried", job_id=job.id, task=job.task_name)
            count += 1
        return count

    async def _retry_stalled(self, job: procrastinate_jobs.Job) -> None:
        try:
            await self.app.job_manager.retry_job(job)
        except procrastinate_errors.UniqueViolation:
            # A newer job with its queueing lock waits already: like the embedded adapter, the
            # retry goes back without the lock (never dropped; the lock still serialises them).
            await ProcrastinateRows(self.app.connector).drop_queueing_lock(job.id)
            await self.app.job_manager.retry_job(job)

    def _worker_options(self, concurrency: int) -> dict[str, Any]:
        stalled = self.settings.job_stalled_seconds
        return {
            "concurrency": concurrency,
            "update_heartbeat_interval": max(0.2, stalled / 3),
            "stalled_worker_timeout": stalled,
            "fetch_job_polling_interval": self.settings.job_poll_seconds,
            "abort_job_polling_interval": max(self.settings.job_poll_seconds, 1.0),
            # On SIGTERM running jobs get one lease's worth of time, then go back to the queue.
            "shutdown_graceful_timeout": self.settings.job_lease_seconds,
            "install_signal_handlers": False,
        }

    async def run_worker(
        self, context: WorkerServices, *, concurrency: int, stop: asyncio.Event
    ) -> None:
        self.registry.check()
        self._services = context
        await self.open()
        recovered = await self.retry_stalled_jobs()
        log.info("worker.started", backend="procrastinate", recovered=recovered)
        worker = asyncio.create_task(self.app.run_worker_async(**self._worker_options(concurrency)))
        stopper = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({worker, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            if not worker.done():
                worker.cancel()  # Procrastinate's worker shuts down gracefully on cancel
            await asyncio.gather(worker, return_exceptions=True)
            log.info("worker.stopped", backend="procrastinate")
        if worker.done() and not worker.cancelled() and worker.exception() is not None:
            raise worker.exception()  # type: ignore[misc]

    async def run_until_idle(self, context: WorkerServices) -> int:
        self._services = context
        await self.open()
        options = self._worker_options(self.settings.worker_concurrency)
        options.update(wait=False, listen_notify=False)
        before = self._runs
        # A worker with wait=False stops when nothing is fetchable, which includes jobs that
        # wait for a lock its own jobs held: go round until no due, unlocked job is left.
        while True:
            await self.app.run_worker_async(**options)
            if not await ProcrastinateRows(self.app.connector).runnable_left():
                return self._runs - before


# The schema check and the libpq URL are the adapter's to offer (``somna db``, tests), though
# their SQL lives with the other statements in the repository.
__all__ = [
    "JANITOR_PRIORITY",
    "JANITOR_TASK",
    "MAX_ATTEMPTS_ARG",
    "ProcrastinateQueue",
    "ensure_schema",
    "libpq_url",
    "stalled_check_cron",
]
