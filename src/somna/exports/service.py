"""Exports through the API: ask for one, build it in a job, find its files, prune old ones."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from somna.auth.principal import Principal
from somna.config import Settings
from somna.exports.archives import person_archives
from somna.exports.exceptions import (
    ExportExpired,
    ExportFileNotFound,
    ExportNotFound,
    ExportNotReady,
)
from somna.exports.exporter import normalise_formats, run_export
from somna.exports.repository import ExportRepository, ExportScope
from somna.exports.schemas import ExportFileRead, ExportRead
from somna.jobs.port import JobQueue
from somna.kit.time import utc_now
from somna.models import Export
from somna.outgoing.recording import record_event
from somna.people.exceptions import PersonNotFound

log = structlog.get_logger(__name__)

BUILD_TASK = "exports.build"
REDRIVE_TASK = "exports.redrive"
REDRIVE_BATCH = 200
API_PREFIX = "/api/v1/exports"
FAILED_DETAIL = "The export could not be built; the error was logged. Ask for a new one."


def _requested_by(principal: Principal) -> str:
    if principal.api_key_id is not None:
        return f"api_key:{principal.api_key_id}"
    return f"account:{principal.account_id}"


async def create_export(
    session: AsyncSession,
    queue: JobQueue,
    principal: Principal,
    *,
    formats: Sequence[str],
    user_ids: Sequence[uuid.UUID] | None,
    start: date | None,
    end: date | None,
    own_person_id: uuid.UUID | None = None,
    kind: str = "records",
) -> Export:
    """Record the export and enqueue its build, which runs once the caller commits."""
    repository = ExportRepository(session)
    people = list(dict.fromkeys(user_ids)) if user_ids else None
    if people:
        known = await repository.people_in_organization(principal.organization_id, people)
        missing = [str(person_id) for person_id in people if person_id not in known]
        if missing:
            raise PersonNotFound(
                f"No user with id {missing[0]} in this organisation.", extra={"user_ids": missing}
            )
    export = await repository.add(
        Export(
            organization_id=principal.organization_id,
            person_id=own_person_id,
            requested_by=_requested_by(principal),
            kind=kind,
            status="queued",
            formats=list(normalise_formats(formats)),
            user_ids=[str(person_id) for person_id in people] if people else None,
            start_date=start,
            end_date=end,
            files=[],
            counts={},
            created_at=utc_now(),
        )
    )
    await queue.enqueue(session, BUILD_TASK, {"export_id": str(export.id)})
    log.info("exports.requested", export_id=str(export.id), formats=export.formats)
    return export


async def get_export(session: AsyncSession, principal: Principal, export_id: uuid.UUID) -> Export:
    """The export if the caller may see it (a member: only their own); 404 otherwise."""
    export = await ExportRepository(session).get_in_organization(
        principal.organization_id, export_id
    )
    if export is None or (
        principal.person_id is not None and export.person_id != principal.person_id
    ):
        raise ExportNotFound(f"No export with id {export_id}.")
    return export


async def list_exports(
    session: AsyncSession, principal: Principal, *, limit: int, cursor: str | None
) -> tuple[list[Export], str | None]:
    return await ExportRepository(session).page(
        principal.organization_id, principal.person_id, limit=limit, cursor=cursor
    )


def export_read(export: Export) -> ExportRead:
    base = f"{API_PREFIX}/{export.id}"
    return ExportRead(
        id=export.id,
        status=export.status,
        formats=export.formats,
        user_ids=[uuid.UUID(item) for item in export.user_ids] if export.user_ids else None,
        start_date=export.start_date,
        end_date=export.end_date,
        counts=export.counts,
        files=[
            ExportFileRead(**item, url=f"{base}/files/{quote(item['name'], safe='/@')}")
            for item in export.files
        ],
        download_url=f"{base}/download" if export.status == "succeeded" else None,
        error=export.error,
        created_at=export.created_at,
        started_at=export.started_at,
        finished_at=export.finished_at,
    )


# --- files ---------------------------------------------------------------------------------


def export_root(settings: Settings, export_id: uuid.UUID) -> Path:
    return settings.exports_path / str(export_id)


def ready_files(settings: Settings, export: Export) -> tuple[Path, list[str]]:
    """The folder and file names of a built export, or the error that says why not."""
    if export.status == "expired":
        raise ExportExpired("This export was deleted after its retention period; ask again.")
    if export.status != "succeeded":
        raise ExportNotReady(
            f"The export is {export.status}; its files are there once it has succeeded.",
            extra={"status": export.status},
        )
    root = export_root(settings, export.id)
    names = [item["name"] for item in export.files]
    if not all((root / name).is_file() for name in names):
        raise ExportExpired("This export's files are no longer on the server; ask again.")
    return root, names


def file_path(settings: Settings, export: Export, name: str) -> Path:
    root, names = ready_files(settings, export)
    # Only names the export itself recorded are served, so no path can leave its folder.
    if name not in names:
        raise ExportFileNotFound(f"This export has no file {name!r}.")
    return root / name


# --- the job -------------------------------------------------------------------------------


async def build_export(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    export_id: uuid.UUID,
    *,
    last_attempt: bool,
    queue: JobQueue | None = None,
) -> None:
    """Build the files of a queued export; safe to run again (same names, atomic writes)."""
    async with sessionmaker() as session:
        export = await ExportRepository(session).get_unscoped(export_id)
        if export is None or export.status in ("succeeded", "expired"):
            return
        export.status, export.started_at, export.error = "running", utc_now(), None
        await session.commit()
    own = (export.person_id,) if export.person_id is not None else None
    listed = tuple(uuid.UUID(item) for item in export.user_ids) if export.user_ids else None
    scope = ExportScope(export.organization_id, own or listed, export.start_date, export.end_date)
    root = export_root(settings, export_id)
    try:
        if export.kind == "person_archive" and export.person_id is not None:
            files, counts = await person_archives.build(sessionmaker, export.person_id, root)
        else:
            result = await run_export(
                sessionmaker,
                scope,
                root,
                export.formats,
                batch_size=settings.export_batch_size,
                exported_at=export.created_at,
            )
            files = [dataclasses.asdict(item) for item in result.files]
            counts = result.counts()
    except Exception:
        log.exception("exports.build_failed", export_id=str(export_id), final=last_attempt)
        await _mark(sessionmaker, export_id, "failed" if last_attempt else "queued", FAILED_DETAIL)
        raise
    async with sessionmaker() as session:
        export = await ExportRepository(session).get_unscoped(export_id)
        if export is None:  # deleted (with its person or organisation) while it was built
            await asyncio.to_thread(shutil.rmtree, root, True)
            return
        export.status, export.finished_at = "succeeded", utc_now()
        export.files, export.counts = files, counts
        data = {
            "export_id": str(export.id),
            "status": export.status,
            "download_url": f"{API_PREFIX}/{export.id}/download",
            "counts": export.counts,
            "user_ids": export.user_ids,
        }
        await record_event(session, queue, export.organization_id, "export.completed", data)
        await session.commit()
    log.info("exports.built", export_id=str(export_id), files=len(files))


async def _mark(
    sessionmaker: async_sessionmaker[AsyncSession], export_id: uuid.UUID, status: str, error: str
) -> None:
    async with sessionmaker() as session:
        export = await ExportRepository(session).get_unscoped(export_id)
        if export is not None:
            export.status, export.error = status, error
            if status == "failed":
                export.finished_at = utc_now()
            await session.commit()


async def redrive_exports(
    sessionmaker: async_sessionmaker[AsyncSession], queue: JobQueue, settings: Settings
) -> int:
    """Queue the build of exports still ``queued`` ``SOMNA_REDRIVE_AFTER_MINUTES`` after they
    were asked for (their job was lost); a build still waiting in the queue holds the dedup
    key, so none is built twice. Returns how many were queued again."""
    cutoff = utc_now() - timedelta(minutes=settings.redrive_after_minutes)
    async with sessionmaker() as session, session.begin():
        waiting = await ExportRepository(session).waiting_since(cutoff, limit=REDRIVE_BATCH)
        for export_id in waiting:
            await queue.enqueue(session, BUILD_TASK, {"export_id": str(export_id)})
    if waiting:
        log.warning("exports.redriven", exports=len(waiting))
    return len(waiting)


async def prune_exports(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, *, batch: int = 100
) -> int:
    """Delete the files of exports past the retention period; the rows stay as ``expired``."""
    cutoff = utc_now() - timedelta(days=settings.export_retention_days)
    pruned = 0
    while True:
        async with sessionmaker() as session:
            exports = await ExportRepository(session).older_than(cutoff, limit=batch)
            for export in exports:
                await asyncio.to_thread(shutil.rmtree, export_root(settings, export.id), True)
                export.status, export.files = "expired", []
            await session.commit()
        pruned += len(exports)
        if len(exports) < batch:
            return pruned
