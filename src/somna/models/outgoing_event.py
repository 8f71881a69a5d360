from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base, IdMixin
from somna.kit.time import utc_now


class OutgoingEvent(IdMixin, Base):
    """An event for outgoing webhooks, written in the transaction of the change it reports.

    ``payload`` is the exact JSON body sent (``id``, ``type``, ``created_at``,
    ``organization_id``, ``data``), so every attempt and replay sends the same bytes' content.
    """

    __tablename__ = "outgoing_events"
    __table_args__ = (
        Index("ix_outgoing_events_organization_id_created_at", "organization_id", "created_at"),
        # Housekeeping prunes by age across organisations.
        Index("ix_outgoing_events_created_at", "created_at"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    event_type: Mapped[str] = mapped_column(String(100))
    # The person the event is about, so that their deletion takes their events (and, by
    # cascade, the deliveries) along; null for events about no one person. No foreign key: an
    # event may name a person its transaction does not see, and ``person.deleted`` names one
    # who is gone; the deletion removes these rows itself.
    person_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
