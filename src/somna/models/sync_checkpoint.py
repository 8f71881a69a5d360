from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base
from somna.kit.time import utc_now


class SyncCheckpoint(Base):
    """How far one collection of one connection is synced; committed with each page."""

    __tablename__ = "sync_checkpoints"

    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    collection: Mapped[str] = mapped_column(String(32), primary_key=True)
    synced_until: Mapped[datetime | None]
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    next_token: Mapped[str | None] = mapped_column(Text)
    # The run the window in progress belongs to; another run starts its own window.
    run_id: Mapped[uuid.UUID | None]
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)
