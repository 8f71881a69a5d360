"""Sync as the API, the schedule and the CLI ask for it: runs are rows, sent to the queue after
the caller's commit; a worker executes them with :mod:`somna.sync.engine`.

For operators' tools (the batch CLI, the demo) :func:`somna.sync.batch.sync_connections` runs
syncs in this process, with a progress callback, without a worker.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from somna.auth.principal import Principal
from somna.config import Settings
from somna.jobs.port import JobQueue
from somna.kit.time import utc_now, zone_or_utc
from somna.models import Connection, Person, SyncRun
from somna.sync.engine import (
    SyncServices,
)
from somna.sync.exceptions import NothingToSync, SyncRunNotFound
from somna.sync.planner import Window, explicit_window
from somna.sync.repositories import (
    CheckpointRepository,
    SyncConnectionRepository,
    SyncRunRepository,
)
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
    values = run_values(connection, trigger)
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


def run_values(connection: Connection, trigger: str) -> dict[str, Any]:
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


def window_of(settings: Settings, payload: SyncRequest, zone_name: str) -> Window | None:
    if not payload.explicit:
        return None
    return explicit_window(
        start_date=payload.start_date,
        end_date=payload.end_date,
        zone=zone_or_utc(zone_name),
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
            session, queue, connection, trigger=trigger, window=window_of(settings, payload, zone)
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


__all__ = [
    "forget_progress",
    "get_run",
    "has_queued",
    "list_runs",
    "next_run_id",
    "request_sync",
    "schedule_due",
    "sync_people",
]
