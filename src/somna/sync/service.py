"""Sync as the API, the schedule and the CLI ask for it: runs are rows, sent to the queue after
the caller's commit; a worker executes them with :mod:`somna.sync.engine`.

For operators' tools (the batch CLI, the demo) :func:`sync_connections` runs syncs in this
process, with a progress callback, without a worker.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from somna.auth.principal import Principal
from somna.config import Settings
from somna.connections.clients import zone_of
from somna.db import write_transaction
from somna.jobs.port import JobQueue, RetryLater
from somna.kit.time import utc_now
from somna.models import Connection, Person, SyncRun
from somna.sync.engine import (
    ConnectionBusy,
    ProgressCallback,
    SyncProgress,
    SyncServices,
    describe,
    execute_run,
)
from somna.sync.exceptions import NothingToSync, SyncRunNotFound
from somna.sync.planner import Window, explicit_window
from somna.sync.repository import CheckpointRepository, SyncConnectionRepository, SyncRunRepository
from somna.sync.schemas import SyncRequest

log = structlog.get_logger(__name__)

SYNC_TASK = "sync.connection"
# A queued run older than this gets its job sent again when asked for (a lost enqueue).
RESEND_AFTER = timedelta(seconds=60)
SCHEDULE_BATCH = 500


async def request_sync(
    session: AsyncSession,
    queue: JobQueue,
    connection: Connection,
    *,
    trigger: str,
    window: Window | None = None,
) -> SyncRun:
    """Queue a run of ``connection`` (sent after the caller commits).

    An incremental request while an incremental run is still queued returns that run: it will
    fetch everything new anyway.
    """
    runs = SyncRunRepository(session)
    values = _run_values(connection, trigger)
    if window is None:
        # An insert that cannot race: the unique index on queued incremental runs decides.
        for _ in range(3):
            run_id = await runs.insert_queued_incremental(values)
            if run_id is not None:
                await queue.enqueue(session, SYNC_TASK, {"connection_id": str(connection.id)})
                created = await runs.get_unscoped(run_id)
                assert created is not None
                return created
            queued = await runs.queued_incremental(connection.id)
            if queued is not None:
                if utc_now() - queued.created_at > RESEND_AFTER:
                    await queue.enqueue(session, SYNC_TASK, {"connection_id": str(connection.id)})
                return queued
            # Taken up between the two statements: queue a fresh one.
    run = await runs.add(
        SyncRun(
            **values,
            status="queued",
            window_start=window.start if window else None,
            window_end=window.end if window else None,
        )
    )
    await queue.enqueue(session, SYNC_TASK, {"connection_id": str(connection.id)})
    return run


def _run_values(connection: Connection, trigger: str) -> dict[str, Any]:
    return {
        "organization_id": connection.organization_id,
        "connection_id": connection.id,
        "person_id": connection.person_id,
        "provider": connection.provider,
        "trigger": trigger,
        "counts": {},
        "errors": [],
        "created_at": utc_now(),
    }


async def forget_progress(session: AsyncSession, connection_id: uuid.UUID) -> None:
    """Drop a connection's checkpoints: its next sync backfills (a different vendor account)."""
    await CheckpointRepository(session).delete_for_connection(connection_id)


def _window(settings: Settings, payload: SyncRequest, zone_name: str) -> Window | None:
    if not payload.explicit:
        return None
    return explicit_window(
        start_date=payload.start_date,
        end_date=payload.end_date,
        zone=zone_of(zone_name),
        now=utc_now(),
        backfill=timedelta(days=settings.sync_backfill_days),
    )


async def sync_people(
    session: AsyncSession,
    queue: JobQueue,
    settings: Settings,
    organization_id: uuid.UUID,
    payload: SyncRequest,
    *,
    person: Person | None = None,
    trigger: str = "manual",
) -> list[SyncRun]:
    """Queue a run for every active connection of ``person`` (or the whole organisation)."""
    connections = await SyncConnectionRepository(session).active_with_zones(
        organization_id, person_id=person.id if person else None, provider=payload.provider
    )
    if not connections:
        whose = "This user has" if person is not None else "This organisation has"
        which = f" {payload.provider}" if payload.provider else ""
        raise NothingToSync(f"{whose} no active{which} connection to sync.")
    return [
        await request_sync(
            session, queue, connection, trigger=trigger, window=_window(settings, payload, zone)
        )
        for connection, zone in connections
    ]


async def list_runs(
    session: AsyncSession,
    principal: Principal,
    *,
    person_id: uuid.UUID | None,
    provider: str | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[SyncRun], str | None]:
    if principal.person_id is not None:
        person_id = principal.person_id  # a member sees their own runs only
    return await SyncRunRepository(session).page(
        principal.organization_id,
        person_id=person_id,
        provider=provider,
        status=status,
        limit=limit,
        cursor=cursor,
    )


async def get_run(session: AsyncSession, principal: Principal, run_id: uuid.UUID) -> SyncRun:
    run = await SyncRunRepository(session).get_in_organization(principal.organization_id, run_id)
    if run is None or not principal.can_access_person(run.organization_id, run.person_id):
        raise SyncRunNotFound(f"No sync run with id {run_id}.", extra={"run_id": str(run_id)})
    return run


async def schedule_due(
    session: AsyncSession,
    queue: JobQueue,
    settings: Settings,
    *,
    now: datetime | None = None,
    limit: int = SCHEDULE_BATCH,
) -> int:
    """Queue a run for each active connection whose ``next_sync_at`` has come."""
    interval = settings.sync_interval_minutes
    if interval <= 0:
        return 0
    now = now or utc_now()
    due = await SyncConnectionRepository(session).due(now, limit)
    for connection in due:
        await request_sync(session, queue, connection, trigger="schedule")
        # Not again before the interval, even if this run takes long; its end sets it anew.
        connection.next_sync_at = now + timedelta(minutes=interval)
    if due:
        log.info("sync.scheduled", connections=len(due))
    return len(due)


async def next_run_id(services: SyncServices, connection_id: uuid.UUID) -> uuid.UUID | None:
    async with services.sessionmaker() as session:
        run = await SyncRunRepository(session).next_for_connection(connection_id)
        return run.id if run is not None else None


async def has_queued(services: SyncServices, connection_id: uuid.UUID) -> bool:
    async with services.sessionmaker() as session:
        return await SyncRunRepository(session).has_queued(connection_id)


# --- in-process syncs with progress (the batch CLI, the demo) --------------------------------


@dataclass(frozen=True)
class SyncOutcome:
    """What became of one connection: its run's final status, or ``skipped`` with the reason
    ``busy`` (another executor held it for longer than the caller would wait)."""

    run_id: uuid.UUID | None
    connection_id: uuid.UUID
    person_id: uuid.UUID
    provider: str
    status: str
    error: str | None


BUSY = "busy"
# How often a caller willing to wait looks again at a connection another executor holds.
BUSY_POLL_SECONDS = 0.5


async def sync_connections(
    services: SyncServices,
    connection_ids: Sequence[uuid.UUID],
    *,
    start_date: date | None = None,
    end_date: date | None = None,
    trigger: str = "cli",
    concurrency: int = 8,
    max_attempts: int = 5,
    wait_busy: float = 0.0,
    progress: ProgressCallback | None = None,
) -> list[SyncOutcome]:
    """Sync these connections now, in this process, ``concurrency`` at a time.

    Each connection's run is claimed like a worker claims it (the run row is the lock): a
    connection another live executor holds is waited for up to ``wait_busy`` seconds, then
    skipped (status ``skipped``, error ``busy``); a run whose executor died is adopted and
    finished first. The runs are visible in ``GET /sync-runs``, executed by the workers'
    engine, paced by ``services.pacer``. Transient faults are retried here with backoff
    (``max_attempts``); budget waits are slept through. ``progress`` (sync or async) receives
    a :class:`SyncProgress` after every page and once per connection at the end.
    """
    payload = SyncRequest(start_date=start_date, end_date=end_date)
    owner = f"cli:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    slots = asyncio.Semaphore(max(1, concurrency))
    targets: list[tuple[Connection, Window | None]] = []
    async with services.sessionmaker() as session:
        for connection_id in connection_ids:
            connection = await session.get(Connection, connection_id)
            person = await session.get(Person, connection.person_id) if connection else None
            if connection is None or person is None or connection.status != "active":
                continue
            if person.delete_after is not None:
                continue  # paused while the person's deletion is scheduled
            targets.append((connection, _window(services.settings, payload, person.timezone)))

    async def one(connection: Connection, window: Window | None) -> SyncOutcome:
        async with slots:
            claimed = await _claim_for_caller(
                services, connection, window, trigger, owner, wait_busy
            )
            if claimed is None:
                return SyncOutcome(
                    None, connection.id, connection.person_id, connection.provider, "skipped", BUSY
                )
            status, error = await _run_with_retries(
                services, claimed, owner, max_attempts, progress
            )
        return SyncOutcome(
            claimed, connection.id, connection.person_id, connection.provider, status, error
        )

    return list(await asyncio.gather(*(one(c, w) for c, w in targets)))


async def _claim_for_caller(
    services: SyncServices,
    connection: Connection,
    window: Window | None,
    trigger: str,
    owner: str,
    wait_busy: float,
) -> uuid.UUID | None:
    """A run of ``connection`` held by ``owner`` (``None``: busy past ``wait_busy``).

    A dead executor's run is adopted and finished first. An incremental sync takes the queued
    incremental run if there is one (it would fetch the same); otherwise a new run is inserted
    already held, which the partial unique index refuses while another run holds the
    connection.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max(0.0, wait_busy)
    lease = timedelta(seconds=services.settings.job_lease_seconds)
    while True:
        try:
            claimed = await _try_claim(services, connection, window, trigger, owner, lease)
        except IntegrityError:  # another run of the connection was claimed at this instant
            claimed = None
        if isinstance(claimed, _Adopt):
            await _run_with_retries(services, claimed.run_id, owner, 5, None)
            continue
        if claimed is not None:
            return claimed
        if loop.time() >= deadline:
            log.info("sync.connection_busy", connection_id=str(connection.id))
            return None
        await asyncio.sleep(min(BUSY_POLL_SECONDS, max(0.0, deadline - loop.time())))


@dataclass(frozen=True)
class _Adopt:
    run_id: uuid.UUID


async def _try_claim(
    services: SyncServices,
    connection: Connection,
    window: Window | None,
    trigger: str,
    owner: str,
    lease: timedelta,
) -> uuid.UUID | _Adopt | None:
    async with write_transaction(services.sessionmaker) as session:
        runs = SyncRunRepository(session)
        now = utc_now()
        holder = await runs.holder(connection.id)
        if holder is not None:
            alive = holder.leased_until is not None and holder.leased_until >= now
            return None if alive and holder.owner != owner else _Adopt(holder.id)
        if window is None:
            queued = await runs.queued_incremental(connection.id)
            if queued is not None:
                held = await runs.claim(queued.id, owner, now=now, lease=lease, attempt=False)
                return queued.id if held else None
        values = _run_values(connection, trigger)
        if window is not None:
            values.update(window_start=window.start, window_end=window.end)
        return await runs.insert_claimed(values, owner=owner, leased_until=now + lease)


async def _run_with_retries(
    services: SyncServices,
    run_id: uuid.UUID,
    owner: str,
    max_attempts: int,
    progress: ProgressCallback | None,
) -> tuple[str, str | None]:
    attempt = 0
    while True:
        attempt += 1
        try:
            status = await execute_run(
                services,
                run_id,
                owner=owner,
                last_attempt=attempt >= max_attempts,
                progress=progress,
            )
            return status, None if status == "succeeded" else await _last_error(services, run_id)
        except ConnectionBusy:
            return "skipped", BUSY
        except RetryLater as later:
            attempt -= 1  # a wait for budget is nobody's fault
            await asyncio.sleep(min(later.seconds, 300.0) + random.uniform(0, 0.5))
        except Exception as exc:
            log.warning("sync.attempt_failed", run_id=str(run_id), error=describe(exc))
            await asyncio.sleep(min(30.0, 0.5 * 2**attempt) * random.uniform(0.5, 1.0))


async def _last_error(services: SyncServices, run_id: uuid.UUID) -> str | None:
    async with services.sessionmaker() as session:
        run = await session.get(SyncRun, run_id)
    if run is None or not run.errors:
        return None
    last = run.errors[-1]
    return str(last.get("error")) if isinstance(last, dict) else str(last)


__all__ = [
    "SyncOutcome",
    "SyncProgress",
    "forget_progress",
    "get_run",
    "has_queued",
    "list_runs",
    "next_run_id",
    "request_sync",
    "schedule_due",
    "sync_connections",
    "sync_people",
]
