"""The embedded adapter: the ``jobs`` table in Somna's own database and an asyncio worker.

Liveness is a lease the running worker renews (a heartbeat every third of the lease): a job
is taken from a worker only when that worker stopped renewing, never because it runs long.
The partial unique indexes of the table make "one queued job per dedup key" and "one running
job per lock key" hold even with several worker processes on one database.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from datetime import datetime, timedelta

import structlog
from croniter import croniter
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from somna.config import Settings
from somna.errors import describe
from somna.jobs.port import (
    Deferred,
    JobInfo,
    JobQueue,
    JobRequest,
    RetryLater,
    WorkerServices,
    backoff_seconds,
)
from somna.jobs.registry import PeriodicSpec, TaskRegistry
from somna.jobs.repository import ClaimedJob, JobRepository, ScheduleRepository
from somna.kit.time import utc_now

log = structlog.get_logger(__name__)


def next_fire(cron: str, after: datetime) -> datetime:
    fire: datetime = croniter(cron, after).get_next(datetime)
    return fire


class EmbeddedQueue(JobQueue):
    backend = "embedded"

    def __init__(
        self,
        settings: Settings,
        registry: TaskRegistry,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        super().__init__(settings, registry, sessionmaker)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease = timedelta(seconds=settings.job_lease_seconds)
        self._wake: asyncio.Event | None = None

    @property
    def wake(self) -> asyncio.Event:
        # Created on first use so it belongs to the running event loop.
        if self._wake is None:
            self._wake = asyncio.Event()
        return self._wake

    async def _delivered(self) -> None:
        self.wake.set()

    async def deliver_in(self, session: AsyncSession, request: JobRequest) -> None:
        await JobRepository(session).insert(request)

    async def _defer(self, request: JobRequest) -> Deferred:
        async with self.sessionmaker() as session, session.begin():
            job_id = await JobRepository(session).insert(request)
        self.wake.set()
        return Deferred(None if job_id is None else str(job_id))

    async def get_job(self, job_id: str) -> JobInfo | None:
        try:
            key = uuid.UUID(job_id)
        except ValueError:
            return None
        async with self.sessionmaker() as session:
            job = await JobRepository(session).get_unscoped(key)
        if job is None:
            return None
        return JobInfo(
            id=str(job.id),
            task=job.task_name,
            status=job.status,  # type: ignore[arg-type]  # the check constraint keeps it known
            attempts=job.attempts,
            args=dict(job.args),
            last_error=job.last_error,
        )

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def prune(self, older_than: timedelta) -> int:
        async with self.sessionmaker() as session, session.begin():
            return await JobRepository(session).prune(utc_now() - older_than)

    async def run_worker(
        self, context: WorkerServices, *, concurrency: int, stop: asyncio.Event
    ) -> None:
        await _Worker(self, context, concurrency).run(stop)

    async def run_until_idle(self, context: WorkerServices) -> int:
        return await _Worker(self, context, self.settings.worker_concurrency).run(
            asyncio.Event(), until_idle=True
        )


class _Worker:
    """Claims jobs into ``concurrency`` slots, renews their leases, records outcomes."""

    def __init__(self, queue: EmbeddedQueue, services: WorkerServices, concurrency: int) -> None:
        self.queue = queue
        self.services = services
        self.concurrency = concurrency
        self.settings = queue.settings
        self.sessionmaker = queue.sessionmaker
        self.worker_id = queue.worker_id
        self.running: set[asyncio.Task[None]] = set()

    async def run(self, stop: asyncio.Event, *, until_idle: bool = False) -> int:
        self.queue.registry.check()
        loop = asyncio.get_running_loop()
        poll = self.settings.job_poll_seconds
        next_housekeeping = 0.0
        started = 0
        log.info("worker.started", backend="embedded", worker=self.worker_id)
        try:
            while not stop.is_set():
                self.queue.wake.clear()
                if loop.time() >= next_housekeeping:
                    await self._housekeeping()
                    next_housekeeping = loop.time() + poll
                claimed = 0
                while len(self.running) < self.concurrency:
                    job = await self._claim()
                    if job is None:
                        break
                    claimed += 1
                    task = asyncio.create_task(self._execute(job))
                    self.running.add(task)
                    task.add_done_callback(self._finished)
                started += claimed
                if until_idle and not claimed and not self.running:
                    break
                await self._wait(stop, poll)
        finally:
            await self._drain()
            log.info("worker.stopped", backend="embedded", worker=self.worker_id, ran=started)
        return started

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.running.discard(task)
        self.queue.wake.set()

    async def _wait(self, stop: asyncio.Event, seconds: float) -> None:
        waiters = {
            asyncio.ensure_future(self.queue.wake.wait()),
            asyncio.ensure_future(stop.wait()),
        }
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _drain(self) -> None:
        """Let running jobs finish for one lease, then cancel them back into the queue."""
        if not self.running:
            return
        _, pending = await asyncio.wait(set(self.running), timeout=self.queue.lease.total_seconds())
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def _claim(self) -> ClaimedJob | None:
        try:
            async with self.sessionmaker() as session, session.begin():
                return await JobRepository(session).claim(self.worker_id, self.queue.lease)
        except IntegrityError:
            # PostgreSQL: another worker took a job with the same lock key at the same
            # instant; the unique index refused ours. Try again on the next round.
            return None
        except OperationalError as exc:
            log.warning("worker.claim_failed", error=describe(exc))
            return None

    async def _housekeeping(self) -> None:
        try:
            async with self.sessionmaker() as session, session.begin():
                failed = await JobRepository(session).fail_abandoned()
            if failed:
                log.warning("worker.abandoned_jobs_failed", count=failed)
            await self._fire_schedules()
        except (OperationalError, IntegrityError) as exc:
            log.warning("worker.housekeeping_failed", error=describe(exc))

    async def _fire_schedules(self) -> None:
        specs = self.queue.registry.periodic_specs
        if not specs:
            return
        now = utc_now()
        async with self.sessionmaker() as session, session.begin():
            schedules = ScheduleRepository(session)
            rows = await schedules.all()
            for name, spec in specs.items():
                if name not in rows:
                    await schedules.create(name, spec.cron, next_fire(spec.cron, now))
        for name, spec in specs.items():
            row = rows.get(name)
            if row is None:
                continue
            if row.cron != spec.cron or row.next_run_at <= now:
                await self._fire(spec, row.next_run_at, fire=row.cron == spec.cron, now=now)

    async def _fire(self, spec: PeriodicSpec, due: datetime, *, fire: bool, now: datetime) -> None:
        # Missed ticks (the machine was off) fire once, then the schedule continues from now.
        async with self.sessionmaker() as session, session.begin():
            won = await ScheduleRepository(session).advance(
                spec.name,
                expected=due,
                next_run_at=next_fire(spec.cron, now),
                cron=spec.cron,
                fired=fire,
            )
            if won and fire:
                request = self.queue.request(
                    spec.task, spec.args, dedup_key=spec.dedup_key, priority=spec.priority
                )
                await JobRepository(session).insert(request)
                log.info("worker.periodic_enqueued", schedule=spec.name, task=spec.task)

    async def _execute(self, job: ClaimedJob) -> None:
        lost = asyncio.Event()
        current = asyncio.current_task()
        assert current is not None
        heartbeat = asyncio.create_task(self._heartbeat(job, current, lost))
        log.info("job.started", job_id=str(job.id), task=job.task, attempt=job.attempts)
        try:
            spec = self.queue.registry.get(job.task)
            context = self.services.context(
                self.queue,
                job_id=str(job.id),
                task=job.task,
                attempt=job.attempts,
                max_attempts=job.max_attempts,
            )
            await spec.run(context, job.args)
        except asyncio.CancelledError:
            if not lost.is_set():
                # Stopped by shutdown, not by the job: back to the queue, attempt refunded.
                await self._requeue(job, utc_now(), "worker stopped", refund=True)
            raise
        except RetryLater as later:
            run_at = utc_now() + timedelta(seconds=later.seconds)
            await self._requeue(job, run_at, later.reason, refund=True)
            log.info("job.retry_later", job_id=str(job.id), task=job.task, seconds=later.seconds)
        except Exception as exc:
            await self._failed(job, exc)
        else:
            await self._succeed(job)
            log.info("job.succeeded", job_id=str(job.id), task=job.task, attempt=job.attempts)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _failed(self, job: ClaimedJob, exc: Exception) -> None:
        error = describe(exc)
        if job.attempts >= job.max_attempts:
            async with self.sessionmaker() as session, session.begin():
                await JobRepository(session).fail(job.id, self.worker_id, error)
            log.error("job.failed", job_id=str(job.id), task=job.task, error=error)
            return
        delay = backoff_seconds(
            job.attempts, self.settings.job_retry_base_seconds, self.settings.job_retry_max_seconds
        )
        await self._requeue(job, utc_now() + timedelta(seconds=delay), error, refund=False)
        log.warning(
            "job.retrying",
            job_id=str(job.id),
            task=job.task,
            attempt=job.attempts,
            retry_in=round(delay, 3),
            error=error,
        )

    async def _requeue(
        self, job: ClaimedJob, run_at: datetime, error: str, *, refund: bool
    ) -> None:
        for drop_dedup_key in (False, True):
            try:
                async with self.sessionmaker() as session, session.begin():
                    await JobRepository(session).requeue(
                        job.id,
                        self.worker_id,
                        run_at=run_at,
                        error=error,
                        refund_attempt=refund,
                        drop_dedup_key=drop_dedup_key,
                    )
                return
            except IntegrityError:
                continue

    async def _succeed(self, job: ClaimedJob) -> None:
        async with self.sessionmaker() as session, session.begin():
            done = await JobRepository(session).succeed(job.id, self.worker_id)
        if not done:
            log.warning("job.lease_lost_before_success", job_id=str(job.id), task=job.task)

    async def _heartbeat(
        self, job: ClaimedJob, task: asyncio.Task[None], lost: asyncio.Event
    ) -> None:
        interval = self.queue.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            try:
                async with self.sessionmaker() as session, session.begin():
                    mine = await JobRepository(session).renew(
                        job.id, self.worker_id, self.queue.lease
                    )
            except OperationalError as exc:
                log.warning("job.heartbeat_failed", job_id=str(job.id), error=describe(exc))
                continue
            if not mine:
                # Another worker reclaimed the job (this one stalled past its lease): stop
                # rather than run it twice at once.
                log.error("job.lease_lost", job_id=str(job.id), task=job.task)
                lost.set()
                task.cancel()
                return
