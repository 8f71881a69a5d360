"""SQL of the webhook inbox."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from somna.kit.repository import Repository
from somna.kit.time import utc_now
from somna.models import Recovery, WebhookEvent


class WebhookEventRepository(Repository[WebhookEvent]):
    model = WebhookEvent

    async def insert_new(self, values: dict[str, Any]) -> uuid.UUID | None:
        """Store an event once: ``None`` when one with its provider and event id exists."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(WebhookEvent)
            .values(id=uuid.uuid4(), received_at=utc_now(), **values)
            .on_conflict_do_nothing(index_elements=["provider", "event_id"])
            .returning(WebhookEvent.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def mark_processed(
        self, event_id: uuid.UUID, error: str | None = None, at: datetime | None = None
    ) -> None:
        statement = (
            update(WebhookEvent)
            .where(WebhookEvent.id == event_id)
            .values(processed_at=at or utc_now(), error=None if error is None else error[:2000])
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(statement)

    async def unprocessed(
        self, received_after: datetime, received_before: datetime, limit: int
    ) -> list[WebhookEvent]:
        """Events not yet handled, received in the window, oldest first."""
        statement = (
            select(WebhookEvent)
            .where(
                WebhookEvent.processed_at.is_(None),
                WebhookEvent.received_at >= received_after,
                WebhookEvent.received_at < received_before,
            )
            .order_by(WebhookEvent.received_at)
            .limit(limit)
        )
        return list((await self.session.scalars(statement)).all())

    async def give_up(self, received_before: datetime, error: str) -> int:
        """Close events that stayed unhandled since before ``received_before``."""
        statement = (
            update(WebhookEvent)
            .where(WebhookEvent.processed_at.is_(None), WebhookEvent.received_at < received_before)
            .values(processed_at=utc_now(), error=error)
            .execution_options(synchronize_session=False)
        )
        result: Any = await self.session.execute(statement)
        return int(result.rowcount or 0)

    async def delete_processed(self, before: datetime, *, limit: int) -> int:
        """Handled events (and their payloads) processed before ``before``."""
        return await self.delete_some(WebhookEvent.processed_at < before, limit=limit)


async def delete_recoveries(
    session: Any, connection_id: uuid.UUID, ids: Sequence[str]
) -> list[tuple[uuid.UUID, str]]:
    """Recoveries named by their own id or by their sleep's (WHOOP's webhooks use the sleep);
    returns the ``(id, provider_record_id)`` of those deleted."""
    statement = (
        delete(Recovery)
        .where(
            Recovery.connection_id == connection_id,
            or_(
                Recovery.provider_record_id.in_(list(ids)), Recovery.sleep_record_id.in_(list(ids))
            ),
        )
        .returning(Recovery.id, Recovery.provider_record_id)
    )
    return [(row.id, row.provider_record_id) for row in await session.execute(statement)]
