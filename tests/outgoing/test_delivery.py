"""Delivery to a receiver on loopback, on both backends: Standard Webhooks signatures checked
with the independent ``standardwebhooks`` verifier, retries and exhaustion on a compressed
schedule, timeouts, redirects, 410, replays."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from somna.kit.time import utc_now
from somna.models import OutgoingEvent, WebhookEndpoint
from somna_client import webhooks
from tests.outgoing.receiver import Receiver
from tests.outgoing.support import ENDPOINTS, create_endpoint, deliveries, run_deliveries
from tests.support.auth import Org, create_organization

ATTEMPTS = 4  # the first, and one per value of the compressed schedule "0,0,0"


async def _ping(
    app: FastAPI, client: httpx.AsyncClient, org: Org, url: str, **fields: Any
) -> dict[str, Any]:
    endpoint = await create_endpoint(client, org.owner.headers, url, **fields)
    sent = await client.post(f"{ENDPOINTS}/{endpoint['id']}/test", headers=org.owner.headers)
    assert sent.status_code == 202, sent.text
    assert sent.json()["status"] == "pending"
    await run_deliveries(app)
    return endpoint


async def test_a_ping_is_signed_as_standard_webhooks_verifies(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession, receiver: Receiver
) -> None:
    org = await create_organization(db_session, client)
    endpoint = await _ping(app, client, org, f"{receiver.url}/ok", events=["sync.failed"])
    [request] = receiver.to("/ok")
    verified = Webhook(endpoint["secret"]).verify(request.body, request.headers)
    assert verified["type"] == "ping"
    assert webhooks.verify(request.body, request.headers, endpoint["secret"]) == verified
    assert verified["organization_id"] == str(org.id)
    assert set(verified) == {"id", "type", "created_at", "organization_id", "sequence", "data"}
    assert request.headers["content-type"] == "application/json"

    [delivery] = await deliveries(client, org.owner.headers, endpoint["id"])
    assert delivery["status"] == "succeeded"
    assert delivery["webhook_id"] == request.headers["webhook-id"]
    assert delivery["event_type"] == "ping"
    assert delivery["next_attempt_at"] is None
    [attempt] = delivery["attempts"]
    assert attempt["response_code"] == 200
    assert attempt["error"] is None
    assert attempt["latency_ms"] >= 0


async def test_retries_until_success_with_the_same_webhook_id(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession, receiver: Receiver
) -> None:
    receiver.failures_before_success = 2
    org = await create_organization(db_session, client)
    endpoint = await _ping(app, client, org, f"{receiver.url}/flaky")
    requests = receiver.to("/flaky")
    assert len(requests) == 3
    assert len({request.headers["webhook-id"] for request in requests}) == 1
    for request in requests:
        Webhook(endpoint["secret"]).verify(request.body, request.headers)
    [delivery] = await deliveries(client, org.owner.headers, endpoint["id"])
    assert delivery["status"] == "succeeded"
    assert [item["response_code"] for item in delivery["attempts"]] == [503, 503, 200]
    healthy = (await client.get(f"{ENDPOINTS}/{endpoint['id']}", headers=org.owner.headers)).json()
    assert healthy["failing_since"] is None


async def test_exhaustion_fails_the_message_and_records_delivery_exhausted(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession, receiver: Receiver
) -> None:
    org = await create_organization(db_session, client)
    # Subscribed to exhaustion notices by name ("*" never gets them, so failures cannot echo).
    watcher = await create_endpoint(
        client, org.owner.headers, f"{receiver.url}/ok", events=["endpoint.delivery_exhausted"]
    )
    endpoint = await _ping(app, client, org, f"{receiver.url}/fail")
    assert len(receiver.to("/fail")) == ATTEMPTS
    [delivery] = await deliveries(client, org.owner.headers, endpoint["id"])
    assert delivery["status"] == "failed"
    assert [item["response_code"] for item in delivery["attempts"]] == [500] * ATTEMPTS
    assert delivery["attempts"][-1]["error"] == "HTTP 500"

    stored = (await db_session.scalars(select(OutgoingEvent.payload))).all()
    [exhausted] = [item for item in stored if item["type"] == "endpoint.delivery_exhausted"]
    assert exhausted["data"]["delivery_id"] == delivery["id"]
    assert exhausted["data"]["attempts"] == ATTEMPTS
    [notice] = receiver.to("/ok")
    assert Webhook(watcher["secret"]).verify(notice.body, notice.headers) == exhausted
    status = (await client.get(f"{ENDPOINTS}/{endpoint['id']}", headers=org.owner.headers)).json()
    assert status["failing_since"] is not None
    assert status["enabled"] is True


async def test_a_slow_endpoint_times_out_and_is_retried(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession, receiver: Receiver
) -> None:
    org = await create_organization(db_session, client)
    endpoint = await _ping(app, client, org, f"{receiver.url}/slow")
    [delivery] = await deliveries(client, org.owner.headers, endpoint["id"])
    assert delivery["status"] == "failed"
    assert len(delivery["attempts"]) == ATTEMPTS
    assert all(item["response_code"] is None for item in delivery["attempts"])
    assert all("timed out" in item["error"] for item in delivery["attempts"])


async def test_redirects_are_not_followed(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession, receiver: Receiver
) -> None:
    org = await create_organization(db_session, client)
    endpoint = await _ping(app, client, org, f"{receiver.url}/redirect")
    assert len(receiver.to("/redirect")) == ATTEMPTS
    assert receiver.to("/ok") == []
    [delivery] = await deliveries(client, org.owner.headers, endpoint["id"])
    assert delivery["status"] == "failed"
    assert {item["response_code"] for item in delivery["attempts"]} == {307}


async def test_410_disables_the_endpoint_at_once(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession, receiver: Receiver
) -> None:
    org = await create_organization(db_session, client)
    endpoint = await _ping(app, client, org, f"{receiver.url}/gone")
    assert len(receiver.to("/gone")) == 1
    [delivery] = await deliveries(client, org.owner.headers, endpoint["id"])
    assert delivery["status"] == "failed"
    status = (await client.get(f"{ENDPOINTS}/{endpoint['id']}", headers=org.owner.headers)).json()
    assert status["enabled"] is False
    assert "410" in status["disabled_reason"]
    refused = await client.post(f"{ENDPOINTS}/{endpoint['id']}/test", headers=org.owner.headers)
    assert refused.status_code == 409
    enabled = await client.patch(
        f"{ENDPOINTS}/{endpoint['id']}", json={"enabled": True}, headers=org.owner.headers
    )
    assert enabled.json()["disabled_reason"] is None


async def test_an_endpoint_failing_for_five_days_is_disabled(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession, receiver: Receiver
) -> None:
    org = await create_organization(db_session, client)
    endpoint = await create_endpoint(client, org.owner.headers, f"{receiver.url}/fail")
    await db_session.execute(
        update(WebhookEndpoint).values(failing_since=utc_now() - timedelta(days=5, hours=1))
    )
    await db_session.commit()
    await client.post(f"{ENDPOINTS}/{endpoint['id']}/test", headers=org.owner.headers)
    await run_deliveries(app)
    assert len(receiver.to("/fail")) == 1  # disabled after this attempt: no retries
    status = (await client.get(f"{ENDPOINTS}/{endpoint['id']}", headers=org.owner.headers)).json()
    assert status["enabled"] is False
    assert "every delivery has failed since" in status["disabled_reason"]


async def test_retry_and_recover_replay_failed_messages(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession, receiver: Receiver
) -> None:
    receiver.failures_before_success = 2 * ATTEMPTS
    org = await create_organization(db_session, client)
    endpoint = await _ping(app, client, org, f"{receiver.url}/flaky")
    await client.post(f"{ENDPOINTS}/{endpoint['id']}/test", headers=org.owner.headers)
    await run_deliveries(app)
    second, first = await deliveries(client, org.owner.headers, endpoint["id"])
    assert first["status"] == second["status"] == "failed"

    receiver.failures_before_success = 0  # the receiver is fixed
    retried = await client.post(
        f"/api/v1/webhook-deliveries/{first['id']}/retry", headers=org.owner.headers
    )
    assert retried.status_code == 202, retried.text
    await run_deliveries(app)
    again = [item for item in await deliveries(client, org.owner.headers, endpoint["id"])]
    assert {item["id"]: item["status"] for item in again}[first["id"]] == "succeeded"
    ids = [item.headers["webhook-id"] for item in receiver.to("/flaky")]
    assert ids[-1] == first["webhook_id"]  # a replay keeps the message's webhook-id

    since = (utc_now() - timedelta(hours=1)).isoformat()
    recovered = await client.post(
        f"{ENDPOINTS}/{endpoint['id']}/recover",
        params={"since": since},
        headers=org.owner.headers,
    )
    assert recovered.status_code == 202, recovered.text
    assert recovered.json() == {"replayed": 1}
    await run_deliveries(app)
    final = await deliveries(client, org.owner.headers, endpoint["id"])
    assert {item["status"] for item in final} == {"succeeded"}

    other = await create_organization(db_session, client)
    hidden = await client.post(
        f"/api/v1/webhook-deliveries/{first['id']}/retry", headers=other.owner.headers
    )
    assert hidden.status_code == 404


async def test_during_a_rotation_both_secrets_sign(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession, receiver: Receiver
) -> None:
    org = await create_organization(db_session, client)
    endpoint = await create_endpoint(client, org.owner.headers, f"{receiver.url}/ok")
    rotated = await client.post(
        f"{ENDPOINTS}/{endpoint['id']}/rotate-secret",
        json={"grace_seconds": 3600},
        headers=org.owner.headers,
    )
    await client.post(f"{ENDPOINTS}/{endpoint['id']}/test", headers=org.owner.headers)
    await run_deliveries(app)
    [request] = receiver.to("/ok")
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (endpoint["secret"], rotated.json()["secret"]):
        assert Webhook(secret).verify(request.body, request.headers)["type"] == "ping"
    assert json.loads(request.body)["data"]["endpoint_id"] == endpoint["id"]
