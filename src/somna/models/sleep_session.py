from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base
from somna.models._record import ProviderRecordMixin

_NON_NEGATIVE = (
    "in_bed_seconds",
    "asleep_seconds",
    "awake_seconds",
    "light_seconds",
    "deep_seconds",
    "rem_seconds",
    "latency_seconds",
    "waso_seconds",
    "waso_count",
    "disturbance_count",
    "cycle_count",
)
_PERCENT = ("efficiency_pct", "performance_pct", "consistency_pct")


class SleepSession(ProviderRecordMixin, Base):
    """One canonical sleep (night or nap) from any provider.

    The hypnogram is a string with one character per epoch of ``hypnogram_epoch_seconds``:
    ``W`` wake, ``L`` light (N1+N2), ``D`` deep (N3), ``R`` REM, ``U`` unknown/no data.
    """

    __tablename__ = "sleep_sessions"
    __table_args__ = (
        UniqueConstraint("connection_id", "provider_record_id"),
        Index("ix_sleep_sessions_person_id_start_at", "person_id", "start_at"),
        Index("ix_sleep_sessions_person_id_local_date", "person_id", "local_date"),
        CheckConstraint("end_at >= start_at", name="ends_after_start"),
        CheckConstraint(
            "hypnogram_epoch_seconds IS NULL OR hypnogram_epoch_seconds > 0",
            name="epoch_positive",
        ),
        *(
            CheckConstraint(f"{c} IS NULL OR {c} >= 0", name=f"{c}_non_negative")
            for c in _NON_NEGATIVE
        ),
        *(
            CheckConstraint(f"{c} IS NULL OR ({c} >= 0 AND {c} <= 100)", name=f"{c}_range")
            for c in _PERCENT
        ),
    )

    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    timezone_offset_minutes: Mapped[int | None]
    local_date: Mapped[date]
    is_nap: Mapped[bool] = mapped_column(default=False)
    in_bed_seconds: Mapped[int | None]
    asleep_seconds: Mapped[int | None]
    awake_seconds: Mapped[int | None]
    light_seconds: Mapped[int | None]
    deep_seconds: Mapped[int | None]
    rem_seconds: Mapped[int | None]
    latency_seconds: Mapped[int | None]
    waso_count: Mapped[int | None]
    waso_seconds: Mapped[int | None]
    disturbance_count: Mapped[int | None]
    cycle_count: Mapped[int | None]
    efficiency_pct: Mapped[float | None]
    performance_pct: Mapped[float | None]
    consistency_pct: Mapped[float | None]
    respiratory_rate: Mapped[float | None]
    hypnogram: Mapped[str | None] = mapped_column(Text)
    hypnogram_epoch_seconds: Mapped[int | None]
    source_label: Mapped[str | None] = mapped_column(String(64))

    @property
    def has_hypnogram(self) -> bool:
        return bool(self.hypnogram)
