"""Key management: ``/api/v1/developer/keys``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, status

from somna.auth.dependencies import RequireScopes, RequireSensitive
from somna.auth.principal import Principal
from somna.auth.responses import AUTH_RESPONSES, NOT_FOUND, error_response
from somna.db import SessionDep
from somna.keys import service
from somna.keys.dependencies import KeyCacheDep
from somna.keys.schemas import KeyCreate, KeyCreated, KeyList, KeyOut, KeyRotate
from somna.state import SettingsDep

router = APIRouter(prefix="/developer/keys", tags=["keys"])

ReadKeys = Annotated[Principal, Depends(RequireScopes("keys:read"))]
WriteKeys = Annotated[Principal, Depends(RequireScopes("keys:write"))]
SensitiveKeys = Annotated[Principal, Depends(RequireSensitive("keys:write"))]
SIGNED: dict[int | str, dict[str, Any]] = {
    **AUTH_RESPONSES,
    **NOT_FOUND,
    401: error_response(
        "Invalid credentials, or with a key: `invalid_signature`, `signature_expired`, "
        "`signature_replayed`."
    ),
}


@router.post(
    "",
    response_model=KeyCreated,
    status_code=status.HTTP_201_CREATED,
    responses=AUTH_RESPONSES,
)
async def create_key(
    body: KeyCreate, settings: SettingsDep, principal: WriteKeys, session: SessionDep
) -> KeyCreated:
    """Create an API key; the key and its signing secret are shown only in this answer."""
    created = await service.create_api_key(
        session,
        settings,
        organization_id=principal.organization_id,
        name=body.name,
        permissions=body.permissions,
        scopes=body.scopes,
        expires_at=body.expires_at,
        allowed_ips=body.allowed_ips,
        rate_limit_per_minute=body.rate_limit_per_minute,
        package_name=body.package_name,
        events_per_hour=body.events_per_hour,
        created_by_account_id=principal.account_id,
        granted_by=principal,
    )
    return KeyCreated.of_created(created)


@router.get("", response_model=KeyList, responses=AUTH_RESPONSES)
async def list_keys(principal: ReadKeys, session: SessionDep) -> KeyList:
    """The organisation's keys, newest first, without secrets."""
    return KeyList(keys=[KeyOut.of(row) for row in await service.list_keys(session, principal)])


@router.get("/{key_id}", response_model=KeyOut, responses={**AUTH_RESPONSES, **NOT_FOUND})
async def get_key(key_id: uuid.UUID, principal: ReadKeys, session: SessionDep) -> KeyOut:
    """One key, without secrets."""
    return KeyOut.of(await service.get_key(session, principal, key_id))


@router.post(
    "/{key_id}/rotate",
    response_model=KeyCreated,
    responses={**SIGNED, 409: error_response("`key_inactive`: revoked, expired or rotated.")},
)
async def rotate_key(
    key_id: uuid.UUID,
    settings: SettingsDep,
    cache: KeyCacheDep,
    principal: SensitiveKeys,
    session: SessionDep,
    body: Annotated[KeyRotate | None, Body()] = None,
) -> KeyCreated:
    """Issue a replacement key with the same grants; the old one works through the grace period."""
    created = await service.rotate_key(
        session,
        settings,
        cache,
        principal,
        key_id,
        body.grace_seconds if body else None,
    )
    return KeyCreated.of_created(created)


@router.delete("/{key_id}", response_model=KeyOut, responses=SIGNED)
async def revoke_key(
    key_id: uuid.UUID, cache: KeyCacheDep, principal: SensitiveKeys, session: SessionDep
) -> KeyOut:
    """Revoke a key at once; answers with the revoked key."""
    return KeyOut.of(await service.revoke_key(session, cache, principal, key_id))
