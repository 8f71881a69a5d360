"""The typed dependencies every route declares: who calls, and what it may do.

- ``CurrentPrincipal``: a JWT access token or an API key as ``Authorization: Bearer ...``,
  rate-limited per key or account and per organisation.
- ``Annotated[Principal, Depends(RequireScopes("sleep:read"))]``: 403
  ``insufficient_permissions`` with ``required_scopes`` when a grant is missing.
- ``Annotated[Principal, Depends(RequireSensitive("users:write"))]``: as above, plus an HMAC
  signature when called with a key, or the owner or admin role when called with a JWT.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from somna.auth.exceptions import (
    AuthenticationFailed,
    InsufficientPermissions,
    IpBlocked,
    SigningSecretUnreadable,
)
from somna.auth.principal import Principal
from somna.auth.scopes import SENSITIVE_ROLES, grants_for_role
from somna.auth.tokens import decode_access_token
from somna.config import Settings
from somna.errors import NotFound, SomnaError
from somna.keys import format as key_format
from somna.keys.service import KeyCache, KeySnapshot, authenticate_key, signing_box
from somna.keys.signing import ReplayCache, verify_request
from somna.kit.crypto import DecryptionError
from somna.models import Organization
from somna.ratelimit.base import Limit
from somna.ratelimit.http import MINUTE, SCOPE_KEY, address_limit, check, client_address

ORGANIZATION_HEADER = "X-Organization-ID"
# Per-request values live under scope keys of our own, not in ``request.state``: that dict can be
# shared by every request of a process (asgi-lifespan does so).
API_KEY_SCOPE_KEY = "somna.api_key"
PRINCIPAL_SCOPE_KEY = "somna.principal"

_bearer = HTTPBearer(
    auto_error=False,
    description="A JWT access token from /api/v1/auth/token, or an API key (somna_live_...).",
)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _principal_for_key(snapshot: KeySnapshot) -> Principal:
    return Principal(
        kind="api_key",
        organization_id=snapshot.organization_id,
        grants=snapshot.grants,
        api_key_id=snapshot.id,
    )


async def _authenticate(request: Request, token: str) -> Principal:
    settings = _settings(request)
    if key_format.looks_like_key(token):
        cache: KeyCache | None = getattr(request.app.state, "api_key_cache", None)
        snapshot = await authenticate_key(request.app.state.sessionmaker, cache, token)
        if not snapshot.allows_address(client_address(request.scope)):
            raise IpBlocked("This API key may not be used from this address.")
        request.scope[API_KEY_SCOPE_KEY] = snapshot
        return _principal_for_key(snapshot)
    claims = decode_access_token(settings, token)
    return Principal(
        kind="account",
        organization_id=claims.organization_id,
        grants=grants_for_role(claims.role),
        account_id=claims.account_id,
        role=claims.role,
        person_id=claims.person_id,
        is_operator=claims.is_operator,
    )


async def _acting_organization(request: Request, principal: Principal) -> Principal:
    """Operators pick the organisation they act in with ``X-Organization-ID``."""
    raw = request.headers.get(ORGANIZATION_HEADER)
    if raw is None:
        return principal
    try:
        organization_id = uuid.UUID(raw)
    except ValueError:
        raise NotFound("No such organisation.") from None
    if organization_id == principal.organization_id:
        return principal
    if not principal.is_operator or not await _organization_exists(request, organization_id):
        raise NotFound("No such organisation.")
    return dataclasses.replace(principal, organization_id=organization_id)


async def _organization_exists(request: Request, organization_id: uuid.UUID) -> bool:
    async with request.app.state.sessionmaker() as session:
        return await session.get(Organization, organization_id) is not None


def _limits(request: Request, principal: Principal) -> list[Limit]:
    settings = _settings(request)
    snapshot: KeySnapshot | None = request.scope.get(API_KEY_SCOPE_KEY)
    if snapshot is not None:
        own = Limit(
            f"key:{snapshot.id}",
            snapshot.rate_limit_per_minute or settings.rate_limit_per_minute,
            MINUTE,
        )
    else:
        own = Limit(f"account:{principal.account_id}", settings.rate_limit_per_minute, MINUTE)
    org = Limit(f"org:{principal.organization_id}", settings.rate_limit_org_per_minute, MINUTE)
    return [own, org]


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Authenticate the bearer credential and charge its rate limits.

    It opens a database session only when it must (a key not in the cache, or a due
    ``last_used_at``): the common case costs a hash, a dict lookup and one limiter call.
    """
    try:
        if credentials is None or not credentials.credentials:
            raise AuthenticationFailed("This route needs an access token or API key.")
        principal = await _authenticate(request, credentials.credentials.strip())
    except SomnaError:
        # Failed credentials count against the caller's address, so guessing keys is slow
        # (once: a request without credentials was charged on the way in).
        if SCOPE_KEY not in request.scope:
            await check(request.scope, [address_limit(request.scope, _settings(request))])
        raise
    principal = await _acting_organization(request, principal)
    await check(request.scope, _limits(request, principal))
    request.scope[PRINCIPAL_SCOPE_KEY] = principal
    structlog.contextvars.bind_contextvars(
        organization_id=str(principal.organization_id),
        principal=str(principal.api_key_id or principal.account_id),
    )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


class RequireScopes:
    """A dependency that returns the principal once it holds every grant named."""

    def __init__(self, *grants: str) -> None:
        self.grants = frozenset(grants)

    async def __call__(self, principal: CurrentPrincipal) -> Principal:
        if not principal.has(*self.grants):
            raise InsufficientPermissions(self.grants)
        return principal


class RequireSensitive:
    """For sensitive operations: the grants, plus a signed request when called with a key, or
    the owner or admin role when called with a JWT."""

    def __init__(self, *grants: str) -> None:
        self.grants = frozenset(grants)

    async def __call__(self, request: Request, principal: CurrentPrincipal) -> Principal:
        if not principal.has(*self.grants):
            raise InsufficientPermissions(self.grants)
        if principal.kind == "api_key":
            snapshot: KeySnapshot = request.scope[API_KEY_SCOPE_KEY]
            settings = _settings(request)
            replay_cache: ReplayCache = request.app.state.replay_cache
            await verify_request(
                request,
                _signing_secret(settings, snapshot),
                replay_cache,
                tolerance_seconds=settings.signature_tolerance_seconds,
                replay_scope=str(snapshot.id),
            )
        elif principal.role not in SENSITIVE_ROLES:
            raise InsufficientPermissions(
                self.grants,
                detail="This operation needs the owner or admin role.",
                required_roles=SENSITIVE_ROLES,
            )
        return principal


def _signing_secret(settings: Settings, snapshot: KeySnapshot) -> str:
    try:
        return signing_box(settings).decrypt(snapshot.signing_secret_encrypted)
    except DecryptionError as exc:
        raise SigningSecretUnreadable(
            "The server cannot read this key's signing secret (its secret key changed); "
            "rotate the key to get a new one."
        ) from exc


async def require_operator(principal: CurrentPrincipal) -> Principal:
    if not principal.is_operator:
        raise InsufficientPermissions(
            {"organizations:write"},
            detail="Only owners and admins of the operator organisation may do this.",
        )
    return principal


OperatorPrincipal = Annotated[Principal, Depends(require_operator)]


def forbid_members(principal: Principal, grant: str, *, detail: str | None = None) -> None:
    """Organisation-wide routes are not for member accounts, whose grants cover only the person
    they are linked to (they use the ``/me`` routes instead)."""
    if principal.is_member:
        raise InsufficientPermissions(
            {grant}, detail=detail or "Member accounts can only reach their own data (/me)."
        )
