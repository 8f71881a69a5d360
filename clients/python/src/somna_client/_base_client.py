"""The HTTP core shared by every resource: building, authenticating, signing and sending
requests; retrying with backoff; turning error answers into typed errors."""

from __future__ import annotations

import asyncio
import random
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

import httpx

from somna_client._auth import TokenPair
from somna_client._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    SigningSecretRequired,
    retry_after_seconds,
    status_error,
)
from somna_client._operations import API_PREFIX, PageSpec, Spec
from somna_client._pagination import AsyncPage, AsyncPaginator, SyncPage
from somna_client._signing import sign
from somna_client._version import __version__

T = TypeVar("T")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
# A server that asks for a longer wait than this gets a RateLimitError instead of a sleep.
MAX_RETRY_AFTER = 60.0
IDEMPOTENCY_HEADER = "Idempotency-Key"
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
RETRYABLE_CODES = frozenset({"idempotency_key_in_progress"})
REFRESH_PATH = f"{API_PREFIX}/auth/refresh"
TOKEN_PATH = f"{API_PREFIX}/auth/token"
LOGOUT_PATH = f"{API_PREFIX}/auth/logout"


class _Attempts:
    """The state one logical request keeps across its attempts."""

    def __init__(self, spec: Spec[Any]) -> None:
        self.idempotency_key = str(uuid.uuid4()) if spec.creates else None
        self.refreshed = False


class _Timestamps:
    """Signature timestamps that never repeat for the same request.

    The server accepts each signature once, and a signature covers only the timestamp (whole
    seconds), method, path and body: the same request signed twice within one second (a retry,
    or a person deleted, restored and deleted again) would be refused as a replay. Such a
    repeat is dated a second after the previous one instead, well within the tolerance."""

    KEEP = 256

    def __init__(self) -> None:
        self._last: dict[tuple[str, bytes, bytes], int] = {}

    def next(self, request: httpx.Request) -> int:
        now = int(time.time())
        if len(self._last) > self.KEEP:
            self._last = {key: at for key, at in self._last.items() if at >= now}
        key = (request.method, request.url.raw_path, request.content)
        stamp = max(now, self._last.get(key, 0) + 1)
        self._last[key] = stamp
        return stamp


class BaseClient:
    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None,
        signing_secret: str | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        default_headers: Mapping[str, str] | None,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self.base_url = base_url.rstrip("/")
        if self.base_url.endswith(API_PREFIX):
            self.base_url = self.base_url[: -len(API_PREFIX)]
        self.api_key = api_key
        self.signing_secret = signing_secret
        self.timeout = timeout if timeout is not None else DEFAULT_TIMEOUT
        self.max_retries = max_retries
        self.default_headers = {
            "User-Agent": f"somna-client/{__version__}",
            "Accept": "application/json",
            **(default_headers or {}),
        }
        self._tokens: TokenPair | None = None
        self._timestamps = _Timestamps()

    # --- requests -----------------------------------------------------------------------

    def _check_signable(self, spec: Spec[Any]) -> None:
        if spec.sensitive and self._tokens is None and not self.signing_secret:
            raise SigningSecretRequired(
                f"{spec.method} {spec.path} must be signed when called with an API key: "
                "pass signing_secret= (shown with the key when it was created)."
            )

    def _authorization(self) -> dict[str, str]:
        if self._tokens is not None:
            return {"Authorization": f"Bearer {self._tokens.access_token}"}
        if self.api_key:
            return {"Authorization": f"Bearer {self.api_key}"}
        return {}

    def _build(
        self, http: httpx.Client | httpx.AsyncClient, spec: Spec[Any], attempts: _Attempts
    ) -> httpx.Request:
        headers = {**self._authorization()}
        if attempts.idempotency_key is not None:
            headers[IDEMPOTENCY_HEADER] = attempts.idempotency_key
        request = http.build_request(
            spec.method,
            self.base_url + spec.path,
            params=dict(spec.params) or None,
            json=spec.json,
            headers=headers,
        )
        if spec.sensitive and self._tokens is None and self.signing_secret:
            sign(request, self.signing_secret, self._timestamps.next(request))
        return request

    def _retry_delay(self, attempt: int, response: httpx.Response | None) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now."""
        if attempt >= self.max_retries:
            return None
        if response is not None:
            asked = retry_after_seconds(response.headers)
            if asked is not None:
                if asked > MAX_RETRY_AFTER:
                    return None
                # Never earlier than asked; a little later, so that clients told the same
                # moment do not all come back at once.
                return asked + random.uniform(0, 0.25)
        backoff = min(INITIAL_RETRY_DELAY * 2.0**attempt, MAX_RETRY_DELAY)
        return backoff * (1 - 0.25 * random.random())

    @staticmethod
    def _retryable(response: httpx.Response) -> bool:
        if response.status_code in RETRYABLE_STATUSES:
            return True
        if response.status_code == 409:
            return _error_code(response) in RETRYABLE_CODES
        return False

    def _wants_refresh(self, response: httpx.Response, attempts: _Attempts) -> bool:
        return (
            response.status_code == 401
            and self._tokens is not None
            and not attempts.refreshed
            and self._tokens.refresh_token is not None
        )

    @staticmethod
    def _parse(spec: Spec[T], response: httpx.Response) -> T:
        if response.status_code == 204 or not response.content:
            return spec.parse(None)
        return spec.parse(response.json())

    @staticmethod
    def _error(response: httpx.Response) -> APIStatusError:
        try:
            body: Any = response.json()
        except ValueError:
            body = {"detail": response.text or response.reason_phrase}
        return status_error(response, body)

    def _token_request(self, path: str, payload: dict[str, Any]) -> Spec[dict[str, Any]]:
        return Spec("POST", path, _as_dict, json=payload)

    def _store_tokens(self, answer: dict[str, Any]) -> None:
        generation = self._tokens.generation + 1 if self._tokens else 0
        self._tokens = TokenPair.of(answer, generation)

    def _resume(self, refresh_token: str) -> None:
        """Start from a stored refresh token: the first request exchanges it."""
        self._tokens = TokenPair(access_token="", refresh_token=refresh_token, expires_at=0.0)

    @property
    def refresh_token(self) -> str | None:
        """The current refresh token of a logged-in client (None for API keys)."""
        return self._tokens.refresh_token if self._tokens else None


def _as_dict(value: Any) -> dict[str, Any]:
    return dict(value or {})


def _error_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return str(body.get("error")) if isinstance(body, dict) else None


def _transport_error(exc: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(request=request)
    return APIConnectionError(f"Could not reach the Somna server: {exc}", request=request)


class SyncAPIClient(BaseClient):
    def __init__(
        self, base_url: str, *, http_client: httpx.Client | None = None, **options: Any
    ) -> None:
        super().__init__(base_url, **options)
        self._http = http_client or httpx.Client(timeout=self.timeout)
        self._http.headers.update(self.default_headers)
        self._refresh_lock = threading.Lock()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def execute(self, spec: Spec[T]) -> T:
        with self._send(spec) as response:
            response.read()
            return self._parse(spec, response)

    def paginate(self, page: PageSpec[T]) -> SyncPage[T]:
        return self.fetch_page(page)

    def fetch_page(self, page: PageSpec[T]) -> SyncPage[T]:
        answer = self.execute(page.spec)
        items = [page.item(item) for item in answer.get(page.items_field, [])]
        return SyncPage(self, page, items, answer.get("next_cursor"))

    @contextmanager
    def stream(self, spec: Spec[Any]) -> Iterator[httpx.Response]:
        """The successful answer with its body not yet read (for downloads)."""
        with self._send(spec, stream=True) as response:
            yield response

    @contextmanager
    def _send(self, spec: Spec[Any], *, stream: bool = False) -> Iterator[httpx.Response]:
        self._check_signable(spec)
        attempts = _Attempts(spec)
        attempt = 0
        while True:
            self._refresh_if_stale()
            request = self._build(self._http, spec, attempts)
            try:
                response = self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                delay = self._retry_delay(attempt, None)
                if delay is None:
                    raise _transport_error(exc, request) from exc
                time.sleep(delay)
                attempt += 1
                continue
            if self._wants_refresh(response, attempts):
                response.close()
                attempts.refreshed = True
                self._refresh(seen_generation=self._tokens.generation if self._tokens else 0)
                continue
            if response.is_success:
                try:
                    yield response
                finally:
                    response.close()
                return
            response.read()
            response.close()
            delay = self._retry_delay(attempt, response) if self._retryable(response) else None
            if delay is None:
                raise self._error(response)
            time.sleep(delay)
            attempt += 1

    # --- JWT ----------------------------------------------------------------------------

    def login(self, email: str, password: str) -> None:
        """Log in with an account's email and password; later requests use its JWT."""
        answer = self.execute(
            self._token_request(TOKEN_PATH, {"username": email, "password": password})
        )
        self._store_tokens(answer)

    def refresh(self) -> None:
        """Exchange the refresh token for a new pair now (the old one is spent)."""
        self._refresh(seen_generation=self._tokens.generation if self._tokens else 0)

    def logout(self) -> None:
        """End the session on the server (its whole refresh-token family)."""
        if self._tokens is None or self._tokens.refresh_token is None:
            return
        token = self._tokens.take_refresh_token()
        self.execute(self._token_request(LOGOUT_PATH, {"refresh_token": token}))

    def _refresh_if_stale(self) -> None:
        tokens = self._tokens
        if tokens is not None and tokens.refresh_token is not None and tokens.stale():
            self._refresh(seen_generation=tokens.generation)

    def _refresh(self, *, seen_generation: int) -> None:
        with self._refresh_lock:
            tokens = self._tokens
            if tokens is None or tokens.generation != seen_generation:
                return  # another thread refreshed while this one waited
            token = tokens.take_refresh_token()
            if token is None:
                raise _session_over()
            tokens.expires_at = 0.0
            response = self._http.post(self.base_url + REFRESH_PATH, json={"refresh_token": token})
            if not response.is_success:
                raise self._error(response)
            self._store_tokens(response.json())


class AsyncAPIClient(BaseClient):
    def __init__(
        self, base_url: str, *, http_client: httpx.AsyncClient | None = None, **options: Any
    ) -> None:
        super().__init__(base_url, **options)
        self._http = http_client or httpx.AsyncClient(timeout=self.timeout)
        self._http.headers.update(self.default_headers)
        self._refresh_lock = asyncio.Lock()

    async def close(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def execute(self, spec: Spec[T]) -> T:
        async with self._send(spec) as response:
            await response.aread()
            return self._parse(spec, response)

    def paginate(self, page: PageSpec[T]) -> AsyncPaginator[T]:
        return AsyncPaginator(self, page)

    async def fetch_page(self, page: PageSpec[T]) -> AsyncPage[T]:
        answer = await self.execute(page.spec)
        items = [page.item(item) for item in answer.get(page.items_field, [])]
        return AsyncPage(self, page, items, answer.get("next_cursor"))

    @asynccontextmanager
    async def stream(self, spec: Spec[Any]) -> AsyncIterator[httpx.Response]:
        """The successful answer with its body not yet read (for downloads)."""
        async with self._send(spec) as response:
            yield response

    @asynccontextmanager
    async def _send(self, spec: Spec[Any]) -> AsyncIterator[httpx.Response]:
        self._check_signable(spec)
        attempts = _Attempts(spec)
        attempt = 0
        while True:
            await self._refresh_if_stale()
            request = self._build(self._http, spec, attempts)
            try:
                response = await self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                delay = self._retry_delay(attempt, None)
                if delay is None:
                    raise _transport_error(exc, request) from exc
                await asyncio.sleep(delay)
                attempt += 1
                continue
            if self._wants_refresh(response, attempts):
                await response.aclose()
                attempts.refreshed = True
                await self._refresh(seen_generation=self._tokens.generation if self._tokens else 0)
                continue
            if response.is_success:
                try:
                    yield response
                finally:
                    await response.aclose()
                return
            await response.aread()
            await response.aclose()
            delay = self._retry_delay(attempt, response) if self._retryable(response) else None
            if delay is None:
                raise self._error(response)
            await asyncio.sleep(delay)
            attempt += 1

    async def login(self, email: str, password: str) -> None:
        """Log in with an account's email and password; later requests use its JWT."""
        answer = await self.execute(
            self._token_request(TOKEN_PATH, {"username": email, "password": password})
        )
        self._store_tokens(answer)

    async def refresh(self) -> None:
        """Exchange the refresh token for a new pair now (the old one is spent)."""
        await self._refresh(seen_generation=self._tokens.generation if self._tokens else 0)

    async def logout(self) -> None:
        """End the session on the server (its whole refresh-token family)."""
        if self._tokens is None or self._tokens.refresh_token is None:
            return
        token = self._tokens.take_refresh_token()
        await self.execute(self._token_request(LOGOUT_PATH, {"refresh_token": token}))

    async def _refresh_if_stale(self) -> None:
        tokens = self._tokens
        if tokens is not None and tokens.refresh_token is not None and tokens.stale():
            await self._refresh(seen_generation=tokens.generation)

    async def _refresh(self, *, seen_generation: int) -> None:
        async with self._refresh_lock:
            tokens = self._tokens
            if tokens is None or tokens.generation != seen_generation:
                return  # another task refreshed while this one waited
            token = tokens.take_refresh_token()
            if token is None:
                raise _session_over()
            tokens.expires_at = 0.0
            response = await self._http.post(
                self.base_url + REFRESH_PATH, json={"refresh_token": token}
            )
            if not response.is_success:
                raise self._error(response)
            self._store_tokens(response.json())


def _session_over() -> AuthenticationError:
    request = httpx.Request("POST", REFRESH_PATH)
    response = httpx.Response(
        401,
        request=request,
        json={"error": "session_expired", "detail": "The session ended; log in again."},
    )
    return AuthenticationError(response, response.json())
