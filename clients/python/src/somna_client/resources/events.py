"""Usage analytics ingestion (the Klyne-compatible ``/api/analytics`` routes).

For fire-and-forget telemetry from a package, use :mod:`somna_client.telemetry`, which
batches in a background thread; these methods send one request and return its answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from somna_client._operations import ROUTES, C, Resource, Spec, model, operation
from somna_client.models import AnalyticsHealth, ApiIndex, BatchResult, EventAccepted, Health

EVENTS_PATH = "/api/analytics"
ROUTES.extend(
    [
        ("POST", EVENTS_PATH, "Events.create"),
        ("POST", f"{EVENTS_PATH}/batch", "Events.create_batch"),
        ("GET", f"{EVENTS_PATH}/health", "Events.health"),
        ("GET", "/health", "Server.health"),
        ("GET", "/api/v1", "Server.index"),
    ]
)


def _event(fields: Mapping[str, Any]) -> dict[str, Any]:
    event = {key: value for key, value in fields.items() if value is not None}
    event.setdefault("session_id", str(uuid.uuid4()))
    stamp = event.get("event_timestamp") or datetime.now(UTC)
    event["event_timestamp"] = stamp.isoformat() if isinstance(stamp, datetime) else stamp
    return event


@operation("POST")
def _create(
    *,
    package_name: str,
    package_version: str,
    python_version: str,
    os_type: str,
    session_id: str | None = None,
    event_timestamp: datetime | str | None = None,
    entry_point: str | None = None,
    extra_data: Mapping[str, Any] | None = None,
    event_id: str | None = None,
    **environment: Any,
) -> Spec[EventAccepted]:
    """Send one usage event (the key must be bound to ``package_name``)."""
    event = _event(dict(
        package_name=package_name, package_version=package_version,
        python_version=python_version, os_type=os_type, session_id=session_id,
        event_timestamp=event_timestamp, entry_point=entry_point,
        extra_data=dict(extra_data) if extra_data is not None else None, event_id=event_id,
        **environment,
    ))  # fmt: skip
    return Spec("POST", EVENTS_PATH, model(EventAccepted), json=event)


@operation("POST")
def _create_batch(events: Sequence[Mapping[str, Any]]) -> Spec[BatchResult]:
    """Send up to 100 events; the answer reports each one (created, duplicate or failed)."""
    payload = {"events": [_event(item) for item in events]}
    return Spec("POST", f"{EVENTS_PATH}/batch", model(BatchResult), json=payload)


@operation("GET")
def _health() -> Spec[AnalyticsHealth]:
    """Whether the ingestion service answers."""
    return Spec("GET", f"{EVENTS_PATH}/health", model(AnalyticsHealth))


@operation("GET")
def _server_health() -> Spec[Health]:
    """The server's health: database, job queue, mode."""
    return Spec("GET", "/health", model(Health))


class Events(Resource[C]):
    create = _create
    create_batch = _create_batch
    health = _health


@operation("GET")
def _api_index() -> Spec[ApiIndex]:
    """The API's sections, with the server's name and version."""
    return Spec("GET", "/api/v1", model(ApiIndex))


class Server(Resource[C]):
    health = _server_health
    index = _api_index
