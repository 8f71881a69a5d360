"""Webhook delivery from a sandbox: POST, retried on failure, every attempt recorded."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

# WHOOP retries a failed delivery five times over about an hour; the sandbox keeps the count
# and compresses the delays unless told otherwise.
DEFAULT_RETRY_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8)


@dataclass
class Delivery:
    url: str
    event: Mapping[str, Any]
    body: bytes
    headers: dict[str, str]
    attempts: list[str] = field(default_factory=list)  # status codes or error names
    delivered: bool = False


class WebhookSender:
    def __init__(
        self, retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS, timeout: float = 5.0
    ) -> None:
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self.deliveries: list[Delivery] = []

    async def deliver(
        self, url: str, event: Mapping[str, Any], body: bytes, headers: Mapping[str, str]
    ) -> Delivery:
        delivery = Delivery(url=url, event=event, body=body, headers=dict(headers))
        self.deliveries.append(delivery)
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            for delay in (0.0, *self.retry_delays):
                if delay:
                    await asyncio.sleep(delay)
                try:
                    response = await client.post(
                        url,
                        content=body,
                        headers={"Content-Type": "application/json", **delivery.headers},
                    )
                except httpx.HTTPError as exc:
                    delivery.attempts.append(type(exc).__name__)
                    continue
                delivery.attempts.append(str(response.status_code))
                if 200 <= response.status_code < 300:
                    delivery.delivered = True
                    break
        return delivery
