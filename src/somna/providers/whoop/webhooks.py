"""WHOOP webhook signatures: base64(HMAC-SHA256(timestamp + raw body, client secret))."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime, timedelta

from somna.kit.http import header
from somna.kit.time import utc_now
from somna.providers.base import Collection, WebhookNotification
from somna.providers.exceptions import InvalidWebhook

SIGNATURE_HEADER = "X-WHOOP-Signature"
TIMESTAMP_HEADER = "X-WHOOP-Signature-Timestamp"
# WHOOP documents no freshness window; five minutes is common practice and stops replays of
# captured deliveries while tolerating ordinary clock skew.
DEFAULT_TOLERANCE = timedelta(minutes=5)
EVENT_COLLECTIONS: dict[str, Collection] = {
    "sleep": "sleep",
    "recovery": "recovery",
    "workout": "workouts",
}


def sign(timestamp: str, body: bytes, client_secret: str) -> str:
    """The signature WHOOP puts in ``X-WHOOP-Signature`` for this timestamp and body."""
    mac = hmac.new(client_secret.encode(), timestamp.encode() + body, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def verify(
    headers: Mapping[str, str],
    body: bytes,
    client_secret: str,
    *,
    now: datetime | None = None,
    tolerance: timedelta | None = DEFAULT_TOLERANCE,
) -> WebhookNotification:
    """Check the signature (constant time) and the timestamp's age, then parse the event."""
    if not client_secret:
        raise InvalidWebhook("WHOOP webhooks cannot be checked: no client secret is configured.")
    signature = header(headers, SIGNATURE_HEADER)
    timestamp = header(headers, TIMESTAMP_HEADER)
    if not signature or not timestamp:
        raise InvalidWebhook("Missing X-WHOOP-Signature or X-WHOOP-Signature-Timestamp.")
    expected = sign(timestamp, body, client_secret)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise InvalidWebhook("The WHOOP webhook signature does not match.")
    if tolerance is not None:
        try:
            sent_ms = int(timestamp)
        except ValueError as exc:
            raise InvalidWebhook("The WHOOP signature timestamp is not a number.") from exc
        now_ms = (now or utc_now()).timestamp() * 1000
        if abs(now_ms - sent_ms) > tolerance.total_seconds() * 1000:
            raise InvalidWebhook("The WHOOP webhook is too old (or from the future).")
    return parse(body)


def parse(body: bytes) -> WebhookNotification:
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise InvalidWebhook("The WHOOP webhook body is not JSON.") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise InvalidWebhook("The WHOOP webhook body has no event type.")
    event_type: str = payload["type"]
    kind, _, action = event_type.partition(".")
    user_id = payload.get("user_id")
    record_id = payload.get("id")
    trace_id = payload.get("trace_id")
    return WebhookNotification(
        provider="whoop",
        # trace_id is WHOOP's de-duplication key; without one, the event's identity is its content.
        event_id=str(trace_id) if trace_id else hashlib.sha256(body).hexdigest(),
        event_type=event_type,
        provider_user_id=None if user_id is None else str(user_id),
        collection=EVENT_COLLECTIONS.get(kind),
        # For recovery.* in v2 this is the UUID of the related sleep, not a cycle id.
        record_id=None if record_id is None else str(record_id),
        deleted=action == "deleted",
        payload=payload,
    )
