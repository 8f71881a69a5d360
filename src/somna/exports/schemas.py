"""What the exports API takes and returns."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from somna.kit.periods import PeriodBody

ExportFormat = Literal["json", "csv", "parquet"]
ExportStatus = Literal["queued", "running", "succeeded", "failed", "expired"]
ALL_FORMATS: tuple[ExportFormat, ...] = ("json", "csv", "parquet")


class MyExportCreate(PeriodBody):
    """An export of the caller's own data (``/me/exports``)."""

    model_config = ConfigDict(extra="forbid")

    format: list[ExportFormat] = Field(
        default_factory=lambda: list(ALL_FORMATS),
        min_length=1,
        description="Formats to write: per-person JSON, the combined expanded CSV, Parquet.",
    )


class ExportCreate(MyExportCreate):
    user_ids: list[uuid.UUID] | None = Field(
        None,
        min_length=1,
        max_length=1000,
        description="Only these people; omit for the whole organisation (a sensitive request).",
    )


class ExportFileRead(BaseModel):
    name: str = Field(description="Path inside the export, e.g. `json/sleep_data_batch_...json`.")
    format: ExportFormat
    rows: int
    bytes: int
    url: str = Field(description="Where to download this one file.")


class ExportRead(BaseModel):
    id: uuid.UUID
    status: ExportStatus
    formats: list[ExportFormat]
    user_ids: list[uuid.UUID] | None
    start_date: date | None
    end_date: date | None
    counts: dict[str, int] = Field(description="People and rows per collection, once built.")
    files: list[ExportFileRead]
    download_url: str | None = Field(description="A zip of every file, once built.")
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
