from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base, IdMixin, TimestampMixin


class WebhookEndpoint(IdMixin, TimestampMixin, Base):
    """Where an organisation wants its events sent (outgoing webhooks), and how to sign them."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        Index("ix_webhook_endpoints_organization_id_created_at", "organization_id", "created_at"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(500), default="")
    # Event types, or ["*"] for every type.
    events: Mapped[list[str]] = mapped_column(default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    # ``whsec_...`` encrypted with the settings' secret key; the previous one still signs until
    # ``previous_secret_expires_at`` so receivers can switch over without dropping deliveries.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None]
    # Why Somna disabled it (410 Gone, failing for days): shown in its status, cleared on enable.
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # First failed attempt since the last success: failing everything for days disables it.
    failing_since: Mapped[datetime | None]
