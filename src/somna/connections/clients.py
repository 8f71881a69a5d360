"""Providers acting for one connection: its tokens decrypted on demand, refreshed under the
connection's refresh lock, and every request sent through the caller's transport (the sync
engine's is the provider-budget pacer)."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from somna.config import Settings
from somna.connections.exceptions import TokenUnreadable
from somna.connections.refresh import (
    LocalRefreshCoordinator,
    ManagedToken,
    Refresher,
    local_refresh_coordinator,
)
from somna.connections.repository import ConnectionRepository
from somna.kit.crypto import DecryptionError, SecretBox
from somna.kit.time import utc_now, zone_or_utc
from somna.models import Connection
from somna.outgoing import emit
from somna.providers.base import ConnectionContext, Provider
from somna.providers.exceptions import ProviderUnavailable, ReauthorizationRequired
from somna.providers.oauth import TokenSet
from somna.providers.registry import get_provider

log = structlog.get_logger(__name__)

TOKEN_PURPOSE = "somna.connections.tokens.v1"


def token_box(settings: Settings) -> SecretBox:
    """The key provider tokens are encrypted with (derived from the secret key)."""
    return settings.secret_box(TOKEN_PURPOSE)


def encrypted_tokens(box: SecretBox, tokens: TokenSet) -> dict[str, object]:
    """Column values of a token set, encrypted."""
    return {
        "access_token_encrypted": box.encrypt(tokens.access_token),
        "refresh_token_encrypted": (
            box.encrypt(tokens.refresh_token) if tokens.refresh_token else None
        ),
        "token_expires_at": tokens.expires_at,
    }


def decrypted_tokens(box: SecretBox, connection: Connection) -> TokenSet | None:
    if connection.access_token_encrypted is None:
        return None
    refresh = connection.refresh_token_encrypted
    return TokenSet(
        access_token=box.decrypt(connection.access_token_encrypted),
        refresh_token=box.decrypt(refresh) if refresh else None,
        expires_at=connection.token_expires_at,
        scopes=tuple(connection.scopes or ()),
    )


class ConnectionTokenStore:
    """The ``TokenStore`` of one connection row. Each call runs in a transaction of its own:
    ``load`` sees what other workers committed, ``save`` is committed before it returns."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        connection_id: uuid.UUID,
        box: SecretBox,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.connection_id = connection_id
        self.box = box

    async def load(self) -> TokenSet | None:
        async with self.sessionmaker() as session:
            connection = await ConnectionRepository(session).get_unscoped(self.connection_id)
            if connection is None or connection.status == "revoked":
                return None
            try:
                return decrypted_tokens(self.box, connection)
            except DecryptionError:
                provider = connection.provider
        error = TokenUnreadable(provider)
        await self.report_failure(error)
        raise error

    async def save(self, tokens: TokenSet) -> None:
        values = encrypted_tokens(self.box, tokens)
        if tokens.scopes:
            values["scopes"] = list(tokens.scopes)
        async with self.sessionmaker() as session, session.begin():
            saved = await ConnectionRepository(session).save_tokens(self.connection_id, values)
        if not saved:
            log.warning("connection.tokens_not_saved", connection_id=str(self.connection_id))

    async def report_failure(self, error: ReauthorizationRequired) -> None:
        reason = (
            error.detail
            if isinstance(error, TokenUnreadable)
            else f"The provider refused the refresh token: {error.detail}"
        )
        async with self.sessionmaker() as session, session.begin():
            marked = await ConnectionRepository(session).mark_reauthorization_required(
                self.connection_id, reason
            )
            if marked is not None and marked[1] != "reauthorization_required":
                connection = marked[0]
                # In the marking's transaction; without a queue here the outbox relay sends it.
                await emit.connection_changed(
                    session, None, connection.organization_id,
                    "connection.reauthorization_required",
                    person_id=connection.person_id, connection_id=connection.id,
                    provider=connection.provider, status=connection.status, reason=reason,
                )  # fmt: skip
        if marked:
            log.warning(
                "connection.reauthorization_required",
                connection_id=str(self.connection_id),
                reason=error.error_code,
            )


class ConnectionRefreshLease:
    """One token refresh per connection across processes, without holding a database
    connection (or a transaction) while the provider's token endpoint answers.

    The lease is a claim on the connection row (owner and expiry), taken and released by
    compare-and-set in short transactions of their own. Within a process, waiters queue on an
    asyncio lock first, so only one of them polls the row. A process that dies holding the
    lease loses it when it expires; until then others wait up to ``wait_seconds`` and then
    report the provider busy (a retryable error).
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        connection_id: uuid.UUID,
        *,
        lease_seconds: float,
        wait_seconds: float = 60.0,
        poll_seconds: float = 0.2,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.connection_id = connection_id
        self.lease = timedelta(seconds=lease_seconds)
        self.wait_seconds = wait_seconds
        self.poll_seconds = poll_seconds

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        async with local_refresh_coordinator.hold(key):
            owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
            await self._claim(key, owner)
            try:
                yield
            finally:
                async with self.sessionmaker() as session, session.begin():
                    await ConnectionRepository(session).release_refresh(self.connection_id, owner)

    async def _claim(self, key: str, owner: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_seconds
        while True:
            now = utc_now()
            async with self.sessionmaker() as session, session.begin():
                repository = ConnectionRepository(session)
                claimed = await repository.claim_refresh(
                    self.connection_id, owner, until=now + self.lease, now=now
                )
                live = claimed or await repository.is_live(self.connection_id)
            if claimed:
                return
            if not live:
                # Disconnected (or deleted) meanwhile: no lease will ever be free, and the
                # tokens are gone; waiting out ``wait_seconds`` would only stall the caller.
                raise ReauthorizationRequired(
                    key.split(":", 1)[0], "the connection was disconnected"
                )
            if loop.time() >= deadline:
                raise ProviderUnavailable(
                    key.split(":", 1)[0], "another worker is still refreshing this connection"
                )
            await asyncio.sleep(self.poll_seconds)


class MemoryTokenStore:
    """Tokens just received from a code exchange, before any connection row holds them."""

    def __init__(self, tokens: TokenSet) -> None:
        self.tokens: TokenSet | None = tokens

    async def load(self) -> TokenSet | None:
        return self.tokens

    async def save(self, tokens: TokenSet) -> None:
        self.tokens = tokens

    async def report_failure(self, error: ReauthorizationRequired) -> None:
        self.tokens = None


def refresher(settings: Settings, provider_class: type[Provider]) -> Refresher:
    """One token-endpoint call per refresh, on a client closed right after it."""

    async def refresh(tokens: TokenSet) -> TokenSet:
        oauth = provider_class.oauth_client(settings)
        try:
            return await oauth.refresh(tokens)
        finally:
            await oauth.http.aclose()

    return refresh


def refresh_lease_seconds(settings: Settings) -> float:
    """Long enough for one token call with its retries, so a live refresh keeps its lease."""
    return max(60.0, settings.provider_timeout_seconds * (settings.provider_max_retries + 1))


@dataclass(frozen=True)
class ConnectionRef:
    """What building a provider needs from a connection (plain values, no ORM row)."""

    id: uuid.UUID
    provider: str
    provider_user_id: str | None
    timezone: str | None


def open_provider(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    connection: ConnectionRef,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Provider:
    """The provider acting for ``connection`` (close it when done)."""
    provider_class = get_provider(connection.provider)
    token: ManagedToken | None = None
    if provider_class.capabilities.auth_kind == "oauth2":
        store = ConnectionTokenStore(sessionmaker, connection.id, token_box(settings))
        token = ManagedToken(
            f"{connection.provider}:{connection.id}",
            refresher(settings, provider_class),
            store,
            ConnectionRefreshLease(
                sessionmaker, connection.id, lease_seconds=refresh_lease_seconds(settings)
            ),
        )
    context = ConnectionContext(
        provider_user_id=connection.provider_user_id,
        token=token,
        zone=zone_or_utc(connection.timezone),
    )
    return provider_class.from_settings(settings, context, transport=transport)


def provider_for_new_tokens(
    settings: Settings,
    provider: str,
    tokens: TokenSet,
    *,
    provider_user_id: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Provider:
    """A provider on tokens just exchanged, to read the profile before storing anything."""
    provider_class = get_provider(provider)
    token = ManagedToken(
        f"{provider}:new",
        refresher(settings, provider_class),
        MemoryTokenStore(tokens),
        LocalRefreshCoordinator(),
    )
    context = ConnectionContext(provider_user_id=provider_user_id, token=token)
    return provider_class.from_settings(settings, context, transport=transport)
