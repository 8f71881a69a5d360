"""SQL of the audit log. Rows are only ever inserted here: no method updates or deletes one."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from somna.audit.chain import AuditDraft, row_hash
from somna.kit.pagination import keyset_page
from somna.models import GENESIS_HASH, AuditChainHead, AuditEvent, Person


@dataclass(frozen=True, slots=True)
class AuditFilter:
    organization_id: uuid.UUID
    person_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, statement: Select[Any]) -> Select[Any]:
        statement = statement.where(AuditEvent.organization_id == self.organization_id)
        if self.person_id is not None:
            statement = statement.where(AuditEvent.person_id == self.person_id)
        if self.actor_id is not None:
            statement = statement.where(AuditEvent.actor_id == self.actor_id)
        if self.action is not None:
            statement = statement.where(AuditEvent.action == self.action)
        if self.since is not None:
            statement = statement.where(AuditEvent.occurred_at >= self.since)
        if self.until is not None:
            statement = statement.where(AuditEvent.occurred_at < self.until)
        return statement


AUDIT_EVENTS = cast(Table, AuditEvent.__table__)
_DRAFT_FIELDS = tuple(item.name for item in fields(AuditDraft))


def _values(draft: AuditDraft) -> dict[str, Any]:
    # dataclasses.asdict copies every value deeply; these are flat.
    return {name: getattr(draft, name) for name in _DRAFT_FIELDS}


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def append(self, drafts: Sequence[AuditDraft]) -> list[dict[str, Any]]:
        """Chain and insert ``drafts`` in the session's transaction, organisation by
        organisation, each after locking its chain head (held to the commit): one multi-row
        INSERT per organisation, no ORM objects. Returns the rows as inserted."""
        inserted: list[dict[str, Any]] = []
        by_organization: dict[uuid.UUID, list[AuditDraft]] = {}
        for draft in drafts:
            by_organization.setdefault(draft.organization_id, []).append(draft)
        # A fixed lock order, so two batches that span the same organisations cannot deadlock.
        for organization_id in sorted(by_organization, key=str):
            head = await self._lock_head(organization_id)
            seq, previous = head.last_seq, head.last_hash
            rows: list[dict[str, Any]] = []
            for draft in by_organization[organization_id]:
                seq += 1
                values = _values(draft)
                values["seq"], values["prev_hash"] = seq, previous
                values["hash"] = previous = row_hash(values)
                values["id"] = uuid.uuid4()
                rows.append(values)
            await self.session.execute(insert(AUDIT_EVENTS), rows)
            await self.session.execute(
                update(AuditChainHead)
                .where(AuditChainHead.organization_id == organization_id)
                .values(last_seq=seq, last_hash=previous)
            )
            inserted += rows
        return inserted

    async def _lock_head(self, organization_id: uuid.UUID) -> AuditChainHead:
        # The insert takes SQLite's write lock at once (so no other writer slips between the
        # read and the update); on PostgreSQL the FOR UPDATE below is the lock.
        dialect = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        await self.session.execute(
            dialect.insert(AuditChainHead)
            .values(organization_id=organization_id, last_seq=0, last_hash=GENESIS_HASH)
            .on_conflict_do_nothing(index_elements=["organization_id"])
        )
        statement = (
            select(AuditChainHead.last_seq, AuditChainHead.last_hash)
            .where(AuditChainHead.organization_id == organization_id)
            .with_for_update()
        )
        row = (await self.session.execute(statement)).one()
        return AuditChainHead(
            organization_id=organization_id, last_seq=row.last_seq, last_hash=row.last_hash
        )

    async def page(
        self, where: AuditFilter, *, limit: int, cursor: str | None
    ) -> tuple[list[AuditEvent], str | None]:
        statement = where.apply(select(AuditEvent))
        keys = [AuditEvent.occurred_at, AuditEvent.id]
        return await keyset_page(self.session, statement, keys, limit=limit, cursor=cursor)

    async def stream(self, where: AuditFilter, *, batch: int = 1000) -> AsyncIterator[AuditEvent]:
        """Every matching row, oldest first, in keyset batches (an export of any size)."""
        cursor: str | None = None
        while True:
            rows, cursor = await keyset_page(
                self.session,
                where.apply(select(AuditEvent)),
                [AuditEvent.occurred_at, AuditEvent.id],
                limit=batch,
                cursor=cursor,
                descending=False,
            )
            for row in rows:
                yield row
            if cursor is None:
                return

    async def chain(self, organization_id: uuid.UUID, *, batch: int = 1000) -> AsyncIterator[Any]:
        """An organisation's rows in ``seq`` order, as plain rows (for ``verify``)."""
        after = 0
        while True:
            statement = (
                select(AuditEvent.__table__)
                .where(AuditEvent.organization_id == organization_id, AuditEvent.seq > after)
                .order_by(AuditEvent.seq)
                .limit(batch)
            )
            rows = (await self.session.execute(statement)).mappings().all()
            for row in rows:
                yield row
            if len(rows) < batch:
                return
            after = rows[-1]["seq"]

    async def head(self, organization_id: uuid.UUID) -> AuditChainHead | None:
        return await self.session.get(AuditChainHead, organization_id)

    async def organizations(self) -> list[uuid.UUID]:
        """Every organisation with a chain (a head, or rows whose head went missing)."""
        heads = await self.session.scalars(select(AuditChainHead.organization_id))
        rows = await self.session.scalars(select(AuditEvent.organization_id).distinct())
        return sorted(set(heads) | set(rows), key=str)

    async def organizations_of_people(
        self, person_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, uuid.UUID]:
        """Each person's organisation (a person the database no longer has is left out)."""
        if not person_ids:
            return {}
        statement = select(Person.id, Person.organization_id).where(
            Person.id.in_(list(set(person_ids)))
        )
        return {row.id: row.organization_id for row in await self.session.execute(statement)}

    async def for_person(
        self, organization_id: uuid.UUID, person_id: uuid.UUID
    ) -> list[dict[str, Any]]:
        statement = (
            select(AuditEvent.__table__)
            .where(AuditEvent.organization_id == organization_id, AuditEvent.person_id == person_id)
            .order_by(AuditEvent.seq)
        )
        return [dict(row) for row in (await self.session.execute(statement)).mappings()]
