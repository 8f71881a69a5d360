"""Signing in to the dashboard: a server-side session per browser, tied to a refresh family.

The cookie holds a random token; the database keeps only its SHA-256. Signing in is the API's
own login (same password check, same refresh-token family), so revoking that family, by a
logout anywhere or a detected token reuse, ends the browser session as well.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from somna.auth import service as auth_service
from somna.auth.principal import Principal
from somna.auth.repository import AccountRepository, RefreshTokenRepository
from somna.config import Settings
from somna.errors import SomnaError
from somna.kit.crypto import sha256_hex
from somna.kit.time import utc_now
from somna.models import Account, WebSession
from somna.web.repository import WebSessionRepository


@dataclass(frozen=True, slots=True)
class SignedIn:
    web_session: WebSession
    account: Account
    principal: Principal


class SessionStartFailed(SomnaError):
    status_code, error_code = 500, "session_start_failed"


async def sign_in(
    session: AsyncSession, settings: Settings, email: str, password: str
) -> tuple[str, WebSession]:
    """Check the password as ``POST /auth/token`` does; returns the cookie token."""
    pair = await auth_service.login(session, settings, email, password)
    await session.flush()
    family = await RefreshTokenRepository(session).get_by_hash(sha256_hex(pair.refresh_token))
    if family is None:  # the login just stored it: never expected
        raise SessionStartFailed("The sign-in could not be recorded; try again.")
    token = secrets.token_urlsafe(32)
    web_session = await WebSessionRepository(session).add(
        WebSession(
            token_hash=sha256_hex(token),
            account_id=family.account_id,
            refresh_family_id=family.family_id,
            expires_at=family.expires_at,
        )
    )
    return token, web_session


async def signed_in(session: AsyncSession, token: str) -> SignedIn | None:
    """The live session of this cookie token, or None (unknown, ended, expired, revoked)."""
    sessions = WebSessionRepository(session)
    web_session = await sessions.get_by_hash(sha256_hex(token))
    if web_session is None or web_session.revoked_at is not None:
        return None
    if web_session.expires_at <= utc_now():
        return None
    if await sessions.family_revoked(web_session.refresh_family_id):
        return None
    account = await AccountRepository(session).get_unscoped(web_session.account_id)
    if account is None or not account.is_active:
        return None
    principal = await auth_service.account_principal(session, account)
    return SignedIn(web_session, account, principal)


async def sign_out(session: AsyncSession, web_session: WebSession) -> None:
    """End the session and its refresh family on the server: a replayed cookie is refused."""
    now = utc_now()
    await WebSessionRepository(session).revoke(web_session.id, now)
    await RefreshTokenRepository(session).revoke_family(web_session.refresh_family_id, now)
