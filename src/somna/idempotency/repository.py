from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select, update

from somna.kit.repository import Repository
from somna.models import IdempotencyKey


class IdempotencyKeyRepository(Repository[IdempotencyKey]):
    model = IdempotencyKey

    async def find(self, organization_id: uuid.UUID, key: str) -> IdempotencyKey | None:
        return await self.session.scalar(
            select(IdempotencyKey).where(
                IdempotencyKey.organization_id == organization_id, IdempotencyKey.key == key
            )
        )

    async def delete_expired(self, organization_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.organization_id == organization_id,
                IdempotencyKey.expires_at <= now,
            )
        )

    async def complete(self, record_id: uuid.UUID, status: int, body: str) -> None:
        await self.session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.id == record_id)
            .values(response_status=status, response_body=body)
        )

    async def forget(self, record_id: uuid.UUID) -> None:
        await self.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == record_id))
