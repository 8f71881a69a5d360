from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from somna.errors import Conflict, NotFound, Unprocessable


class WebhookEndpointNotFound(NotFound):
    error_code = "webhook_endpoint_not_found"


class WebhookDeliveryNotFound(NotFound):
    error_code = "webhook_delivery_not_found"


class InvalidWebhookUrl(Unprocessable):
    """The URL is not https, or does not resolve to public addresses only (SSRF guard): a
    ``validation_error`` on ``url`` whose entry has the type ``invalid_webhook_url``."""

    kind = "invalid_webhook_url"

    def __init__(self, detail: str, *, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(detail, field="url", extra=extra)


class UnknownEventType(Unprocessable):
    kind = "unknown_event_type"

    def __init__(self, detail: str, *, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(detail, field="events", extra=extra)


class WebhookEndpointDisabled(Conflict):
    error_code = "webhook_endpoint_disabled"
