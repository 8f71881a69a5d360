"""Asleep as a :class:`~somna.providers.base.Provider` (API key; one collection: sleep)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

import structlog

from somna.kit.crypto import constant_time_equal
from somna.kit.http import header
from somna.providers.asleep import mapper
from somna.providers.asleep.client import MAX_PAGE_SIZE, AsleepClient, is_rate_limited
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
from somna.providers.exceptions import (
    InvalidWebhook,
    MappingError,
    ProviderNotFound,
    UnsupportedOperation,
)
from somna.providers.http import ProviderHttp, RequestHook
from somna.records.canonical import AnyRecord

if TYPE_CHECKING:
    import httpx

    from somna.config import Settings

log = structlog.get_logger(__name__)
EVENTS = ("SESSION_COMPLETE", "INFERENCE_COMPLETE")


class AsleepProvider(ClientProvider[AsleepClient]):
    name: ClassVar[str] = "asleep"
    capabilities: ClassVar[Capabilities] = Capabilities(
        collections=("sleep",),
        auth_kind="api_key",
        webhooks=True,
        hypnogram_epoch_seconds=mapper.EPOCH_SECONDS,
        max_page_size=MAX_PAGE_SIZE,
    )

    def __init__(
        self, client: AsleepClient, *, settings: Settings, context: ConnectionContext
    ) -> None:
        super().__init__(client, settings=settings, context=context)
        zone = context.zone
        # Asleep re-expresses every time in the zone we name; the person's own zone keeps
        # offsets and local dates right.
        self.timezone = zone.key if isinstance(zone, ZoneInfo) else "UTC"

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        context: ConnectionContext,
        *,
        before_request: RequestHook | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> AsleepProvider:
        http = ProviderHttp.from_settings(
            "asleep",
            settings,
            settings.asleep_api_base,
            before_request=before_request,
            transport=transport,
            is_rate_limited=is_rate_limited,
        )
        client = AsleepClient(http, settings.asleep_api_key.get_secret_value())
        return cls(client, settings=settings, context=context)

    def _user(self) -> str:
        if not self.context.provider_user_id:
            raise UnsupportedOperation("An Asleep call needs the connection's Asleep user id.")
        return self.context.provider_user_id

    async def create_user(self, metadata: Mapping[str, Any] | None = None) -> str:
        """Create the Asleep user a new connection will use; returns its id."""
        return await self.client.create_user(metadata)

    async def fetch_identity(self) -> ProviderIdentity:
        user = await self.client.get_user(self._user())
        return ProviderIdentity(provider_user_id=str(user.get("user_id")), raw=user)

    async def fetch_page(
        self,
        collection: Collection,
        window: TimeWindow,
        cursor: str | None = None,
        *,
        limit: int | None = None,
    ) -> Page:
        """Listed sessions by offset (cursor = offset), each fetched in full (v3)."""
        if collection != "sleep":
            raise UnsupportedOperation(f"Asleep has no collection {collection!r}")
        size = max(1, min(MAX_PAGE_SIZE, limit or 20))
        try:
            offset = max(0, int(cursor)) if cursor else 0
        except ValueError as exc:
            raise UnsupportedOperation("Not an Asleep cursor.") from exc
        zone = ZoneInfo(self.timezone)
        listed = await self.client.list_sessions(
            self._user(),
            date_gte=window.start.astimezone(zone).date() if window.start else None,
            date_lte=window.end.astimezone(zone).date() if window.end else None,
            order_by="DESC",
            offset=offset,
            limit=size,
            timezone=self.timezone,
        )
        records: list[AnyRecord] = []
        skipped = 0
        for item in listed:
            session_id = item.get("session_id")
            if not isinstance(session_id, str):
                skipped += 1
                continue
            record = await self.fetch_record("sleep", session_id)
            if record is None:  # deleted between the list and the read
                skipped += 1
            else:
                records.append(record)
        next_cursor = str(offset + len(listed)) if len(listed) == size else None
        return Page(collection="sleep", records=records, next_cursor=next_cursor, skipped=skipped)

    async def fetch_record(self, collection: Collection, record_id: str) -> AnyRecord | None:
        if collection != "sleep":
            raise UnsupportedOperation(f"Asleep has no collection {collection!r}")
        try:
            result = await self.client.get_session(self._user(), record_id, timezone=self.timezone)
        except ProviderNotFound:
            return None
        try:
            return mapper.map_session(result, stage_plan=self.settings.asleep_stage_plan)
        except MappingError as exc:
            log.warning("asleep.record_skipped", reason=exc.detail)
            return None

    @classmethod
    def verify_webhook(
        cls,
        settings: Settings,
        headers: Mapping[str, str],
        body: bytes,
        *,
        now: datetime | None = None,
    ) -> list[WebhookNotification]:
        """Asleep signs nothing: it echoes our API key in ``x-api-key``, which must match."""
        expected = settings.asleep_api_key.get_secret_value()
        given = header(headers, "x-api-key") or ""
        if not expected or not constant_time_equal(given, expected):
            raise InvalidWebhook("The Asleep webhook does not carry our API key.")
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise InvalidWebhook("The Asleep webhook body is not JSON.") from exc
        if not isinstance(payload, dict):
            raise InvalidWebhook("The Asleep webhook body is not an object.")
        # The docs' table says callback_event/callback_data; their example says event/data.
        event = payload.get("event", payload.get("callback_event"))
        data = payload.get("data", payload.get("callback_data"))
        if event not in EVENTS or not isinstance(data, dict):
            raise InvalidWebhook("The Asleep webhook has no known event.")
        session_id = data.get("session_id") or (data.get("session") or {}).get("id")
        user_id = data.get("user_id") or header(headers, "x-user-id")
        suffix = f":{data.get('seq_num')}" if event == "INFERENCE_COMPLETE" else ""
        return [
            WebhookNotification(
                provider="asleep",
                event_id=f"{session_id}:{event}{suffix}",
                event_type=str(event),
                provider_user_id=None if user_id is None else str(user_id),
                collection="sleep",
                record_id=None if session_id is None else str(session_id),
                deleted=False,
                payload=payload,
            )
        ]
