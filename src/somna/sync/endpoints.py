"""Sync on demand, and the record of every sync run."""

# No `from __future__ import annotations`: the route factories below use local
# dependency aliases, which FastAPI can only see when annotations are evaluated eagerly.

import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, status

from somna.auth.dependencies import RequireScopes
from somna.auth.principal import Principal
from somna.auth.responses import error_response
from somna.db import SessionDep
from somna.jobs.dependencies import JobQueueDep
from somna.kit.access import note_people
from somna.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from somna.models import Person
from somna.people.dependencies import person_from_me, person_from_path
from somna.people.service import get_person
from somna.sync import service
from somna.sync.dependencies import SyncServicesDep
from somna.sync.schemas import ProviderName, RunStatus, SyncRequest, SyncRunBatch, SyncRunRead

SyncRead = Annotated[Principal, Depends(RequireScopes("sync:read"))]
SyncWrite = Annotated[Principal, Depends(RequireScopes("sync:write"))]
OptionalSyncRequest = Annotated[SyncRequest | None, Body()]
PersonLoader = Callable[..., Coroutine[Any, Any, Person]]

NO_CONNECTION: dict[int | str, dict[str, Any]] = {
    409: error_response("`no_active_connection`: nothing to sync.")
}


def _person_routes(prefix: str, loader: PersonLoader, tag: str) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=[tag])
    LoadedPerson = Annotated[Person, Depends(loader)]

    @router.post("/sync", status_code=status.HTTP_202_ACCEPTED, responses=NO_CONNECTION)
    async def sync_user(
        principal: SyncWrite,
        person: LoadedPerson,
        session: SessionDep,
        services: SyncServicesDep,
        queue: JobQueueDep,
        payload: OptionalSyncRequest = None,
    ) -> SyncRunBatch:
        """Sync the person's connections now (incremental, or the given local dates)."""
        runs = await service.sync_people(
            session, queue, services.settings, principal.organization_id,
            payload or SyncRequest(), person=person,
        )  # fmt: skip
        return SyncRunBatch(data=[SyncRunRead.of(run) for run in runs])

    return router


router = APIRouter()
router.include_router(_person_routes("/users/{user_id}", person_from_path, "sync"))
router.include_router(_person_routes("/me", person_from_me, "me"))


@router.post("/sync", status_code=status.HTTP_202_ACCEPTED, tags=["sync"], responses=NO_CONNECTION)
async def sync_organization(
    principal: SyncWrite,
    session: SessionDep,
    services: SyncServicesDep,
    queue: JobQueueDep,
    payload: OptionalSyncRequest = None,
) -> SyncRunBatch:
    """Sync every active connection of the organisation (a member: their own)."""
    person = None
    if principal.person_id is not None:
        person = await get_person(session, principal, principal.person_id)
    runs = await service.sync_people(
        session, queue, services.settings, principal.organization_id,
        payload or SyncRequest(), person=person, trigger="organization",
    )  # fmt: skip
    return SyncRunBatch(data=[SyncRunRead.of(run) for run in runs])


@router.get(
    "/sync-runs", tags=["sync"], responses={404: error_response("`user_id` names no such person.")}
)
async def list_sync_runs(
    request: Request,
    principal: SyncRead,
    session: SessionDep,
    user_id: Annotated[uuid.UUID | None, Query(description="Only this person's runs.")] = None,
    provider: ProviderName | None = None,
    run_status: Annotated[RunStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[SyncRunRead]:
    """Sync runs, newest first: status, counts per collection, pages, requests, errors."""
    if user_id is not None:
        await get_person(session, principal, user_id)  # 404 for someone the caller cannot see
    runs, next_cursor = await service.list_runs(
        session, principal, person_id=user_id, provider=provider, status=run_status,
        limit=limit, cursor=cursor,
    )  # fmt: skip
    note_people(request, (run.person_id for run in runs))  # an audit row for each
    return Page(data=[SyncRunRead.of(run) for run in runs], next_cursor=next_cursor)


@router.get("/sync-runs/{run_id}", tags=["sync"])
async def get_sync_run(run_id: uuid.UUID, principal: SyncRead, session: SessionDep) -> SyncRunRead:
    """One sync run."""
    return SyncRunRead.of(await service.get_run(session, principal, run_id))
