from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base
from somna.kit.time import utc_now


class UserPreferences(Base):
    """A person's goals and choices; one row per person."""

    __tablename__ = "user_preferences"
    __table_args__ = (
        CheckConstraint(
            "sleep_goal_hours > 0 AND sleep_goal_hours <= 16", name="sleep_goal_hours_range"
        ),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    sleep_goal_hours: Mapped[float] = mapped_column(default=8.0)
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Which provider wins when two record the same night, first to last.
    source_priority: Mapped[list[str] | None]
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)
