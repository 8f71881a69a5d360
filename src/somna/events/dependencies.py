"""The Klyne routes' own authentication, body reading and event budget.

Authentication reuses ``somna.keys.service.authenticate_key`` (hash lookup and the per-process
cache) but renders the document's bodies, and charges only the key's events-per-hour bucket:
the document's ``X-RateLimit-*`` headers describe that budget and no other.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic_core import from_json

from somna.config import Settings
from somna.errors import SomnaError
from somna.events.exceptions import (
    INVALID_KEY_DETAIL,
    MISSING_KEY_DETAIL,
    AnalyticsForbidden,
    AnalyticsPayloadTooLarge,
    AnalyticsRateLimited,
    AnalyticsUnauthorized,
    AnalyticsValidationError,
)
from somna.events.service import Sender
from somna.keys.dependencies import get_key_cache
from somna.keys.service import authenticate_key
from somna.kit.http import BodyTooLarge
from somna.kit.http import read_body as read_bounded_body
from somna.ratelimit.base import Limit
from somna.ratelimit.http import SCOPE_KEY, address_limit, check, client_address
from somna.state import app_state

EVENTS_GRANT = "events:write"
HOUR = 3600
MAX_EVENT_BYTES = 64 * 1024
MAX_BATCH_BYTES = 1024 * 1024


def _settings(request: Request) -> Settings:
    return app_state(request).settings


async def _charge_address(request: Request) -> None:
    """A failed credential counts against the caller's address, so guessing keys is slow."""
    if SCOPE_KEY in request.scope:  # already charged on the way in
        return
    result = await check(
        request.scope, [address_limit(request.scope, _settings(request))], raise_on_refusal=False
    )
    if result is not None and not result.allowed:
        raise AnalyticsRateLimited(result, 1)


async def get_sender(request: Request) -> Sender:
    """The API key of ``Authorization: Bearer <key>``: active, holding ``events:write`` and
    bound to a package; else the document's 401 or a 403 in its shape."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        await _charge_address(request)
        raise AnalyticsUnauthorized(MISSING_KEY_DETAIL)
    try:
        snapshot = await authenticate_key(
            app_state(request).sessionmaker, get_key_cache(request), token
        )
    except SomnaError:
        await _charge_address(request)
        raise AnalyticsUnauthorized(INVALID_KEY_DETAIL) from None
    if not snapshot.allows_address(client_address(request.scope)):
        raise AnalyticsForbidden("This API key may not be used from this address.")
    if EVENTS_GRANT not in snapshot.grants:
        raise AnalyticsForbidden(
            "API key is not authorized to submit analytics events: it needs the events "
            "scope with write permission."
        )
    if not snapshot.package_name:
        raise AnalyticsForbidden(
            "API key is not bound to a package. Create a key with a package_name to submit "
            "analytics events."
        )
    return Sender(
        snapshot.id, snapshot.organization_id, snapshot.package_name, snapshot.events_per_hour
    )


EventSender = Annotated[Sender, Depends(get_sender)]


async def charge_events(request: Request, sender: Sender, cost: int) -> None:
    """Charge ``cost`` events to the key's hourly budget: all of them or, with 429, none."""
    per_hour = sender.events_per_hour or _settings(request).events_per_hour
    limit = Limit(f"events:{sender.key_id}", per_hour, HOUR)
    result = await check(request.scope, [limit], cost=cost, raise_on_refusal=False)
    if result is not None and not result.allowed:
        raise AnalyticsRateLimited(result, cost)


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The body, refusing more than ``max_bytes`` (413 in the document's shape)."""
    try:
        return await read_bounded_body(request, max_bytes)
    except BodyTooLarge as exc:
        raise AnalyticsPayloadTooLarge(str(exc)) from None


def parse_json(body: bytes) -> Any:
    """The body as JSON, or 422 in the document's shape."""
    try:
        return from_json(body)
    except ValueError as exc:
        raise AnalyticsValidationError(
            [{"loc": ["body"], "msg": f"Invalid JSON: {exc}", "type": "json_invalid"}]
        ) from None
