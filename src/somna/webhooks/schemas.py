"""What the webhook receivers answer."""

from __future__ import annotations

from pydantic import BaseModel


class WebhookReceipt(BaseModel):
    received: int
    duplicates: int
    queued: int
