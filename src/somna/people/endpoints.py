"""People (``/users``), their preferences, and the ``/me`` aliases for member accounts.

Deleting, restoring and exporting a person are ``somna.privacy.endpoints``."""

# No `from __future__ import annotations`: the route factories below use local
# dependency aliases, which FastAPI can only see when annotations are evaluated eagerly.

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status

from somna.auth.dependencies import RequireScopes, forbid_members
from somna.auth.principal import Principal
from somna.auth.responses import error_response
from somna.db import SessionDep
from somna.kit.access import note_people
from somna.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from somna.models import Person
from somna.people import service
from somna.people.dependencies import person_from_me, person_from_path
from somna.people.schemas import (
    PersonCreate,
    PersonRead,
    PersonUpdate,
    Preferences,
    PreferencesRead,
)

router = APIRouter(tags=["users"])

UsersRead = Annotated[Principal, Depends(RequireScopes("users:read"))]
UsersWrite = Annotated[Principal, Depends(RequireScopes("users:write"))]

EMAIL_TAKEN: dict[int | str, dict[str, Any]] = {
    409: error_response("`user_email_taken`: another person of the organisation has it.")
}


@router.post("/users", status_code=status.HTTP_201_CREATED, responses=EMAIL_TAKEN)
async def create_user(
    payload: PersonCreate, principal: UsersWrite, session: SessionDep
) -> PersonRead:
    """Start tracking a person in the caller's organisation."""
    forbid_members(principal, "users:write")
    person = await service.create_person(session, principal.organization_id, payload)
    return service.person_read(person)


@router.get("/users")
async def list_users(
    request: Request,
    principal: UsersRead,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
    email: Annotated[
        str | None, Query(max_length=320, description="Only the person with this email.")
    ] = None,
) -> Page[PersonRead]:
    """List the organisation's people, newest first, a cursor page at a time."""
    if principal.person_id is not None:
        own = await service.get_person(session, principal, principal.person_id)
        matches = email is None or own.email.lower() == email.lower()
        return Page(data=[service.person_read(own)] if matches else [], next_cursor=None)
    people, next_cursor = await service.list_people(
        session, principal.organization_id, limit=limit, cursor=cursor, email=email
    )
    note_people(request, (person.id for person in people))  # an audit row for each
    return Page(data=[service.person_read(p) for p in people], next_cursor=next_cursor)


PersonLoader = Callable[..., Coroutine[Any, Any, Person]]


def _person_routes(prefix: str, loader: PersonLoader, *, tag: str) -> APIRouter:
    """The routes of one person, served under ``/users/{user_id}`` and under ``/me``."""
    person_router = APIRouter(prefix=prefix, tags=[tag])
    LoadedPerson = Annotated[Person, Depends(loader)]

    @person_router.get("")
    async def get_user(_principal: UsersRead, person: LoadedPerson) -> PersonRead:
        """One person."""
        return service.person_read(person)

    @person_router.patch("", responses=EMAIL_TAKEN)
    async def update_user(
        payload: PersonUpdate, _principal: UsersWrite, person: LoadedPerson, session: SessionDep
    ) -> PersonRead:
        """Change a person's email, metadata or time zone."""
        return service.person_read(await service.update_person(session, person, payload))

    @person_router.get("/preferences")
    async def get_preferences(
        _principal: UsersRead, person: LoadedPerson, session: SessionDep
    ) -> PreferencesRead:
        """A person's sleep goal, time zone and source priority (defaults if never set)."""
        return await service.get_preferences(session, person)

    @person_router.put("/preferences")
    async def put_preferences(
        payload: Preferences, _principal: UsersWrite, person: LoadedPerson, session: SessionDep
    ) -> PreferencesRead:
        """Replace a person's preferences."""
        return await service.put_preferences(session, person, payload)

    return person_router


router.include_router(_person_routes("/users/{user_id}", person_from_path, tag="users"))
router.include_router(_person_routes("/me", person_from_me, tag="me"))
