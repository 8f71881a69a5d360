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

from somna.auth.credentials import KEY_AUTHENTICATOR, KeyAuthenticator, KeyCredential
from somna.auth.exceptions import AuthenticationFailed, InsufficientPermissions
from somna.auth.principal import Principal
from somna.auth.repository import TenantLookup
from somna.auth.scopes import SENSITIVE_ROLES
from somna.auth.tokens import decode_access_token
from somna.errors import NotFound, SomnaError
from somna.ratelimit.base import Limit
from somna.ratelimit.http import MINUTE, SCOPE_KEY, address_limit, check, client_address
from somna.state import app_state

ORGANIZATION_HEADER = "X-Organization-ID"
# Per-request values live under scope keys of our own, not in ``request.state``: that dict can be
# shared by every request of a process (asgi-lifespan does so).
API_KEY_SCOPE_KEY = "somna.api_key"
PRINCIPAL_SCOPE_KEY = "somna.principal"

_bearer = HTTPBearer(
    auto_error=False,
    description="A JWT access token from /api/v1/auth/token, or an API key (somna_live_...).",
)


def _keys(request: Request) -> KeyAuthenticator:
    return app_state(request).service(KEY_AUTHENTICATOR, KeyAuthenticator)


def _principal_for_key(credential: KeyCredential) -> Principal:
    return Principal(
        kind="api_key",
        organization_id=credential.organization_id,
        grants=credential.grants,
        api_key_id=credential.id,
    )


async def _authenticate(request: Request, token: str) -> Principal:
    keys = _keys(request)
    if keys.recognises(token):
        credential = await keys.authenticate(token, client_address(request.scope))
        request.scope[API_KEY_SCOPE_KEY] = credential
        return _principal_for_key(credential)
    return decode_access_token(app_state(request).settings, token).principal()


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
    async with app_state(request).sessionmaker() as session:
        return await TenantLookup(session).exists(organization_id)


def _limits(request: Request, principal: Principal) -> list[Limit]:
    settings = app_state(request).settings
    credential: KeyCredential | None = request.scope.get(API_KEY_SCOPE_KEY)
    if credential is not None:
        own = Limit(
            f"key:{credential.id}",
            credential.rate_limit_per_minute or settings.rate_limit_per_minute,
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
            settings = app_state(request).settings
            await check(request.scope, [address_limit(request.scope, settings)])
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
            credential: KeyCredential = request.scope[API_KEY_SCOPE_KEY]
            await _keys(request).verify_signature(request, credential)
        elif principal.role not in SENSITIVE_ROLES:
            raise InsufficientPermissions(
                self.grants,
                detail="This operation needs the owner or admin role.",
                required_roles=SENSITIVE_ROLES,
            )
        return principal


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
