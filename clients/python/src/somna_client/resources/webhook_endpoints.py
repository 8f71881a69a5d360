"""Outgoing webhook endpoints: create, list, update, delete, rotate the secret, send a test,
read the delivery log and replay deliveries (``/webhook-endpoints``, ``/webhook-deliveries``).
Verify what they receive with ``somna_client.webhooks.verify``."""

from __future__ import annotations

from datetime import datetime

from somna_client._operations import (
    C,
    PageSpec,
    Resource,
    Spec,
    api_path,
    body,
    model,
    nothing,
    operation,
    paged,
    query,
)
from somna_client.models import (
    DeliveryRead,
    EndpointCreated,
    EndpointRead,
    RecoverRead,
)

ONE = "/webhook-endpoints/{id}"


@operation("POST", "/webhook-endpoints")
def _create(
    url: str,
    *,
    events: list[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> Spec[EndpointCreated]:
    """Register an endpoint; its ``secret`` is shown only in this answer."""
    payload = body(url=url, events=events, description=description, enabled=enabled)
    path = api_path("/webhook-endpoints")
    return Spec("POST", path, model(EndpointCreated), json=payload, creates=True)


@paged("GET", "/webhook-endpoints")
def _list(*, limit: int | None = None, cursor: str | None = None) -> PageSpec[EndpointRead]:
    """The organisation's endpoints, newest first."""
    params = query(limit=limit, cursor=cursor)
    spec = Spec("GET", api_path("/webhook-endpoints"), dict, params=params)
    return PageSpec(spec, model(EndpointRead))


@operation("GET", "/webhook-endpoints/{endpoint_id}")
def _retrieve(endpoint_id: str) -> Spec[EndpointRead]:
    """One endpoint and its status."""
    return Spec("GET", api_path(ONE, id=endpoint_id), model(EndpointRead))


@operation("PATCH", "/webhook-endpoints/{endpoint_id}")
def _update(
    endpoint_id: str,
    *,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> Spec[EndpointRead]:
    """Change the fields given; the others stay."""
    payload = body(url=url, events=events, description=description, enabled=enabled)
    return Spec("PATCH", api_path(ONE, id=endpoint_id), model(EndpointRead), json=payload)


@operation("DELETE", "/webhook-endpoints/{endpoint_id}")
def _delete(endpoint_id: str) -> Spec[None]:
    """Delete an endpoint and its delivery log."""
    return Spec("DELETE", api_path(ONE, id=endpoint_id), nothing)


@operation("POST", "/webhook-endpoints/{endpoint_id}/rotate-secret")
def _rotate_secret(endpoint_id: str, *, grace_seconds: int | None = None) -> Spec[EndpointCreated]:
    """A new secret; the old one also signs through the grace period (sensitive: signed when
    called with an API key)."""
    path = api_path(ONE + "/rotate-secret", id=endpoint_id)
    payload = body(grace_seconds=grace_seconds)
    return Spec("POST", path, model(EndpointCreated), json=payload, sensitive=True)


@operation("POST", "/webhook-endpoints/{endpoint_id}/test")
def _test(endpoint_id: str) -> Spec[DeliveryRead]:
    """Send a ``ping`` through the usual delivery."""
    return Spec("POST", api_path(ONE + "/test", id=endpoint_id), model(DeliveryRead))


@paged("GET", "/webhook-endpoints/{endpoint_id}/deliveries")
def _deliveries(
    endpoint_id: str, *, limit: int | None = None, cursor: str | None = None
) -> PageSpec[DeliveryRead]:
    """The endpoint's delivery log, newest first, with every attempt."""
    path = api_path(ONE + "/deliveries", id=endpoint_id)
    spec = Spec("GET", path, dict, params=query(limit=limit, cursor=cursor))
    return PageSpec(spec, model(DeliveryRead))


@operation("POST", "/webhook-endpoints/{endpoint_id}/recover")
def _recover(endpoint_id: str, *, since: datetime | str | None = None) -> Spec[RecoverRead]:
    """Replay the endpoint's failed deliveries created since ``since``."""
    path = api_path(ONE + "/recover", id=endpoint_id)
    return Spec("POST", path, model(RecoverRead), params=query(since=since))


@operation("POST", "/webhook-deliveries/{delivery_id}/retry")
def _retry(delivery_id: str) -> Spec[DeliveryRead]:
    """Send one message again now, with the same ``webhook-id``."""
    path = api_path("/webhook-deliveries/{id}/retry", id=delivery_id)
    return Spec("POST", path, model(DeliveryRead))


class WebhookEndpoints(Resource[C]):
    create = _create
    list = _list
    retrieve = _retrieve
    update = _update
    delete = _delete
    rotate_secret = _rotate_secret
    test = _test
    deliveries = _deliveries
    recover = _recover
    retry_delivery = _retry
