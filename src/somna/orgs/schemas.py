from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from somna.auth.passwords import MIN_PASSWORD_LENGTH
from somna.kit.time import TimeZoneName


class OrganizationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    slug: str
    is_operator: bool
    settings: dict[str, Any]
    created_at: datetime


class OrganizationSettings(BaseModel):
    """Organisation-wide defaults; unknown keys are kept for the organisation's own use."""

    model_config = ConfigDict(extra="allow")

    timezone: TimeZoneName = Field(
        "UTC", description="Default IANA time zone of the organisation's new people."
    )
    retention_days: int | None = Field(
        None,
        ge=1,
        le=36_500,
        description="Records (and mood ratings, insights, scores) older than this many days "
        "are deleted daily; null keeps them all. See docs/privacy.md.",
    )


class OrganizationCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(
        None, min_length=1, max_length=100, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$"
    )
    owner_email: EmailStr
    owner_password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)
    settings: OrganizationSettings = Field(default_factory=OrganizationSettings)


class OrganizationCreated(OrganizationOut):
    owner_account_id: uuid.UUID


class OrganizationList(BaseModel):
    data: list[OrganizationOut]
    next_cursor: str | None = None
