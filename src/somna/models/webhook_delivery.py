from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base, IdMixin, TimestampMixin

DELIVERY_STATUSES = ("pending", "succeeded", "failed")


class WebhookDelivery(IdMixin, TimestampMixin, Base):
    """One event on its way to one endpoint: a message, with every attempt made to send it."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(f"status IN {DELIVERY_STATUSES!r}", name="status_known"),
        Index("ix_webhook_deliveries_endpoint_id_created_at", "endpoint_id", "created_at"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("outgoing_events.id", ondelete="CASCADE"), index=True
    )
    event_type: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    # Every attempt: {"at", "response_code", "latency_ms", "error"}.
    attempts: Mapped[list[Any]] = mapped_column(default=list)
    # Attempts since the message was (re)queued: indexes SOMNA_WEBHOOK_RETRY_SCHEDULE.
    round_attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    # The job that may attempt it next; a job holding an older token is stale and does nothing
    # (a manual retry or a recover queued a newer one).
    job_token: Mapped[str | None] = mapped_column(String(32))

    @property
    def webhook_id(self) -> str:
        """The Standard Webhooks ``webhook-id``: the same on every attempt and replay."""
        return f"msg_{self.id.hex}"
