from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from somna.kit.periods import PeriodBody
from somna.models import SyncRun

ProviderName = Literal["whoop", "asleep"]
RunStatus = Literal[
    "queued", "running", "waiting_for_budget", "succeeded", "partial", "failed", "cancelled"
]
MAX_SPAN_DAYS = 3650


class SyncRequest(PeriodBody):
    model_config = ConfigDict(extra="forbid")
    max_span_days = MAX_SPAN_DAYS

    provider: ProviderName | None = Field(None, description="Only this provider; default: all.")
    start_date: date | None = Field(
        None, description="First local date to fetch; omitted: incremental since the last sync."
    )
    end_date: date | None = Field(None, description="Last local date, inclusive; default today.")

    @field_validator("start_date")
    @classmethod
    def _not_future(cls, start: date | None) -> date | None:
        if start is not None and start > date.today() + timedelta(days=1):
            raise PydanticCustomError("date_in_future", "`start_date` is in the future")
        return start

    @property
    def explicit(self) -> bool:
        return self.start_date is not None or self.end_date is not None


class SyncRunRead(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    connection_id: uuid.UUID | None
    provider: str
    status: RunStatus
    trigger: str = Field(description="connect, manual, schedule, organization, cli or restore.")
    window_start: datetime | None = Field(description="Requested window; null: incremental.")
    window_end: datetime | None
    counts: dict[str, Any] = Field(
        description="Per collection: window, pages, records, inserted, updated, unchanged, "
        "deleted, skipped."
    )
    records: int
    pages: int
    requests: int
    retries: int
    attempts: int = Field(
        description="Times the run was taken up afresh (first, after an error, after its "
        "executor died); waits for the provider budget do not count."
    )
    next_attempt_at: datetime | None = Field(
        description="While waiting_for_budget: when the run goes on (it keeps its place)."
    )
    errors: list[Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None

    @classmethod
    def of(cls, run: SyncRun) -> SyncRunRead:
        duration = None
        if run.started_at is not None and run.finished_at is not None:
            duration = round((run.finished_at - run.started_at).total_seconds(), 3)
        records = sum(
            int(item.get("records", 0)) for item in run.counts.values() if isinstance(item, dict)
        )
        return cls(
            id=run.id,
            user_id=run.person_id,
            connection_id=run.connection_id,
            provider=run.provider,
            status=run.status,
            trigger=run.trigger,
            window_start=run.window_start,
            window_end=run.window_end,
            counts=run.counts,
            records=records,
            pages=run.pages,
            requests=run.requests,
            retries=run.retries,
            attempts=run.attempts,
            next_attempt_at=run.next_attempt_at if run.status == "waiting_for_budget" else None,
            errors=run.errors,
            created_at=run.created_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
            duration_seconds=duration,
        )


class SyncRunBatch(BaseModel):
    data: list[SyncRunRead] = Field(description="One run per connection synced.")
