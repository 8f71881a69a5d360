"""People and their preferences, always inside one organisation."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from somna.auth.principal import Principal
from somna.models import Person, UserPreferences
from somna.nights.repository import CountedNights
from somna.orgs.repository import OrganizationRepository
from somna.people.exceptions import PersonEmailTaken, PersonNotFound
from somna.people.repository import PeopleSort, PersonRepository, PreferencesRepository
from somna.people.schemas import (
    PersonCreate,
    PersonRead,
    PersonUpdate,
    Preferences,
    PreferencesRead,
)


def person_read(person: Person) -> PersonRead:
    return PersonRead(
        id=person.id,
        organization_id=person.organization_id,
        email=person.email,
        metadata=person.attributes,
        timezone=person.timezone,
        created_at=person.created_at,
        updated_at=person.updated_at,
    )


async def get_person(
    session: AsyncSession,
    principal: Principal,
    person_id: uuid.UUID,
    *,
    include_hidden: bool = False,
) -> Person:
    """The person if the principal may see them; 404 otherwise, even across organisations.

    A person whose deletion is scheduled is hidden (404) unless ``include_hidden``: only
    restoring them may find them (docs/privacy.md).
    """
    person = await PersonRepository(session).get_in_organization(
        principal.organization_id, person_id
    )
    if (
        person is None
        or not principal.can_access_person(person.organization_id, person.id)
        or (person.delete_after is not None and not include_hidden)
    ):
        raise PersonNotFound(f"No user with id {person_id}.", extra={"user_id": str(person_id)})
    return person


async def create_person(
    session: AsyncSession, organization_id: uuid.UUID, payload: PersonCreate
) -> Person:
    people = PersonRepository(session)
    _check_email_free(await people.get_by_email(organization_id, payload.email), payload.email)
    timezone = payload.timezone
    if timezone is None:
        organization = await OrganizationRepository(session).get_tenant(organization_id)
        timezone = (organization.settings if organization else {}).get("timezone") or "UTC"
    return await people.add(
        Person(
            organization_id=organization_id,
            email=payload.email.lower(),
            attributes=payload.metadata,
            timezone=timezone,
        )
    )


def _check_email_free(holder: Person | None, email: str) -> None:
    """Refuse an email another person of the organisation has. One whose deletion is scheduled
    is hidden everywhere else, but still holds it until the grace period ends: say so, since
    only the organisation's own admins can ask, and they can restore that person instead."""
    if holder is None:
        return
    if holder.delete_after is not None:
        when = holder.delete_after.isoformat()
        raise PersonEmailTaken(
            f"A user with email {email!r} is scheduled for deletion at {when}: restore them "
            f"(POST /api/v1/users/{holder.id}/restore) or use the email after that time.",
            extra={"field": "email", "delete_after": when},
        )
    raise PersonEmailTaken(
        f"A user with email {email!r} already exists in this organisation.",
        extra={"field": "email"},
    )


async def list_people(
    session: AsyncSession,
    organization_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
    search: str | None = None,
    sort: PeopleSort = "created",
    descending: bool = True,
    email: str | None = None,
) -> tuple[list[Person], str | None]:
    return await PersonRepository(session).page(
        organization_id, limit=limit, cursor=cursor, search=search, sort=sort,
        descending=descending, email=email,
    )  # fmt: skip


async def update_person(session: AsyncSession, person: Person, payload: PersonUpdate) -> Person:
    changes: dict[str, Any] = payload.model_dump(exclude_unset=True, exclude_none=True)
    if "email" in changes and changes["email"].lower() != person.email:
        existing = await PersonRepository(session).get_by_email(
            person.organization_id, changes["email"]
        )
        _check_email_free(existing, changes["email"])
        person.email = changes["email"].lower()
    if "metadata" in changes:
        person.attributes = changes["metadata"]
    if "timezone" in changes:
        person.timezone = changes["timezone"]
    await session.flush()
    return person


async def get_preferences(session: AsyncSession, person: Person) -> PreferencesRead:
    stored = await PreferencesRepository(session).for_person(person.id)
    if stored is None:
        return PreferencesRead(user_id=person.id, updated_at=None, **Preferences().model_dump())
    return _preferences_read(stored)


async def put_preferences(
    session: AsyncSession, person: Person, payload: Preferences
) -> PreferencesRead:
    repository = PreferencesRepository(session)
    stored = await repository.for_person(person.id)
    previous_priority = list(stored.source_priority or []) if stored is not None else []
    values = payload.model_dump(exclude={"workdays"})
    if stored is None:
        stored = await repository.add(
            UserPreferences(person_id=person.id, extra={"workdays": payload.workdays}, **values)
        )
    else:
        stored.sleep_goal_hours = payload.sleep_goal_hours
        stored.timezone = payload.timezone
        stored.source_priority = payload.source_priority
        stored.extra = {**(stored.extra or {}), "workdays": payload.workdays}
        await session.flush()
    if list(stored.source_priority or []) != previous_priority:
        # Which record counts for a night shared by two providers follows the priority.
        await CountedNights(session).refresh(person.id)
    return _preferences_read(stored)


def _preferences_read(stored: UserPreferences) -> PreferencesRead:
    return PreferencesRead(
        user_id=stored.person_id,
        updated_at=stored.updated_at,
        sleep_goal_hours=stored.sleep_goal_hours,
        timezone=stored.timezone,
        source_priority=stored.source_priority,
        workdays=_workdays(stored.extra),
    )


def _workdays(extra: object) -> list[int]:
    value = extra.get("workdays") if isinstance(extra, dict) else None
    if isinstance(value, list) and all(isinstance(d, int) and 1 <= d <= 7 for d in value):
        return sorted(set(value))
    return [1, 2, 3, 4, 5]
