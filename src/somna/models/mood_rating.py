from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base, IdMixin
from somna.kit.time import utc_now


class MoodRating(IdMixin, Base):
    """A self-reported mood from 1 (worst) to 10 (best) for a local date."""

    __tablename__ = "mood_ratings"
    __table_args__ = (
        CheckConstraint("score >= 1 AND score <= 10", name="score_range"),
        Index("ix_mood_ratings_person_id_local_date", "person_id", "local_date"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    local_date: Mapped[date]
    score: Mapped[int]
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(default=utc_now)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
