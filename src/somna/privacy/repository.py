"""SQL of the privacy lifecycle: scheduled deletions, what a deletion removes beyond the
cascades of ``people``, and the retention of old records."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Text, and_, cast, delete, exists, or_, select
from sqlalchemy.orm import aliased

from somna.kit.repository import Repository
from somna.models import (
    BurnoutScore,
    Connection,
    Export,
    IdempotencyKey,
    Insight,
    Job,
    MoodRating,
    Organization,
    OutgoingEvent,
    Person,
    WebhookEvent,
)
from somna.records.repository import COLLECTION_MODELS

# The column that places each kind of record in time, for retention.
RETENTION_COLUMNS: dict[str, tuple[Any, str]] = {
    "sleep": (COLLECTION_MODELS["sleep"], "start_at"),
    "recovery": (COLLECTION_MODELS["recovery"], "recorded_at"),
    "cycles": (COLLECTION_MODELS["cycles"], "start_at"),
    "workouts": (COLLECTION_MODELS["workouts"], "start_at"),
    "body_measurements": (COLLECTION_MODELS["body_measurements"], "measured_at"),
    "mood_ratings": (MoodRating, "recorded_at"),
    "insights": (Insight, "generated_at"),
}


class DeletionRepository(Repository[Person]):
    model = Person

    async def lock(self, person_id: uuid.UUID) -> Person | None:
        """The person, locked until the transaction ends (a restore and a deletion of the same
        person serialise on this row)."""
        statement = select(Person).where(Person.id == person_id).with_for_update()
        return await self.session.scalar(statement.execution_options(populate_existing=True))

    async def due(self, now: datetime, limit: int) -> list[uuid.UUID]:
        statement = (
            select(Person.id)
            .where(Person.delete_after.is_not(None), Person.delete_after <= now)
            .order_by(Person.delete_after, Person.id)
            .limit(limit)
        )
        return list((await self.session.scalars(statement)).all())

    async def connections(self, person_id: uuid.UUID) -> list[Connection]:
        statement = select(Connection).where(Connection.person_id == person_id)
        return list((await self.session.scalars(statement)).all())

    async def delete_inbox_events(self, connections: Sequence[Connection]) -> int:
        """Provider webhook events naming the person's vendor accounts, unless another
        connection (another organisation's) links the same vendor account."""
        removed = 0
        for connection in connections:
            if connection.provider_user_id is None:
                continue
            other = aliased(Connection)
            shared = exists().where(
                other.provider == connection.provider,
                other.provider_user_id == connection.provider_user_id,
                other.id != connection.id,
            )
            statement = delete(WebhookEvent).where(
                WebhookEvent.provider == connection.provider,
                WebhookEvent.provider_user_id == connection.provider_user_id,
                ~shared,
            )
            result: Any = await self.session.execute(statement)
            removed += int(result.rowcount or 0)
        return removed

    async def delete_idempotent_replies(
        self, organization_id: uuid.UUID, person_id: uuid.UUID
    ) -> int:
        """Stored replies (``Idempotency-Key``) that mention the person: they hold their data."""
        statement = delete(IdempotencyKey).where(
            IdempotencyKey.organization_id == organization_id,
            IdempotencyKey.response_body.like(f"%{person_id}%"),
        )
        result: Any = await self.session.execute(statement)
        return int(result.rowcount or 0)

    async def exports_naming(
        self, organization_id: uuid.UUID, person_id: uuid.UUID
    ) -> list[Export]:
        """Exports whose files may hold the person's records: theirs, those listing them, and
        the organisation-wide ones (no list) that still have files."""
        listed = cast(Export.user_ids, Text).like(f"%{person_id}%")
        statement = select(Export).where(
            Export.organization_id == organization_id,
            or_(
                Export.person_id == person_id,
                listed,
                and_(Export.user_ids.is_(None), Export.status != "expired"),
            ),
        )
        return list((await self.session.scalars(statement)).all())

    async def delete_finished_jobs(self, ids: Sequence[uuid.UUID]) -> int:
        """Finished jobs of the embedded queue whose arguments name one of ``ids`` (the
        person, their connections and exports); queued and running ones are the queue's to
        finish, and find nothing left to do."""
        removed = 0
        for value in ids:
            statement = delete(Job).where(
                Job.status.in_(("succeeded", "failed")),
                cast(Job.args, Text).like(f"%{value}%"),
            )
            result: Any = await self.session.execute(statement)
            removed += int(result.rowcount or 0)
        return removed

    async def delete_events(self, person_id: uuid.UUID) -> None:
        """The outgoing-webhook events about the person; their deliveries cascade."""
        await self.session.execute(
            delete(OutgoingEvent).where(OutgoingEvent.person_id == person_id)
        )

    async def scrub_from_events(self, organization_id: uuid.UUID, person_id: uuid.UUID) -> int:
        """Events about several people that list the person (an export of a chosen group):
        their id leaves the list, as it leaves the export's own. Events about the person alone
        are deleted with ``delete_events``; this runs after it. Returns how many changed."""
        text_id = str(person_id)
        statement = select(OutgoingEvent).where(
            OutgoingEvent.organization_id == organization_id,
            cast(OutgoingEvent.payload, Text).like(f"%{text_id}%"),
        )
        changed = 0
        for event in (await self.session.scalars(statement)).all():
            data = dict(event.payload.get("data") or {})
            listed = data.get("user_ids")
            if not isinstance(listed, list) or text_id not in listed:
                continue
            data["user_ids"] = [item for item in listed if item != text_id]
            event.payload = {**event.payload, "data": data}  # a new value: the ORM sees it
            changed += 1
        return changed

    async def delete_person(self, person_id: uuid.UUID) -> None:
        # Foreign keys cascade to connections (and their checkpoints), records, mood ratings,
        # scores, insights, preferences, OAuth states, sync runs, exports and member accounts
        # (their tokens and sessions).
        await self.session.execute(delete(Person).where(Person.id == person_id))


class RetentionRepository(Repository[Organization]):
    model = Organization

    async def with_retention(self) -> list[Organization]:
        statement = select(Organization).order_by(Organization.created_at, Organization.id)
        return [
            row
            for row in (await self.session.scalars(statement)).all()
            if retention_days(row.settings) is not None
        ]

    async def delete_older(
        self, organization_id: uuid.UUID, collection: str, before: datetime, *, limit: int
    ) -> list[uuid.UUID]:
        """Up to ``limit`` records of ``collection`` older than ``before`` deleted; returns the
        people they belonged to (one id per record)."""
        model, column_name = RETENTION_COLUMNS[collection]
        column = getattr(model, column_name)
        people = select(Person.id).where(Person.organization_id == organization_id)
        chosen = (
            select(model.id)
            .where(model.person_id.in_(people), column < before)
            .limit(limit)
            .scalar_subquery()
        )
        statement = delete(model).where(model.id.in_(chosen)).returning(model.person_id)
        return list((await self.session.scalars(statement)).all())

    async def delete_scores_before(
        self, organization_id: uuid.UUID, before: date, *, limit: int
    ) -> int:
        people = select(Person.id).where(Person.organization_id == organization_id)
        chosen = (
            select(BurnoutScore.id)
            .where(BurnoutScore.person_id.in_(people), BurnoutScore.as_of_date < before)
            .limit(limit)
            .scalar_subquery()
        )
        result: Any = await self.session.execute(
            delete(BurnoutScore).where(BurnoutScore.id.in_(chosen))
        )
        return int(result.rowcount or 0)


def retention_days(settings: Any) -> int | None:
    """An organisation's ``retention_days`` when set to a positive whole number."""
    value = settings.get("retention_days") if isinstance(settings, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


class ArchiveRepository:
    """The person's rows of one table, every column but those left out, oldest first."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def rows(
        self,
        model: Any,
        person_id: uuid.UUID,
        *,
        person_column: str = "person_id",
        leave_out: frozenset[str] = frozenset(),
        order_by: str = "created_at",
    ) -> list[dict[str, Any]]:
        table = model.__table__
        columns = [column for column in table.c if column.name not in leave_out]
        statement = (
            select(*columns)
            .where(table.c[person_column] == person_id)
            .order_by(
                table.c[order_by],
                *(column for column in table.primary_key.columns if column.name != order_by),
            )
        )
        return [dict(row._mapping) for row in await self.session.execute(statement)]
