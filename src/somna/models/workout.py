from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base
from somna.models._record import ProviderRecordMixin


class Workout(ProviderRecordMixin, Base):
    """One activity with its strain, heart rate and heart-rate zone durations."""

    __tablename__ = "workouts"
    __table_args__ = (
        UniqueConstraint("connection_id", "provider_record_id"),
        Index("ix_workouts_person_id_start_at", "person_id", "start_at"),
        CheckConstraint("end_at >= start_at", name="ends_after_start"),
        CheckConstraint("strain IS NULL OR (strain >= 0 AND strain <= 21)", name="strain_range"),
        CheckConstraint(
            "distance_meters IS NULL OR distance_meters >= 0", name="distance_non_negative"
        ),
    )

    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    timezone_offset_minutes: Mapped[int | None]
    local_date: Mapped[date]
    sport_name: Mapped[str | None] = mapped_column(String(100))
    strain: Mapped[float | None]
    average_heart_rate: Mapped[float | None]
    max_heart_rate: Mapped[float | None]
    kilojoules: Mapped[float | None]
    distance_meters: Mapped[float | None]
    altitude_gain_meters: Mapped[float | None]
    zone_durations_seconds: Mapped[dict[str, Any] | None]
