"""What the outgoing-webhooks API takes and returns."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DeliveryStatus = Literal["pending", "succeeded", "failed"]
MAX_GRACE_SECONDS = 7 * 86_400

EVENTS_DESCRIPTION = (
    'Event types to send; omit or `["*"]` for every type (see docs/webhooks.md for the list).'
)


class EndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048, description="https, public addresses only.")
    events: list[str] | None = Field(
        None, min_length=1, max_length=100, description=EVENTS_DESCRIPTION
    )
    description: str = Field("", max_length=500)
    enabled: bool = True


class EndpointUpdate(BaseModel):
    """Fields to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, min_length=1, max_length=2048)
    events: list[str] | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=500)
    enabled: bool | None = Field(None, description="Enabling clears `disabled_reason`.")


class EndpointRead(BaseModel):
    id: uuid.UUID
    url: str
    events: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None = Field(
        description="Why Somna disabled the endpoint (410 Gone, failing for days), if it did."
    )
    failing_since: datetime | None = Field(
        description="First failed attempt since the last success; null when healthy."
    )
    secret_rotated_until: datetime | None = Field(
        description="Until when the previous signing secret also signs, after a rotation."
    )
    created_at: datetime
    updated_at: datetime


class EndpointCreated(EndpointRead):
    secret: str = Field(description="The signing secret (`whsec_...`): shown only in this answer.")


class SecretRotate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_seconds: int = Field(
        86_400,
        ge=0,
        le=MAX_GRACE_SECONDS,
        description="How long the old secret keeps signing next to the new one (default 24 h).",
    )


class AttemptRead(BaseModel):
    at: datetime
    response_code: int | None = Field(description="The HTTP status; null on a network error.")
    latency_ms: int
    error: str | None = Field(description="Why the attempt failed, if it did.")


class DeliveryRead(BaseModel):
    id: uuid.UUID
    endpoint_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    webhook_id: str = Field(description="The `webhook-id` header: the same on every attempt.")
    status: DeliveryStatus
    attempts: list[AttemptRead]
    next_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime


class RecoverRead(BaseModel):
    replayed: int = Field(description="How many failed deliveries were queued again.")
