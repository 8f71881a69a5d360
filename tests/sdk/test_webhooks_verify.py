"""``somna_client.webhooks.verify`` against the reference ``standardwebhooks`` signer and
Somna's own signer (a real delivery is verified in tests/outgoing/test_delivery.py)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from somna.outgoing import signing
from somna_client import webhooks

BODY = json.dumps({"id": "e1", "type": "ping", "data": {}}).encode()


def test_accepts_what_standardwebhooks_signs() -> None:
    secret = signing.new_secret()
    now = datetime.now(UTC)
    signature = Webhook(secret).sign("msg_1", now, BODY.decode())
    headers = {
        "Webhook-Id": "msg_1",
        "Webhook-Timestamp": str(int(now.timestamp())),
        "Webhook-Signature": signature,
    }
    assert webhooks.verify(BODY, headers, secret)["type"] == "ping"


def test_accepts_somna_signatures_with_either_secret_during_a_rotation() -> None:
    old, new = signing.new_secret(), signing.new_secret()
    headers = signing.headers([new, old], "msg_2", int(time.time()), BODY)
    for secret in (old, new):
        assert webhooks.verify(BODY, headers, secret)["id"] == "e1"


def test_refuses_tampering_wrong_secrets_and_stale_timestamps() -> None:
    secret = signing.new_secret()
    headers = signing.headers([secret], "msg_3", int(time.time()), BODY)
    with pytest.raises(webhooks.WebhookVerificationError):
        webhooks.verify(BODY + b" ", headers, secret)
    with pytest.raises(webhooks.WebhookVerificationError):
        webhooks.verify(BODY, headers, signing.new_secret())
    with pytest.raises(webhooks.WebhookVerificationError):
        webhooks.verify(BODY, headers, secret, now=time.time() + 3600)
    with pytest.raises(webhooks.WebhookVerificationError):
        webhooks.verify(BODY, {"webhook-id": "msg_3"}, secret)
