"""Sync runs: the list with live status while runs go, counts, errors, and "sync now"."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse

from somna.models import Person
from somna.sync import service as sync
from somna.sync.exceptions import NothingToSync
from somna.sync.schemas import SyncRequest, SyncRunRead
from somna.web.dependencies import Page, PageContext
from somna.web.routes import page_router
from somna.web.routes.connections import ACTIVE_RUN_STATUSES, job_queue
from somna.web.routes.overview import everyone
from somna.web.routes.person import load_person

router = page_router()
RUNS_SHOWN = 50


async def _runs_context(page: PageContext, person_id: uuid.UUID | None) -> dict[str, Any]:
    page.require("sync:read")
    person: Person | None = None
    if person_id is not None:
        person = await load_person(page, person_id)
    runs, _ = await sync.list_runs(
        page.session, page.principal, person_id=person.id if person else None, provider=None,
        status=None, limit=RUNS_SHOWN, cursor=None,
    )  # fmt: skip
    if page.principal.person_id is not None:
        people = [await load_person(page, page.principal.person_id)]
    else:
        people = await everyone(page)
    return {
        "runs": [SyncRunRead.of(run) for run in runs],
        "person": person,
        "emails": {item.id: item.email for item in people},
        "zones": {item.id: item.timezone for item in people},
        "active": any(run.status in ACTIVE_RUN_STATUSES for run in runs),
        "can_sync": page.principal.has("sync:write"),
    }


@router.get("/sync-runs")
async def sync_runs_page(
    page: Page,
    person: Annotated[uuid.UUID | None, Query()] = None,
    queued: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    error: Annotated[str | None, Query(max_length=300)] = None,
) -> HTMLResponse:
    context = await _runs_context(page, person)
    return page.render("sync_runs.html", title="Sync runs", queued=queued, error=error, **context)


@router.get("/sync-runs/table")
async def sync_runs_table(
    page: Page, person: Annotated[uuid.UUID | None, Query()] = None
) -> HTMLResponse:
    """The table alone, polled by htmx while a run is queued or running."""
    return page.render("_sync_runs_table.html", **await _runs_context(page, person))


@router.post("/sync-runs")
async def sync_now(
    page: Page, person: Annotated[str, Form(max_length=40)] = ""
) -> RedirectResponse:
    page.require("sync:write")
    target: Person | None = None
    if person:
        try:
            target = await load_person(page, uuid.UUID(person))
        except ValueError:
            target = None
    elif page.principal.person_id is not None:
        target = await load_person(page, page.principal.person_id)
    back = f"/sync-runs?person={target.id}&" if target and person else "/sync-runs?"
    try:
        runs = await sync.sync_people(
            page.session, job_queue(page), page.settings, page.principal.organization_id,
            SyncRequest(), person=target, trigger="manual" if target else "organization",
        )  # fmt: skip
    except NothingToSync as exc:
        return RedirectResponse(f"{back}error={exc.detail}", status_code=303)
    return RedirectResponse(f"{back}queued={len(runs)}", status_code=303)
