"""Login, refresh, logout, the caller's profile, and accounts."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from somna.auth import service
from somna.auth.dependencies import CurrentPrincipal, RequireScopes
from somna.auth.exceptions import InvalidCredentials
from somna.auth.principal import Principal
from somna.auth.responses import AUTH_RESPONSES
from somna.auth.responses import error_response as _error
from somna.auth.schemas import (
    AccountCreate,
    AccountList,
    AccountOut,
    LogoutResponse,
    ProfileOut,
    RefreshRequest,
    TokenRequest,
    TokenResponse,
)
from somna.db import SessionDep
from somna.kit.crypto import sha256_hex
from somna.ratelimit.base import Limit
from somna.ratelimit.http import check, client_address, refuse_when_spent
from somna.state import SessionFactoryDep, SettingsDep, app_state

router = APIRouter(tags=["auth"])

ReadAccounts = Annotated[Principal, Depends(RequireScopes("organizations:read"))]
WriteAccounts = Annotated[Principal, Depends(RequireScopes("organizations:write"))]


def _login_limits(request: Request, email: str) -> list[Limit]:
    settings = app_state(request).settings
    window = settings.login_failure_window_seconds
    # Hash the email: Redis keys should not carry personal data.
    by_email = f"login-fail:email:{sha256_hex(email.strip().lower())[:32]}"
    by_address = f"login-fail:ip:{client_address(request.scope)}"
    return [
        Limit(by_email, settings.login_failures_per_email, window),
        Limit(by_address, settings.login_failures_per_address, window),
    ]


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    responses={401: _error("`invalid_credentials`"), 429: _error("Too many failed logins.")},
)
async def issue_token(
    body: TokenRequest, request: Request, settings: SettingsDep, session: SessionDep
) -> TokenResponse:
    """Log in with email and password; returns an access token and a refresh token."""
    limits = _login_limits(request, body.username)
    await refuse_when_spent(request.scope, limits)
    try:
        pair = await service.login(session, settings, body.username, body.password)
    except InvalidCredentials:
        await check(request.scope, limits, raise_on_refusal=False)
        raise
    return TokenResponse(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


@router.post(
    "/auth/refresh",
    response_model=TokenResponse,
    responses={401: _error("`invalid_token`: unknown, expired, revoked or reused.")},
)
async def refresh_token(
    body: RefreshRequest,
    settings: SettingsDep,
    sessionmaker: SessionFactoryDep,
    session: SessionDep,
) -> TokenResponse:
    """Exchange a refresh token for a new access token and a new refresh token (single use)."""
    pair = await service.refresh(session, sessionmaker, settings, body.refresh_token)
    return TokenResponse(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


@router.post("/auth/logout", response_model=LogoutResponse)
async def logout(body: RefreshRequest, session: SessionDep) -> LogoutResponse:
    """Revoke the refresh token's whole session (its token family)."""
    return LogoutResponse(revoked=await service.logout(session, body.refresh_token))


@router.get("/user/profile", response_model=ProfileOut, responses=AUTH_RESPONSES)
async def profile(principal: CurrentPrincipal, session: SessionDep) -> ProfileOut:
    """The logged-in account."""
    account = await service.get_account(session, principal)
    return ProfileOut(
        **AccountOut.model_validate(account).model_dump(), is_operator=principal.is_operator
    )


@router.post(
    "/accounts",
    response_model=AccountOut,
    status_code=status.HTTP_201_CREATED,
    responses={**AUTH_RESPONSES, 404: _error("No such person."), 409: _error("Email taken.")},
)
async def create_account(
    body: AccountCreate, principal: WriteAccounts, session: SessionDep
) -> AccountOut:
    """Add an account to the organisation; a member account is linked to one person."""
    account = await service.create_account(
        session,
        principal,
        email=str(body.email),
        password=body.password,
        role=body.role,
        person_id=body.person_id,
    )
    return AccountOut.model_validate(account)


@router.get("/accounts", response_model=AccountList, responses=AUTH_RESPONSES)
async def list_accounts(principal: ReadAccounts, session: SessionDep) -> AccountList:
    """The organisation's accounts."""
    accounts = await service.list_accounts(session, principal)
    return AccountList(data=[AccountOut.model_validate(item) for item in accounts])


@router.get(
    "/accounts/{account_id}",
    response_model=AccountOut,
    responses={**AUTH_RESPONSES, 404: _error("No such account.")},
)
async def get_account(
    account_id: uuid.UUID, principal: ReadAccounts, session: SessionDep
) -> AccountOut:
    """One account of the organisation."""
    return AccountOut.model_validate(
        await service.get_account_in_org(session, principal, account_id)
    )
