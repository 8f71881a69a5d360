from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ProviderName = Literal["whoop", "asleep"]


class WhoopConnectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    return_to: Annotated[str | None, Field(max_length=2000)] = Field(
        None,
        description="Where the browser goes after the callback; must be an allowed origin "
        "(SOMNA_CONNECT_RETURN_TO_ORIGINS) or a path on this server.",
    )


class AuthorizationStart(BaseModel):
    authorization_url: str = Field(description="Send the person's browser here to consent.")
    state: str = Field(description="Single use, bound to this person, valid for 10 minutes.")
    expires_at: datetime


class AsleepConnectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asleep_user_id: Annotated[str | None, Field(min_length=1, max_length=200)] = Field(
        None, description="Link this existing Asleep user; omitted: create a new one."
    )
    metadata: Annotated[dict[str, Any] | None, Field(max_length=50)] = Field(
        None, description="Stored with a newly created Asleep user (birth year, gender, ...)."
    )


class LastSync(BaseModel):
    id: uuid.UUID
    status: str
    trigger: str
    created_at: datetime
    finished_at: datetime | None
    error: str | None


class ConnectionRead(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    provider: str
    provider_user_id: str | None
    status: str = Field(
        description="active, reauthorization_required (connect again), error, revoked."
    )
    scopes: list[str]
    connected_at: datetime
    token_expires_at: datetime | None
    last_sync_at: datetime | None
    next_sync_at: datetime | None
    last_error: str | None
    last_sync: LastSync | None = Field(description="The most recent sync run, if any.")


class ConnectionList(BaseModel):
    data: list[ConnectionRead]


class Disconnected(BaseModel):
    provider: str
    status: Literal["revoked", "deleted"]
    revoked_at_provider: bool = Field(description="False when the provider could not be told.")
    provider_error: str | None
    data_deleted: bool
    records_deleted: int
