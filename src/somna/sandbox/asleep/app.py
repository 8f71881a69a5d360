"""The Asleep emulator: users, sessions v3, list sessions, average stats; ``x-api-key`` on every
call, 403 for pace and quota as Asleep does, and the shared fault knobs."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from statistics import fmean
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from somna.kit.crypto import constant_time_equal
from somna.sandbox.asleep.state import AsleepUser, AsleepWorld
from somna.sandbox.faults import FaultPlan
from somna.sandbox.ratelimit import SlidingWindowLimiter

Handler = Callable[[Request, ZoneInfo], Awaitable[Response]]
GENDERS = {"male", "female", "non_binary", "other", "prefer_not_to_say"}
CLOCK_FIELDS = ("start_time", "end_time", "sleep_time", "wake_time")
MAX_DAYS = 100


class Refusal(Exception):
    def __init__(self, status: int, detail: str) -> None:
        self.status, self.detail = status, detail


def _detail(status: int, detail: str) -> Response:
    return JSONResponse({"detail": detail}, status_code=status)


def _ok(result: Any, detail: str = "OK", status: int = 200) -> Response:
    return JSONResponse({"detail": detail, "result": result}, status_code=status)


class AsleepApp:
    def __init__(
        self,
        world: AsleepWorld,
        faults: FaultPlan,
        pace: SlidingWindowLimiter | None,
        quota: SlidingWindowLimiter | None,
    ) -> None:
        self.world = world
        self.faults = faults
        self.pace = pace
        self.quota = quota
        self.app = Starlette(
            routes=[
                Route("/ai/v1/users", self.wrap(self.create_user), methods=["POST"]),
                Route("/ai/v1/users/{user_id}", self.wrap(self.get_user), methods=["GET"]),
                Route("/ai/v1/users/{user_id}", self.wrap(self.delete_user), methods=["DELETE"]),
                Route("/data/v3/sessions/{session_id}", self.wrap(self.get_session)),
                Route("/data/v1/sessions", self.wrap(self.list_sessions)),
                Route(
                    "/ai/v1/sessions/{session_id}",
                    self.wrap(self.delete_session),
                    methods=["DELETE"],
                ),
                Route("/data/v1/users/{user_id}/average-stats", self.wrap(self.average_stats)),
            ]
        )

    def wrap(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            knobs = self.faults.faults
            if knobs.latency_seconds > 0:
                await asyncio.sleep(knobs.latency_seconds)
            key = request.headers.get("x-api-key", "")
            if not any(constant_time_equal(key, k) for k in self.world.config.api_keys):
                return _detail(401, "Unauthorized")
            if self.faults.rate_limited() or (self.pace and not self.pace.check().allowed):
                return _detail(403, "Rate limit exceeded")
            if self.quota and not self.quota.check().allowed:
                return _detail(403, "Quota exceeded")
            if self.faults.server_error():
                return _detail(knobs.error_status, "Internal Server Error")
            try:
                zone = ZoneInfo(request.headers.get("timezone") or "UTC")
            except (ZoneInfoNotFoundError, ValueError):
                return _detail(400, "The invalid timezone is provided")
            try:
                response = await handler(request, zone)
            except Refusal as refusal:
                return _detail(refusal.status, refusal.detail)
            if response.status_code == 200 and self.faults.malformed():
                body = bytes(response.body)
                return Response(body[: len(body) // 2], media_type="application/json")
            return response

        return endpoint

    # -- helpers -------------------------------------------------------------------------
    def _user(self, user_id: str | None, missing: str = "user does not exist") -> AsleepUser:
        with self.world.lock:
            user = self.world.users.get(user_id or "")
        if user is None:
            raise Refusal(404, missing)
        return user

    def _session_user(self, request: Request) -> AsleepUser:
        user_id = request.headers.get("x-user-id")
        if not user_id:
            raise Refusal(401, "x-user-id is invalid")
        return self._user(user_id)

    # -- users ---------------------------------------------------------------------------
    async def create_user(self, request: Request, zone: ZoneInfo) -> Response:
        body: Any = {}
        if await request.body():
            try:
                body = await request.json()
            except ValueError:
                raise Refusal(422, "The request body is not valid JSON") from None
        metadata = body.get("metadata") if isinstance(body, dict) else None
        if metadata is not None:
            _check_metadata(metadata)
        user = self.world.add_user(metadata)
        return _ok({"user_id": user.user_id}, "success", 201)

    async def get_user(self, request: Request, zone: ZoneInfo) -> Response:
        user = self._user(request.path_params["user_id"])
        return _ok(
            {
                "user_id": user.user_id,
                "to_be_deleted": False,
                "last_session_info": self.world.last_session_info(user),
                "metadata": user.metadata,
            },
            "success",
        )

    async def delete_user(self, request: Request, zone: ZoneInfo) -> Response:
        user = self._user(request.path_params["user_id"])
        with self.world.lock:
            self.world.users.pop(user.user_id, None)
        return Response(status_code=204)

    # -- sessions ------------------------------------------------------------------------
    async def get_session(self, request: Request, zone: ZoneInfo) -> Response:
        user = self._session_user(request)
        session_id = request.path_params["session_id"]
        for sid, sleep in self.world.visible(user):
            if sid == session_id:
                return _ok(self.world.render_session(sleep, sid, zone))
        raise Refusal(404, "Session does not exist")

    async def delete_session(self, request: Request, zone: ZoneInfo) -> Response:
        user = self._session_user(request)
        session_id = request.path_params["session_id"]
        if session_id not in dict(self.world.visible(user)):
            raise Refusal(404, "session does not exist")
        with self.world.lock:
            user.deleted.add(session_id)
        return Response(status_code=204)

    async def list_sessions(self, request: Request, zone: ZoneInfo) -> Response:
        user = self._session_user(request)
        q = request.query_params
        order = q.get("order_by", "DESC").upper()
        if order not in ("ASC", "DESC"):
            raise Refusal(422, "order_by must be ASC or DESC")
        offset = _int(q.get("offset"), 0, "offset", low=0)
        limit = _int(q.get("limit"), 20, "limit", low=0, high=100)
        low = _date(q.get("date_gte"), "date_gte")
        high = _date(q.get("date_lte"), "date_lte")
        items = [
            (sid, s)
            for sid, s in self.world.visible(user)
            if (low is None or s.start.astimezone(zone).date() >= low)
            and (high is None or s.start.astimezone(zone).date() <= high)
        ]
        if order == "DESC":
            items.reverse()
        chosen = items[offset : offset + limit]
        return _ok(
            {
                "timezone": zone.key,
                "sleep_session_list": [self.world.list_item(s, sid, zone) for sid, s in chosen],
            }
        )

    async def average_stats(self, request: Request, zone: ZoneInfo) -> Response:
        user = self._user(
            request.path_params["user_id"],
            f"Unable to find the user of id {request.path_params['user_id']}",
        )
        start = _required_date(request.query_params.get("start_date"), "start_date")
        end = _required_date(request.query_params.get("end_date"), "end_date")
        if end < start or (end - start).days + 1 > MAX_DAYS:
            raise Refusal(400, "The period should be less than or equal to 100 days")
        slept, never = [], []
        for sid, sleep in self.world.visible(user):
            if not start <= sleep.start.astimezone(zone).date() <= end:
                continue
            rendered = self.world.render_session(sleep, sid, zone)
            session = rendered["session"]
            summary = {
                "id": sid,
                "start_time": session["start_time"],
                "end_time": session["end_time"],
                "completed_time": session["end_time"],
            }
            if rendered["stat"] is not None:
                slept.append({**summary, "created_timezone": zone.key, **rendered["stat"]})
            elif "NEVER_SLEPT" in rendered["peculiarities"]:
                never.append(summary)
        return _ok(
            {
                "period": {
                    "timezone": zone.key,
                    "start_date": start.isoformat(),
                    "end_date": end.isoformat(),
                },
                "peculiarities": ["NO_BREATHING_STABILITY"],
                "average_stats": _averages(slept, zone) if slept else None,
                "never_slept_sessions": never,
                "slept_sessions": slept,
            }
        )


def _int(value: str | None, default: int, name: str, *, low: int, high: int | None = None) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise Refusal(422, f"{name} must be an integer") from None
    if number < low or (high is not None and number > high):
        raise Refusal(422, f"{name} is out of range")
    return number


def _date(value: str | None, name: str) -> date | None:
    return None if value is None else _required_date(value, name)


def _required_date(value: str | None, name: str) -> date:
    if value is None:
        raise Refusal(422, f"{name} is required")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Refusal(422, f"{name} must be YYYY-MM-DD") from None


def _check_metadata(metadata: Any) -> None:
    if not isinstance(metadata, dict):
        raise Refusal(422, "metadata must be an object")
    limits = {
        "birth_year": (1900, date.today().year),
        "birth_month": (1, 12),
        "birth_day": (1, 31),
        "height": (0, 300),
        "weight": (0, 1000),
    }
    for name, (low, high) in limits.items():
        value = metadata.get(name)
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise Refusal(422, f"metadata.{name} is out of range")
    gender = metadata.get("gender")
    if gender is not None and gender not in GENDERS:
        raise Refusal(422, "metadata.gender is not a known value")


def _clock_mean(values: list[str], zone: ZoneInfo) -> str:
    """Mean time of day as ``hh:mm:ss``, on the circle (so 23:30 and 00:30 average to 00:00)."""
    angles = []
    for text in values:
        moment = datetime.fromisoformat(text).astimezone(zone)
        seconds = moment.hour * 3600 + moment.minute * 60 + moment.second
        angles.append(2 * math.pi * seconds / 86_400)
    angle = math.atan2(fmean(math.sin(a) for a in angles), fmean(math.cos(a) for a in angles))
    seconds = round((angle % (2 * math.pi)) / (2 * math.pi) * 86_400) % 86_400
    return str(timedelta(seconds=seconds)).rjust(8, "0")


def _averages(slept: list[dict[str, Any]], zone: ZoneInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        name: _clock_mean([s[name] for s in slept], zone) for name in CLOCK_FIELDS
    }
    skip = {
        "id",
        "created_timezone",
        "completed_time",
        "sleep_cycle_time",
        "breathing_pattern",
        *CLOCK_FIELDS,
    }
    for name, value in slept[0].items():
        if name in skip or isinstance(value, str):
            continue
        numbers = [s[name] for s in slept if isinstance(s.get(name), int | float)]
        out[name] = round(fmean(numbers), 2) if numbers else None
    return out
