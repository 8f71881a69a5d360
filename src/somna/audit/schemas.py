"""The audit log's API shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from somna.models import AuditEvent


class AuditEventRead(BaseModel):
    """One recorded access or administrative action."""

    id: uuid.UUID
    organization_id: uuid.UUID
    seq: int = Field(description="Position in the organisation's chain, from 1, without gaps.")
    occurred_at: datetime
    actor_type: Literal["account", "api_key", "cli"]
    actor_id: uuid.UUID | None = Field(description="The account or API key; null for the CLI.")
    channel: Literal["api", "web", "cli"]
    action: str = Field(description="`<resource>.<verb>`, e.g. `sleep.read`, `person.delete`.")
    route: str | None = Field(description="Method and path template of the request.")
    resource_type: str | None
    resource_id: str | None
    person_id: uuid.UUID | None = Field(description="The person whose data was touched.")
    client_address: str | None
    request_id: str | None = Field(description="The request's `X-Request-ID`.")
    outcome: Literal["allowed", "denied"]
    status_code: int | None = Field(description="The refusal's status when `denied`.")
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, row: AuditEvent) -> AuditEventRead:
        return cls.model_validate(row, from_attributes=True)


EXPORT_COLUMNS = tuple(AuditEventRead.model_fields)
