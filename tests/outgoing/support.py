"""Helpers of the outgoing-webhook tests: create endpoints and run the delivery jobs."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from somna.models import WebhookDelivery

ENDPOINTS = "/api/v1/webhook-endpoints"
# Each worker run ends when nothing is due; retries on the compressed schedule are due at once,
# so a few runs reach a final state whatever the backend's timing.
MAX_RUNS = 20


async def create_endpoint(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, **fields: Any
) -> dict[str, Any]:
    response = await client.post(ENDPOINTS, json={"url": url, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def run_deliveries(app: FastAPI) -> None:
    """Run jobs until no delivery is pending (the outbox relayed, retries made)."""
    for _ in range(MAX_RUNS):
        await app.state.jobs.relay_outbox()
        await app.state.job_runtime.run_until_idle()
        async with app.state.sessionmaker() as session:
            statement = select(func.count()).where(WebhookDelivery.status == "pending")
            if not await session.scalar(statement):
                return
    raise AssertionError("deliveries still pending after the worker ran dry")


async def deliveries(
    client: httpx.AsyncClient, headers: dict[str, str], endpoint_id: str
) -> list[dict[str, Any]]:
    response = await client.get(f"{ENDPOINTS}/{endpoint_id}/deliveries", headers=headers)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data
