"""WHOOP as a :class:`~somna.providers.base.Provider`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import structlog

from somna.kit.time import utc_now
from somna.providers.base import (
    Capabilities,
    ClientProvider,
    Collection,
    ConnectionContext,
    Page,
    ProviderIdentity,
    TimeWindow,
    WebhookNotification,
)
from somna.providers.exceptions import MappingError, ProviderNotFound, UnsupportedOperation
from somna.providers.http import ProviderHttp, RequestHook
from somna.providers.oauth import OAuth2Client, OAuthEndpoints
from somna.providers.payload import parse_offset_minutes
from somna.providers.tokens import StaticToken, TokenSource
from somna.providers.whoop import mapper, webhooks
from somna.providers.whoop.client import MAX_PAGE_SIZE, WhoopClient, WhoopCollection
from somna.records.canonical import AnyRecord

if TYPE_CHECKING:
    import httpx

    from somna.config import Settings

log = structlog.get_logger(__name__)

# The six read scopes of the spec plus "offline", without which WHOOP sends no refresh token.
SCOPES = (
    "offline",
    "read:profile",
    "read:body_measurement",
    "read:cycles",
    "read:recovery",
    "read:sleep",
    "read:workout",
)
_PATHS: dict[str, WhoopCollection] = {
    "sleep": "activity/sleep",
    "recovery": "recovery",
    "cycles": "cycle",
    "workouts": "activity/workout",
}
_OFFSET_MEMORY = 2048


class WhoopProvider(ClientProvider[WhoopClient]):
    name: ClassVar[str] = "whoop"
    capabilities: ClassVar[Capabilities] = Capabilities(
        collections=("sleep", "recovery", "cycles", "workouts", "body_measurements"),
        auth_kind="oauth2",
        webhooks=True,
        hypnogram_epoch_seconds=None,
        max_page_size=MAX_PAGE_SIZE,
    )

    def __init__(
        self, client: WhoopClient, *, settings: Settings, context: ConnectionContext
    ) -> None:
        super().__init__(client, settings=settings, context=context)
        # Recoveries carry no offset; remember the ones their cycles and sleeps showed us.
        self._offsets: dict[str, int] = {}

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        context: ConnectionContext,
        *,
        before_request: RequestHook | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> WhoopProvider:
        token: TokenSource = context.token or StaticToken("")
        http = ProviderHttp.from_settings(
            "whoop",
            settings,
            settings.whoop_api_base,
            before_request=before_request,
            transport=transport,
        )
        return cls(WhoopClient(http, token), settings=settings, context=context)

    @classmethod
    def oauth_client(
        cls,
        settings: Settings,
        *,
        before_request: RequestHook | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> OAuth2Client:
        base = settings.whoop_oauth_base.rstrip("/")
        endpoints = OAuthEndpoints(
            authorize_url=f"{base}/auth",
            token_url=f"{base}/token",
            client_id=settings.whoop_client_id,
            client_secret=settings.whoop_client_secret.get_secret_value(),
            redirect_uri=settings.whoop_redirect_uri,
            scopes=SCOPES,
        )
        http = ProviderHttp.from_settings(
            "whoop", settings, base, before_request=before_request, transport=transport
        )
        return OAuth2Client("whoop", endpoints, http)

    async def fetch_identity(self) -> ProviderIdentity:
        profile = await self.client.profile()
        return ProviderIdentity(
            provider_user_id=str(profile.get("user_id")),
            email=profile.get("email"),
            first_name=profile.get("first_name"),
            last_name=profile.get("last_name"),
            raw=profile,
        )

    async def revoke(self) -> bool:
        await self.client.revoke_access()
        return True

    async def fetch_page(
        self,
        collection: Collection,
        window: TimeWindow,
        cursor: str | None = None,
        *,
        limit: int | None = None,
    ) -> Page:
        if collection == "body_measurements":
            record = await self._body_measurement()
            return Page(collection=collection, records=[record], next_cursor=None)
        path = _PATHS.get(collection)
        if path is None:
            raise UnsupportedOperation(f"WHOOP has no collection {collection!r}")
        page = await self.client.list_page(
            path, start=window.start, end=window.end, limit=limit, next_token=cursor
        )
        records: list[AnyRecord] = []
        skipped = 0
        for payload in page.records:
            try:
                records.append(self._map(collection, payload))
            except MappingError as exc:
                skipped += 1
                log.warning("whoop.record_skipped", collection=collection, reason=exc.detail)
        return Page(
            collection=collection, records=records, next_cursor=page.next_token, skipped=skipped
        )

    async def fetch_record(self, collection: Collection, record_id: str) -> AnyRecord | None:
        try:
            if collection == "sleep":
                return self._map("sleep", await self.client.sleep(record_id))
            if collection == "workouts":
                return self._map("workouts", await self.client.workout(record_id))
            if collection == "cycles":
                return self._map("cycles", await self.client.cycle(record_id))
            if collection == "recovery":
                return await self._recovery(record_id)
            if collection == "body_measurements":
                return await self._body_measurement()
        except ProviderNotFound:
            return None
        raise UnsupportedOperation(f"WHOOP has no collection {collection!r}")

    async def _recovery(self, record_id: str) -> AnyRecord:
        # Webhooks name a recovery by its sleep's UUID; our records key it by cycle id.
        if _is_uuid(record_id):
            sleep = await self.client.sleep(record_id)
            self._remember(sleep)
            record_id = str(sleep.get("cycle_id"))
        if record_id not in self._offsets:
            self._remember(await self.client.cycle(record_id))
        return self._map("recovery", await self.client.recovery_for_cycle(record_id))

    async def _body_measurement(self) -> AnyRecord:
        user_id = self.context.provider_user_id or str((await self.client.profile()).get("user_id"))
        payload = await self.client.body_measurement()
        return mapper.map_body_measurement(payload, user_id=user_id, observed_at=utc_now())

    def _remember(self, payload: Mapping[str, Any]) -> None:
        try:
            offset = parse_offset_minutes("whoop", payload.get("timezone_offset"))
        except MappingError:
            return
        if offset is None:
            return
        if len(self._offsets) >= _OFFSET_MEMORY:
            self._offsets.clear()
        for key in ("cycle_id", "id") if "cycle_id" in payload else ("id",):
            if payload.get(key) is not None:
                self._offsets[str(payload[key])] = offset

    def _map(self, collection: Collection, payload: Mapping[str, Any]) -> AnyRecord:
        if collection == "sleep":
            self._remember(payload)
            return mapper.map_sleep(payload)
        if collection == "cycles":
            self._remember(payload)
            return mapper.map_cycle(payload)
        if collection == "workouts":
            return mapper.map_workout(payload)
        if collection == "recovery":
            cycle_id = str(payload.get("cycle_id"))
            sleep_id = str(payload.get("sleep_id"))
            offset = self._offsets.get(cycle_id, self._offsets.get(sleep_id))
            return mapper.map_recovery(
                payload, timezone_offset_minutes=offset, zone=self.context.zone
            )
        raise UnsupportedOperation(f"WHOOP has no collection {collection!r}")

    @classmethod
    def verify_webhook(
        cls,
        settings: Settings,
        headers: Mapping[str, str],
        body: bytes,
        *,
        now: datetime | None = None,
    ) -> list[WebhookNotification]:
        tolerance = settings.whoop_webhook_tolerance_seconds
        notification = webhooks.verify(
            headers,
            body,
            settings.whoop_client_secret.get_secret_value(),
            now=now,
            tolerance=timedelta(seconds=tolerance) if tolerance else None,
        )
        return [notification]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
