from __future__ import annotations

from sqlalchemy import select

from somna.kit.repository import Repository
from somna.models import Organization


class OrganizationRepository(Repository[Organization]):
    model = Organization

    async def get_by_slug(self, slug: str) -> Organization | None:
        return await self.session.scalar(select(Organization).where(Organization.slug == slug))

    async def list_all(self) -> list[Organization]:
        statement = select(Organization).order_by(Organization.created_at, Organization.id)
        return list((await self.session.scalars(statement)).all())
