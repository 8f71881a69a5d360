from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base, IdMixin, TimestampMixin

CONNECTION_STATUSES = ("pending", "active", "reauthorization_required", "error", "revoked")


class Connection(IdMixin, TimestampMixin, Base):
    """A person's link to one provider account. Tokens rest encrypted."""

    __tablename__ = "connections"
    __table_args__ = (
        UniqueConstraint("person_id", "provider"),
        CheckConstraint(f"status IN {CONNECTION_STATUSES!r}", name="status_known"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(32))
    provider_user_id: Mapped[str | None] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(32), default="pending")
    scopes: Mapped[list[str]] = mapped_column(default=list)
    access_token_encrypted: Mapped[str | None] = mapped_column(Text)
    refresh_token_encrypted: Mapped[str | None] = mapped_column(Text)
    token_expires_at: Mapped[datetime | None]
    last_sync_at: Mapped[datetime | None]
    next_sync_at: Mapped[datetime | None] = mapped_column(index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The token-refresh lease: one refresh per connection across processes, without holding a
    # database connection while the provider answers.
    refresh_claimed_by: Mapped[str | None] = mapped_column(String(100))
    refresh_claimed_until: Mapped[datetime | None]
