"""A person's connections: connect WHOOP (the real OAuth redirect), link Asleep, see the
status with the first sync live, reconnect, and disconnect keeping or deleting the data."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse

from somna.auth.exceptions import InsufficientPermissions
from somna.auth.scopes import SENSITIVE_ROLES
from somna.connections import service as connections
from somna.connections.schemas import AsleepConnectRequest
from somna.jobs.dependencies import get_job_queue
from somna.jobs.port import JobQueue
from somna.pacing.dependencies import get_pacer
from somna.state import app_state
from somna.sync.engine import SyncServices
from somna.sync.for_connections import SyncForConnections
from somna.web.dependencies import Page, PageContext
from somna.web.routes import page_router
from somna.web.routes.person import load_person

router = page_router()
ACTIVE_RUN_STATUSES = frozenset({"queued", "running"})
Provider = Literal["whoop", "asleep"]


def sync_services(page: PageContext) -> SyncForConnections:
    request = page.request
    return SyncForConnections(
        SyncServices(
            app_state(request).settings,
            app_state(request).sessionmaker,
            get_pacer(request),
            queue=get_job_queue(request),
        )
    )


def job_queue(page: PageContext) -> JobQueue:
    return get_job_queue(page.request)


async def _connections_context(page: PageContext, person_id: uuid.UUID) -> dict[str, Any]:
    page.require("connections:read")
    person = await load_person(page, person_id)
    rows = await connections.list_connections(page.session, person)
    syncing = any(row.last_sync and row.last_sync.status in ACTIVE_RUN_STATUSES for row in rows)
    return {
        "person": person,
        "connections": {row.provider: row for row in rows},
        "syncing": syncing,
        "can_write": page.principal.has("connections:write"),
    }


@router.get("/people/{person_id}/connections")
async def connections_page(
    person_id: uuid.UUID,
    page: Page,
    connection: Annotated[str | None, Query(max_length=20)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    error: Annotated[str | None, Query(max_length=300)] = None,
) -> HTMLResponse:
    context = await _connections_context(page, person_id)
    result = None
    if connection == "whoop" and status == "connected":
        result = ("notice", "WHOOP is connected; the first sync is running below.")
    elif connection == "whoop" and status == "error":
        result = ("error", f"WHOOP was not connected: {error or 'the authorization failed'}.")
    elif status == "disconnected":
        result = ("notice", f"{(connection or '').upper()} disconnected.")
    elif status == "linked":
        result = ("notice", "Asleep is linked; the first sync is running below.")
    return page.render("connections.html", title="Connections", result=result, **context)


@router.get("/people/{person_id}/connections/status")
async def connections_status(person_id: uuid.UUID, page: Page) -> HTMLResponse:
    """The status table alone, polled by htmx while a sync runs."""
    context = await _connections_context(page, person_id)
    return page.render("_connections_status.html", **context)


@router.post("/people/{person_id}/connections/whoop")
async def connect_whoop(person_id: uuid.UUID, page: Page) -> RedirectResponse:
    page.require("connections:write")
    person = await load_person(page, person_id)
    start = await connections.start_whoop(
        page.session, page.settings, person, f"/people/{person.id}/connections"
    )
    return RedirectResponse(start.authorization_url, status_code=303)


@router.post("/people/{person_id}/connections/asleep")
async def link_asleep(
    person_id: uuid.UUID,
    page: Page,
    asleep_user_id: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    page.require("connections:write")
    person = await load_person(page, person_id)
    payload = AsleepConnectRequest(asleep_user_id=asleep_user_id.strip() or None)
    await connections.connect_asleep(
        page.session, sync_services(page), job_queue(page), person, payload
    )
    return RedirectResponse(
        f"/people/{person.id}/connections?connection=asleep&status=linked", status_code=303
    )


@router.get("/people/{person_id}/connections/{provider}/disconnect")
async def disconnect_confirm(person_id: uuid.UUID, provider: Provider, page: Page) -> HTMLResponse:
    page.require("connections:write")
    person = await load_person(page, person_id)
    return page.render(
        "disconnect.html", title=f"Disconnect {provider}", person=person, provider=provider
    )


@router.post("/people/{person_id}/connections/{provider}/disconnect")
async def disconnect(
    person_id: uuid.UUID,
    provider: Provider,
    page: Page,
    data: Annotated[Literal["keep", "delete"], Form()] = "keep",
) -> RedirectResponse:
    page.require("connections:write")
    person = await load_person(page, person_id)
    delete_data = data == "delete"
    own = page.principal.person_id == person.id
    if delete_data and not own and page.principal.role not in SENSITIVE_ROLES:
        # As the API: deleting someone's data is for owners and admins (members: their own).
        raise InsufficientPermissions(
            {"connections:write"},
            detail="Deleting a person's data needs the owner or admin role.",
            required_roles=SENSITIVE_ROLES,
        )
    await connections.disconnect(
        page.session, sync_services(page), person, provider, delete_data=delete_data
    )
    return RedirectResponse(
        f"/people/{person.id}/connections?connection={provider}&status=disconnected",
        status_code=303,
    )
