"""Keys' side of authentication: what ``somna.auth.dependencies`` calls, through the
``KeyAuthenticator`` port, for a bearer API key and for a signed sensitive request."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from somna.auth.credentials import KeyAuthenticator, KeyCredential
from somna.config import Settings
from somna.keys import format as key_format
from somna.keys.exceptions import InvalidApiKey, IpBlocked, SigningSecretUnreadable
from somna.keys.service import KeyCache, KeySnapshot, authenticate_key, signing_box
from somna.keys.signing import verify_request
from somna.kit.crypto import DecryptionError
from somna.ratelimit.replay import ReplayCache


class ApiKeyAuthenticator(KeyAuthenticator):
    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        cache: KeyCache,
        replay_cache: ReplayCache,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.cache = cache
        self.replay_cache = replay_cache

    def recognises(self, token: str) -> bool:
        return key_format.looks_like_key(token)

    async def authenticate(self, token: str, address: str) -> KeySnapshot:
        snapshot = await authenticate_key(self.sessionmaker, self.cache, token)
        if not snapshot.allows_address(address):
            raise IpBlocked("This API key may not be used from this address.")
        return snapshot

    async def verify_signature(self, request: Request, credential: KeyCredential) -> None:
        if not isinstance(credential, KeySnapshot):  # only this class hands credentials out
            raise InvalidApiKey("The API key is not valid.")
        await verify_request(
            request,
            self._signing_secret(credential),
            self.replay_cache,
            tolerance_seconds=self.settings.signature_tolerance_seconds,
            replay_scope=str(credential.id),
        )

    def _signing_secret(self, snapshot: KeySnapshot) -> str:
        try:
            return signing_box(self.settings).decrypt(snapshot.signing_secret_encrypted)
        except DecryptionError as exc:
            raise SigningSecretUnreadable(
                "The server cannot read this key's signing secret (its secret key changed); "
                "rotate the key to get a new one."
            ) from exc
