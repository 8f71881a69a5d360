"""The WHOOP sandbox handle: start it on a free port, steer it, read what clients did."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from somna.kit.time import utc_now
from somna.providers.whoop.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from somna.sandbox.faults import FaultPlan
from somna.sandbox.handle import SandboxHandle
from somna.sandbox.ratelimit import SlidingWindowLimiter
from somna.sandbox.runner import ThreadedServer
from somna.sandbox.webhooks import Delivery, WebhookSender
from somna.sandbox.whoop.app import WhoopApp
from somna.sandbox.whoop.state import KNOWN_SCOPES, Member, WhoopConfig, WhoopWorld

ALL_SCOPES = frozenset(KNOWN_SCOPES)
Event = tuple[int, str, str]  # (user_id, type, id)


class WhoopSandbox(SandboxHandle[WhoopWorld]):
    """A faithful WHOOP v2 emulator over real HTTP.

    ``api_base`` and ``oauth_base`` go into ``SOMNA_WHOOP_API_BASE`` / ``SOMNA_WHOOP_OAUTH_BASE``
    (see :meth:`settings_overrides`). Control happens through methods here, or over HTTP under
    ``/_sandbox`` when the sandbox runs as its own process (``somna sandbox whoop``).
    """

    def __init__(
        self,
        config: WhoopConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        people: int = 0,
    ) -> None:
        self.config = config or WhoopConfig()
        self.world = WhoopWorld(self.config, utc_now)
        self.faults = FaultPlan(self.config.seed)
        self.limiter = SlidingWindowLimiter(
            [(self.config.per_minute, 60), (self.config.per_day, 86_400)], time.monotonic
        )
        self.sender = WebhookSender()
        whoop = WhoopApp(self.world, self.faults, self.limiter)
        self.app = Starlette(
            routes=[Mount("/_sandbox", routes=self._control_routes()), *whoop.app.routes]
        )
        self.server = ThreadedServer(self.app, host=host, port=port)
        for _ in range(people):
            self.world.add_member()

    # -- addresses (start, stop and base_url come from SandboxHandle) ----------------------
    @property
    def api_base(self) -> str:
        return f"{self.server.url}/developer"

    @property
    def oauth_base(self) -> str:
        return f"{self.server.url}/oauth/oauth2"

    def settings_overrides(self) -> dict[str, Any]:
        """Somna settings that point the WHOOP provider at this sandbox."""
        from pydantic import SecretStr

        return {
            "whoop_api_base": self.api_base,
            "whoop_oauth_base": self.oauth_base,
            "whoop_client_id": self.config.client_id,
            "whoop_client_secret": SecretStr(self.config.client_secret),
        }

    # -- people and tokens ---------------------------------------------------------------
    def add_person(self, index: int | None = None) -> Member:
        return self.world.add_member(index)

    @property
    def members(self) -> list[Member]:
        with self.world.lock:
            return list(self.world.members.values())

    def queue_login(self, user_id: int) -> None:
        """The next authorize request without a ``login_hint`` logs this member in."""
        with self.world.lock:
            self.world.login_queue.append(user_id)

    def issue_tokens(self, user_id: int, scopes: Iterable[str] = ALL_SCOPES) -> dict[str, Any]:
        """Tokens as if the member had consented (skips the browser step)."""
        return self.world.issue_tokens(user_id, frozenset(scopes), self.config.client_id)

    def expire_access_tokens(self, user_id: int | None = None) -> None:
        """Kill live access tokens now (refresh tokens stay valid)."""
        with self.world.lock:
            for token, grant in list(self.world.access_tokens.items()):
                if user_id is None or grant.user_id == user_id:
                    del self.world.access_tokens[token]

    @property
    def token_calls(self) -> dict[str, int]:
        with self.world.lock:
            return dict(self.world.token_calls)

    # -- faults, limits, counts ----------------------------------------------------------
    def set_rate_limits(self, per_minute: int, per_day: int) -> None:
        self.limiter.configure([(per_minute, 60), (per_day, 86_400)])

    def request_count(self, last_seconds: float | None = None) -> int:
        """API requests admitted (OAuth calls and refusals excluded) in the last window."""
        return self.limiter.count(last_seconds)

    def max_requests_in_window(self, window_seconds: float) -> int:
        return self.limiter.max_in_any_window(window_seconds)

    # -- time ----------------------------------------------------------------------------
    def advance(self, delta: timedelta) -> list[Event]:
        """Move the sandbox clock; records that appear or get scored meanwhile are announced
        by webhook (when a URL is configured). Returns the events."""
        with self.world.lock:
            before = self.world.now()
            self.world.clock_offset += delta
            after = self.world.now()
        events = self._events_between(before, after)
        self._send_all(events)
        return events

    def _events_between(self, before: datetime, after: datetime) -> list[Event]:
        events: list[Event] = []

        def within(moment: datetime | None) -> bool:
            return moment is not None and before < moment <= after

        with self.world.lock:
            for member in self.world.members.values():
                if member.user_id in self.world.revoked_users:
                    continue
                for sleep in member.history.sleeps:
                    appeared = within(sleep.end + timedelta(minutes=2))
                    if appeared or within(sleep.scored_at):
                        events.append((member.user_id, "sleep.updated", sleep.id))
                        if not sleep.nap:
                            events.append((member.user_id, "recovery.updated", sleep.id))
                for workout in member.history.workouts:
                    if within(workout.end + timedelta(minutes=1)) or within(workout.scored_at):
                        events.append((member.user_id, "workout.updated", workout.id))
        return list(dict.fromkeys(events))

    def score_pending(self) -> list[Event]:
        """Score every visible record still pending now, and announce each by webhook."""
        now = self.world.now()
        events: list[Event] = []
        with self.world.lock:
            for member in self.world.members.values():
                visible = {s.id for s in self.world.sleeps(member)}
                for sleep in member.history.sleeps:
                    if sleep.id in visible and sleep.scored_at and sleep.scored_at > now:
                        sleep.scored_at = now
                        events.append((member.user_id, "sleep.updated", sleep.id))
                        if not sleep.nap:
                            events.append((member.user_id, "recovery.updated", sleep.id))
                for recovery in member.history.recoveries:
                    if (
                        recovery.sleep_id in visible
                        and recovery.scored_at
                        and recovery.scored_at > now
                    ):
                        recovery.scored_at = now
        self._send_all(events)
        return events

    def delete_sleep(self, user_id: int, sleep_id: str) -> list[Event]:
        with self.world.lock:
            self.world.members[user_id].deleted_sleeps.add(sleep_id)
        events = [(user_id, "sleep.deleted", sleep_id), (user_id, "recovery.deleted", sleep_id)]
        self._send_all(events)
        return events

    # -- webhooks ------------------------------------------------------------------------
    def webhook_request(
        self,
        user_id: int,
        event_type: str,
        record_id: str,
        *,
        trace_id: str | None = None,
        timestamp_ms: int | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """The exact body and signed headers WHOOP would send for this event."""
        body = json.dumps(
            {
                "user_id": user_id,
                "id": record_id,
                "type": event_type,
                "trace_id": trace_id or str(uuid.uuid4()),
            },
            separators=(",", ":"),
        ).encode()
        stamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
        return body, {
            SIGNATURE_HEADER: sign(stamp, body, self.config.client_secret),
            TIMESTAMP_HEADER: stamp,
        }

    async def asend_webhook(
        self,
        user_id: int,
        event_type: str,
        record_id: str,
        *,
        url: str | None = None,
        trace_id: str | None = None,
        duplicate: bool = False,
    ) -> list[Delivery]:
        """Deliver one event (twice with ``duplicate``: same trace id, as WHOOP may)."""
        target = url or self.config.webhook_url
        if not target:
            raise RuntimeError("no webhook URL configured for the WHOOP sandbox")
        trace = trace_id or str(uuid.uuid4())
        deliveries = []
        for _ in range(2 if duplicate else 1):
            body, headers = self.webhook_request(user_id, event_type, record_id, trace_id=trace)
            event = json.loads(body)
            deliveries.append(
                await self.server.arun(self.sender.deliver(target, event, body, headers))
            )
        return deliveries

    def send_webhook(
        self, user_id: int, event_type: str, record_id: str, **kwargs: Any
    ) -> list[Delivery]:
        """Blocking variant of :meth:`asend_webhook`, for synchronous callers."""
        target = kwargs.pop("url", None) or self.config.webhook_url
        if not target:
            raise RuntimeError("no webhook URL configured for the WHOOP sandbox")
        body, headers = self.webhook_request(user_id, event_type, record_id, **kwargs)
        return [self.server.run(self.sender.deliver(target, json.loads(body), body, headers))]

    @property
    def deliveries(self) -> list[Delivery]:
        return list(self.sender.deliveries)

    def _send_all(self, events: list[Event]) -> None:
        if not self.config.webhook_url or not events:
            return
        for user_id, event_type, record_id in events:
            body, headers = self.webhook_request(user_id, event_type, record_id)
            coroutine = self.sender.deliver(
                self.config.webhook_url, json.loads(body), body, headers
            )
            self.server.run(coroutine)

    # -- HTTP control (for ``somna sandbox whoop`` run as its own process) ----------------
    def _control_routes(self) -> list[Route]:
        async def state(request: Request) -> Response:
            return JSONResponse(
                {
                    "members": [self.world.render_profile(m) for m in self.members],
                    "faults": self.faults.snapshot(),
                    "requests": self.request_count(),
                    "requests_last_minute": self.request_count(60),
                    "token_calls": self.token_calls,
                    "deliveries": len(self.sender.deliveries),
                }
            )

        async def add_members(request: Request) -> Response:
            body = await _json(request)
            count = int(body.get("count", 1))
            added = [self.world.add_member() for _ in range(max(0, min(count, 500)))]
            return JSONResponse([self.world.render_profile(m) for m in added], status_code=201)

        async def tokens(request: Request) -> Response:
            user_id = int(request.path_params["user_id"])
            if user_id not in self.world.members:
                return JSONResponse({"error": "not_found"}, status_code=404)
            return JSONResponse(self.issue_tokens(user_id))

        async def faults(request: Request) -> Response:
            try:
                self.faults.update(**await _json(request))
            except (TypeError, ValueError) as exc:
                return JSONResponse({"error": "bad_request", "message": str(exc)}, status_code=400)
            return JSONResponse(self.faults.snapshot())

        async def score(request: Request) -> Response:
            events = await _in_thread(self.score_pending)
            return JSONResponse({"events": [list(e) for e in events]})

        return [
            Route("/state", state),
            Route("/members", add_members, methods=["POST"]),
            Route("/members/{user_id:int}/tokens", tokens, methods=["POST"]),
            Route("/faults", faults, methods=["PATCH"]),
            Route("/score", score, methods=["POST"]),
        ]

    def describe(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "config": asdict(self.config)}


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def _in_thread(func: Any) -> Any:
    import asyncio

    # score_pending waits on deliveries that run on this very loop: call it off-loop.
    return await asyncio.to_thread(func)
