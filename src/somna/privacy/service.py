"""The privacy lifecycle (docs/privacy.md): schedule a person's deletion, restore them within
the grace period, carry the deletion out, and apply an organisation's record retention.

Scheduling only marks the person: from then on they are hidden (404, absent from lists and
statistics) and their syncs are paused, because the loaders and sync queries leave out a person
with ``delete_after`` set. The deletion itself runs in ``privacy.deletions``, every few minutes,
or in the request when the grace period is 0.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from somna.auth.principal import Principal
from somna.connections.service import revoke_at_provider
from somna.exports.repository import ExportRepository
from somna.exports.service import export_root
from somna.jobs.port import JobQueue
from somna.kit.time import utc_now
from somna.models import Connection, Export, Person
from somna.nights.repository import CountedNights
from somna.outgoing import emit
from somna.people.repository import PersonRepository
from somna.people.service import get_person
from somna.privacy.exceptions import DeletionNotScheduled
from somna.privacy.repository import (
    RETENTION_COLUMNS,
    DeletionRepository,
    RetentionRepository,
    retention_days,
)
from somna.sync.engine import PERSON_HIDDEN, SyncServices
from somna.sync.for_connections import SyncForConnections
from somna.sync.repositories import SyncConnectionRepository, SyncRunRepository
from somna.sync.service import request_sync

log = structlog.get_logger(__name__)

DUE_BATCH = 50
RETENTION_BATCH = 5_000


@dataclass(frozen=True)
class Scheduled:
    person_id: uuid.UUID
    delete_after: datetime


async def schedule_deletion(
    session: AsyncSession, services: SyncServices, person: Person, *, grace: timedelta
) -> Scheduled:
    """Hide ``person`` and pause their syncs until ``now + grace``; the caller commits.

    Asking again while scheduled keeps the first date: a repeated request must not postpone a
    deletion that was promised.
    """
    now = utc_now()
    if person.delete_after is None:
        person.deletion_requested_at = now
        person.delete_after = now + grace
    for connection in await DeletionRepository(session).connections(person.id):
        # Queued runs would only be cancelled when taken up; say so now, in the run list.
        await SyncRunRepository(session).cancel_pending(connection.id, PERSON_HIDDEN)
    await session.flush()
    log.info(
        "privacy.deletion_scheduled",
        person_id=str(person.id),
        delete_after=person.delete_after.isoformat(),
    )
    return Scheduled(person.id, person.delete_after)


async def restore(
    session: AsyncSession, queue: JobQueue, principal: Principal, person_id: uuid.UUID
) -> Person:
    """Undo a scheduled deletion; each active connection syncs at once (catching up on what
    the pause skipped) and then on its schedule again."""
    person = await get_person(session, principal, person_id, include_hidden=True)
    locked = await DeletionRepository(session).lock(person.id)
    if locked is None or locked.delete_after is None:
        raise DeletionNotScheduled(
            "This user's deletion is not scheduled; there is nothing to restore.",
            extra={"user_id": str(person_id)},
        )
    locked.delete_after = locked.deletion_requested_at = None
    await session.flush()
    active = await SyncConnectionRepository(session).active_with_zones(
        locked.organization_id, person_id=locked.id
    )
    for connection, _zone in active:
        await request_sync(session, queue, connection, trigger="restore")
    log.info("privacy.restored", person_id=str(person_id), connections=len(active))
    return locked


# --- carrying a deletion out ---------------------------------------------------------------


@dataclass
class Deleted:
    person_id: uuid.UUID
    revoked: list[str] = field(default_factory=list)
    revoke_failed: list[str] = field(default_factory=list)


async def carry_out(
    services: SyncServices, person_id: uuid.UUID, *, now: datetime | None = None
) -> Deleted | None:
    """Delete one person whose grace period is over (``None`` if restored or gone meanwhile).

    Provider grants are revoked first, outside any transaction (no lock is held across HTTP),
    best effort: a provider that fails cannot keep a person's data here. Then one transaction
    removes every row about them and writes ``person.deleted``.
    """
    now = now or utc_now()
    async with services.sessionmaker() as session:
        person = await PersonRepository(session).get_unscoped(person_id)
        if person is None or person.delete_after is None or person.delete_after > now:
            return None
        connections = await DeletionRepository(session).connections(person_id)
    outcome = Deleted(person_id)
    for connection in connections:
        if connection.status == "revoked" or connection.access_token_encrypted is None:
            continue
        revoked, problem = await revoke_at_provider(
            SyncForConnections(services), connection, person
        )
        if revoked:
            outcome.revoked.append(connection.provider)
        elif problem is not None:
            outcome.revoke_failed.append(connection.provider)
    async with services.sessionmaker() as session, session.begin():
        if not await _remove(session, services, person_id, now):
            return None
    log.info(
        "privacy.person_deleted",
        person_id=str(person_id),
        revoked=outcome.revoked,
        revoke_failed=outcome.revoke_failed,
    )
    return outcome


async def _remove(
    session: AsyncSession, services: SyncServices, person_id: uuid.UUID, now: datetime
) -> bool:
    repository = DeletionRepository(session)
    person = await repository.lock(person_id)
    if person is None or person.delete_after is None or person.delete_after > now:
        return False  # restored (or deleted by another worker) since it was picked
    organization_id, requested_at = person.organization_id, person.deletion_requested_at
    connections: list[Connection] = await repository.connections(person_id)
    await repository.delete_inbox_events(connections)
    await repository.delete_idempotent_replies(organization_id, person_id)
    exports = await repository.exports_naming(organization_id, person_id)
    await repository.delete_finished_jobs(
        [person_id, *(c.id for c in connections), *(e.id for e in exports)]
    )
    folders = await _drop_exports(repository, services, exports, person_id)
    await session.flush()  # the export rows first: the cascade below would take them unseen
    await repository.delete_events(person_id)
    await repository.scrub_from_events(organization_id, person_id)
    await repository.delete_person(person_id)
    await emit.person_deleted(
        session, services.queue, organization_id,
        person_id=person_id, requested_at=requested_at, deleted_at=now,
    )  # fmt: skip
    await session.flush()
    for folder in folders:
        # Before the commit: a crash after it would leave files no row points at any more.
        await asyncio.to_thread(shutil.rmtree, folder, True)
    return True


async def _drop_exports(
    repository: DeletionRepository,
    services: SyncServices,
    exports: list[Export],
    person_id: uuid.UUID,
) -> list[Path]:
    """Exports of the person alone go with them; the files of exports that include them
    (listed, or the whole organisation) are deleted and those exports show ``expired``."""
    folders: list[Path] = []
    for export in exports:
        folders.append(export_root(services.settings, export.id))
        others = [item for item in export.user_ids or [] if item != str(person_id)]
        if export.person_id == person_id or (export.user_ids is not None and not others):
            await ExportRepository(repository.session).remove(export)
            continue
        export.status, export.files = "expired", []
        if export.user_ids is not None:
            export.user_ids = others
    return folders


async def carry_out_due(services: SyncServices, *, now: datetime | None = None) -> int:
    """Delete everyone whose grace period has ended; returns how many were deleted."""
    now = now or utc_now()
    deleted = 0
    while True:
        async with services.sessionmaker() as session:
            due = await DeletionRepository(session).due(now, DUE_BATCH)
        for person_id in due:
            if await carry_out(services, person_id, now=now) is not None:
                deleted += 1
        if len(due) < DUE_BATCH:
            return deleted


# --- retention -----------------------------------------------------------------------------


async def apply_retention(services: SyncServices, *, now: datetime | None = None) -> dict[str, int]:
    """Delete, for every organisation with ``settings.retention_days``, the records older than
    that many days; in batches, each its own transaction. Returns the rows deleted per kind."""
    now = now or utc_now()
    removed = {name: 0 for name in (*RETENTION_COLUMNS, "burnout_scores")}
    async with services.sessionmaker() as session:
        organizations = [
            (row.id, retention_days(row.settings))
            for row in await RetentionRepository(session).with_retention()
        ]
    for organization_id, days in organizations:
        assert days is not None
        before = now - timedelta(days=days)
        touched: set[uuid.UUID] = set()
        for name in RETENTION_COLUMNS:
            while True:
                async with services.sessionmaker() as session, session.begin():
                    people = await RetentionRepository(session).delete_older(
                        organization_id, name, before, limit=RETENTION_BATCH
                    )
                removed[name] += len(people)
                if name == "sleep":
                    touched.update(people)
                if len(people) < RETENTION_BATCH:
                    break
        while True:
            async with services.sessionmaker() as session, session.begin():
                count = await RetentionRepository(session).delete_scores_before(
                    organization_id, before.date(), limit=RETENTION_BATCH
                )
            removed["burnout_scores"] += count
            if count < RETENTION_BATCH:
                break
        for person_id in touched:
            # Another provider's record of a night may count now that one was deleted.
            async with services.sessionmaker() as session, session.begin():
                await CountedNights(session).refresh(person_id)
    return removed
