"""Exports: ask for one (202), follow its job, download a zip or single files."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import FileResponse, StreamingResponse

from somna.auth.dependencies import RequireScopes, RequireSensitive, forbid_members
from somna.auth.principal import Principal
from somna.auth.responses import error_response
from somna.config import Settings
from somna.db import SessionDep
from somna.exports import service
from somna.exports.archive import iter_zip
from somna.exports.files import stamp_of
from somna.exports.schemas import ExportCreate, ExportRead, MyExportCreate
from somna.jobs.dependencies import JobQueueDep
from somna.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from somna.people.dependencies import MePerson
from somna.state import app_state

router = APIRouter(tags=["exports"])

ExportsRead = Annotated[Principal, Depends(RequireScopes("exports:read"))]
ExportsWrite = Annotated[Principal, Depends(RequireScopes("exports:write"))]
_organisation_export = RequireSensitive("exports:write")

MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}

NOT_READY: dict[int | str, dict[str, Any]] = {
    409: error_response("`export_not_ready`: it has not succeeded yet."),
    410: error_response("`export_expired`: its files were deleted after retention."),
}


def _settings(request: Request) -> Settings:
    return app_state(request).settings


@router.post(
    "/exports",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        404: error_response("`user_not_found`: some `user_ids` are not in the organisation.")
    },
)
async def create_export(
    payload: ExportCreate,
    request: Request,
    principal: ExportsWrite,
    session: SessionDep,
    queue: JobQueueDep,
) -> ExportRead:
    """Export the organisation (sensitive: signed with a key, owner/admin by JWT) or some people."""
    own_data_only = "Member accounts export their own data: POST /me/exports."
    forbid_members(principal, "exports:write", detail=own_data_only)
    if payload.user_ids is None:
        await _organisation_export(request, principal)
    export = await service.create_export(
        session, queue, principal, formats=payload.format, user_ids=payload.user_ids,
        start=payload.start_date, end=payload.end_date,
    )  # fmt: skip
    return service.export_read(export)


@router.post("/me/exports", status_code=status.HTTP_202_ACCEPTED, tags=["me"])
async def create_my_export(
    payload: MyExportCreate,
    principal: ExportsWrite,
    person: MePerson,
    session: SessionDep,
    queue: JobQueueDep,
) -> ExportRead:
    """Export the caller's own data (member accounts)."""
    export = await service.create_export(
        session, queue, principal, formats=payload.format, user_ids=[person.id],
        start=payload.start_date, end=payload.end_date, own_person_id=person.id,
    )  # fmt: skip
    return service.export_read(export)


@router.get("/exports")
async def list_exports(
    principal: ExportsRead,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[ExportRead]:
    """Exports of the organisation (a member: their own), newest first."""
    rows, next_cursor = await service.list_exports(session, principal, limit=limit, cursor=cursor)
    return Page(data=[service.export_read(row) for row in rows], next_cursor=next_cursor)


@router.get("/exports/{export_id}")
async def get_export(
    export_id: uuid.UUID, principal: ExportsRead, session: SessionDep
) -> ExportRead:
    """An export's status, counts and files."""
    return service.export_read(await service.get_export(session, principal, export_id))


@router.get(
    "/exports/{export_id}/download",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/zip": {}}, "description": "A zip of every file."},
        **NOT_READY,
    },
)
async def download_export(
    export_id: uuid.UUID, request: Request, principal: ExportsRead, session: SessionDep
) -> StreamingResponse:
    """Every file of a finished export as one zip, streamed."""
    export = await service.get_export(session, principal, export_id)
    root, names = service.ready_files(_settings(request), export)
    filename = f"somna_export_{stamp_of(export.created_at)}.zip"
    return StreamingResponse(
        iter_zip(root, names),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/exports/{export_id}/files/{file_path:path}",
    response_class=FileResponse,
    responses={200: {"description": "One file of the export (JSON, CSV or Parquet)."}, **NOT_READY},
)
async def download_export_file(
    export_id: uuid.UUID,
    file_path: str,
    request: Request,
    principal: ExportsRead,
    session: SessionDep,
) -> FileResponse:
    """One file of a finished export, by its name in the export's `files`."""
    export = await service.get_export(session, principal, export_id)
    path = service.file_path(_settings(request), export, file_path)
    file_format = next(item["format"] for item in export.files if item["name"] == file_path)
    return FileResponse(path, media_type=MEDIA_TYPES[file_format], filename=path.name)
