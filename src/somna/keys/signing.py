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

from starlette.requests import Request

from somna.keys.exceptions import InvalidSignature, SignatureExpired, SignatureReplayed
from somna.ratelimit.replay import ReplayCache

TIMESTAMP_HEADER = "X-Timestamp"
SIGNATURE_HEADER = "X-Signature"
SCHEME = "sha256="


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
