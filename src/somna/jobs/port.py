"""The job-queue port: what domain code and tasks see, whichever adapter runs underneath."""

from __future__ import annotations

import asyncio
import random
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import structlog
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.util import await_only

from somna.jobs.registry import TaskRegistry, TaskSpec
from somna.kit.retry import RetryLater
from somna.kit.time import utc_now

if TYPE_CHECKING:
    from somna.config import Settings
    from somna.pacing import Pacer

log = structlog.get_logger(__name__)

JobStatus = Literal["queued", "running", "succeeded", "failed"]


@dataclass(frozen=True)
class JobRequest:
    """One job to enqueue: the task, its JSON arguments and the resolved options."""

    task: str
    args: dict[str, Any]
    lock_key: str | None
    dedup_key: str | None
    priority: int
    run_at: datetime | None
    max_attempts: int


@dataclass(frozen=True)
class Deferred:
    """What ``defer`` did: the job's id, or ``None`` when a queued job had the dedup key."""

    job_id: str | None

    @property
    def deduplicated(self) -> bool:
        return self.job_id is None


@dataclass(frozen=True)
class JobInfo:
    id: str
    task: str
    status: JobStatus
    attempts: int
    args: dict[str, Any]
    last_error: str | None = None


@dataclass
class JobContext:
    """Handed to every task: who it is, and the process's shared services."""

    job_id: str
    task: str
    attempt: int  # 1 on the first run
    max_attempts: int
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    queue: JobQueue
    pacer: Pacer
    # Per-process scratch space for services tasks share (an HTTP client, a cache).
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def is_last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with jitter: ``base * 2**(attempt-1)``, capped, then 50-100 % of it.

    The jitter keeps jobs that failed together (a provider outage) from retrying in lockstep.
    """
    exponent = min(max(attempt - 1, 0), 32)
    delay = min(cap, base * float(1 << exponent))
    jitter: float = random.uniform(0.5, 1.0)
    return delay * jitter


class JobQueue(ABC):
    """The port. ``enqueue`` after the caller's commit; ``defer`` right now."""

    backend: str

    def __init__(
        self,
        settings: Settings,
        registry: TaskRegistry,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        self.settings = settings
        self.registry = registry
        # Somna's own database: the outbox lives there, whichever adapter runs the jobs.
        self.sessionmaker = sessionmaker

    def request(
        self,
        task: str,
        args: Mapping[str, Any] | None = None,
        *,
        lock_key: str | None = None,
        dedup_key: str | None = None,
        priority: int | None = None,
        run_at: datetime | None = None,
        delay: float | None = None,
        max_attempts: int | None = None,
    ) -> JobRequest:
        """Resolve options: explicit values win over the task's registered templates."""
        spec: TaskSpec = self.registry.get(task)
        arguments = dict(args or {})
        if delay is not None:
            run_at = utc_now() + timedelta(seconds=delay)
        return JobRequest(
            task=task,
            args=arguments,
            lock_key=lock_key if lock_key is not None else spec.lock_key(arguments),
            dedup_key=dedup_key if dedup_key is not None else spec.dedup_key(arguments),
            priority=priority if priority is not None else spec.priority,
            run_at=run_at,
            max_attempts=max_attempts if max_attempts is not None else spec.max_attempts,
        )

    async def enqueue(
        self,
        session: AsyncSession,
        task: str,
        args: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        """Enqueue within ``session``'s transaction: the job is written to the outbox with the
        caller's data (dropped on rollback) and handed to the queue once the caller commits;
        if that hand-off fails, the periodic relay delivers it later."""
        from somna.jobs import outbox

        outbox_id = await outbox.stage(session, self.request(task, args, **options))

        async def send() -> None:
            await self.relay_outbox([outbox_id])

        after_commit(session, send)

    async def relay_outbox(self, ids: Sequence[uuid.UUID] | None = None) -> int:
        """Hand waiting outbox jobs (only ``ids``, or all) to the queue, each exactly once."""
        from somna.jobs import outbox

        await self.open()
        delivered = await outbox.relay(self, ids)
        if delivered:
            await self._delivered()
        return delivered

    async def _delivered(self) -> None:
        """Called after a relay handed jobs over (the embedded adapter wakes its worker)."""
        return None

    async def defer(
        self, task: str, args: Mapping[str, Any] | None = None, **options: Any
    ) -> Deferred:
        """Enqueue now, in a transaction of its own."""
        return await self._defer(self.request(task, args, **options))

    @abstractmethod
    async def deliver_in(self, session: AsyncSession, request: JobRequest) -> None:
        """Put ``request`` in the queue within ``session``'s transaction (the outbox relay's);
        a queued job with the same dedup key makes it a no-op."""

    @abstractmethod
    async def _defer(self, request: JobRequest) -> Deferred: ...

    @abstractmethod
    async def get_job(self, job_id: str) -> JobInfo | None: ...

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def run_worker(
        self, context: WorkerServices, *, concurrency: int, stop: asyncio.Event
    ) -> None:
        """Run jobs until ``stop`` is set; running jobs finish or go back to the queue."""

    @abstractmethod
    async def run_until_idle(self, context: WorkerServices) -> int:
        """Run every job that is due now, then return how many ran (for tests and scripts)."""

    @abstractmethod
    async def prune(self, older_than: timedelta) -> int:
        """Delete finished jobs older than ``older_than``; returns how many."""


@dataclass
class WorkerServices:
    """What a worker hands each task besides the job itself."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    pacer: Pacer
    state: dict[str, Any] = field(default_factory=dict)

    def context(
        self, queue: JobQueue, *, job_id: str, task: str, attempt: int, max_attempts: int
    ) -> JobContext:
        return JobContext(
            job_id=job_id,
            task=task,
            attempt=attempt,
            max_attempts=max_attempts,
            settings=self.settings,
            sessionmaker=self.sessionmaker,
            queue=queue,
            pacer=self.pacer,
            state=self.state,
        )


# --- After-commit buffer -------------------------------------------------------------------
# Jobs that must not exist before the caller's data does are held in the session and sent by
# the ``after_commit`` event; a rolled-back transaction drops them. The async work runs inside
# SQLAlchemy's greenlet (``await_only``), so ``await session.commit()`` returns only after the
# jobs are in the queue: a client that sees the 2xx can also see the job.

AfterCommit = Callable[[], Awaitable[None]]
_PENDING = "somna.jobs.after_commit"


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run ``callback`` once ``session``'s current transaction has committed."""
    session.sync_session.info.setdefault(_PENDING, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    pending: list[AfterCommit] = session.info.pop(_PENDING, [])
    for callback in pending:
        try:
            await_only(callback())
        except Exception as exc:
            # The data is committed; failing the caller now would only hide that. The job
            # waits in the outbox and the periodic relay delivers it: delayed, not lost.
            log.error("jobs.enqueue_after_commit_failed", error=f"{type(exc).__name__}: {exc}")


@event.listens_for(Session, "after_transaction_end")
def _drop_on_rollback(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


__all__ = [
    "Deferred",
    "JobContext",
    "JobInfo",
    "JobQueue",
    "JobRequest",
    "JobStatus",
    "RetryLater",
    "WorkerServices",
    "after_commit",
    "backoff_seconds",
]
