"""Logging in, refreshing with rotation and reuse detection, logging out, and accounts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from somna.auth.exceptions import EmailTaken, InvalidCredentials, InvalidToken
from somna.auth.passwords import hash_password, needs_rehash, verify_password
from somna.auth.principal import Principal
from somna.auth.repository import AccountRepository, RefreshTokenRepository, TenantLookup
from somna.auth.tokens import AccessClaims, issue_access_token, new_refresh_token
from somna.config import Settings
from somna.errors import Forbidden, NotFound, Unprocessable
from somna.kit.crypto import sha256_hex
from somna.kit.time import utc_now
from somna.models import Account, RefreshToken

log = structlog.get_logger(__name__)

# Verified when the email is unknown, so that a miss costs as long as a wrong password.
_DUMMY_HASH = (
    "$argon2id$v=19$m=19456,t=2,p=1$/qdMuNAF+z9370fjMp+48g$"
    "EvFzMpvyTWSurU6kIFJ79ii+V6MpIF/ekfpQa63WXFw"
)


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


async def _is_operator(session: AsyncSession, account: Account) -> bool:
    if account.role not in ("owner", "admin"):
        return False
    return await TenantLookup(session).is_operator(account.organization_id)


async def _claims(session: AsyncSession, account: Account) -> AccessClaims:
    return AccessClaims(
        account_id=account.id,
        organization_id=account.organization_id,
        role=account.role,
        person_id=account.person_id,
        is_operator=await _is_operator(session, account),
    )


async def account_principal(session: AsyncSession, account: Account) -> Principal:
    """The principal an account acts as: what its access token would carry (the dashboard
    builds it from a signed-in session instead of a token)."""
    return (await _claims(session, account)).principal()


async def _issue(
    session: AsyncSession,
    settings: Settings,
    account: Account,
    *,
    family_id: uuid.UUID | None = None,
    parent: RefreshToken | None = None,
) -> TokenPair:
    now = utc_now()
    claims = await _claims(session, account)
    token, token_hash = new_refresh_token()
    # The family's lifetime is absolute: rotation never extends it.
    expires_at = (
        parent.expires_at if parent else now + timedelta(days=settings.refresh_token_ttl_days)
    )
    await RefreshTokenRepository(session).add(
        RefreshToken(
            account_id=account.id,
            family_id=family_id or uuid.uuid4(),
            token_hash=token_hash,
            parent_id=parent.id if parent else None,
            issued_at=now,
            expires_at=expires_at,
        )
    )
    return TokenPair(
        access_token=issue_access_token(settings, claims, now=now),
        refresh_token=token,
        expires_in=settings.access_token_ttl_seconds,
    )


async def login(session: AsyncSession, settings: Settings, email: str, password: str) -> TokenPair:
    """Check the password (off the event loop) and start a new refresh-token family."""
    accounts = AccountRepository(session)
    account = await accounts.get_by_email(email.strip())
    if account is None:
        await verify_password(_DUMMY_HASH, password)
        raise InvalidCredentials("Wrong email or password.")
    if not await verify_password(account.password_hash, password) or not account.is_active:
        raise InvalidCredentials("Wrong email or password.")
    if needs_rehash(account.password_hash):
        account.password_hash = await hash_password(password)
    account.last_login_at = utc_now()
    return await _issue(session, settings, account)


async def refresh(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    refresh_token: str,
) -> TokenPair:
    """Rotate: the presented token is spent and a new one issued in its family.

    A spent token presented again means it leaked (or a client misbehaves); as RFC 9700
    section 4.14.2 advises, the whole family is revoked. Only the immediately previous token
    is forgiven for ``refresh_reuse_grace_seconds``, for clients that refreshed twice at once.
    """
    tokens = RefreshTokenRepository(session)
    now = utc_now()
    stored = await tokens.get_by_hash(sha256_hex(refresh_token))
    if stored is None or stored.revoked_at is not None or stored.expires_at <= now:
        raise InvalidToken("The refresh token is not valid.")
    account = await AccountRepository(session).get_unscoped(stored.account_id)
    if account is None or not account.is_active:
        raise InvalidToken("The refresh token is not valid.")
    if await tokens.claim(stored.id, now):
        return await _issue(session, settings, account, family_id=stored.family_id, parent=stored)
    await session.refresh(stored)
    grace = timedelta(seconds=settings.refresh_reuse_grace_seconds)
    overlapping = (
        stored.revoked_at is None
        and stored.rotated_at is not None
        and now - stored.rotated_at <= grace
        and not await tokens.has_rotated_child(stored.id)
    )
    if overlapping:
        return await _issue(session, settings, account, family_id=stored.family_id, parent=stored)
    family_id, account_id = stored.family_id, account.id
    # End the request's transaction first: on SQLite it holds the write lock the revocation needs.
    await session.rollback()
    await revoke_family_now(sessionmaker, family_id)
    log.warning("auth.refresh_token_reused", account_id=str(account_id))
    raise InvalidToken("The refresh token was already used; this session has been revoked.")


async def revoke_family_now(
    sessionmaker: async_sessionmaker[AsyncSession], family_id: uuid.UUID
) -> None:
    """Revoke in a transaction of its own: the request's rolls back with the 401 it answers,
    and this revocation must survive it."""
    async with sessionmaker() as session:
        await RefreshTokenRepository(session).revoke_family(family_id, utc_now())
        await session.commit()


async def logout(session: AsyncSession, refresh_token: str) -> bool:
    """Revoke the token's family; False when the token is unknown (logging out is idempotent)."""
    tokens = RefreshTokenRepository(session)
    stored = await tokens.get_by_hash(sha256_hex(refresh_token))
    if stored is None:
        return False
    await tokens.revoke_family(stored.family_id, utc_now())
    return True


async def get_account(session: AsyncSession, principal: Principal) -> Account:
    if principal.account_id is None:
        raise AccountRequired("This route belongs to accounts; API keys have no profile.")
    account = await AccountRepository(session).get_in_organization(
        principal.organization_id, principal.account_id
    )
    if account is None or not account.is_active:
        raise NotFound("No such account.")
    return account


class AccountRequired(Forbidden):
    error_code = "account_required"


async def create_account(
    session: AsyncSession,
    principal: Principal,
    *,
    email: str,
    password: str,
    role: str,
    person_id: uuid.UUID | None,
) -> Account:
    """An owner or admin adds an account to the organisation the principal acts in."""
    if role == "owner" and principal.role != "owner":
        raise Forbidden("Only an owner can create another owner.")
    if (role == "member") != (person_id is not None):
        raise Unprocessable(
            "A member account needs a person_id, and only a member has one.", field="person_id"
        )
    if person_id is not None and not await TenantLookup(session).has_person(
        principal.organization_id, person_id
    ):
        raise NotFound("No such person.")
    accounts = AccountRepository(session)
    if await accounts.get_by_email(email) is not None:
        raise EmailTaken("An account with this email already exists.")
    return await accounts.add(
        Account(
            organization_id=principal.organization_id,
            email=email.strip().lower(),
            password_hash=await hash_password(password),
            role=role,
            person_id=person_id,
        )
    )


async def list_accounts(session: AsyncSession, principal: Principal) -> list[Account]:
    return list(await AccountRepository(session).list_for_organization(principal.organization_id))


async def get_account_in_org(
    session: AsyncSession, principal: Principal, account_id: uuid.UUID
) -> Account:
    account = await AccountRepository(session).get_in_organization(
        principal.organization_id, account_id
    )
    if account is None:
        raise NotFound("No such account.")
    return account


async def reset_password(session: AsyncSession, email: str, password: str) -> Account:
    """Set an account's password (operator action) and end all its sessions."""
    account = await AccountRepository(session).get_by_email(email)
    if account is None:
        raise NotFound(f"No account with email {email!r}.")
    account.password_hash = await hash_password(password)
    await RefreshTokenRepository(session).revoke_for_account(account.id, utc_now())
    await session.flush()
    return account
