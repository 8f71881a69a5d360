from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Index, String, Text, UniqueConstraint, text
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

COUNTED_NIGHT_COLUMNS = (
    "person_id",
    "local_date",
    "provider",
    "night_sleep_seconds",
    "night_efficiency_pct",
    "night_midpoint_minutes",
)
# Spelled as each backend's SQLAlchemy renders ``counted`` and ``not is_nap`` in a WHERE, so
# that SQLite (which matches a partial index by its terms) and PostgreSQL both use it.
COUNTED_NIGHTS_WHERE = {
    "sqlite": "counted = 1 AND is_nap = 0",
    "postgresql": "counted AND NOT is_nap",
}


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
        # Organisation statistics read only the counted main sleeps: this partial index holds
        # every column they sum, so the grouped query is an index-only scan (docs/analytics.md).
        Index(
            "ix_sleep_sessions_counted_nights",
            *COUNTED_NIGHT_COLUMNS,
            sqlite_where=text(COUNTED_NIGHTS_WHERE["sqlite"]),
            postgresql_where=text(COUNTED_NIGHTS_WHERE["postgresql"]),
        ),
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

    # Derived when the record is stored (``somna.nights.repository.night_columns``, the
    # same pure functions every analytics answer uses), so statistics over many people are a
    # plain grouped aggregate. Sleep seconds and efficiency as ``night_metrics`` counts them;
    # the sleep midpoint in minutes after local noon on the clock of the record's own offset.
    night_sleep_seconds: Mapped[int | None]
    night_efficiency_pct: Mapped[float | None]
    night_midpoint_minutes: Mapped[float | None]
    # True for the one record that counts for its sleep given the person's source priority
    # (``resolve_sleep``; naps among naps), refreshed by the store on every write or delete
    # and when the priority changes (``CountedNights``).
    counted: Mapped[bool] = mapped_column(default=False)

    @property
    def has_hypnogram(self) -> bool:
        return bool(self.hypnogram)
