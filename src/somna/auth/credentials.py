"""The port through which authentication checks API keys.

``somna.keys`` sits above auth (its routes declare auth's dependencies), so auth cannot import
it: auth names here what it needs from an API key, and the app installs keys' implementation
(``somna.keys.authentication.ApiKeyAuthenticator``) on its state under ``KEY_AUTHENTICATOR``.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass

from starlette.requests import Request

KEY_AUTHENTICATOR = "key_authenticator"


@dataclass(frozen=True)
class KeyCredential:
    """What authentication needs to know about the API key a request came with."""

    id: uuid.UUID
    organization_id: uuid.UUID
    grants: frozenset[str]
    rate_limit_per_minute: int | None


class KeyAuthenticator(ABC):
    @abstractmethod
    def recognises(self, token: str) -> bool:
        """Whether a bearer token has the form of an API key (else it is read as a JWT)."""

    @abstractmethod
    async def authenticate(self, token: str, address: str) -> KeyCredential:
        """The key's credential; a 401 or 403 ``SomnaError`` when it may not be used."""

    @abstractmethod
    async def verify_signature(self, request: Request, credential: KeyCredential) -> None:
        """Raise unless the request carries a fresh, unused signature made with the key's
        signing secret."""
