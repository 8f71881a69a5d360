"""The access token a provider client sends: a fixed one, or whatever a ``TokenSource``
(for a stored connection, ``somna.connections.refresh.ManagedToken``) hands out."""

from __future__ import annotations

from typing import Protocol

from somna.providers.exceptions import ReauthorizationRequired
from somna.providers.oauth import TokenSet


class TokenSource(Protocol):
    """What an API client needs from credentials: a token now, and a new one after a 401."""

    async def access_token(self) -> str: ...

    async def refresh(self, *, stale_access_token: str | None = None) -> TokenSet: ...


class StaticToken:
    """A fixed access token (scripts, tests): a 401 cannot be repaired by refreshing."""

    def __init__(self, access_token: str) -> None:
        self._token = access_token

    async def access_token(self) -> str:
        return self._token

    async def refresh(self, *, stale_access_token: str | None = None) -> TokenSet:
        raise ReauthorizationRequired("static", "a static access token cannot be refreshed")
