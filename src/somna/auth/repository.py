from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from somna.kit.repository import Repository
from somna.models import Account, Organization, Person, RefreshToken


class AccountRepository(Repository[Account]):
    model = Account

    async def get_by_email(self, email: str) -> Account | None:
        statement = select(Account).where(func.lower(Account.email) == email.lower())
        return await self.session.scalar(statement)

    async def get_in_organization(
        self, organization_id: uuid.UUID, account_id: uuid.UUID
    ) -> Account | None:
        statement = select(Account).where(
            Account.id == account_id, Account.organization_id == organization_id
        )
        return await self.session.scalar(statement)

    async def list_for_organization(
        self, organization_id: uuid.UUID, *, person_id: uuid.UUID | None = None
    ) -> Sequence[Account]:
        statement = select(Account).where(Account.organization_id == organization_id)
        if person_id is not None:
            statement = statement.where(Account.person_id == person_id)
        return (
            await self.session.scalars(statement.order_by(Account.created_at, Account.id))
        ).all()


class RefreshTokenRepository(Repository[RefreshToken]):
    model = RefreshToken

    async def get_by_hash(self, token_hash: str) -> RefreshToken | None:
        return await self.session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash)
        )

    async def claim(self, token_id: uuid.UUID, now: datetime) -> bool:
        """Mark the token rotated if nobody did yet: a compare-and-swap, so of two concurrent
        refreshes exactly one wins."""
        statement = (
            update(RefreshToken)
            .where(
                RefreshToken.id == token_id,
                RefreshToken.rotated_at.is_(None),
                RefreshToken.revoked_at.is_(None),
            )
            .values(rotated_at=now)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(statement)
        return isinstance(result, CursorResult) and result.rowcount == 1

    async def has_rotated_child(self, token_id: uuid.UUID) -> bool:
        statement = select(RefreshToken.id).where(
            RefreshToken.parent_id == token_id, RefreshToken.rotated_at.is_not(None)
        )
        return (await self.session.scalar(statement.limit(1))) is not None

    async def revoke_family(self, family_id: uuid.UUID, now: datetime) -> int:
        statement = (
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(statement)
        return result.rowcount if isinstance(result, CursorResult) else 0

    async def delete_expired(self, before: datetime, *, limit: int) -> int:
        """Tokens whose family's absolute lifetime ended before ``before``: rotated or not,
        none can be used again, and reuse detection has nothing left to protect."""
        return await self.delete_some(RefreshToken.expires_at < before, limit=limit)

    async def revoke_for_account(self, account_id: uuid.UUID, now: datetime) -> int:
        """End every session of an account (after a password reset)."""
        statement = (
            update(RefreshToken)
            .where(RefreshToken.account_id == account_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(statement)
        return result.rowcount if isinstance(result, CursorResult) else 0


class TenantLookup:
    """What signing in needs to know about organisations and people, read here because
    ``somna.orgs`` and ``somna.people`` sit above auth (they import it, never the reverse)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def exists(self, organization_id: uuid.UUID) -> bool:
        statement = select(Organization.id).where(Organization.id == organization_id)
        return await self.session.scalar(statement) is not None

    async def is_operator(self, organization_id: uuid.UUID) -> bool:
        statement = select(Organization.is_operator).where(Organization.id == organization_id)
        return bool(await self.session.scalar(statement))

    async def has_person(self, organization_id: uuid.UUID, person_id: uuid.UUID) -> bool:
        statement = select(Person.id).where(
            Person.id == person_id, Person.organization_id == organization_id
        )
        return await self.session.scalar(statement) is not None
