"""Webhook receivers. They authenticate the provider, not a Somna caller."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from somna.auth.responses import error_response
from somna.db import SessionDep
from somna.jobs.dependencies import JobQueueDep
from somna.kit.http import BodyTooLarge, read_body
from somna.state import app_state
from somna.webhooks import service
from somna.webhooks.exceptions import PayloadTooLarge
from somna.webhooks.schemas import WebhookReceipt

# Webhook bodies are a few hundred bytes; anything near this is not from a provider.
MAX_BODY_BYTES = 256 * 1024

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

WEBHOOK_ERRORS: dict[int | str, dict[str, Any]] = {
    401: error_response("`invalid_webhook_signature`: the provider's signature does not check."),
    413: error_response("`payload_too_large`: the body is over 256 KiB."),
}


async def _raw_body(request: Request) -> bytes:
    try:
        return await read_body(request, MAX_BODY_BYTES)
    except BodyTooLarge:
        raise PayloadTooLarge(f"Webhook bodies are limited to {MAX_BODY_BYTES} bytes.") from None


async def _receive(
    request: Request, session: SessionDep, queue: JobQueueDep, provider: str
) -> WebhookReceipt:
    body = await _raw_body(request)
    settings = app_state(request).settings
    receipt = await service.receive(session, settings, queue, provider, request.headers, body)
    return WebhookReceipt(
        received=receipt.received, duplicates=receipt.duplicates, queued=receipt.queued
    )


@router.post("/whoop", responses=WEBHOOK_ERRORS)
async def whoop_webhook(
    request: Request, session: SessionDep, queue: JobQueueDep
) -> WebhookReceipt:
    """WHOOP events, signed with the app's client secret (`X-WHOOP-Signature`, 300 s window)."""
    return await _receive(request, session, queue, "whoop")


@router.post("/asleep", responses=WEBHOOK_ERRORS)
async def asleep_webhook(
    request: Request, session: SessionDep, queue: JobQueueDep
) -> WebhookReceipt:
    """Asleep session callbacks, authenticated by the `x-api-key` Asleep echoes back."""
    return await _receive(request, session, queue, "asleep")
