"""SQL of the queues: the embedded queue's ``jobs``, ``job_schedules`` and outbox tables (SQLite
or PostgreSQL), and the few statements Somna runs on Procrastinate's tables itself."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import DateTime, and_, bindparam, delete, exists, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from somna.jobs.port import JobRequest
from somna.kit.repository import Repository
from somna.kit.time import utc_now
from somna.models.job import Job
from somna.models.job_outbox import JobOutbox
from somna.models.job_schedule import JobSchedule

if TYPE_CHECKING:
    from procrastinate import BaseConnector
    from procrastinate.jobs import Job as ProcrastinateJob

log = structlog.get_logger(__name__)

_QUEUED_DEDUP = text("status = 'queued' AND dedup_key IS NOT NULL")
_ERROR_LENGTH = 4000


@dataclass(frozen=True)
class ClaimedJob:
    id: uuid.UUID
    task: str
    args: dict[str, Any]
    attempts: int
    max_attempts: int


class JobRepository(Repository[Job]):
    model = Job

    def _insert(self) -> Any:
        dialect = self.session.get_bind().dialect.name
        return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Job)

    async def insert(self, request: JobRequest) -> uuid.UUID | None:
        """Add a queued job; ``None`` when a queued job already holds its dedup key."""
        statement = (
            self._insert()
            .values(
                id=uuid.uuid4(),
                task_name=request.task,
                args=request.args,
                status="queued",
                priority=request.priority,
                attempts=0,
                max_attempts=request.max_attempts,
                run_at=request.run_at or utc_now(),
                lock_key=request.lock_key,
                dedup_key=request.dedup_key,
                created_at=utc_now(),
            )
            .on_conflict_do_nothing(index_elements=["dedup_key"], index_where=_QUEUED_DEDUP)
            .returning(Job.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def claim(self, worker_id: str, lease: timedelta) -> ClaimedJob | None:
        """Take the most urgent due job, or a job whose worker stopped renewing its lease.

        A job whose lock key a running job holds waits. On PostgreSQL ``SKIP LOCKED`` keeps
        two workers off one row; SQLite has one writer at a time anyway.
        """
        now = utc_now()
        holder = aliased(Job)
        lock_free = or_(
            Job.lock_key.is_(None),
            Job.status == "running",  # an abandoned job still holds its own lock
            ~exists().where(holder.status == "running", holder.lock_key == Job.lock_key),
        )
        due = or_(
            and_(Job.status == "queued", Job.run_at <= now),
            and_(
                Job.status == "running",
                Job.leased_until < now,
                Job.attempts < Job.max_attempts,
            ),
        )
        candidate = (
            select(Job.id)
            .where(due, lock_free)
            .order_by(Job.priority.desc(), Job.run_at, Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        statement = (
            update(Job)
            .where(Job.id == candidate)
            .values(
                status="running",
                attempts=Job.attempts + 1,
                leased_until=now + lease,
                worker_id=worker_id,
            )
            .returning(Job.id, Job.task_name, Job.args, Job.attempts, Job.max_attempts)
            .execution_options(synchronize_session=False)
        )
        row = (await self.session.execute(statement)).one_or_none()
        if row is None:
            return None
        return ClaimedJob(row.id, row.task_name, dict(row.args), row.attempts, row.max_attempts)

    def _owned(self, job_id: uuid.UUID, worker_id: str) -> Any:
        return and_(Job.id == job_id, Job.worker_id == worker_id, Job.status == "running")

    async def _set(self, job_id: uuid.UUID, owner: str, /, **values: Any) -> bool:
        statement = (
            update(Job)
            .where(self._owned(job_id, owner))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        result: Any = await self.session.execute(statement)
        return bool(result.rowcount)

    async def renew(self, job_id: uuid.UUID, worker_id: str, lease: timedelta) -> bool:
        """Extend the lease; ``False`` when the job is no longer this worker's."""
        return await self._set(job_id, worker_id, leased_until=utc_now() + lease)

    async def succeed(self, job_id: uuid.UUID, worker_id: str) -> bool:
        return await self._set(
            job_id, worker_id, status="succeeded", leased_until=None, finished_at=utc_now()
        )

    async def fail(self, job_id: uuid.UUID, worker_id: str, error: str) -> bool:
        return await self._set(
            job_id,
            worker_id,
            status="failed",
            leased_until=None,
            finished_at=utc_now(),
            last_error=error[:_ERROR_LENGTH],
        )

    async def requeue(
        self,
        job_id: uuid.UUID,
        worker_id: str,
        *,
        run_at: datetime,
        error: str | None,
        refund_attempt: bool,
        drop_dedup_key: bool = False,
    ) -> bool:
        """Put the job back in the queue for ``run_at``.

        Raises ``IntegrityError`` when a newer job with the same dedup key is queued; the
        caller then retries with ``drop_dedup_key``: a retry is never dropped, and the lock
        key still serialises the two.
        """
        values: dict[str, Any] = {
            "status": "queued",
            "run_at": run_at,
            "leased_until": None,
            "worker_id": None,
            "last_error": error[:_ERROR_LENGTH] if error else None,
        }
        if refund_attempt:
            values["attempts"] = Job.attempts - 1
        if drop_dedup_key:
            values["dedup_key"] = None
        return await self._set(job_id, worker_id, **values)

    async def fail_abandoned(self) -> int:
        """Fail jobs whose worker vanished during their last allowed attempt."""
        statement = (
            update(Job)
            .where(
                Job.status == "running",
                Job.leased_until < utc_now(),
                Job.attempts >= Job.max_attempts,
            )
            .values(
                status="failed",
                finished_at=utc_now(),
                leased_until=None,
                last_error="the worker stopped during the last attempt (lease expired)",
            )
            .execution_options(synchronize_session=False)
        )
        result: Any = await self.session.execute(statement)
        return int(result.rowcount or 0)

    async def next_run_at(self) -> datetime | None:
        """When the earliest queued job becomes due (to sleep exactly that long)."""
        statement = select(Job.run_at).where(Job.status == "queued").order_by(Job.run_at).limit(1)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def prune(self, before: datetime) -> int:
        statement = delete(Job).where(
            Job.status.in_(("succeeded", "failed")), Job.finished_at < before
        )
        result: Any = await self.session.execute(statement)
        return int(result.rowcount or 0)


class ScheduleRepository(Repository[JobSchedule]):
    model = JobSchedule

    async def all(self) -> dict[str, JobSchedule]:
        rows = (await self.session.execute(select(JobSchedule))).scalars()
        return {row.name: row for row in rows}

    async def create(self, name: str, cron: str, next_run_at: datetime) -> None:
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(JobSchedule)
            .values(name=name, cron=cron, next_run_at=next_run_at, updated_at=utc_now())
            .on_conflict_do_nothing(index_elements=["name"])
        )
        await self.session.execute(statement)

    async def advance(
        self, name: str, *, expected: datetime, next_run_at: datetime, cron: str, fired: bool
    ) -> bool:
        """Compare-and-set ``next_run_at``: exactly one process wins each tick."""
        values: dict[str, Any] = {"next_run_at": next_run_at, "cron": cron, "updated_at": utc_now()}
        if fired:
            values["last_run_at"] = utc_now()
        statement = (
            update(JobSchedule)
            .where(JobSchedule.name == name, JobSchedule.next_run_at == expected)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        result: Any = await self.session.execute(statement)
        return bool(result.rowcount)


class OutboxRepository(Repository[JobOutbox]):
    model = JobOutbox

    async def stage(self, task: str, request: dict[str, Any]) -> uuid.UUID:
        """Write a job for the relay in the caller's transaction; returns its outbox id."""
        row = JobOutbox(id=uuid.uuid4(), task_name=task, request=request, created_at=utc_now())
        await self.add(row)
        return row.id

    async def take(
        self, limit: int, ids: Sequence[uuid.UUID] | None = None
    ) -> list[dict[str, Any]]:
        """Delete and return up to ``limit`` waiting jobs, oldest first (only ``ids`` if given).

        The delete is the claim: of two relays only the one whose delete removed a row hands
        it on, and rows another transaction holds are skipped (PostgreSQL), so each job reaches
        the queue exactly once when the caller commits the delivery with the delete.
        """
        chosen = select(JobOutbox.id).order_by(JobOutbox.created_at, JobOutbox.id).limit(limit)
        if ids is not None:
            chosen = chosen.where(JobOutbox.id.in_(list(ids)))
        statement = (
            delete(JobOutbox)
            .where(JobOutbox.id.in_(chosen.with_for_update(skip_locked=True)))
            .returning(JobOutbox.created_at, JobOutbox.request)
            .execution_options(synchronize_session=False)
        )
        rows = (await self.session.execute(statement)).all()
        return [dict(row.request) for row in sorted(rows, key=lambda row: row.created_at)]

    async def waiting(self) -> int:
        return await self.count()


# --- Procrastinate's tables -----------------------------------------------------------------

_SCHEMA_LOCK = 0x50524F43  # advisory lock id: "PROC"

_REFUND_ATTEMPT = """
UPDATE procrastinate_jobs SET attempts = attempts - 1 WHERE id = %(job_id)s AND status = 'doing'
"""

_DROP_QUEUEING_LOCK = """
UPDATE procrastinate_jobs SET queueing_lock = NULL WHERE id = %(job_id)s AND status = 'doing'
"""

_RUNNABLE_LEFT = """
SELECT EXISTS (
    SELECT 1 FROM procrastinate_jobs j
     WHERE j.status = 'todo'
       AND (j.scheduled_at IS NULL OR j.scheduled_at <= now())
       AND (j.lock IS NULL OR NOT EXISTS (
            SELECT 1 FROM procrastinate_jobs d WHERE d.status = 'doing' AND d.lock = j.lock))
) AS runnable
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
    import psycopg  # only the distributed mode needs it
    from procrastinate.schema import SchemaManager

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


class ProcrastinateJobRepository:
    """Procrastinate's jobs table through Somna's session (the outbox relay's transaction)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def defer(self, job: ProcrastinateJob) -> None:
        """Insert ``job`` with the relay's transaction. A queued job holding its queueing lock
        refuses it (``IntegrityError``) inside a savepoint, which keeps that from spoiling the
        relay's other deliveries."""
        values = {
            "queue_name": job.queue,
            "task_name": job.task_name,
            "priority": job.priority,
            "lock": job.lock,
            "queueing_lock": job.queueing_lock,
            "args": job.task_kwargs,
            "scheduled_at": job.scheduled_at,
        }
        async with self.session.begin_nested():
            await self.session.execute(_DEFER, values)


class ProcrastinateRows:
    """Statements on Procrastinate's job rows through its own connector, beside its worker."""

    def __init__(self, connector: BaseConnector) -> None:
        self.connector = connector

    async def refund_attempt(self, job_id: int | None) -> None:
        """Give back the attempt Procrastinate's retry is about to add: the job only paused
        (``RetryLater``). Only while the job is still ``doing``, that is this worker's."""
        await self.connector.execute_query_async(_REFUND_ATTEMPT, job_id=job_id)

    async def drop_queueing_lock(self, job_id: int | None) -> None:
        """Let a stalled job go back to ``todo`` although a newer job holds its queueing
        lock: a retry is never dropped, and the lock still serialises the two."""
        await self.connector.execute_query_async(_DROP_QUEUEING_LOCK, job_id=job_id)

    async def runnable_left(self) -> bool:
        """Whether a job is due and not held back by a running job's lock."""
        row = await self.connector.execute_query_one_async(_RUNNABLE_LEFT)
        return bool(row["runnable"])
