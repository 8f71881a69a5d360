from __future__ import annotations

import uuid
from typing import Any, Literal

from sqlalchemy import func, select

from somna.kit.pagination import keyset_page
from somna.kit.repository import Repository
from somna.models import Person, UserPreferences

PeopleSort = Literal["created", "email"]


class PersonRepository(Repository[Person]):
    model = Person

    async def get_in_organization(
        self, organization_id: uuid.UUID, person_id: uuid.UUID
    ) -> Person | None:
        statement = select(Person).where(
            Person.id == person_id, Person.organization_id == organization_id
        )
        return await self.session.scalar(statement)

    async def get_by_email(self, organization_id: uuid.UUID, email: str) -> Person | None:
        statement = select(Person).where(
            Person.organization_id == organization_id, func.lower(Person.email) == email.lower()
        )
        return await self.session.scalar(statement)

    async def page(
        self,
        organization_id: uuid.UUID,
        *,
        limit: int,
        cursor: str | None,
        search: str | None = None,
        sort: PeopleSort = "created",
        descending: bool = True,
        email: str | None = None,
    ) -> tuple[list[Any], str | None]:
        """Keyset pages, newest first by default; ``search`` matches part of the email.
        People whose deletion is scheduled are left out."""
        statement = select(Person).where(
            Person.organization_id == organization_id, Person.delete_after.is_(None)
        )
        if email is not None:
            statement = statement.where(func.lower(Person.email) == email.lower())
        if search:
            escaped = search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            statement = statement.where(func.lower(Person.email).like(f"%{escaped}%", escape="\\"))
        first_key = Person.email if sort == "email" else Person.created_at
        return await keyset_page(
            self.session, statement, [first_key, Person.id], limit=limit, cursor=cursor,
            descending=descending,
        )  # fmt: skip


class PreferencesRepository(Repository[UserPreferences]):
    model = UserPreferences

    async def for_person(self, person_id: uuid.UUID) -> UserPreferences | None:
        return await self.session.get(UserPreferences, person_id)
