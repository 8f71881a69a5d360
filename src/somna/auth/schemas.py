from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from somna.auth.passwords import MIN_PASSWORD_LENGTH

Role = Literal["owner", "admin", "analyst", "member"]


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=320, description="The account's email.")
    password: str = Field(min_length=1, max_length=1024)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=200)


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")


class LogoutResponse(BaseModel):
    revoked: bool = Field(description="False when the refresh token was unknown.")


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    role: Role
    organization_id: uuid.UUID
    person_id: uuid.UUID | None
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class ProfileOut(AccountOut):
    is_operator: bool


class AccountCreate(BaseModel):
    email: EmailStr
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)
    role: Role
    person_id: uuid.UUID | None = Field(None, description="Required for (and only for) members.")


class AccountList(BaseModel):
    data: list[AccountOut]
    next_cursor: str | None = None
