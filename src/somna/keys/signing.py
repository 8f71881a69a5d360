"""HMAC-SHA256 request signatures for sensitive operations called with an API key.

The client sends ``X-Timestamp`` (unix seconds) and ``X-Signature: sha256=<hex>``, the hex being
HMAC-SHA256 with the key's signing secret over ``f"{timestamp}.{METHOD}.{path}.{body}"``: ``path``
is the request path plus ``?query`` when there is one, ``body`` the raw body (empty when none).
Each signature is accepted once; the replay cache remembers it for twice the tolerance.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.requests import Request

from somna.auth.exceptions import InvalidSignature, SignatureExpired, SignatureReplayed
from somna.errors import ServiceUnavailable

TIMESTAMP_HEADER = "X-Timestamp"
SIGNATURE_HEADER = "X-Signature"
SCHEME = "sha256="


class ReplayCache(Protocol):
    async def claim(self, token: str, ttl_seconds: int) -> bool:
        """True the first time ``token`` is seen within ``ttl_seconds``."""
        ...


class MemoryReplayCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: dict[str, float] = {}

    async def claim(self, token: str, ttl_seconds: int) -> bool:
        now = self._clock()
        if len(self._seen) > 10_000:
            self._seen = {k: until for k, until in self._seen.items() if until > now}
        until = self._seen.get(token)
        if until is not None and until > now:
            return False
        self._seen[token] = now + ttl_seconds
        return True


class RedisReplayCache:
    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client
        self._prefix = f"{prefix}sig:"

    async def claim(self, token: str, ttl_seconds: int) -> bool:
        try:
            return bool(await self._client.set(self._prefix + token, b"1", nx=True, ex=ttl_seconds))
        except (RedisError, OSError) as exc:
            # Without the cache a replay cannot be told apart, so refuse rather than guess.
            raise ServiceUnavailable("The signature replay cache is unavailable.") from exc


def signed_path(request: Request) -> str:
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if raw else request.url.path
    query = request.scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


def compute_signature(secret: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    message = f"{timestamp}.{method.upper()}.{path}.".encode() + body
    return SCHEME + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


async def verify_request(
    request: Request,
    secret: str,
    replay_cache: ReplayCache,
    *,
    tolerance_seconds: int,
    replay_scope: str,
    now: float | None = None,
) -> None:
    """Raise ``invalid_signature``, ``signature_expired`` or ``signature_replayed``."""
    timestamp = request.headers.get(TIMESTAMP_HEADER, "").strip()
    signature = request.headers.get(SIGNATURE_HEADER, "").strip()
    if not timestamp or not signature:
        raise InvalidSignature(
            f"This operation needs {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers."
        )
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise InvalidSignature(f"{TIMESTAMP_HEADER} must be unix seconds.")
    body = await request.body()
    expected = compute_signature(secret, timestamp, request.method, signed_path(request), body)
    given = SCHEME + signature[len(SCHEME) :].lower() if signature[:7].lower() == SCHEME else ""
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise InvalidSignature("The request signature does not match.")
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance_seconds:
        raise SignatureExpired(
            f"{TIMESTAMP_HEADER} is more than {tolerance_seconds} s away from the server's clock."
        )
    if not await replay_cache.claim(f"{replay_scope}:{expected}", 2 * tolerance_seconds):
        raise SignatureReplayed("This signature was already used; sign each request afresh.")
