from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base, IdMixin, TimestampMixin


class Person(IdMixin, TimestampMixin, Base):
    """A tracked person (``/users`` in the API): the one whose sleep is recorded."""

    __tablename__ = "people"
    __table_args__ = (
        UniqueConstraint("organization_id", "email"),
        # The order people are listed in, page by page.
        Index("ix_people_organization_id_created_at_id", "organization_id", "created_at", "id"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # "metadata" is reserved by SQLAlchemy's declarative base, hence the column alias.
    attributes: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    # Set while a deletion is scheduled (docs/privacy.md): the person is hidden and their syncs
    # paused until ``delete_after``, when the privacy job removes them; restore clears both.
    deletion_requested_at: Mapped[datetime | None]
    delete_after: Mapped[datetime | None] = mapped_column(index=True)
