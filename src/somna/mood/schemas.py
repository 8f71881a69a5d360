"""Mood ratings in and out."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class MoodRatingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=1, le=10, description="1 (worst) to 10 (best).")
    note: str | None = Field(None, max_length=2000)
    local_date: date | None = Field(
        None,
        description="The person's local date rated; default: the date of `recorded_at` (else "
        "today) in the person's zone.",
    )
    recorded_at: AwareDatetime | None = Field(
        None, description="When the rating was made (default: now)."
    )
    allow_multiple: bool = Field(
        False, description="Add a rating even if the date already has one (else 409)."
    )


class MoodRatingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID = Field(validation_alias="person_id")
    local_date: date
    score: int
    note: str | None
    recorded_at: datetime
    created_at: datetime
