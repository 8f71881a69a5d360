"""The provider interface: what sync, connections and webhooks may ask of any vendor.

A provider knows one vendor's API and nothing of the database. It offers pages of each of its
collections for a time window (resumable by an opaque cursor), a record by id, credential refresh
and webhook verification, and says what it can do through :class:`Capabilities`.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, ClassVar, Generic, Literal, Protocol, TypeVar

from somna.providers.exceptions import UnsupportedOperation
from somna.providers.http import ProviderHttp, RequestHook, RequestStats
from somna.records.canonical import AnyRecord

if TYPE_CHECKING:
    import httpx

    from somna.config import Settings
    from somna.providers.oauth import OAuth2Client
    from somna.providers.tokens import TokenSource

Collection = Literal["sleep", "recovery", "cycles", "workouts", "body_measurements"]
AuthKind = Literal["oauth2", "api_key"]


@dataclass(frozen=True, slots=True)
class Capabilities:
    collections: tuple[Collection, ...]
    auth_kind: AuthKind
    webhooks: bool
    # Epoch length of the hypnograms it gives, or None when it gives stage totals only.
    hypnogram_epoch_seconds: int | None
    max_page_size: int
    # How far back one window may reach in one request, if the vendor caps it.
    max_window_days: int | None = None


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Records touching ``[start, end)``; ``end=None`` means up to now."""

    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        for value in (self.start, self.end):
            if value is not None and value.tzinfo is None:
                raise ValueError("TimeWindow needs timezone-aware datetimes")
        if self.start and self.end and self.end < self.start:
            raise ValueError("TimeWindow ends before it starts")


@dataclass(frozen=True, slots=True)
class Page:
    """One page of canonical records; ``next_cursor`` is None on the last page."""

    collection: Collection
    records: Sequence[AnyRecord]
    next_cursor: str | None
    # Records the provider sent that the mapper skipped (e.g. malformed), for the run log.
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class WebhookNotification:
    """A verified webhook, reduced to what the inbox needs. ``event_id`` de-duplicates."""

    provider: str
    event_id: str
    event_type: str
    provider_user_id: str | None
    collection: Collection | None
    record_id: str | None
    deleted: bool
    payload: Mapping[str, object] = field(repr=False)


@dataclass(frozen=True, slots=True)
class ProviderIdentity:
    """Who the connection is at the provider (WHOOP profile, Asleep user)."""

    provider_user_id: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    raw: Mapping[str, object] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class ConnectionContext:
    """What a provider needs to act for one connection.

    ``token`` is the OAuth token source (OAuth providers; for a stored connection, one that
    refreshes under the connection's lock); ``provider_user_id`` is the vendor's id for the
    person (needed by API-key providers such as Asleep); ``zone`` is the person's time zone,
    used only where a payload carries no offset of its own.
    """

    provider_user_id: str | None = None
    token: TokenSource | None = None
    zone: tzinfo | None = None


class Provider(abc.ABC):
    """One vendor, acting for one connection (or, without one, for app-level calls)."""

    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    @classmethod
    @abc.abstractmethod
    def from_settings(
        cls,
        settings: Settings,
        context: ConnectionContext,
        *,
        before_request: RequestHook | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> Provider:
        """Build a provider for ``context`` from Somna's settings."""

    @property
    @abc.abstractmethod
    def stats(self) -> RequestStats:
        """Requests and retries made so far; a sync run records them."""

    @abc.abstractmethod
    async def fetch_page(
        self,
        collection: Collection,
        window: TimeWindow,
        cursor: str | None = None,
        *,
        limit: int | None = None,
    ) -> Page:
        """One page of ``collection`` in ``window``, newest first where the vendor sorts so."""

    @abc.abstractmethod
    async def fetch_record(self, collection: Collection, record_id: str) -> AnyRecord | None:
        """One record by the provider's id; None when the provider has none."""

    @abc.abstractmethod
    async def fetch_identity(self) -> ProviderIdentity:
        """The provider's user behind this connection (called once, when connecting)."""

    async def revoke(self) -> bool:
        """Withdraw our access at the provider; False when there is nothing to revoke."""
        return False

    @classmethod
    def oauth_client(
        cls,
        settings: Settings,
        *,
        before_request: RequestHook | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> OAuth2Client:
        """The OAuth client for connect flows (OAuth providers only)."""
        raise UnsupportedOperation(f"{cls.name} does not use OAuth")

    @classmethod
    @abc.abstractmethod
    def verify_webhook(
        cls,
        settings: Settings,
        headers: Mapping[str, str],
        body: bytes,
        *,
        now: datetime | None = None,
    ) -> list[WebhookNotification]:
        """Check a webhook's authenticity and parse it; raises ``InvalidWebhook``."""

    @abc.abstractmethod
    async def aclose(self) -> None:
        """Close the HTTP client."""

    async def __aenter__(self) -> Provider:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class VendorClient(Protocol):
    """A vendor's raw API client: every request goes through its ``http``."""

    http: ProviderHttp


ClientT = TypeVar("ClientT", bound=VendorClient)


class ClientProvider(Provider, Generic[ClientT]):
    """A provider that acts through one vendor client, whose HTTP layer it counts and closes."""

    def __init__(self, client: ClientT, *, settings: Settings, context: ConnectionContext) -> None:
        self.client = client
        self.settings = settings
        self.context = context

    @property
    def stats(self) -> RequestStats:
        return self.client.http.stats

    async def aclose(self) -> None:
        await self.client.http.aclose()
