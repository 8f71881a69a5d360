from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update

from somna.kit.repository import Repository
from somna.models import ApiKey


class ApiKeyRepository(Repository[ApiKey]):
    model = ApiKey

    async def get_by_hash(self, key_hash: str) -> ApiKey | None:
        """One query on the unique index of ``key_hash``."""
        return await self.session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))

    async def get_in_organization(
        self, organization_id: uuid.UUID, key_id: uuid.UUID
    ) -> ApiKey | None:
        statement = select(ApiKey).where(
            ApiKey.id == key_id, ApiKey.organization_id == organization_id
        )
        return await self.session.scalar(statement)

    async def list_for_organization(self, organization_id: uuid.UUID) -> Sequence[ApiKey]:
        statement = (
            select(ApiKey)
            .where(ApiKey.organization_id == organization_id)
            .order_by(ApiKey.created_at.desc(), ApiKey.id)
        )
        return (await self.session.scalars(statement)).all()

    async def touch(self, key_id: uuid.UUID, now: datetime, not_since: datetime) -> None:
        """Set ``last_used_at`` unless another process did so after ``not_since``."""
        statement = (
            update(ApiKey)
            .where(
                ApiKey.id == key_id,
                or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < not_since),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(statement)
