"""One delivery attempt: sign, POST (no redirects), log the attempt, then succeed, retry on
``SOMNA_WEBHOOK_RETRY_SCHEDULE``, or fail and record ``endpoint.delivery_exhausted``.

No database transaction is open during the HTTP call: the delivery is read, the session
closed, the attempt made, and its outcome written in a transaction of its own together with
the next attempt's job.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from somna import __version__
from somna.config import Settings
from somna.jobs.port import JobQueue
from somna.kit.time import utc_now
from somna.models import WebhookDelivery, WebhookEndpoint
from somna.outgoing import signing
from somna.outgoing.catalog import EXHAUSTED
from somna.outgoing.exceptions import InvalidWebhookUrl
from somna.outgoing.recording import record_event, schedule
from somna.outgoing.repository import DeliveryRepository, EndpointRepository
from somna.outgoing.service import signing_secrets
from somna.outgoing.urls import check_url

log = structlog.get_logger(__name__)

# An endpoint whose every attempt has failed for this long is disabled.
DISABLE_AFTER = timedelta(days=5)
USER_AGENT = f"Somna-Webhooks/{__version__}"
ERROR_LIMIT = 300


@dataclass(frozen=True)
class Attempt:
    at: datetime
    response_code: int | None
    latency_ms: int
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.response_code is not None and 200 <= self.response_code < 300

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "response_code": self.response_code,
            "latency_ms": self.latency_ms,
            "error": self.error,
        }


@dataclass(frozen=True)
class _Message:
    url: str
    webhook_id: str
    body: bytes
    secrets: list[str]


async def deliver(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    queue: JobQueue | None,
    delivery_id: uuid.UUID,
    token: str,
) -> None:
    """Make the attempt a job was queued for; a stale job (replayed since) does nothing."""
    message = await _load(sessionmaker, settings, delivery_id, token)
    if message is None:
        return
    attempt = await send(settings, message)
    await _record(sessionmaker, settings, queue, delivery_id, token, attempt)


async def _load(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    delivery_id: uuid.UUID,
    token: str,
) -> _Message | None:
    async with sessionmaker() as session, session.begin():
        repository = DeliveryRepository(session)
        delivery = await repository.get_unscoped(delivery_id)
        if delivery is None or delivery.status != "pending" or delivery.job_token != token:
            return None
        endpoint = await EndpointRepository(session).get_unscoped(delivery.endpoint_id)
        payload = await repository.event_payload(delivery.event_id)
        if endpoint is None or payload is None:
            return None
        if not endpoint.enabled:
            # Disabled since it was queued: nothing is sent; recover replays it once enabled.
            delivery.status, delivery.next_attempt_at, delivery.job_token = "failed", None, None
            delivery.updated_at = utc_now()
            return None
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        secrets = signing_secrets(settings, endpoint, utc_now())
        return _Message(endpoint.url, delivery.webhook_id, body, secrets)


async def send(settings: Settings, message: _Message) -> Attempt:
    """POST the message once; never raises for what the endpoint or the network does."""
    at = utc_now()
    started = time.perf_counter()
    code: int | None = None
    error: str | None = None
    try:
        # Again before each attempt: the name may resolve elsewhere since it was saved.
        await check_url(message.url, allow_private=settings.webhooks_allow_private)
        headers = signing.headers(
            message.secrets, message.webhook_id, int(at.timestamp()), message.body
        )
        headers |= {"content-type": "application/json", "user-agent": USER_AGENT}
        timeout = httpx.Timeout(settings.webhook_timeout_seconds)
        async with (
            httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client,
            client.stream("POST", message.url, content=message.body, headers=headers) as response,
        ):
            # The body is never read: a receiver cannot make Somna download anything.
            code = response.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except InvalidWebhookUrl as exc:
        error = exc.detail
    except httpx.TimeoutException:
        error = f"timed out after {settings.webhook_timeout_seconds:g} s"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    latency = round((time.perf_counter() - started) * 1000)
    return Attempt(at, code, latency, error[:ERROR_LIMIT] if error else None)


async def _record(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    queue: JobQueue | None,
    delivery_id: uuid.UUID,
    token: str,
    attempt: Attempt,
) -> None:
    async with sessionmaker() as session, session.begin():
        delivery = await DeliveryRepository(session).lock(delivery_id)
        if delivery is None:
            return
        endpoint = await EndpointRepository(session).lock(delivery.endpoint_id)
        if endpoint is None:
            return
        now = utc_now()
        delivery.attempts = [*delivery.attempts, attempt.as_json()]
        delivery.updated_at = now
        if delivery.job_token != token or delivery.status != "pending":
            return  # replayed while this attempt ran: the log keeps it, the replay goes on
        delivery.round_attempts += 1
        if attempt.succeeded:
            delivery.status, delivery.next_attempt_at, delivery.job_token = "succeeded", None, None
            endpoint.failing_since = None
            return
        _note_failure(endpoint, attempt, now)
        delays = settings.webhook_retry_delays
        if endpoint.enabled and delivery.round_attempts <= len(delays):
            await schedule(session, queue, delivery, delay=delays[delivery.round_attempts - 1])
            return
        await _exhaust(session, queue, delivery, endpoint, attempt)


def _note_failure(endpoint: WebhookEndpoint, attempt: Attempt, now: datetime) -> None:
    if endpoint.failing_since is None:
        endpoint.failing_since = now
    if attempt.response_code == 410:
        reason = f"Disabled at {now.isoformat()}: the endpoint answered 410 Gone."
    elif now - endpoint.failing_since >= DISABLE_AFTER:
        since = endpoint.failing_since.isoformat()
        reason = f"Disabled at {now.isoformat()}: every delivery has failed since {since}."
    else:
        return
    if endpoint.enabled:
        endpoint.enabled, endpoint.disabled_reason, endpoint.updated_at = False, reason, now
        log.warning("outgoing.endpoint_disabled", endpoint_id=str(endpoint.id), reason=reason)


async def _exhaust(
    session: AsyncSession,
    queue: JobQueue | None,
    delivery: WebhookDelivery,
    endpoint: WebhookEndpoint,
    attempt: Attempt,
) -> None:
    delivery.status, delivery.next_attempt_at, delivery.job_token = "failed", None, None
    log.warning(
        "outgoing.delivery_failed",
        delivery_id=str(delivery.id),
        endpoint_id=str(endpoint.id),
        attempts=delivery.round_attempts,
    )
    if delivery.event_type == EXHAUSTED:
        return  # an exhaustion notice that could not be delivered reports no further
    data = {
        "endpoint_id": str(endpoint.id),
        "delivery_id": str(delivery.id),
        "event_id": str(delivery.event_id),
        "event_type": delivery.event_type,
        "webhook_id": delivery.webhook_id,
        "attempts": delivery.round_attempts,
        "last_response_code": attempt.response_code,
        "last_error": attempt.error,
        "endpoint_disabled": not endpoint.enabled,
    }
    await record_event(
        session, queue, delivery.organization_id, EXHAUSTED, data, keep=True, exclude=endpoint.id
    )
