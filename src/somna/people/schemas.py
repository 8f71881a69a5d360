from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

from somna.kit.time import TimeZoneName

PROVIDER_NAMES = ("whoop", "asleep")


def _providers(value: list[str]) -> list[str]:
    unknown = [name for name in value if name not in PROVIDER_NAMES]
    if unknown:
        raise ValueError(f"unknown providers {unknown}; known: {list(PROVIDER_NAMES)}")
    if len(set(value)) != len(value):
        raise ValueError("each provider may appear once")
    return value


def _weekdays(value: list[int]) -> list[int]:
    if any(not 1 <= day <= 7 for day in value):
        raise ValueError("weekdays are 1 (Monday) to 7 (Sunday)")
    if len(set(value)) != len(value):
        raise ValueError("each weekday may appear once")
    return sorted(value)


Metadata = Annotated[dict[str, Any], Field(max_length=50)]


class PersonCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    metadata: Metadata = Field(default_factory=dict, description="Your own labels, up to 50 keys.")
    timezone: TimeZoneName | None = Field(
        None, description="IANA time zone of the person's days; default: the organisation's."
    )


class PersonUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr | None = None
    metadata: Metadata | None = None
    timezone: TimeZoneName | None = None


class PersonRead(BaseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    metadata: dict[str, Any]
    timezone: str
    created_at: datetime
    updated_at: datetime


class Preferences(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sleep_goal_hours: float = Field(8.0, gt=0, le=16, description="Nightly sleep goal.")
    timezone: TimeZoneName | None = Field(
        None, description="Overrides the person's time zone for local dates; null: use it."
    )
    source_priority: Annotated[list[str], AfterValidator(_providers)] | None = Field(
        None,
        description="Which provider's record wins when two record the same night, first wins; "
        "null: the one with a hypnogram.",
    )

    workdays: Annotated[list[int], AfterValidator(_weekdays)] = Field(
        default_factory=lambda: [1, 2, 3, 4, 5],
        description="ISO weekdays (Monday 1 ... Sunday 7) the person works; a night that ends "
        "on one is workday sleep (circadian timing, social jetlag, the sleep need).",
    )


class PreferencesRead(Preferences):
    user_id: uuid.UUID
    updated_at: datetime | None
