from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base, IdMixin
from somna.kit.time import utc_now


class JobOutbox(IdMixin, Base):
    """A job written in its caller's transaction, waiting for the relay to hand it to the
    queue: it exists exactly when the caller's data does, whatever happens after the commit."""

    __tablename__ = "job_outbox"
    __table_args__ = (Index("ix_job_outbox_created_at", "created_at"),)

    task_name: Mapped[str] = mapped_column(String(100))
    # The whole resolved request (task, args, keys, priority, run_at, attempts), as JSON.
    request: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
