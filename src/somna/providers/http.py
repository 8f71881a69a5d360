"""The HTTP layer every provider client shares: timeouts on every call, retries with backoff and
jitter on 429 and 5xx, a hook awaited before every request, and counters a sync run records."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import structlog

from somna.kit import http as kit_http
from somna.kit.http import new_transport
from somna.providers.exceptions import ProviderRateLimited, ProviderUnavailable

if TYPE_CHECKING:
    from somna.config import Settings

log = structlog.get_logger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# Status codes worth another try after a pause. 429 is handled separately (it carries a wait).
RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})


@dataclass(frozen=True, slots=True)
class OutgoingRequest:
    """What the before-request hook sees: enough to pace by provider and to log."""

    provider: str
    method: str
    path: str
    attempt: int


RequestHook = Callable[[OutgoingRequest], Awaitable[None]]


@dataclass(slots=True)
class RequestStats:
    """Counts for one client's lifetime; a sync run copies them into its record."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    network_errors: int = 0
    by_status: Counter[int] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``max_retries`` extra attempts; exponential backoff with full jitter, capped.

    A rate-limit wait longer than ``max_wait_seconds`` is not slept through: the call raises
    :class:`ProviderRateLimited` with ``retry_after`` so a job can release its slot and come back.
    """

    max_retries: int = 4
    backoff_base_seconds: float = 0.5
    backoff_cap_seconds: float = 20.0
    max_wait_seconds: float = 60.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.backoff_cap_seconds, self.backoff_base_seconds * 2**attempt)
        return rng.uniform(0, ceiling)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """How long a 429 asks us to wait: ``Retry-After``, else WHOOP's ``X-RateLimit-Reset``."""
    for name in ("Retry-After", "X-RateLimit-Retry-After", "X-RateLimit-Reset"):
        seconds = kit_http.retry_after_seconds(headers.get(name))
        if seconds is not None:
            return seconds
    return None


class ProviderHttp:
    """An ``httpx.AsyncClient`` wrapper with the retry rules above. Not thread-safe, cheap."""

    def __init__(
        self,
        provider: str,
        base_url: str,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        before_request: RequestHook | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        stats: RequestStats | None = None,
        is_rate_limited: Callable[[httpx.Response], bool] | None = None,
    ) -> None:
        self.provider = provider
        # Vendors that refuse for pace with something other than 429 (Asleep: 403).
        self._is_rate_limited = is_rate_limited or (lambda response: response.status_code == 429)
        self.retry = retry or RetryPolicy()
        self.before_request = before_request
        self.stats = stats if stats is not None else RequestStats()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            headers={"User-Agent": "Somna (+https://github.com/somna)", **dict(headers or {})},
            transport=transport if transport is not None else new_transport(),
        )

    @classmethod
    def from_settings(
        cls,
        provider: str,
        settings: Settings,
        base_url: str,
        *,
        before_request: RequestHook | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        is_rate_limited: Callable[[httpx.Response], bool] | None = None,
    ) -> ProviderHttp:
        """A client with the timeout and retry policy Somna's settings ask for."""
        return cls(
            provider,
            base_url,
            timeout=httpx.Timeout(settings.provider_timeout_seconds, connect=10.0),
            retry=RetryPolicy(
                max_retries=settings.provider_max_retries,
                max_wait_seconds=settings.provider_max_retry_wait_seconds,
            ),
            before_request=before_request,
            transport=transport,
            is_rate_limited=is_rate_limited,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        retry_non_idempotent: bool = False,
    ) -> httpx.Response:
        """Send with retries; return the final response (any status) or raise.

        A POST is retried only on 429 and on connection failures (it was never processed):
        re-sending a token refresh whose answer was lost would burn the rotated token.
        """
        method = method.upper()
        may_retry_errors = retry_non_idempotent or method in IDEMPOTENT_METHODS
        attempt = 0
        while True:
            if self.before_request is not None:
                await self.before_request(OutgoingRequest(self.provider, method, url, attempt))
            self.stats.requests += 1
            try:
                response = await self._client.request(
                    method, url, params=params, headers=headers, data=data, json=json
                )
            except (httpx.TimeoutException, httpx.NetworkError) as exc:
                self.stats.network_errors += 1
                never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                if attempt >= self.retry.max_retries or not (may_retry_errors or never_sent):
                    raise ProviderUnavailable(
                        self.provider, f"{self.provider} did not answer: {type(exc).__name__}"
                    ) from exc
                await self._pause(self.retry.backoff(attempt, self._rng), attempt, "network")
                attempt += 1
                continue
            self.stats.by_status[response.status_code] += 1
            if self._is_rate_limited(response):
                self.stats.rate_limited += 1
                await self._pause(self._rate_limit_wait(response, attempt), attempt, "rate_limited")
                attempt += 1
                continue
            if response.status_code in RETRYABLE_STATUS:
                self.stats.server_errors += 1
                if attempt >= self.retry.max_retries or not may_retry_errors:
                    return response
                await self._pause(self.retry.backoff(attempt, self._rng), attempt, "server_error")
                attempt += 1
                continue
            return response

    def _rate_limit_wait(self, response: httpx.Response, attempt: int) -> float:
        """How long to wait before retrying a rate-limited request; ``ProviderRateLimited``
        when retries are spent or the wait is longer than the policy allows."""
        wait = retry_after_seconds(response.headers)
        if wait is None:
            wait = self.retry.backoff(attempt, self._rng)
        else:
            # Jitter after the advertised wait, so many waiters do not return at once.
            wait += self._rng.uniform(0, min(1.0, wait * 0.1 + 0.05))
        if attempt >= self.retry.max_retries or wait > self.retry.max_wait_seconds:
            raise ProviderRateLimited(
                self.provider,
                f"{self.provider} rate limit reached",
                status=response.status_code,
                retry_after=wait,
            )
        return wait

    async def _pause(self, seconds: float, attempt: int, reason: str) -> None:
        self.stats.retries += 1
        log.info(
            "provider.retry",
            provider=self.provider,
            reason=reason,
            attempt=attempt + 1,
            wait=round(seconds, 3),
        )
        await self._sleep(seconds)
