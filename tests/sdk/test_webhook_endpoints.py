"""``client.webhook_endpoints`` against the live app: every call, a real delivery verified with
``somna_client.webhooks.verify``, a signed secret rotation, a replay with the same id."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from somna.config import Settings
from somna_client import NotFoundError, Somna, webhooks
from somna_client.models import DeliveryRead
from tests.conftest import make_settings
from tests.outgoing.receiver import Receiver, serve_receiver

WAIT_SECONDS = 30.0  # a bound on the in-app worker, not a measurement


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The served app runs its worker and may call the loopback receiver."""
    return make_settings(
        database_url,
        tmp_path,
        job_queue="embedded",
        worker_in_app=True,
        webhooks_allow_private=True,
        webhook_retry_schedule="0,0,0",
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve_receiver() as running:
        yield running


def _settled(client: Somna, endpoint_id: str, delivery_id: str) -> DeliveryRead:
    """The delivery once the app's worker is done with it."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = {d.id: d for d in client.webhook_endpoints.deliveries(endpoint_id).data}
        delivery = found.get(delivery_id)
        if delivery is not None and delivery.status != "pending":
            return delivery
        if time.monotonic() > deadline:
            raise AssertionError(f"delivery {delivery_id} still pending")
        time.sleep(0.05)


def test_every_endpoint_call_and_a_verified_delivery(client: Somna, receiver: Receiver) -> None:
    hooks = client.webhook_endpoints
    created = hooks.create(f"{receiver.url}/ok", events=["sleep.created"], description="app")
    assert created.secret.startswith("whsec_")
    assert created.events == ["sleep.created"]
    assert created.id in {item.id for item in hooks.list()}
    assert hooks.retrieve(created.id).description == "app"
    updated = hooks.update(created.id, events=["*"], description="all of it")
    assert (updated.events, updated.description) == (["*"], "all of it")

    ping = hooks.test(created.id)  # whatever the subscription
    delivered = _settled(client, created.id, ping.id)
    assert delivered.status == "succeeded"
    assert [attempt.response_code for attempt in delivered.attempts] == [200]
    [request] = receiver.to("/ok")
    payload = webhooks.verify(request.body, request.headers, created.secret)
    assert payload["type"] == "ping"
    assert request.headers["webhook-id"] == delivered.webhook_id

    rotated = hooks.rotate_secret(created.id, grace_seconds=600)  # signed by the client
    assert rotated.secret != created.secret
    assert rotated.secret_rotated_until is not None

    replayed = hooks.retry_delivery(ping.id)
    assert replayed.status == "pending"
    assert _settled(client, created.id, ping.id).status == "succeeded"
    first, again = receiver.to("/ok")
    assert again.headers["webhook-id"] == first.headers["webhook-id"]
    # Both secrets sign during the grace period: each verifies the replay on its own.
    for secret in (created.secret, rotated.secret):
        assert webhooks.verify(again.body, again.headers, secret)["id"] == payload["id"]

    assert hooks.recover(created.id).replayed == 0  # nothing failed
    hooks.delete(created.id)
    with pytest.raises(NotFoundError):
        hooks.retrieve(created.id)
