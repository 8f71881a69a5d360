from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base, IdMixin
from somna.kit.time import utc_now

JOB_STATUSES = ("queued", "running", "succeeded", "failed")


class Job(IdMixin, Base):
    """A task for the embedded queue. Leases expire so a killed worker's jobs are picked up."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(f"status IN {JOB_STATUSES!r}", name="status_known"),
        # At most one queued job per dedup key and one running job per lock key: the database,
        # not the worker, guarantees one sync per connection.
        Index(
            "uq_jobs_dedup_key_queued",
            "dedup_key",
            unique=True,
            sqlite_where=text("status = 'queued' AND dedup_key IS NOT NULL"),
            postgresql_where=text("status = 'queued' AND dedup_key IS NOT NULL"),
        ),
        Index(
            "uq_jobs_lock_key_running",
            "lock_key",
            unique=True,
            sqlite_where=text("status = 'running' AND lock_key IS NOT NULL"),
            postgresql_where=text("status = 'running' AND lock_key IS NOT NULL"),
        ),
    )

    task_name: Mapped[str] = mapped_column(String(100))
    args: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    priority: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    run_at: Mapped[datetime] = mapped_column(default=utc_now)
    lock_key: Mapped[str | None] = mapped_column(String(200))
    dedup_key: Mapped[str | None] = mapped_column(String(200))
    leased_until: Mapped[datetime | None]
    worker_id: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    finished_at: Mapped[datetime | None]


# The claim's order: the most urgent due job first (priority descending, then age).
Index("ix_jobs_claim_order", Job.status, Job.priority.desc(), Job.run_at, Job.id)
