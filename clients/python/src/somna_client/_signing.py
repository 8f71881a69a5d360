"""HMAC-SHA256 signatures for sensitive requests, exactly as the server verifies them:
``X-Timestamp`` (unix seconds) and ``X-Signature: sha256=<hex>`` over
``f"{timestamp}.{METHOD}.{path}.{body}"``, where ``path`` is the request path as sent plus
``?query`` when there is one, and ``body`` the raw body bytes."""

from __future__ import annotations

import hashlib
import hmac

import httpx

TIMESTAMP_HEADER = "X-Timestamp"
SIGNATURE_HEADER = "X-Signature"


def signature(secret: str, timestamp: int, method: str, path: str, body: bytes) -> str:
    message = f"{timestamp}.{method.upper()}.{path}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(request: httpx.Request, secret: str, timestamp: int) -> None:
    """Add the signature headers to a built request (its body must already be final)."""
    path = request.url.raw_path.decode("ascii")
    request.headers[TIMESTAMP_HEADER] = str(timestamp)
    request.headers[SIGNATURE_HEADER] = signature(
        secret, timestamp, request.method, path, request.content
    )
