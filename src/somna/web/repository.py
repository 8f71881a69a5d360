"""Dashboard sessions, and whether the refresh-token family behind one is still alive."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update

from somna.kit.repository import Repository
from somna.models import RefreshToken, WebSession


class WebSessionRepository(Repository[WebSession]):
    model = WebSession

    async def get_by_hash(self, token_hash: str) -> WebSession | None:
        return await self.session.scalar(
            select(WebSession).where(WebSession.token_hash == token_hash)
        )

    async def family_revoked(self, family_id: uuid.UUID) -> bool:
        """True once any token of the family is revoked (logout, or a reused token)."""
        statement = select(RefreshToken.id).where(
            RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_not(None)
        )
        return (await self.session.scalar(statement.limit(1))) is not None

    async def revoke(self, session_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(WebSession)
            .where(WebSession.id == session_id, WebSession.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
