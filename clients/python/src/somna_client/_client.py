"""``Somna`` and ``AsyncSomna``: the entry points, with one attribute per resource."""

from __future__ import annotations

import os
from types import TracebackType
from typing import Any

import httpx

from somna_client._base_client import (
    DEFAULT_MAX_RETRIES,
    LOGOUT_PATH,
    TOKEN_PATH,
    AsyncAPIClient,
    SyncAPIClient,
)
from somna_client._operations import ROUTES
from somna_client.resources.analytics import Analytics
from somna_client.resources.audit_events import AsyncAuditEventsResource, AuditEventsResource
from somna_client.resources.connections import Connections
from somna_client.resources.events import Events, Server
from somna_client.resources.exports import AsyncExportsResource, ExportsResource
from somna_client.resources.keys import Keys
from somna_client.resources.mood import MoodRatings
from somna_client.resources.organizations import Cohorts, Organizations
from somna_client.resources.people import Accounts, Users
from somna_client.resources.records import BodyMeasurements, Cycles, Recovery, Sleep, Workouts
from somna_client.resources.sync import AsyncSyncRunsResource, Sync, SyncRunsResource
from somna_client.resources.webhook_endpoints import WebhookEndpoints

ROUTES.extend([("POST", TOKEN_PATH, "Somna.login"), ("POST", LOGOUT_PATH, "Somna.logout")])


def _options(
    api_key: str | None,
    signing_secret: str | None,
    timeout: float | httpx.Timeout | None,
    max_retries: int,
    default_headers: dict[str, str] | None,
) -> dict[str, Any]:
    return {
        "api_key": api_key if api_key is not None else os.environ.get("SOMNA_API_KEY"),
        "signing_secret": signing_secret
        if signing_secret is not None
        else os.environ.get("SOMNA_SIGNING_SECRET"),
        "timeout": timeout,
        "max_retries": max_retries,
        "default_headers": default_headers,
    }


def _base_url(base_url: str | None) -> str:
    value = base_url or os.environ.get("SOMNA_URL")
    if not value:
        raise ValueError("base_url is required (or set SOMNA_URL), e.g. http://127.0.0.1:8000")
    return value


class Somna(SyncAPIClient):
    """The Somna API. ``base_url`` is the server's root, e.g. ``http://127.0.0.1:8000``.

    Authenticate with an API key (``api_key=``, or ``SOMNA_API_KEY``), adding its
    ``signing_secret`` for sensitive operations, or with :meth:`login`.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        signing_secret: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: dict[str, str] | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        options = _options(api_key, signing_secret, timeout, max_retries, default_headers)
        super().__init__(_base_url(base_url), http_client=http_client, **options)
        self.server = Server(self)
        self.users = Users(self)
        self.accounts = Accounts(self)
        self.sleep = Sleep(self)
        self.recovery = Recovery(self)
        self.cycles = Cycles(self)
        self.workouts = Workouts(self)
        self.body_measurements = BodyMeasurements(self)
        self.mood_ratings = MoodRatings(self)
        self.analytics = Analytics(self)
        self.organizations = Organizations(self)
        self.cohorts = Cohorts(self)
        self.connections = Connections(self)
        self.sync = Sync(self)
        self.sync_runs = SyncRunsResource(self)
        self.keys = Keys(self)
        self.webhook_endpoints = WebhookEndpoints(self)
        self.exports = ExportsResource(self)
        self.audit_events = AuditEventsResource(self)
        self.events = Events(self)

    @classmethod
    def login(  # type: ignore[override]
        cls, base_url: str, email: str, password: str, **options: Any
    ) -> Somna:
        """A client logged in as an account; it refreshes its JWT as needed, with rotation."""
        client = cls(base_url, api_key="", **options)
        try:
            SyncAPIClient.login(client, email, password)
        except BaseException:
            client.close()
            raise
        return client

    @classmethod
    def from_refresh_token(cls, base_url: str, refresh_token: str, **options: Any) -> Somna:
        """A logged-in client resumed from a refresh token kept from an earlier session
        (read ``client.refresh_token`` afterwards: it rotates with every refresh)."""
        client = cls(base_url, api_key="", **options)
        client._resume(refresh_token)
        return client

    def __enter__(self) -> Somna:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncSomna(AsyncAPIClient):
    """The Somna API for asyncio; the same surface as :class:`Somna`, awaited."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        signing_secret: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: dict[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        options = _options(api_key, signing_secret, timeout, max_retries, default_headers)
        super().__init__(_base_url(base_url), http_client=http_client, **options)
        self.server = Server(self)
        self.users = Users(self)
        self.accounts = Accounts(self)
        self.sleep = Sleep(self)
        self.recovery = Recovery(self)
        self.cycles = Cycles(self)
        self.workouts = Workouts(self)
        self.body_measurements = BodyMeasurements(self)
        self.mood_ratings = MoodRatings(self)
        self.analytics = Analytics(self)
        self.organizations = Organizations(self)
        self.cohorts = Cohorts(self)
        self.connections = Connections(self)
        self.sync = Sync(self)
        self.sync_runs = AsyncSyncRunsResource(self)
        self.keys = Keys(self)
        self.webhook_endpoints = WebhookEndpoints(self)
        self.exports = AsyncExportsResource(self)
        self.audit_events = AsyncAuditEventsResource(self)
        self.events = Events(self)

    @classmethod
    async def login(  # type: ignore[override]
        cls, base_url: str, email: str, password: str, **options: Any
    ) -> AsyncSomna:
        """A client logged in as an account; it refreshes its JWT as needed, with rotation."""
        client = cls(base_url, api_key="", **options)
        try:
            await AsyncAPIClient.login(client, email, password)
        except BaseException:
            await client.close()
            raise
        return client

    @classmethod
    def from_refresh_token(cls, base_url: str, refresh_token: str, **options: Any) -> AsyncSomna:
        """A logged-in client resumed from a refresh token kept from an earlier session."""
        client = cls(base_url, api_key="", **options)
        client._resume(refresh_token)
        return client

    async def __aenter__(self) -> AsyncSomna:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
