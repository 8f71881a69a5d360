"""The events other domains record for outgoing webhooks, each in the caller's transaction.

One function per kind of change, so the payloads documented in ``docs/webhooks.md`` are built
in one place. Each call writes nothing when no endpoint of the organisation subscribes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from somna.jobs.port import JobQueue
from somna.outgoing.catalog import MAX_BATCH, PERSON_DELETED, RECORD_EVENT_PREFIX
from somna.outgoing.recording import record_event


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
    deleted: Sequence[tuple[uuid.UUID, str]] = (),
) -> None:
    """``<type>.created`` / ``.updated`` / ``.deleted`` for one change (a sync page, an incoming
    provider webhook): one event per change type, each listing up to ``MAX_BATCH`` records (a
    page never holds more), never one event per record. Rows are ``(id, provider_record_id)``;
    a deleted record's ``id`` no longer resolves, it names what the receiver may hold."""
    prefix = RECORD_EVENT_PREFIX.get(collection)
    if prefix is None:
        return
    common = {
        "person_id": str(person_id),
        "connection_id": str(connection_id),
        "provider": provider,
        "collection": collection,
    }
    for change, rows in (("created", created), ("updated", updated), ("deleted", deleted)):
        for start in range(0, len(rows), MAX_BATCH):
            batch = rows[start : start + MAX_BATCH]
            records = [{"id": str(row_id), "provider_record_id": pid} for row_id, pid in batch]
            data = {**common, "count": len(records), "records": records}
            await record_event(
                session, queue, organization_id, f"{prefix}.{change}", data, person_id=person_id
            )


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
    await record_event(session, queue, organization_id, kind, data, person_id=person_id)
    if first and status in ("succeeded", "partial"):
        await record_event(
            session, queue, organization_id, "backfill.completed", data, person_id=person_id
        )


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
    reason: str | None = None,
) -> None:
    """``connection.connected``, ``connection.reauthorization_required`` (with ``reason``) or
    ``connection.revoked``."""
    data: dict[str, Any] = {
        "person_id": str(person_id),
        "connection_id": str(connection_id),
        "provider": provider,
        "status": status,
    }
    if reason is not None:
        data["reason"] = reason
    await record_event(session, queue, organization_id, event_type, data, person_id=person_id)


async def burnout_level_changed(
    session: AsyncSession,
    queue: JobQueue | None,
    organization_id: uuid.UUID,
    *,
    person_id: uuid.UUID,
    as_of: date,
    old_level: str,
    new_level: str,
    risk: float | None,
    main_factor: str | None,
    model_version: str,
) -> None:
    """``burnout.level_changed``: the newest stored level of a person moved."""
    data = {
        "person_id": str(person_id),
        "as_of": as_of.isoformat(),
        "old_level": old_level,
        "new_level": new_level,
        "risk": risk,
        "main_factor": main_factor,
        "model_version": model_version,
    }
    await record_event(
        session, queue, organization_id, "burnout.level_changed", data, person_id=person_id
    )


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
