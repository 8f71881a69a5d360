"""SQL of the connections table (with the newest sync run of each), and of pending OAuth
authorizations (the states a connect flow issues)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update

from somna.kit.repository import Repository
from somna.kit.time import utc_now
from somna.models import Connection, Person, SyncRun
from somna.models.oauth_state import OAuthState

# States in which a connection holds tokens that a refresh may replace.
_LIVE = ("active", "error", "reauthorization_required")


class ConnectionRepository(Repository[Connection]):
    model = Connection

    async def for_person(self, person_id: uuid.UUID, provider: str) -> Connection | None:
        statement = select(Connection).where(
            Connection.person_id == person_id, Connection.provider == provider
        )
        return await self.session.scalar(statement)

    async def status_counts(self, organization_id: uuid.UUID) -> dict[tuple[str, str], int]:
        """How many connections of the organisation each (provider, status) has."""
        statement = (
            select(Connection.provider, Connection.status, func.count())
            .where(Connection.organization_id == organization_id)
            .group_by(Connection.provider, Connection.status)
        )
        rows = (await self.session.execute(statement)).all()
        return {(provider, status): int(count) for provider, status, count in rows}

    async def latest_runs(self, connection_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, SyncRun]:
        """The newest sync run of each connection that has one (for the connection list)."""
        if not connection_ids:
            return {}
        newest = (
            select(SyncRun.connection_id, func.max(SyncRun.created_at).label("created_at"))
            .where(SyncRun.connection_id.in_(list(connection_ids)))
            .group_by(SyncRun.connection_id)
            .subquery()
        )
        statement = select(SyncRun).join(
            newest,
            (SyncRun.connection_id == newest.c.connection_id)
            & (SyncRun.created_at == newest.c.created_at),
        )
        runs = await self.session.scalars(statement)
        # The column is nullable (a run outlives a deleted connection); these matched an id.
        return {run.connection_id: run for run in runs if run.connection_id is not None}

    async def forget_tokens(self, connection: Connection) -> None:
        """Mark the connection revoked and drop its tokens (its records stay)."""
        connection.status = "revoked"
        connection.access_token_encrypted = connection.refresh_token_encrypted = None
        connection.token_expires_at = connection.next_sync_at = None
        connection.last_error = None
        await self.session.flush()

    async def lock(self, connection: Connection) -> None:
        """Hold the connection row for this transaction (``FOR UPDATE`` on PostgreSQL) and
        reload it: a sync page in flight, which holds it ``FOR SHARE``, commits first; a later
        page waits for this transaction and then sees what it did."""
        statement = (
            select(Connection)
            .where(Connection.id == connection.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        await self.session.execute(statement)

    async def list_for_person(self, person_id: uuid.UUID) -> list[Connection]:
        statement = (
            select(Connection)
            .where(Connection.person_id == person_id)
            .order_by(Connection.provider, Connection.id)
        )
        return list(await self.session.scalars(statement))

    async def syncable_for_provider_user(
        self, provider: str, provider_user_id: str
    ) -> list[Connection]:
        """The active connections of this vendor account whose person is not awaiting
        deletion: the ones a provider's webhook may sync (docs/privacy.md)."""
        statement = (
            select(Connection)
            .join(Person, Person.id == Connection.person_id)
            .where(
                Connection.provider == provider,
                Connection.provider_user_id == provider_user_id,
                Connection.status == "active",
                Person.delete_after.is_(None),
            )
        )
        return list(await self.session.scalars(statement))

    async def linked_elsewhere(
        self, organization_id: uuid.UUID, provider: str, provider_user_id: str, person_id: uuid.UUID
    ) -> Connection | None:
        """A live connection of the same vendor account held by another person of the org."""
        statement = select(Connection).where(
            Connection.organization_id == organization_id,
            Connection.provider == provider,
            Connection.provider_user_id == provider_user_id,
            Connection.person_id != person_id,
            Connection.status != "revoked",
        )
        return await self.session.scalar(statement.limit(1))

    async def with_owners(
        self,
        *,
        organization_id: uuid.UUID | None = None,
        person_ids: Sequence[uuid.UUID] = (),
        provider: str | None = None,
        statuses: Sequence[str] = ("active",),
    ) -> list[tuple[Connection, Person]]:
        """Matching connections with their people, oldest first, in one query (no person
        filter when ``person_ids`` is empty)."""
        statement = (
            select(Connection, Person)
            .join(Person, Person.id == Connection.person_id)
            .where(Connection.status.in_(list(statuses)))
        )
        if organization_id is not None:
            statement = statement.where(Connection.organization_id == organization_id)
        if person_ids:
            statement = statement.where(Connection.person_id.in_(list(person_ids)))
        if provider is not None:
            statement = statement.where(Connection.provider == provider)
        rows = await self.session.execute(statement.order_by(Connection.created_at))
        return [(connection, person) for connection, person in rows]

    async def save_tokens(self, connection_id: uuid.UUID, values: dict[str, Any]) -> bool:
        """Store refreshed tokens, unless the connection was revoked meanwhile."""
        statement = (
            update(Connection)
            .where(Connection.id == connection_id, Connection.status.in_(_LIVE))
            .values(**values, updated_at=utc_now())
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(statement)
        return bool(getattr(result, "rowcount", 0))

    async def claim_refresh(
        self, connection_id: uuid.UUID, owner: str, *, until: datetime, now: datetime
    ) -> bool:
        """Take the token-refresh lease if it is free or expired (compare-and-set)."""
        statement = (
            update(Connection)
            .where(
                Connection.id == connection_id,
                or_(
                    Connection.refresh_claimed_until.is_(None),
                    Connection.refresh_claimed_until < now,
                ),
            )
            .values(
                refresh_claimed_by=owner,
                refresh_claimed_until=until,
                updated_at=Connection.updated_at,  # a lease is not a change of the connection
            )
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(statement)
        return bool(getattr(result, "rowcount", 0))

    async def is_live(self, connection_id: uuid.UUID) -> bool:
        """Whether the connection still exists and was not disconnected."""
        status = await self.session.scalar(
            select(Connection.status).where(Connection.id == connection_id)
        )
        return status is not None and status != "revoked"

    async def release_refresh(self, connection_id: uuid.UUID, owner: str) -> None:
        statement = (
            update(Connection)
            .where(Connection.id == connection_id, Connection.refresh_claimed_by == owner)
            .values(
                refresh_claimed_by=None,
                refresh_claimed_until=None,
                updated_at=Connection.updated_at,
            )
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(statement)

    async def mark_reauthorization_required(
        self, connection_id: uuid.UUID, reason: str
    ) -> tuple[Connection, str] | None:
        """Mark a live connection; returns it with its status before (``None`` when it was not
        live, or is gone, so nothing changed). The row is locked first where the database can
        (PostgreSQL), so the previous status is exact; the change is one UPDATE that must still
        find the row live, because on SQLite a disconnect may delete it between the read and
        the write, and an ORM flush would then fail on the missing row."""
        statement = select(Connection).where(Connection.id == connection_id).with_for_update()
        connection = await self.session.scalar(statement)
        if connection is None or connection.status not in _LIVE:
            return None
        previous = connection.status
        values = {
            "status": "reauthorization_required",
            "last_error": reason[:2000],
            "next_sync_at": None,
            "updated_at": utc_now(),
        }
        # The session's copy of the row takes the new values too (the default "evaluate"
        # synchronisation), without a second write at the next flush.
        marked = await self.session.execute(
            update(Connection)
            .where(Connection.id == connection_id, Connection.status.in_(_LIVE))
            .values(**values)
        )
        if not getattr(marked, "rowcount", 0):
            return None
        return connection, previous

    async def delete_connection(self, connection_id: uuid.UUID) -> None:
        # Records and checkpoints cascade; sync runs keep their history (SET NULL).
        await self.session.execute(delete(Connection).where(Connection.id == connection_id))


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
