"""Verify a webhook delivery from Somna (Standard Webhooks signatures), with the stdlib only.

    from somna_client import webhooks

    event = webhooks.verify(request.body, request.headers, "whsec_...")

``verify`` checks the HMAC-SHA256 signature of ``{webhook-id}.{webhook-timestamp}.{body}``
under the endpoint's secret, refuses timestamps more than ``tolerance`` seconds away from now
(replays), and returns the parsed event (``id``, ``type``, ``created_at``, ``organization_id``,
``data``). Pass the raw body: re-serialised JSON does not match the signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from somna_client._exceptions import SomnaError

__all__ = ["DEFAULT_TOLERANCE_SECONDS", "WebhookVerificationError", "sign", "verify"]

DEFAULT_TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"


class WebhookVerificationError(SomnaError):
    """The delivery is not signed by this secret, or is too old or too new."""


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookVerificationError("The secret is not a whsec_ secret.") from exc


def sign(secret: str, webhook_id: str, timestamp: int, payload: bytes | str) -> str:
    """The ``v1,<base64>`` signature Somna sends for ``payload`` (for tests of a receiver)."""
    body = payload.encode() if isinstance(payload, str) else payload
    content = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise WebhookVerificationError(f"The {name} header is missing.")


def verify(
    payload: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> dict[str, Any]:
    """The event, once its signature and timestamp check out; raises
    ``WebhookVerificationError`` otherwise."""
    webhook_id = _header(headers, "webhook-id")
    raw_timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        raise WebhookVerificationError("The webhook-timestamp header is not a number.") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookVerificationError("The delivery's timestamp is too old or too new.")
    expected = sign(secret, webhook_id, timestamp, payload).split(",", 1)[1]
    for item in signatures.split(" "):
        version, _, signature = item.partition(",")
        # Compare every candidate in constant time; several sign during a secret rotation.
        if version == "v1" and hmac.compare_digest(signature.encode(), expected.encode()):
            body = payload.encode() if isinstance(payload, str) else payload
            event: dict[str, Any] = json.loads(body)
            return event
    raise WebhookVerificationError("No signature matches this secret.")
