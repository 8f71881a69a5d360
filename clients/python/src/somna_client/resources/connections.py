"""A person's links to providers (WHOOP by OAuth, Asleep by user id)."""

from __future__ import annotations

from typing import Any

from somna_client._operations import (
    C,
    PageSpec,
    Resource,
    Spec,
    body,
    model,
    operation,
    paged,
    person_path,
    query,
)
from somna_client.models import AuthorizationStart, ConnectionRead, Disconnected


@paged("GET", "/users/{user_id}/connections")
def _list(user_id: str) -> PageSpec[ConnectionRead]:
    """A person's connections, with their last sync."""
    return PageSpec(Spec("GET", person_path(user_id, "/connections"), dict), model(ConnectionRead))


@operation("POST", "/users/{user_id}/connections/whoop")
def _connect_whoop(user_id: str, *, return_to: str | None = None) -> Spec[AuthorizationStart]:
    """Start WHOOP's OAuth flow: send the person to ``authorization_url``."""
    path = person_path(user_id, "/connections/whoop")
    return Spec("POST", path, model(AuthorizationStart), json=body(return_to=return_to))


@operation("POST", "/users/{user_id}/connections/asleep")
def _connect_asleep(
    user_id: str,
    *,
    asleep_user_id: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Spec[ConnectionRead]:
    """Connect Asleep: link an existing Asleep user, or create one."""
    path = person_path(user_id, "/connections/asleep")
    payload = body(asleep_user_id=asleep_user_id, metadata=metadata)
    return Spec("POST", path, model(ConnectionRead), json=payload)


@operation("DELETE", "/users/{user_id}/connections/{provider}")
def _delete(user_id: str, provider: str, *, delete_data: bool = False) -> Spec[Disconnected]:
    """Disconnect; with ``delete_data`` also delete the records it brought in (sensitive
    unless it is the member's own connection)."""
    path = person_path(user_id, "/connections/{provider}", provider=provider)
    params = query(delete_data=delete_data or None)
    sensitive = delete_data and user_id != "me"
    return Spec("DELETE", path, model(Disconnected), params=params, sensitive=sensitive)


class Connections(Resource[C]):
    list = _list
    connect_whoop = _connect_whoop
    connect_asleep = _connect_asleep
    delete = _delete
