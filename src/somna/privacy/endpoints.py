"""A person's privacy routes: their data archive, their deletion and its undoing."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, status
from pydantic import BaseModel, Field

from somna.auth.dependencies import RequireSensitive
from somna.auth.principal import Principal
from somna.auth.responses import error_response
from somna.db import SessionDep
from somna.exports import service as exports
from somna.exports.schemas import ExportRead
from somna.jobs.dependencies import JobQueueDep
from somna.models import Person
from somna.people.dependencies import person_from_path
from somna.people.schemas import PersonRead
from somna.people.service import person_read
from somna.privacy import service
from somna.sync.dependencies import SyncServicesDep

router = APIRouter(tags=["users"])

UsersSensitive = Annotated[Principal, Depends(RequireSensitive("users:write"))]
ExportsSensitive = Annotated[Principal, Depends(RequireSensitive("exports:write", "users:read"))]
PathPerson = Annotated[Person, Depends(person_from_path)]

NOT_SCHEDULED: dict[int | str, dict[str, Any]] = {
    409: error_response("`deletion_not_scheduled`: the person is not awaiting deletion.")
}


class DeletionScheduled(BaseModel):
    id: uuid.UUID
    status: Literal["deletion_scheduled", "deleted"] = Field(
        description="`deleted` when SOMNA_DELETION_GRACE_DAYS is 0 and it was carried out now."
    )
    delete_after: datetime = Field(description="When the person and their data are removed.")
    deleted: bool = Field(description="Whether the deletion has been carried out already.")


@router.delete("/users/{user_id}", status_code=status.HTTP_202_ACCEPTED)
async def delete_user(
    _principal: UsersSensitive,
    person: PathPerson,
    session: SessionDep,
    services: SyncServicesDep,
) -> DeletionScheduled:
    """Schedule a person's deletion after the grace period (sensitive: signed with a key,
    owner/admin by JWT); they are hidden at once, and restorable until then."""
    grace = timedelta(days=services.settings.deletion_grace_days)
    scheduled = await service.schedule_deletion(session, services, person, grace=grace)
    if grace:
        return DeletionScheduled(
            id=scheduled.person_id,
            status="deletion_scheduled",
            delete_after=scheduled.delete_after,
            deleted=False,
        )
    # No grace: the schedule commits first, so the deletion (its own transactions, with
    # provider calls between them) sees it.
    await session.commit()
    await service.carry_out(services, scheduled.person_id)
    return DeletionScheduled(
        id=scheduled.person_id, status="deleted", delete_after=scheduled.delete_after, deleted=True
    )


@router.post("/users/{user_id}/restore", responses=NOT_SCHEDULED)
async def restore_user(
    user_id: Annotated[uuid.UUID, Path(description="The tracked person's id.")],
    principal: UsersSensitive,
    session: SessionDep,
    queue: JobQueueDep,
) -> PersonRead:
    """Undo a scheduled deletion within the grace period; the person's syncs resume."""
    return person_read(await service.restore(session, queue, principal, user_id))


@router.post("/users/{user_id}/data-export", status_code=status.HTTP_202_ACCEPTED)
async def export_user_data(
    principal: ExportsSensitive, person: PathPerson, session: SessionDep, queue: JobQueueDep
) -> ExportRead:
    """Everything held about a person, as an archive of JSON files (sensitive: signed with a
    key, owner/admin by JWT); follow it at `GET /exports/{id}`."""
    export = await exports.create_export(
        session, queue, principal, formats=["json"], user_ids=[person.id], start=None, end=None,
        own_person_id=person.id, kind="person_archive",
    )  # fmt: skip
    return exports.export_read(export)
