"""One refresh at a time per connection, even across processes.

WHOOP rotates the refresh token on every use: of two concurrent refreshes with the same token
the second fails and, if its caller then stores nothing, the connection is lost. So every refresh
runs inside a per-connection lock (a ``RefreshCoordinator``: an asyncio lock within a process;
across processes, the lease on the connection row in ``somna.connections.clients``), and
re-reads the stored tokens once it holds the lock: if another worker refreshed meanwhile, its
tokens are used and no second call is made.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timedelta
from typing import Protocol

from somna.kit.time import utc_now
from somna.providers.exceptions import ReauthorizationRequired
from somna.providers.oauth import REFRESH_MARGIN, TokenSet


class TokenStore(Protocol):
    """Where one connection's tokens live (encrypted, in the connections table).

    ``load`` must read committed state (a fresh transaction), and ``save`` must be committed
    before it returns: both run inside the refresh lock, and the next holder, perhaps in another
    process, must see the rotated token.
    """

    async def load(self) -> TokenSet | None: ...

    async def save(self, tokens: TokenSet) -> None: ...

    async def report_failure(self, error: ReauthorizationRequired) -> None:
        """Record that the refresh token was refused (mark ``reauthorization_required``)."""
        ...


class RefreshCoordinator(Protocol):
    def hold(self, key: str) -> AbstractAsyncContextManager[None]:
        """Hold the refresh lock of ``key`` (one connection) for the duration of the block."""
        ...


class LocalRefreshCoordinator:
    """Per-key asyncio locks: enough when one process does all the refreshing (embedded)."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            # Forget idle locks, so the table does not grow with every connection ever seen.
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


local_refresh_coordinator = LocalRefreshCoordinator()


Refresher = Callable[[TokenSet], Awaitable[TokenSet]]


class ManagedToken:
    """A connection's access token, refreshed 5 minutes before expiry or after a 401.

    ``key`` names the connection (e.g. ``"whoop:<connection id>"``); ``refresher`` is the
    provider's refresh call (one token-endpoint request).
    """

    def __init__(
        self,
        key: str,
        refresher: Refresher,
        store: TokenStore,
        coordinator: RefreshCoordinator,
        *,
        margin: timedelta = REFRESH_MARGIN,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.key = key
        self._refresher = refresher
        self._store = store
        self._coordinator = coordinator
        self._margin = margin
        self._clock = clock
        self._tokens: TokenSet | None = None
        self.refreshes = 0

    async def access_token(self) -> str:
        """A token valid for at least ``margin``; refreshes first if needed."""
        tokens = self._tokens or await self._load()
        if tokens.expires_within(self._margin, self._clock()):
            tokens = await self.refresh(stale_access_token=tokens.access_token)
        self._tokens = tokens
        return tokens.access_token

    async def refresh(self, *, stale_access_token: str | None = None) -> TokenSet:
        """Refresh under the connection's lock, unless someone already replaced the token that
        failed (``stale_access_token``) with one that is still good."""
        async with self._coordinator.hold(self.key):
            current = await self._load()
            replaced = stale_access_token is not None and current.access_token != stale_access_token
            if replaced and not current.expires_within(self._margin, self._clock()):
                self._tokens = current
                return current
            try:
                fresh = await self._refresher(current)
            except ReauthorizationRequired as exc:
                self._tokens = None
                await self._store.report_failure(exc)
                raise
            await self._store.save(fresh)
            self.refreshes += 1
            self._tokens = fresh
            return fresh

    async def _load(self) -> TokenSet:
        tokens = await self._store.load()
        if tokens is None:
            raise ReauthorizationRequired(self.key.split(":", 1)[0], "the connection has no tokens")
        return tokens
