"""Loaders that turn a path (``/users/{user_id}``) or the caller (``/me``) into a person."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from somna.auth.dependencies import CurrentPrincipal
from somna.db import SessionDep
from somna.models import Person
from somna.people.exceptions import PersonNotFound
from somna.people.service import get_person


async def person_from_path(
    user_id: Annotated[uuid.UUID, Path(description="The tracked person's id.")],
    principal: CurrentPrincipal,
    session: SessionDep,
) -> Person:
    return await get_person(session, principal, user_id)


async def person_from_me(principal: CurrentPrincipal, session: SessionDep) -> Person:
    if principal.person_id is None:
        raise PersonNotFound(
            "/me routes are for member accounts linked to a tracked person; "
            "use /users/{user_id} instead."
        )
    return await get_person(session, principal, principal.person_id)


PathPerson = Annotated[Person, Depends(person_from_path)]
MePerson = Annotated[Person, Depends(person_from_me)]
