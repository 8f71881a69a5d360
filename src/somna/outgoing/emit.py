"""The events other domains record for outgoing webhooks, each in the caller's transaction.

One function per kind of change, so the payloads documented in ``docs/webhooks.md`` are built
in one place. Each call writes nothing when no endpoint of the organisation subscribes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from somna.jobs.port import JobQueue
from somna.outgoing.catalog import MAX_BATCH, PERSON_DELETED, RECORD_EVENT_PREFIX
from somna.outgoing.service import record_event


async def records_changed(
    session: AsyncSession,
    queue: JobQueue | None,
    organization_id: uuid.UUID,
    *,
    person_id: uuid.UUID,
    connection_id: uuid.UUID,
    provider: str,
    collection: str,
    created: Sequence[tuple[uuid.UUID, str]] = (),
    updated: Sequence[tuple[uuid.UUID, str]] = (),
    deleted: Sequence[str] = (),
) -> None:
    """``<type>.created`` / ``.updated`` / ``.deleted`` for one sync page: one event per change
    type, each listing up to ``MAX_BATCH`` records (a page never holds more), never one event
    per record."""
    prefix = RECORD_EVENT_PREFIX.get(collection)
    if prefix is None:
        return
    common = {
        "person_id": str(person_id),
        "connection_id": str(connection_id),
        "provider": provider,
        "collection": collection,
    }
    for change, rows in (("created", created), ("updated", updated)):
        for start in range(0, len(rows), MAX_BATCH):
            batch = rows[start : start + MAX_BATCH]
            records = [{"id": str(row_id), "provider_record_id": pid} for row_id, pid in batch]
            data = {**common, "count": len(records), "records": records}
            await record_event(session, queue, organization_id, f"{prefix}.{change}", data)
    for start in range(0, len(deleted), MAX_BATCH):
        gone = [{"provider_record_id": pid} for pid in deleted[start : start + MAX_BATCH]]
        data = {**common, "count": len(gone), "records": gone}
        await record_event(session, queue, organization_id, f"{prefix}.deleted", data)


async def sync_finished(
    session: AsyncSession,
    queue: JobQueue | None,
    organization_id: uuid.UUID,
    *,
    run_id: uuid.UUID,
    person_id: uuid.UUID,
    connection_id: uuid.UUID,
    provider: str,
    status: str,
    error: str | None,
    counts: dict[str, Any],
    first: bool,
) -> None:
    """``sync.succeeded`` or ``sync.failed`` (``partial`` included: some collections failed),
    and ``backfill.completed`` after a connection's first successful sync."""
    data = {
        "run_id": str(run_id),
        "person_id": str(person_id),
        "connection_id": str(connection_id),
        "provider": provider,
        "status": status,
        "error": error,
        "counts": counts,
    }
    kind = "sync.succeeded" if status == "succeeded" else "sync.failed"
    await record_event(session, queue, organization_id, kind, data)
    if first and status in ("succeeded", "partial"):
        await record_event(session, queue, organization_id, "backfill.completed", data)


async def connection_changed(
    session: AsyncSession,
    queue: JobQueue | None,
    organization_id: uuid.UUID,
    event_type: str,
    *,
    person_id: uuid.UUID,
    connection_id: uuid.UUID,
    provider: str,
    status: str,
) -> None:
    """``connection.connected`` or ``connection.revoked``."""
    data = {
        "person_id": str(person_id),
        "connection_id": str(connection_id),
        "provider": provider,
        "status": status,
    }
    await record_event(session, queue, organization_id, event_type, data)


async def person_deleted(
    session: AsyncSession,
    queue: JobQueue | None,
    organization_id: uuid.UUID,
    *,
    person_id: uuid.UUID,
    requested_at: datetime | None,
    deleted_at: datetime,
) -> None:
    """``person.deleted``, written with the deletion. It names the person by id only and is not
    tied to them, so it survives the deletion it reports (docs/privacy.md)."""
    data = {
        "person_id": str(person_id),
        "requested_at": requested_at.isoformat() if requested_at else None,
        "deleted_at": deleted_at.isoformat(),
    }
    await record_event(session, queue, organization_id, PERSON_DELETED, data, tie_to_person=False)
