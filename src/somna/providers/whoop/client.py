"""WHOOP Developer API v2: every member-data endpoint, typed errors, one refresh on 401."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from somna.providers.exceptions import ProviderResponseError, error_for_status
from somna.providers.http import ProviderHttp
from somna.providers.tokens import TokenSource

PROVIDER = "whoop"
MAX_PAGE_SIZE = 25
DEFAULT_PAGE_SIZE = 10
WhoopCollection = Literal["cycle", "recovery", "activity/sleep", "activity/workout"]


@dataclass(frozen=True, slots=True)
class WhoopPage:
    records: list[dict[str, Any]]
    next_token: str | None


def format_time(moment: datetime) -> str:
    """WHOOP's own form: UTC, milliseconds, ``Z``."""
    if moment.tzinfo is None:
        raise ValueError("WHOOP query times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body.get("detail") or body)
    return str(body)[:200]


def raise_for_status(response: httpx.Response) -> None:
    """Turn a WHOOP error status into its typed error."""
    status = response.status_code
    if status < 400:
        return
    text = f"WHOOP answered {status}: {_error_text(response)}"
    raise error_for_status(status)(PROVIDER, text, status=status)


class WhoopClient:
    """Raw WHOOP calls returning WHOOP's JSON. Paths are relative to the API base
    (``…/developer``), so pointing ``whoop_api_base`` at a sandbox is all a test needs."""

    def __init__(self, http: ProviderHttp, token: TokenSource) -> None:
        self.http = http
        self.token = token

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET with the bearer token; one refresh-and-retry on 401, one retry on a torn body."""
        refreshed = torn = False
        while True:
            access = await self.token.access_token()
            response = await self.http.request(
                "GET", path, params=params, headers={"Authorization": f"Bearer {access}"}
            )
            if response.status_code == 401 and not refreshed:
                refreshed = True
                # A refused refresh raises ReauthorizationRequired, which the caller reports.
                await self.token.refresh(stale_access_token=access)
                self.http.stats.retries += 1
                continue
            raise_for_status(response)
            try:
                return response.json()
            except ValueError as exc:
                if torn:
                    raise ProviderResponseError(
                        PROVIDER, f"WHOOP sent a body that is not JSON for {path}"
                    ) from exc
                torn = True
                self.http.stats.retries += 1

    async def profile(self) -> dict[str, Any]:
        return _object(await self.get("/v2/user/profile/basic"), "profile")

    async def body_measurement(self) -> dict[str, Any]:
        return _object(await self.get("/v2/user/measurement/body"), "body measurement")

    async def list_page(
        self,
        collection: WhoopCollection,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> WhoopPage:
        """One page, newest first. ``limit`` is clamped to WHOOP's 1..25."""
        params: dict[str, Any] = {
            "limit": max(1, min(MAX_PAGE_SIZE, limit or MAX_PAGE_SIZE)),
        }
        if start is not None:
            params["start"] = format_time(start)
        if end is not None:
            params["end"] = format_time(end)
        if next_token:
            params["nextToken"] = next_token
        body = _object(await self.get(f"/v2/{collection}", params), f"{collection} page")
        records = body.get("records", [])
        token = body.get("next_token")
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ProviderResponseError(PROVIDER, f"WHOOP {collection} page has no records list")
        if token is not None and not isinstance(token, str):
            raise ProviderResponseError(PROVIDER, f"WHOOP {collection} next_token is not a string")
        return WhoopPage(records=records, next_token=token or None)

    async def iterate(
        self,
        collection: WhoopCollection,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every record of ``collection`` in the window, page after page to the end."""
        token: str | None = None
        while True:
            page = await self.list_page(
                collection, start=start, end=end, limit=limit, next_token=token
            )
            for record in page.records:
                yield record
            if page.next_token is None:
                return
            token = page.next_token

    async def cycle(self, cycle_id: int | str) -> dict[str, Any]:
        return _object(await self.get(f"/v2/cycle/{int(cycle_id)}"), "cycle")

    async def sleep_for_cycle(self, cycle_id: int | str) -> dict[str, Any]:
        return _object(await self.get(f"/v2/cycle/{int(cycle_id)}/sleep"), "sleep")

    async def recovery_for_cycle(self, cycle_id: int | str) -> dict[str, Any]:
        return _object(await self.get(f"/v2/cycle/{int(cycle_id)}/recovery"), "recovery")

    async def sleep(self, sleep_id: str) -> dict[str, Any]:
        return _object(await self.get(f"/v2/activity/sleep/{sleep_id}"), "sleep")

    async def workout(self, workout_id: str) -> dict[str, Any]:
        return _object(await self.get(f"/v2/activity/workout/{workout_id}"), "workout")

    async def activity_mapping(self, v1_id: int) -> str:
        body = _object(await self.get(f"/v1/activity-mapping/{int(v1_id)}"), "activity mapping")
        value = body.get("v2_activity_id")
        if not isinstance(value, str):
            raise ProviderResponseError(PROVIDER, "WHOOP activity mapping has no v2_activity_id")
        return value

    async def revoke_access(self) -> None:
        """``DELETE /v2/user/access``: WHOOP forgets the grant and stops its webhooks."""
        access = await self.token.access_token()
        response = await self.http.request(
            "DELETE", "/v2/user/access", headers={"Authorization": f"Bearer {access}"}
        )
        raise_for_status(response)


def _object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ProviderResponseError(PROVIDER, f"WHOOP {what} is not a JSON object")
    return body
