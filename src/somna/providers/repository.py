"""SQL for the one table the provider layer owns: pending OAuth authorizations."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, or_, update

from somna.kit.repository import Repository
from somna.models.oauth_state import OAuthState


class OAuthStateRepository(Repository[OAuthState]):
    model = OAuthState

    async def consume(
        self, state_hash: str, provider: str, now: datetime, person_id: uuid.UUID | None = None
    ) -> OAuthState | None:
        """Mark a live, unused state used and return it; ``None`` if there is none.

        One UPDATE ... RETURNING, so two callbacks racing with the same state cannot both win.
        """
        statement = (
            update(OAuthState)
            .where(
                OAuthState.state_hash == state_hash,
                OAuthState.provider == provider,
                OAuthState.used_at.is_(None),
                OAuthState.expires_at > now,
                *([OAuthState.person_id == person_id] if person_id is not None else []),
            )
            .values(used_at=now)
            .returning(OAuthState)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.scalars(statement)).one_or_none()

    async def delete_expired(self, before: datetime) -> int:
        """Delete states that expired before ``before`` or were used (each is single-use)."""
        result = await self.session.execute(
            delete(OAuthState).where(
                or_(OAuthState.expires_at < before, OAuthState.used_at.is_not(None))
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def delete_for_person(self, person_id: uuid.UUID, provider: str) -> None:
        await self.session.execute(
            delete(OAuthState).where(
                OAuthState.person_id == person_id, OAuthState.provider == provider
            )
        )
