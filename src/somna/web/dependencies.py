"""What every page receives: the signed-in account, its principal, and a render helper."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from somna.analytics.dependencies import current_time
from somna.auth.exceptions import InsufficientPermissions
from somna.auth.principal import Principal
from somna.auth.scopes import SENSITIVE_ROLES
from somna.config import Settings
from somna.db import SessionDep
from somna.errors import Forbidden
from somna.ratelimit.base import Limit
from somna.ratelimit.http import MINUTE, address_limit, check
from somna.state import app_state
from somna.web.csrf import SESSION_COOKIE, csrf_token
from somna.web.routing import SIGNED_IN_SCOPE_KEY, SignInRequired
from somna.web.sessions import SignedIn, signed_in
from somna.web.templating import render


def settings_of(request: Request) -> Settings:
    return app_state(request).settings


async def current_session(request: Request, session: SessionDep) -> SignedIn:
    """The live session of the cookie, charged to the account's and organisation's limits."""
    token = request.cookies.get(SESSION_COOKIE)
    signed = await signed_in(session, token) if token else None
    settings = settings_of(request)
    if signed is None:
        if token:  # a stale or forged cookie: limited like any caller without credentials
            await check(request.scope, [address_limit(request.scope, settings)])
        raise SignInRequired
    principal = signed.principal
    await check(
        request.scope,
        [
            Limit(f"account:{principal.account_id}", settings.rate_limit_per_minute, MINUTE),
            Limit(f"org:{principal.organization_id}", settings.rate_limit_org_per_minute, MINUTE),
        ],
    )
    request.scope[SIGNED_IN_SCOPE_KEY] = signed
    return signed


@dataclass(frozen=True)
class PageContext:
    request: Request
    session: AsyncSession
    signed: SignedIn
    now: datetime

    @property
    def principal(self) -> Principal:
        return self.signed.principal

    @property
    def settings(self) -> Settings:
        return settings_of(self.request)

    @property
    def csrf(self) -> str:
        return csrf_token(self.settings, self.request.cookies.get(SESSION_COOKIE, ""))

    def require(self, *grants: str) -> None:
        """The API's grant check: 403 naming the grants when one is missing."""
        if not self.principal.has(*grants):
            raise InsufficientPermissions(frozenset(grants))

    def require_staff(self) -> None:
        """Organisation-wide pages are for staff; a member sees only their own person."""
        if self.principal.is_member:
            raise Forbidden("This page is for the organisation's staff; see your own page.")

    def require_admin(self) -> None:
        if self.principal.role not in SENSITIVE_ROLES:
            raise Forbidden("This page is for owners and admins.")

    def render(self, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
        context = {"signed": self.signed, "csrf": self.csrf, "page": self, **values}
        return render(self.request, template, context, status_code=status_code)


async def page_context(
    request: Request,
    session: SessionDep,
    signed: Annotated[SignedIn, Depends(current_session)],
    now: Annotated[datetime, Depends(current_time)],
) -> PageContext:
    return PageContext(request, session, signed, now)


Page = Annotated[PageContext, Depends(page_context)]
