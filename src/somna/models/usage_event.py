from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base, IdMixin
from somna.kit.time import utc_now


class UsageEvent(IdMixin, Base):
    """A package-usage analytics event (the Klyne-compatible ingestion API). No personal data.

    Events belong to the organisation of the key that sent them: two organisations may both
    hold keys for one package name, and neither sees nor collides with the other's events.
    ``package_name`` is stored normalised (PEP 503), so ``My_Pkg`` and ``my-pkg`` count as one.
    """

    __tablename__ = "usage_events"
    __table_args__ = (
        # The idempotency key: a client event id is unique per organisation and package.
        UniqueConstraint("organization_id", "package_name", "client_event_id"),
        Index(
            "ix_usage_events_organization_id_package_name_event_timestamp",
            "organization_id",
            "package_name",
            "event_timestamp",
        ),
        CheckConstraint("cpu_count IS NULL OR cpu_count >= 0", name="cpu_count_non_negative"),
        CheckConstraint(
            "total_memory_gb IS NULL OR total_memory_gb >= 0", name="memory_non_negative"
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL"), index=True
    )
    client_event_id: Mapped[str | None] = mapped_column(String(100))
    session_id: Mapped[uuid.UUID]
    package_name: Mapped[str] = mapped_column(String(200))
    package_version: Mapped[str] = mapped_column(String(100))
    python_version: Mapped[str] = mapped_column(String(40))
    python_implementation: Mapped[str | None] = mapped_column(String(40))
    os_type: Mapped[str] = mapped_column(String(40))
    os_version: Mapped[str | None] = mapped_column(String(100))
    os_release: Mapped[str | None] = mapped_column(String(100))
    architecture: Mapped[str | None] = mapped_column(String(40))
    installation_method: Mapped[str | None] = mapped_column(String(40))
    virtual_env: Mapped[bool | None]
    virtual_env_type: Mapped[str | None] = mapped_column(String(40))
    cpu_count: Mapped[int | None]
    total_memory_gb: Mapped[float | None]
    entry_point: Mapped[str | None] = mapped_column(String(200))
    extra_data: Mapped[dict[str, Any] | None]
    event_timestamp: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
