from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base, IdMixin
from somna.kit.time import utc_now

SYNC_STATUSES = (
    "queued",
    "running",
    "waiting_for_budget",
    "succeeded",
    "partial",
    "failed",
    "cancelled",
)
# A run in one of these states holds its connection: no other run of it may execute.
HOLDING_STATUSES = ("running", "waiting_for_budget")
HOLDING_WHERE = "status IN ('running', 'waiting_for_budget') AND connection_id IS NOT NULL"
QUEUED_INCREMENTAL_WHERE = (
    "status = 'queued' AND window_start IS NULL AND connection_id IS NOT NULL"
)


class SyncRun(IdMixin, Base):
    """One sync of one connection: what was asked, what happened, how long it took."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        CheckConstraint(f"status IN {SYNC_STATUSES!r}", name="status_known"),
        Index("ix_sync_runs_organization_id_created_at", "organization_id", "created_at"),
        Index("ix_sync_runs_connection_id_created_at", "connection_id", "created_at"),
        # The run is the lock: the database, not the caller, keeps one executing run per
        # connection, and one queued incremental run (a second one would fetch nothing new).
        Index(
            "uq_sync_runs_connection_holding",
            "connection_id",
            unique=True,
            sqlite_where=text(HOLDING_WHERE),
            postgresql_where=text(HOLDING_WHERE),
        ),
        Index(
            "uq_sync_runs_connection_queued_incremental",
            "connection_id",
            unique=True,
            sqlite_where=text(QUEUED_INCREMENTAL_WHERE),
            postgresql_where=text(QUEUED_INCREMENTAL_WHERE),
        ),
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
    # Times the run was taken up afresh: the first time, after a fault, after its executor
    # died. Resuming after a budget wait or a 429 pause is not an attempt.
    attempts: Mapped[int] = mapped_column(default=0)
    # Who executes it (a job, a CLI process) and until when, renewed while it runs; a run whose
    # lease expired lost its executor and may be adopted.
    owner: Mapped[str | None] = mapped_column(String(200))
    leased_until: Mapped[datetime | None]
    # While ``waiting_for_budget``: when it goes on.
    next_attempt_at: Mapped[datetime | None]
    errors: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    @property
    def latest_error(self) -> str | None:
        """The text of the newest error the run keeps (entries are dicts with an ``error``;
        rows written before that shape hold plain strings)."""
        if not self.errors:
            return None
        last = self.errors[-1]
        return str(last.get("error")) if isinstance(last, dict) else str(last)
