from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlalchemy.orm import Mapped

from somna.kit.models import Base
from somna.models._record import ProviderRecordMixin


class Cycle(ProviderRecordMixin, Base):
    """A physiological day (WHOOP cycle): strain, energy and heart rate; open while ongoing."""

    __tablename__ = "cycles"
    __table_args__ = (
        UniqueConstraint("connection_id", "provider_record_id"),
        Index("ix_cycles_person_id_start_at", "person_id", "start_at"),
        CheckConstraint("end_at IS NULL OR end_at >= start_at", name="ends_after_start"),
        CheckConstraint("strain IS NULL OR (strain >= 0 AND strain <= 21)", name="strain_range"),
        CheckConstraint("kilojoules IS NULL OR kilojoules >= 0", name="kilojoules_non_negative"),
    )

    start_at: Mapped[datetime]
    end_at: Mapped[datetime | None]
    timezone_offset_minutes: Mapped[int | None]
    local_date: Mapped[date]
    strain: Mapped[float | None]
    kilojoules: Mapped[float | None]
    average_heart_rate: Mapped[float | None]
    max_heart_rate: Mapped[float | None]
