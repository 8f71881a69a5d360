"""Syncs run in this process, with progress, for operators' tools (the batch CLI, the demo):
no worker, but the same run rows, claims and engine as the workers'."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import structlog
from sqlalchemy.exc import IntegrityError

from somna.db import write_transaction
from somna.errors import describe
from somna.jobs.port import RetryLater
from somna.kit.time import utc_now
from somna.models import Connection
from somna.sync.engine import (
    ConnectionBusy,
    ProgressCallback,
    SyncServices,
    execute_run,
)
from somna.sync.planner import Window
from somna.sync.repositories import SyncConnectionRepository, SyncRunRepository
from somna.sync.schemas import SyncRequest
from somna.sync.service import run_values, window_of

log = structlog.get_logger(__name__)


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
        connections = SyncConnectionRepository(session)
        for connection_id in connection_ids:
            connection, person = await connections.with_person(connection_id)
            if connection is None or person is None or connection.status != "active":
                continue
            if person.delete_after is not None:
                continue  # paused while the person's deletion is scheduled
            targets.append((connection, window_of(services.settings, payload, person.timezone)))

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
        values = run_values(connection, trigger)
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
        return await SyncRunRepository(session).latest_error(run_id)


__all__ = ["BUSY", "SyncOutcome", "sync_connections"]
