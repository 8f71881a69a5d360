from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base, IdMixin, TimestampMixin

ROLES = ("owner", "admin", "analyst", "member")


class Account(IdMixin, TimestampMixin, Base):
    """Someone who logs in with a password: staff of an organisation, or a tracked person."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLES!r}", name="role_known"),
        CheckConstraint("role != 'member' OR person_id IS NOT NULL", name="member_has_person"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    # A member account belongs to exactly one tracked person and goes when that person goes.
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]
