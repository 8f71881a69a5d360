from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base, IdMixin
from somna.kit.time import utc_now


class BurnoutScore(IdMixin, Base):
    """A computed wellbeing-risk signal with its factors. Not a diagnosis."""

    __tablename__ = "burnout_scores"
    __table_args__ = (
        UniqueConstraint("person_id", "as_of_date", "model_version"),
        CheckConstraint(
            "risk_score IS NULL OR (risk_score >= 0 AND risk_score <= 100)", name="risk_range"
        ),
        CheckConstraint(
            "level IN ('low', 'moderate', 'high', 'insufficient_data')", name="level_known"
        ),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    as_of_date: Mapped[date]
    risk_score: Mapped[float | None]
    level: Mapped[str] = mapped_column(String(20))
    factors: Mapped[list[Any]] = mapped_column(default=list)
    missing: Mapped[list[str]] = mapped_column(default=list)
    model_version: Mapped[str] = mapped_column(String(20))
    computed_at: Mapped[datetime] = mapped_column(default=utc_now)
