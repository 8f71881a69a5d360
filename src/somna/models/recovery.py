from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base
from somna.models._record import ProviderRecordMixin


class Recovery(ProviderRecordMixin, Base):
    """A morning recovery reading: HRV (rMSSD, ms), resting HR, SpO2, skin temperature."""

    __tablename__ = "recoveries"
    __table_args__ = (
        UniqueConstraint("connection_id", "provider_record_id"),
        Index("ix_recoveries_person_id_recorded_at", "person_id", "recorded_at"),
        # Holds every column the organisation statistics' recovery sums read, so that
        # statement is an index-only scan (migration 0012, docs/analytics.md).
        Index(
            "ix_recoveries_person_id_local_date",
            "person_id",
            "local_date",
            "provider",
            "hrv_rmssd_ms",
            "resting_hr_bpm",
        ),
        CheckConstraint(
            "recovery_score IS NULL OR (recovery_score >= 0 AND recovery_score <= 100)",
            name="recovery_score_range",
        ),
        CheckConstraint(
            "spo2_pct IS NULL OR (spo2_pct >= 0 AND spo2_pct <= 100)", name="spo2_range"
        ),
        CheckConstraint("hrv_rmssd_ms IS NULL OR hrv_rmssd_ms >= 0", name="hrv_non_negative"),
        CheckConstraint("resting_hr_bpm IS NULL OR resting_hr_bpm >= 0", name="rhr_non_negative"),
    )

    recorded_at: Mapped[datetime]
    local_date: Mapped[date]
    cycle_record_id: Mapped[str | None] = mapped_column(String(200))
    sleep_record_id: Mapped[str | None] = mapped_column(String(200))
    recovery_score: Mapped[float | None]
    hrv_rmssd_ms: Mapped[float | None]
    resting_hr_bpm: Mapped[float | None]
    spo2_pct: Mapped[float | None]
    skin_temp_celsius: Mapped[float | None]
    user_calibrating: Mapped[bool | None]
