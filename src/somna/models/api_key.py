from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base, IdMixin, TimestampMixin


class ApiKey(IdMixin, TimestampMixin, Base):
    """A server credential. Only the SHA-256 of the key rests here; the HMAC signing secret is
    encrypted, because verifying a signature needs the secret itself."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint(
            "rate_limit_per_minute IS NULL OR rate_limit_per_minute > 0", name="rate_limit_positive"
        ),
        CheckConstraint(
            "events_per_hour IS NULL OR events_per_hour > 0", name="events_per_hour_positive"
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    created_by_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(40))
    last4: Mapped[str] = mapped_column(String(4))
    permissions: Mapped[list[str]] = mapped_column(default=list)
    scopes: Mapped[list[str]] = mapped_column(default=list)
    signing_secret_encrypted: Mapped[str] = mapped_column(Text)
    allowed_ips: Mapped[list[str] | None]
    rate_limit_per_minute: Mapped[int | None]
    # Usage-analytics keys are bound to one package and limited in events per hour.
    package_name: Mapped[str | None] = mapped_column(String(200))
    events_per_hour: Mapped[int | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    rotated_to_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    last_used_at: Mapped[datetime | None]
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
