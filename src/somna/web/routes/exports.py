"""Exports: start one (the organisation, or a member's own data), follow it, download it."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Form
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse

from somna.auth.exceptions import InsufficientPermissions
from somna.auth.scopes import SENSITIVE_ROLES
from somna.exports import service as exports
from somna.exports.archive import iter_zip
from somna.exports.files import stamp_of
from somna.exports.schemas import ALL_FORMATS
from somna.web.dependencies import Page, PageContext
from somna.web.routes import page_router
from somna.web.routes.connections import job_queue

router = page_router()
ACTIVE = frozenset({"queued", "running"})
SHOWN = 25


async def _exports_context(page: PageContext) -> dict[str, Any]:
    page.require("exports:read")
    rows, _ = await exports.list_exports(page.session, page.principal, limit=SHOWN, cursor=None)
    return {
        "exports": [exports.export_read(row) for row in rows],
        "active": any(row.status in ACTIVE for row in rows),
        "formats": ALL_FORMATS,
        "can_export": page.principal.has("exports:write")
        and (page.principal.is_member or page.principal.role in SENSITIVE_ROLES),
    }


@router.get("/exports")
async def exports_page(page: Page, started: bool = False) -> HTMLResponse:
    context = await _exports_context(page)
    return page.render("exports.html", title="Exports", started=started, **context)


@router.get("/exports/table")
async def exports_table(page: Page) -> HTMLResponse:
    return page.render("_exports_table.html", **await _exports_context(page))


@router.post("/exports")
async def start_export(
    page: Page, formats: Annotated[list[str] | None, Form(alias="format")] = None
) -> RedirectResponse:
    page.require("exports:write")
    principal = page.principal
    chosen = [item for item in (formats or []) if item in ALL_FORMATS] or list(ALL_FORMATS)
    if principal.is_member:
        person_id = principal.person_id
        await exports.create_export(
            page.session, job_queue(page), principal, formats=chosen,
            user_ids=[person_id] if person_id else None, start=None, end=None,
            own_person_id=person_id,
        )  # fmt: skip
    else:
        # The whole organisation is a sensitive export, as in the API: owners and admins.
        if principal.role not in SENSITIVE_ROLES:
            raise InsufficientPermissions(
                {"exports:write"},
                detail="Exporting the whole organisation needs the owner or admin role.",
                required_roles=SENSITIVE_ROLES,
            )
        await exports.create_export(
            page.session, job_queue(page), principal, formats=chosen, user_ids=None,
            start=None, end=None,
        )  # fmt: skip
    return RedirectResponse("/exports?started=true", status_code=303)


@router.get("/exports/{export_id}/download")
async def download(export_id: uuid.UUID, page: Page) -> StreamingResponse:
    page.require("exports:read")
    export = await exports.get_export(page.session, page.principal, export_id)
    root, names = exports.ready_files(page.settings, export)
    filename = f"somna_export_{stamp_of(export.created_at)}.zip"
    return StreamingResponse(
        iter_zip(root, names),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
