from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base, IdMixin
from somna.kit.time import utc_now


class Insight(IdMixin, Base):
    """A cached insight with the evidence behind it; stale once ``expires_at`` passes or the
    person's data changes (``data_version``)."""

    __tablename__ = "insights"
    __table_args__ = (Index("ix_insights_person_id_generated_at", "person_id", "generated_at"),)

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(20), default="info")
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Order within one generated batch, and what the batch was computed from (period, sources).
    position: Mapped[int] = mapped_column(default=0)
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    generator: Mapped[str] = mapped_column(String(64))
    data_version: Mapped[str | None] = mapped_column(String(64))
    generated_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime]
