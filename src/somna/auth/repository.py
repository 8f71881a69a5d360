from __future__ import annotations

from sqlalchemy import func, select

from somna.kit.repository import Repository
from somna.models import Account


class AccountRepository(Repository[Account]):
    model = Account

    async def get_by_email(self, email: str) -> Account | None:
        statement = select(Account).where(func.lower(Account.email) == email.lower())
        return await self.session.scalar(statement)
