from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlalchemy.orm import Mapped

from somna.kit.models import Base
from somna.models._record import ProviderRecordMixin


class BodyMeasurement(ProviderRecordMixin, Base):
    """Height, weight and maximum heart rate as the provider last reported them."""

    __tablename__ = "body_measurements"
    __table_args__ = (
        UniqueConstraint("connection_id", "provider_record_id"),
        Index("ix_body_measurements_person_id_measured_at", "person_id", "measured_at"),
        CheckConstraint("height_meters IS NULL OR height_meters > 0", name="height_positive"),
        CheckConstraint("weight_kilograms IS NULL OR weight_kilograms > 0", name="weight_positive"),
    )

    measured_at: Mapped[datetime]
    height_meters: Mapped[float | None]
    weight_kilograms: Mapped[float | None]
    max_heart_rate: Mapped[int | None]
