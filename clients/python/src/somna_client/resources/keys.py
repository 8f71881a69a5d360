"""API keys: create, list, retrieve, rotate and revoke (``/developer/keys``)."""

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
    operation,
    paged,
)
from somna_client.models import KeyCreated, KeyOut


@operation("POST", "/developer/keys")
def _create(
    name: str,
    *,
    scopes: list[str],
    permissions: list[str] | None = None,
    expires_at: datetime | str | None = None,
    allowed_ips: list[str] | None = None,
    rate_limit_per_minute: int | None = None,
    package_name: str | None = None,
    events_per_hour: int | None = None,
) -> Spec[KeyCreated]:
    """Create a key; its ``key`` and ``signing_secret`` are shown only in this answer."""
    payload = body(
        name=name, scopes=scopes, permissions=permissions, expires_at=expires_at,
        allowed_ips=allowed_ips, rate_limit_per_minute=rate_limit_per_minute,
        package_name=package_name, events_per_hour=events_per_hour,
    )  # fmt: skip
    return Spec("POST", api_path("/developer/keys"), model(KeyCreated), json=payload, creates=True)


@paged("GET", "/developer/keys")
def _list() -> PageSpec[KeyOut]:
    """The organisation's keys, newest first, without secrets."""
    return PageSpec(Spec("GET", api_path("/developer/keys"), dict), model(KeyOut), "keys")


@operation("GET", "/developer/keys/{key_id}")
def _retrieve(key_id: str) -> Spec[KeyOut]:
    """One key, without secrets."""
    return Spec("GET", api_path("/developer/keys/{id}", id=key_id), model(KeyOut))


@operation("POST", "/developer/keys/{key_id}/rotate")
def _rotate(key_id: str, *, grace_seconds: int | None = None) -> Spec[KeyCreated]:
    """Issue a replacement with the same grants; the old key works through the grace period
    (sensitive: signed when called with an API key)."""
    path = api_path("/developer/keys/{id}/rotate", id=key_id)
    payload = body(grace_seconds=grace_seconds)
    return Spec("POST", path, model(KeyCreated), json=payload, creates=True, sensitive=True)


@operation("DELETE", "/developer/keys/{key_id}")
def _revoke(key_id: str) -> Spec[KeyOut]:
    """Revoke a key at once (sensitive: signed when called with an API key)."""
    path = api_path("/developer/keys/{id}", id=key_id)
    return Spec("DELETE", path, model(KeyOut), sensitive=True)


class Keys(Resource[C]):
    create = _create
    list = _list
    retrieve = _retrieve
    rotate = _rotate
    revoke = _revoke
