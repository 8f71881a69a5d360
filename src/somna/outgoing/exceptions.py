from __future__ import annotations

from somna.errors import Conflict, NotFound, SomnaError


class WebhookEndpointNotFound(NotFound):
    error_code = "webhook_endpoint_not_found"


class WebhookDeliveryNotFound(NotFound):
    error_code = "webhook_delivery_not_found"


class InvalidWebhookUrl(SomnaError):
    """The URL is not https, or does not resolve to public addresses only (SSRF guard)."""

    status_code, error_code = 422, "invalid_webhook_url"


class UnknownEventType(SomnaError):
    status_code, error_code = 422, "unknown_event_type"


class WebhookEndpointDisabled(Conflict):
    error_code = "webhook_endpoint_disabled"
