"""Rate limits at the HTTP edge: the 429 error, the ``X-RateLimit-*`` headers on every
response, and the per-address limit for callers without credentials."""

from __future__ import annotations

import json
import math
import time
from collections.abc import MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from somna.config import Settings
from somna.errors import ServiceUnavailable, SomnaError
from somna.ratelimit.base import (
    Limit,
    RateLimiter,
    RateLimiterUnavailable,
    RateLimitResult,
    window_bounds,
)
from somna.state import state_of

log = structlog.get_logger(__name__)

# A scope key of our own: ``scope["state"]`` may be shared between requests (asgi-lifespan
# hands every request the same dict), so per-request data must not live there.
SCOPE_KEY = "somna.rate_limit"
# The app's limiter, on its state (``somna.lifespan`` installs it).
RATE_LIMITER = "rate_limiter"
# The Klyne-compatible routes keep that document's bodies.
KLYNE_PREFIX = "/api/analytics"
MINUTE = 60


def iso_instant(epoch_seconds: float) -> str:
    """An epoch time as ISO 8601 in UTC with a ``Z``, as the rate-limit bodies carry it."""
    moment = datetime.fromtimestamp(epoch_seconds, UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


class RateLimitExceeded(SomnaError):
    """429 with the body and headers clients retry on."""

    status_code, error_code = 429, "rate_limited"

    def __init__(self, result: RateLimitResult) -> None:
        super().__init__(
            f"Rate limit of {result.limit} per {result.window_seconds} s exceeded; "
            f"retry after {result.retry_after} s.",
            extra={
                "limit": result.limit,
                "window_seconds": result.window_seconds,
                "reset_time": iso_instant(result.reset),
                "current_usage": result.current_usage,
                "retry_after": result.retry_after,
            },
            headers=rate_limit_headers(result),
        )
        self.result = result

    def body_for(self, path: str) -> dict[str, Any]:
        """The Klyne document's 429 body on its ``/api/analytics`` routes."""
        body = self.body()
        if not path.startswith(KLYNE_PREFIX):
            return body
        del body["detail"], body["retry_after"]
        return {**body, "error": "Rate limit exceeded"}


def rate_limit_headers(result: RateLimitResult) -> dict[str, str]:
    headers = {
        "X-RateLimit-Limit": str(result.limit),
        "X-RateLimit-Remaining": str(result.remaining),
        "X-RateLimit-Reset": str(result.reset),
    }
    if not result.allowed:
        headers["Retry-After"] = str(result.retry_after)
        headers["X-RateLimit-Retry-After"] = str(result.retry_after)
    return headers


def client_address(scope: Scope) -> str:
    """The peer address; behind a proxy, run uvicorn with ``--proxy-headers`` and
    ``--forwarded-allow-ips`` so that this is the real client."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def record(scope: MutableMapping[str, Any], result: RateLimitResult) -> None:
    """Remember the result whose headers the response carries: the tightest one seen."""
    previous: RateLimitResult | None = scope.get(SCOPE_KEY)
    if previous is not None and not previous.allowed:
        return
    if previous is None or not result.allowed or result.remaining < previous.remaining:
        scope[SCOPE_KEY] = result


def _limiter(scope: Scope) -> tuple[Settings, RateLimiter | None]:
    state = state_of(scope["app"])
    settings = state.settings
    limiter = state.optional_service(RATE_LIMITER, RateLimiter)
    if not settings.rate_limit_enabled:
        limiter = None
    return settings, limiter


async def check(
    scope: Scope, limits: Sequence[Limit], *, cost: int = 1, raise_on_refusal: bool = True
) -> RateLimitResult | None:
    """Charge ``limits``, record the result for the headers and raise 429 when refused.

    Returns None when rate limiting is off or its store is down and the settings say to
    fail open.
    """
    settings, limiter = _limiter(scope)
    if limiter is None:
        return None
    try:
        result = await limiter.hit_all(limits, cost=cost)
    except RateLimiterUnavailable as exc:
        if settings.rate_limit_fail_open:
            log.warning("ratelimit.unavailable", error=str(exc))
            return None
        raise ServiceUnavailable("The rate-limit store is unavailable; retry shortly.") from exc
    record(scope, result)
    if raise_on_refusal and not result.allowed:
        raise RateLimitExceeded(result)
    return result


def address_limit(scope: Scope, settings: Settings) -> Limit:
    return Limit(f"ip:{client_address(scope)}", settings.rate_limit_anonymous_per_minute, MINUTE)


def _has_credentials(scope: Scope) -> bool:
    """A bearer token, or on a dashboard page the session cookie (the page charges the
    account's limits, or the address's when the cookie is not a live session)."""
    is_page = not str(scope.get("path", "")).startswith("/api/")
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            return bool(value[:7].lower() == b"bearer ")
        if name == b"cookie" and is_page and b"somna_session=" in value:
            return True
    return False


class RateLimitMiddleware:
    """Requests without credentials are limited per client address before they run; those
    with credentials are limited by the authentication dependency (per key or account, and
    per organisation). Every response gets the ``X-RateLimit-*`` headers of its check."""

    def __init__(self, app: ASGIApp, *, exempt_prefixes: Sequence[str] = ()) -> None:
        self.app = app
        # Static files (the dashboard's scripts and styles, the API docs' bundles) are
        # immutable and cheap; charging them would let a few page loads of a signed-in user
        # spend the budget their whole office shares behind one address.
        self.exempt_prefixes = tuple(exempt_prefixes)

    def _exempt(self, path: str) -> bool:
        return any(path.startswith(prefix) for prefix in self.exempt_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._exempt(str(scope.get("path", ""))):
            await self.app(scope, receive, send)
            return
        settings, limiter = _limiter(scope)
        if limiter is None:
            await self.app(scope, receive, send)
            return
        scope.pop(SCOPE_KEY, None)
        with_credentials = _has_credentials(scope)
        if not with_credentials:
            try:
                result = await check(scope, [address_limit(scope, settings)])
            except SomnaError as exc:
                await _send_error(exc, send, scope["path"])
                return
            del result

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                result: RateLimitResult | None = scope.get(SCOPE_KEY)
                if result is None and with_credentials:
                    # The credentials were never checked (a public route) or were refused
                    # before a limit applied: count the request against the address.
                    try:
                        result = await check(
                            scope, [address_limit(scope, settings)], raise_on_refusal=False
                        )
                    except SomnaError:
                        result = None
                if result is not None:
                    headers = list(message.get("headers", []))
                    present = {name.lower() for name, _ in headers}
                    for name, value in rate_limit_headers(result).items():
                        if name.lower().encode() not in present:
                            headers.append((name.lower().encode(), value.encode()))
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _send_error(exc: SomnaError, send: Send, path: str) -> None:
    body = json.dumps(exc.body_for(path)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(name.lower().encode(), value.encode()) for name, value in exc.headers.items()]
    await send({"type": "http.response.start", "status": exc.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def refuse_when_spent(scope: Scope, limits: Sequence[Limit]) -> None:
    """429 if any bucket is already full, without charging it (for failure counters, which
    are charged only when an attempt fails)."""
    settings, limiter = _limiter(scope)
    if limiter is None:
        return
    for item in limits:
        try:
            used = await limiter.usage(item.key, window_seconds=item.window_seconds)
        except RateLimiterUnavailable as exc:
            if settings.rate_limit_fail_open:
                log.warning("ratelimit.unavailable", error=str(exc))
                return
            raise ServiceUnavailable("The rate-limit store is unavailable.") from exc
        if used >= item.limit:
            now = time.time()
            _, end = window_bounds(now, item.window_seconds)
            raise RateLimitExceeded(
                RateLimitResult(
                    allowed=False,
                    limit=item.limit,
                    remaining=0,
                    reset=end,
                    retry_after=max(1, math.ceil(end - now)),
                    current_usage=used,
                    window_seconds=item.window_seconds,
                    key=item.key,
                )
            )
