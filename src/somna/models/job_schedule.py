from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from somna.kit.models import Base
from somna.kit.time import utc_now


class JobSchedule(Base):
    """When a periodic job of the embedded queue fires next.

    Workers claim a due schedule by moving ``next_run_at`` forward with a compare-and-set, so
    however many processes share the database, each tick enqueues one job.
    """

    __tablename__ = "job_schedules"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    cron: Mapped[str] = mapped_column(String(100))
    next_run_at: Mapped[datetime]
    last_run_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)
