"""SQL of outgoing webhooks: endpoints, events and deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.dialects import postgresql, sqlite

from somna.kit.pagination import keyset_page
from somna.kit.repository import Repository
from somna.models import OutgoingEvent, OutgoingSequence, WebhookDelivery, WebhookEndpoint


class EndpointRepository(Repository[WebhookEndpoint]):
    model = WebhookEndpoint

    async def get_in_organization(
        self, organization_id: uuid.UUID, endpoint_id: uuid.UUID
    ) -> WebhookEndpoint | None:
        statement = select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.organization_id == organization_id
        )
        return await self.session.scalar(statement)

    async def page(
        self, organization_id: uuid.UUID, *, limit: int, cursor: str | None
    ) -> tuple[list[Any], str | None]:
        statement = select(WebhookEndpoint).where(
            WebhookEndpoint.organization_id == organization_id
        )
        keys = [WebhookEndpoint.created_at, WebhookEndpoint.id]
        return await keyset_page(self.session, statement, keys, limit=limit, cursor=cursor)

    async def enabled_in_organization(self, organization_id: uuid.UUID) -> list[WebhookEndpoint]:
        """Every enabled endpoint: organisations have a handful, so subscriptions are matched
        in Python rather than with JSON operators that differ between SQLite and PostgreSQL."""
        statement = (
            select(WebhookEndpoint)
            .where(
                WebhookEndpoint.organization_id == organization_id,
                WebhookEndpoint.enabled.is_(True),
            )
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        )
        return list((await self.session.scalars(statement)).all())

    async def lock(self, endpoint_id: uuid.UUID) -> WebhookEndpoint | None:
        statement = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
        return await self.session.scalar(statement.with_for_update())


class EventRepository(Repository[OutgoingEvent]):
    model = OutgoingEvent

    async def next_sequence(self, person_id: uuid.UUID) -> int:
        """The person's next event sequence number, taken in the caller's transaction.

        The upsert keeps the row locked (PostgreSQL) until that transaction ends, so numbers
        follow commit order per person; a rolled-back event gives its number back.
        """
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(OutgoingSequence).values(person_id=person_id, last_value=1)
        upsert = statement.on_conflict_do_update(
            index_elements=["person_id"],
            set_={"last_value": OutgoingSequence.last_value + 1},
        ).returning(OutgoingSequence.last_value)
        return int((await self.session.execute(upsert)).scalar_one())

    async def delete_settled_before(self, before: datetime, *, limit: int) -> int:
        """Events older than ``before`` with no delivery still pending, with their deliveries
        (the foreign key cascades); at most ``limit``. Returns how many events went."""
        pending = exists().where(
            WebhookDelivery.event_id == OutgoingEvent.id, WebhookDelivery.status == "pending"
        )
        doomed = (
            select(OutgoingEvent.id)
            .where(OutgoingEvent.created_at < before, ~pending)
            .limit(limit)
            .scalar_subquery()
        )
        statement = delete(OutgoingEvent).where(OutgoingEvent.id.in_(doomed))
        result = await self.session.execute(statement.execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)


class DeliveryRepository(Repository[WebhookDelivery]):
    model = WebhookDelivery

    async def get_in_organization(
        self, organization_id: uuid.UUID, delivery_id: uuid.UUID
    ) -> WebhookDelivery | None:
        statement = select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.organization_id == organization_id
        )
        return await self.session.scalar(statement)

    async def lock(self, delivery_id: uuid.UUID) -> WebhookDelivery | None:
        statement = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
        return await self.session.scalar(statement.with_for_update())

    async def page_for_endpoint(
        self, endpoint_id: uuid.UUID, *, limit: int, cursor: str | None
    ) -> tuple[list[Any], str | None]:
        statement = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
        keys = [WebhookDelivery.created_at, WebhookDelivery.id]
        return await keyset_page(self.session, statement, keys, limit=limit, cursor=cursor)

    async def failed_since(
        self, endpoint_id: uuid.UUID, since: datetime, *, limit: int
    ) -> list[WebhookDelivery]:
        statement = (
            select(WebhookDelivery)
            .where(
                WebhookDelivery.endpoint_id == endpoint_id,
                WebhookDelivery.status == "failed",
                WebhookDelivery.created_at >= since,
            )
            .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
            .limit(limit)
        )
        return list((await self.session.scalars(statement)).all())

    async def event_payload(self, event_id: uuid.UUID) -> dict[str, Any] | None:
        statement = select(OutgoingEvent.payload).where(OutgoingEvent.id == event_id)
        payload: dict[str, Any] | None = await self.session.scalar(statement)
        return payload
