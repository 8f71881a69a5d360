from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base, IdMixin
from somna.kit.time import utc_now

SYNC_STATUSES = ("queued", "running", "succeeded", "partial", "failed", "cancelled")


class SyncRun(IdMixin, Base):
    """One sync of one connection: what was asked, what happened, how long it took."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        CheckConstraint(f"status IN {SYNC_STATUSES!r}", name="status_known"),
        Index("ix_sync_runs_organization_id_created_at", "organization_id", "created_at"),
        Index("ix_sync_runs_connection_id_created_at", "connection_id", "created_at"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    # Runs outlive a disconnected connection as history; the person's deletion removes them.
    connection_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("connections.id", ondelete="SET NULL")
    )
    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    trigger: Mapped[str] = mapped_column(String(20), default="manual")
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    pages: Mapped[int] = mapped_column(default=0)
    requests: Mapped[int] = mapped_column(default=0)
    retries: Mapped[int] = mapped_column(default=0)
    # Times a worker took this run up; above 1 when a worker died or a fault was retried.
    attempts: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
