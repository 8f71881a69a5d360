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
import psycopg
import structlog
from procrastinate import exceptions as procrastinate_errors
from procrastinate import jobs as procrastinate_jobs
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from procrastinate.schema import SchemaManager
from sqlalchemy import DateTime, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
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

log = structlog.get_logger(__name__)

JANITOR_TASK = "somna.jobs.retry_stalled"
# Above every Somna task, so recovery never queues behind the backlog it is meant to unblock.
JANITOR_PRIORITY = 1_000
# A per-job max_attempts travels in the job's kwargs (Procrastinate has no such column).
MAX_ATTEMPTS_ARG = "_somna_max_attempts"
_SCHEMA_LOCK = 0x50524F43  # advisory lock id: "PROC"
_STATUSES: dict[str, JobStatus] = {
    "todo": "queued",
    "doing": "running",
    "succeeded": "succeeded",
    "failed": "failed",
    "cancelled": "failed",
    "aborted": "failed",
}


# ``RetryLater`` is a pause, not an attempt: Procrastinate's retry adds one to ``attempts``, so
# Somna gives it back first (the job is still ``doing`` and this worker's), and both adapters
# count only the runs that ended in an error. The row is the job's own counter either way.
_REFUND_ATTEMPT = """
UPDATE procrastinate_jobs SET attempts = attempts - 1 WHERE id = %(job_id)s AND status = 'doing'
"""

# A stalled job goes back to ``todo``; if a newer job with its queueing lock waits there already,
# the unique index refuses it. Like the embedded adapter, the retry then goes back without the
# queueing lock: a retry is never dropped, and the lock still serialises the two.
_DROP_QUEUEING_LOCK = """
UPDATE procrastinate_jobs SET queueing_lock = NULL WHERE id = %(job_id)s AND status = 'doing'
"""

# Procrastinate's own SQL API for deferring (the function its Python client calls), run on
# Somna's session so that it commits with the outbox relay's transaction.
_DEFER = text(
    """
    SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(
        CAST(:queue_name AS varchar), CAST(:task_name AS varchar), CAST(:priority AS integer),
        CAST(:lock AS text), CAST(:queueing_lock AS text), CAST(:args AS jsonb),
        CAST(:scheduled_at AS timestamptz)
    )::procrastinate_job_to_defer_v1])
    """
).bindparams(bindparam("args", type_=JSONB), bindparam("scheduled_at", type_=DateTime(True)))

_RUNNABLE_LEFT = """
SELECT EXISTS (
    SELECT 1 FROM procrastinate_jobs j
     WHERE j.status = 'todo'
       AND (j.scheduled_at IS NULL OR j.scheduled_at <= now())
       AND (j.lock IS NULL OR NOT EXISTS (
            SELECT 1 FROM procrastinate_jobs d WHERE d.status = 'doing' AND d.lock = j.lock))
) AS runnable
"""


def libpq_url(database_url: str) -> str:
    """The SQLAlchemy URL (``postgresql+asyncpg://``) as a libpq connection string."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError("Procrastinate needs a PostgreSQL database")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def ensure_schema(database_url: str) -> bool:
    """Create Procrastinate's tables if they are missing; ``True`` when it created them.

    Safe to run from every process at start: an advisory lock serialises the check.
    """
    connect = psycopg.AsyncConnection.connect
    async with await connect(libpq_url(database_url)) as connection, connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        cursor = await connection.execute("SELECT to_regclass('procrastinate_jobs')")
        row = await cursor.fetchone()
        if row is not None and row[0] is not None:
            return False
        await connection.execute(SchemaManager.get_schema())
    log.info("jobs.procrastinate_schema_created")
    return True


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
            await self.app.connector.execute_query_async(_REFUND_ATTEMPT, job_id=context.job.id)
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
        # goes. A queued job holding the queueing lock refuses the insert: a savepoint keeps
        # that from spoiling the relay's other deliveries.
        job = self._deferrer(request).job
        values = {
            "queue_name": job.queue,
            "task_name": job.task_name,
            "priority": job.priority,
            "lock": job.lock,
            "queueing_lock": job.queueing_lock,
            "args": job.task_kwargs,
            "scheduled_at": job.scheduled_at,
        }
        try:
            async with session.begin_nested():
                await session.execute(_DEFER, values)
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
            await self.app.connector.execute_query_async(_DROP_QUEUEING_LOCK, job_id=job.id)
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
            row = await self.app.connector.execute_query_one_async(_RUNNABLE_LEFT)
            if not row["runnable"]:
                return self._runs - before
