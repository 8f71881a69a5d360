from __future__ import annotations

import uuid

from sqlalchemy import select

from somna.kit.repository import Repository
from somna.models import Organization, Person


class OrganizationRepository(Repository[Organization]):
    model = Organization

    async def get_tenant(self, organization_id: uuid.UUID) -> Organization | None:
        """The organisation itself: its id is the tenant, so this read is scoped by nature
        (callers pass their own organisation's id, or an operator's choice)."""
        return await self.session.get(Organization, organization_id)

    async def get_by_slug(self, slug: str) -> Organization | None:
        return await self.session.scalar(select(Organization).where(Organization.slug == slug))

    async def list_all(self) -> list[Organization]:
        statement = select(Organization).order_by(Organization.created_at, Organization.id)
        return list((await self.session.scalars(statement)).all())

    async def people_ids(self, organization_id: uuid.UUID) -> list[uuid.UUID]:
        statement = select(Person.id).where(Person.organization_id == organization_id)
        return list((await self.session.scalars(statement)).all())
