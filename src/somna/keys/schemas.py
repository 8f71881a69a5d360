from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from somna.auth.scopes import Permission
from somna.keys.service import MAX_GRACE_SECONDS, CreatedKey, is_active
from somna.models import ApiKey


class KeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    permissions: list[Permission] = Field(default=["read"], min_length=1)
    scopes: list[str] = Field(
        min_length=1,
        max_length=50,
        description="Resources (combined with permissions) or explicit `resource:permission`.",
    )
    expires_at: AwareDatetime | None = None
    allowed_ips: list[str] | None = Field(
        None, max_length=100, description="Addresses or CIDR blocks the key may be used from."
    )
    rate_limit_per_minute: int | None = Field(None, gt=0, le=1_000_000)
    package_name: str | None = Field(
        None, min_length=1, max_length=200, description="Binds a usage-analytics key to a package."
    )
    events_per_hour: int | None = Field(None, gt=0, le=100_000_000)


class KeyRotate(BaseModel):
    grace_seconds: int | None = Field(
        None,
        ge=0,
        le=MAX_GRACE_SECONDS,
        description="How long the old key keeps working (default 24 h; 0 stops it at once).",
    )


class KeyOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    last4: str
    permissions: list[str]
    scopes: list[str]
    allowed_ips: list[str] | None
    rate_limit_per_minute: int | None
    package_name: str | None
    events_per_hour: int | None
    expires_at: datetime | None
    revoked_at: datetime | None
    rotated_to_id: uuid.UUID | None
    is_active: bool
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def of(cls, row: ApiKey) -> KeyOut:
        return cls(
            id=row.id,
            name=row.name,
            prefix=row.prefix,
            last4=row.last4,
            permissions=list(row.permissions),
            scopes=list(row.scopes),
            allowed_ips=row.allowed_ips,
            rate_limit_per_minute=row.rate_limit_per_minute,
            package_name=row.package_name,
            events_per_hour=row.events_per_hour,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            rotated_to_id=row.rotated_to_id,
            is_active=is_active(row),
            created_at=row.created_at,
            last_used_at=row.last_used_at,
        )


class KeyCreated(KeyOut):
    key: str = Field(description="The API key. Shown once: store it now.")
    signing_secret: str = Field(description="HMAC secret for signed requests. Shown once.")

    @classmethod
    def of_created(cls, created: CreatedKey) -> KeyCreated:
        return cls(
            **KeyOut.of(created.api_key).model_dump(),
            key=created.key,
            signing_secret=created.signing_secret,
        )


class KeyList(BaseModel):
    keys: list[KeyOut]
