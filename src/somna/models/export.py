from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base, IdMixin
from somna.kit.time import utc_now

EXPORT_STATUSES = ("queued", "running", "succeeded", "failed", "expired")
# ``records``: the collections in the chosen formats; ``person_archive``: everything held
# about one person, as JSON (``POST /users/{id}/data-export``, ``somna.privacy.archive``).
EXPORT_KINDS = ("records", "person_archive")


class Export(IdMixin, Base):
    """One export asked for through the API: what to write, and the files once built."""

    __tablename__ = "exports"
    __table_args__ = (
        CheckConstraint(f"status IN {EXPORT_STATUSES!r}", name="status_known"),
        CheckConstraint(f"kind IN {EXPORT_KINDS!r}", name="kind_known"),
        Index("ix_exports_organization_id_created_at", "organization_id", "created_at"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    # Set when a member exported their own data (/me/exports) or a person's archive was asked
    # for: the export is theirs to see, and it goes when they do.
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    requested_by: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default="records")
    status: Mapped[str] = mapped_column(String(20), default="queued")
    formats: Mapped[list[str]] = mapped_column(default=list)
    user_ids: Mapped[list[str] | None]
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    files: Mapped[list[Any]] = mapped_column(default=list)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
