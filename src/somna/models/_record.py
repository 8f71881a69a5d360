"""Columns every provider record shares: who it belongs to, where it came from, its payload."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import IdMixin, TimestampMixin

SCORE_STATES = ("SCORED", "PENDING_SCORE", "UNSCORABLE")


class ProviderRecordMixin(IdMixin, TimestampMixin):
    """Unique by (connection_id, provider_record_id): the upsert key of every sync."""

    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE")
    )
    # Denormalised so that every person-scoped query is one index range, no join.
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(32))
    provider_record_id: Mapped[str] = mapped_column(String(200))
    score_state: Mapped[str | None] = mapped_column(String(20))
    provider_updated_at: Mapped[datetime | None]
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
