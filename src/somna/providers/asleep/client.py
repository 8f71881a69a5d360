"""Asleep's REST API: users, sessions (v3 with 30-second stages and stats), average stats.

Authentication is an app-wide ``x-api-key``; session calls name the person with ``x-user-id``;
results are expressed in the IANA zone sent as ``timezone``. Every answer is
``{"detail": ..., "result": ...}``; errors carry ``detail`` only, and Asleep refuses for pace or
quota with **403**, not 429.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import date
from typing import Any, Literal

import httpx

from somna.providers.exceptions import (
    ProviderBadRequest,
    ProviderError,
    ProviderQuotaExceeded,
    ProviderResponseError,
    error_for_status,
)
from somna.providers.http import ProviderHttp

PROVIDER = "asleep"
MAX_PAGE_SIZE = 100
MAX_AVERAGE_DAYS = 100
METADATA_FIELDS = ("birth_year", "birth_month", "birth_day", "gender", "height", "weight")


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict) and body.get("detail") is not None:
        detail = body["detail"]
        return detail if isinstance(detail, str) else str(detail)[:300]
    return str(body)[:200]


def is_rate_limited(response: httpx.Response) -> bool:
    """Asleep's pace refusal: 403 "Rate limit exceeded" (a 429 would count too)."""
    if response.status_code == 429:
        return True
    return response.status_code == 403 and "rate limit" in _detail(response).lower()


def raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    detail = _detail(response)
    text = f"Asleep answered {status}: {detail}"
    lowered = detail.lower()
    error: type[ProviderError]
    if status == 403 and ("quota" in lowered or "plan" in lowered):
        error = ProviderQuotaExceeded
    # Asleep calls a body it cannot process 413 or 422 as well as 400.
    elif status in (413, 422):
        error = ProviderBadRequest
    else:
        error = error_for_status(status)
    raise error(PROVIDER, text, status=status)


class AsleepClient:
    def __init__(self, http: ProviderHttp, api_key: str) -> None:
        self.http = http
        self._key = api_key

    async def _call(
        self,
        method: str,
        path: str,
        *,
        user_id: str | None = None,
        timezone: str | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        headers = {"x-api-key": self._key}
        if user_id is not None:
            headers["x-user-id"] = user_id
        if timezone is not None:
            headers["timezone"] = timezone
        torn = False
        while True:
            response = await self.http.request(
                method, path, headers=headers, params=params, json=json
            )
            raise_for_status(response)
            if response.status_code == 204:
                return None
            try:
                body = response.json()
            except ValueError as exc:
                # A torn body is worth one more read on a GET; a POST may have taken effect.
                if torn or method != "GET":
                    raise ProviderResponseError(
                        PROVIDER, f"Asleep sent a body that is not JSON for {path}"
                    ) from exc
                torn = True
                self.http.stats.retries += 1
                continue
            if not isinstance(body, dict) or "result" not in body:
                raise ProviderResponseError(PROVIDER, f"Asleep {path} answer has no result")
            return body["result"]

    async def create_user(self, metadata: Mapping[str, Any] | None = None) -> str:
        """Create an Asleep user (metadata: birth date parts, gender, height cm, weight kg)."""
        body = (
            {"metadata": {k: v for k, v in metadata.items() if k in METADATA_FIELDS}}
            if metadata
            else {}
        )
        result = await self._call("POST", "/ai/v1/users", json=body)
        if not isinstance(result, dict) or not isinstance(result.get("user_id"), str):
            raise ProviderResponseError(PROVIDER, "Asleep create user returned no user_id")
        return str(result["user_id"])

    async def get_user(self, user_id: str) -> dict[str, Any]:
        return _object(await self._call("GET", f"/ai/v1/users/{user_id}"), "user")

    async def delete_user(self, user_id: str) -> None:
        await self._call("DELETE", f"/ai/v1/users/{user_id}")

    async def get_session(
        self, user_id: str, session_id: str, *, timezone: str = "UTC"
    ) -> dict[str, Any]:
        """``GET /data/v3/sessions/{id}``: session with ``sleep_stages``, and ``stat``."""
        result = await self._call(
            "GET", f"/data/v3/sessions/{session_id}", user_id=user_id, timezone=timezone
        )
        return _object(result, "session")

    async def list_sessions(
        self,
        user_id: str,
        *,
        date_gte: date | None = None,
        date_lte: date | None = None,
        order_by: Literal["ASC", "DESC"] = "DESC",
        offset: int = 0,
        limit: int = 20,
        timezone: str = "UTC",
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {
            "order_by": order_by,
            "offset": max(0, offset),
            "limit": max(0, min(MAX_PAGE_SIZE, limit)),
        }
        if date_gte is not None:
            params["date_gte"] = date_gte.isoformat()
        if date_lte is not None:
            params["date_lte"] = date_lte.isoformat()
        result = _object(
            await self._call(
                "GET", "/data/v1/sessions", user_id=user_id, timezone=timezone, params=params
            ),
            "session list",
        )
        sessions = result.get("sleep_session_list")
        if not isinstance(sessions, list) or not all(isinstance(s, dict) for s in sessions):
            raise ProviderResponseError(PROVIDER, "Asleep session list has no sleep_session_list")
        return sessions

    async def iterate_sessions(
        self,
        user_id: str,
        *,
        date_gte: date | None = None,
        date_lte: date | None = None,
        order_by: Literal["ASC", "DESC"] = "DESC",
        page_size: int = MAX_PAGE_SIZE,
        timezone: str = "UTC",
    ) -> AsyncIterator[dict[str, Any]]:
        """Every listed session: pages by offset until one comes back short."""
        offset = 0
        while True:
            page = await self.list_sessions(
                user_id,
                date_gte=date_gte,
                date_lte=date_lte,
                order_by=order_by,
                offset=offset,
                limit=page_size,
                timezone=timezone,
            )
            for item in page:
                yield item
            if len(page) < page_size:
                return
            offset += len(page)

    async def delete_session(self, user_id: str, session_id: str) -> None:
        await self._call("DELETE", f"/ai/v1/sessions/{session_id}", user_id=user_id)

    async def average_stats(
        self, user_id: str, start_date: date, end_date: date, *, timezone: str = "UTC"
    ) -> dict[str, Any]:
        """Averages over at most 100 days (checked here, before spending a request)."""
        if end_date < start_date:
            raise ProviderBadRequest(PROVIDER, "end_date is before start_date")
        if (end_date - start_date).days + 1 > MAX_AVERAGE_DAYS:
            raise ProviderBadRequest(
                PROVIDER, f"Asleep averages at most {MAX_AVERAGE_DAYS} days per request"
            )
        result = await self._call(
            "GET",
            f"/data/v1/users/{user_id}/average-stats",
            timezone=timezone,
            params={"start_date": start_date.isoformat(), "end_date": end_date.isoformat()},
        )
        return _object(result, "average stats")


def _object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ProviderResponseError(PROVIDER, f"Asleep {what} is not a JSON object")
    return body
