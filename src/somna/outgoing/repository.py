"""SQL of outgoing webhooks: endpoints, events and deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select

from somna.kit.pagination import keyset_page
from somna.kit.repository import Repository
from somna.models import OutgoingEvent, WebhookDelivery, WebhookEndpoint


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
