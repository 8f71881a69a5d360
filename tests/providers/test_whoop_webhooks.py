"""WHOOP webhook signatures: the research vector, tampering, age, and real deliveries from the
sandbox to a receiver on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from somna.config import Settings
from somna.providers.base import WebhookNotification
from somna.providers.exceptions import InvalidWebhook
from somna.providers.whoop.provider import WhoopProvider
from somna.providers.whoop.webhooks import sign, verify
from somna.sandbox import WhoopSandbox
from tests.support.server import serve_in_thread

SECRET = "test-client-secret"
STAMP = "1748241241000"
BODY = (
    b'{"user_id":456,"id":"550e8400-e29b-41d4-a716-446655440000","type":"sleep.updated",'
    b'"trace_id":"e369c784-5100-49e8-8098-75d35c47b31b"}'
)
SIGNATURE = "UMECYKOAIlTVcHgeyRrPQj9TEbq+I2DgfbQMkc6q10c="
SENT_AT = datetime.fromtimestamp(int(STAMP) / 1000, tz=UTC)


def _headers(signature: str = SIGNATURE, stamp: str = STAMP) -> dict[str, str]:
    return {"X-WHOOP-Signature": signature, "X-WHOOP-Signature-Timestamp": stamp}


def test_the_documented_vector() -> None:
    assert sign(STAMP, BODY, SECRET) == SIGNATURE
    event = verify(_headers(), BODY, SECRET, now=SENT_AT + timedelta(seconds=3))
    assert (event.event_type, event.collection, event.deleted) == ("sleep.updated", "sleep", False)
    assert event.event_id == "e369c784-5100-49e8-8098-75d35c47b31b"
    assert (event.provider_user_id, event.record_id) == (
        "456",
        "550e8400-e29b-41d4-a716-446655440000",
    )


def test_header_names_are_case_insensitive_in_plain_dicts() -> None:
    lowered = {k.lower(): v for k, v in _headers().items()}
    assert verify(lowered, BODY, SECRET, now=SENT_AT).event_type == "sleep.updated"


@pytest.mark.parametrize(
    ("headers", "body", "secret"),
    [
        (_headers(), BODY.replace(b"456", b"457"), SECRET),  # body changed
        (_headers(stamp="1748241241001"), BODY, SECRET),  # timestamp changed
        (_headers(), BODY, "another-secret"),
        (_headers(signature=SIGNATURE.lower()), BODY, SECRET),
        ({}, BODY, SECRET),
        (_headers(), BODY, ""),
    ],
)
def test_anything_else_is_refused(headers: dict[str, str], body: bytes, secret: str) -> None:
    with pytest.raises(InvalidWebhook):
        verify(headers, body, secret, now=SENT_AT)


def test_an_old_delivery_is_refused_unless_the_window_is_off() -> None:
    later = SENT_AT + timedelta(minutes=6)
    with pytest.raises(InvalidWebhook, match="too old"):
        verify(_headers(), BODY, SECRET, now=later)
    assert verify(_headers(), BODY, SECRET, now=later, tolerance=None).event_type == "sleep.updated"


def test_recovery_and_deletion_events() -> None:
    body = (
        b'{"user_id":1,"id":"550e8400-e29b-41d4-a716-446655440000",'
        b'"type":"recovery.deleted","trace_id":"t-1"}'
    )
    event = verify(_headers(sign(STAMP, body, SECRET)), body, SECRET, now=SENT_AT)
    assert (event.collection, event.deleted) == ("recovery", True)


class Receiver:
    """A webhook endpoint: verifies with the provider's own check, answers 500 on demand."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.events: list[WebhookNotification] = []
        self.fail_next = 0

    async def endpoint(self, request: Request) -> Response:
        if self.fail_next:
            self.fail_next -= 1
            return Response(status_code=500)
        try:
            events = WhoopProvider.verify_webhook(
                self.settings, request.headers, await request.body()
            )
        except InvalidWebhook:
            return Response(status_code=401)
        self.events.extend(events)
        return Response(status_code=204)


@pytest.fixture
def receiver(provider_settings: Settings) -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver(provider_settings)
    app = Starlette(routes=[Route("/hooks/whoop", receiver.endpoint, methods=["POST"])])
    with serve_in_thread(app) as url:
        yield receiver, f"{url}/hooks/whoop"


async def test_sandbox_deliveries_verify_and_are_retried(
    whoop: WhoopSandbox, receiver: tuple[Receiver, str]
) -> None:
    hooks, url = receiver
    member = whoop.members[0]
    sleep = whoop.world.sleeps(member)[-1]
    hooks.fail_next = 2
    [delivery] = await whoop.asend_webhook(member.user_id, "sleep.updated", sleep.id, url=url)
    assert delivery.attempts == ["500", "500", "204"]
    assert delivery.delivered
    [event] = hooks.events
    assert (event.provider_user_id, event.record_id) == (str(member.user_id), sleep.id)
    duplicates = await whoop.asend_webhook(
        member.user_id, "workout.updated", "w-1", url=url, duplicate=True
    )
    assert len(duplicates) == 2
    assert hooks.events[1].event_id == hooks.events[2].event_id  # same trace id: dedupe key


async def test_a_wrongly_signed_delivery_is_refused(
    whoop: WhoopSandbox, receiver: tuple[Receiver, str]
) -> None:
    hooks, url = receiver
    whoop.config.client_secret = "not-the-one-somna-knows"
    [delivery] = await whoop.asend_webhook(1, "sleep.updated", "x", url=url)
    assert delivery.attempts[0] == "401"
    assert not delivery.delivered
    assert hooks.events == []
