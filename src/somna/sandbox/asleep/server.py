"""The Asleep sandbox handle: start it on a free port, add users, steer faults, send webhooks."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from somna.kit.time import utc_now
from somna.sandbox.asleep.app import AsleepApp
from somna.sandbox.asleep.state import AsleepConfig, AsleepUser, AsleepWorld
from somna.sandbox.faults import FaultPlan
from somna.sandbox.handle import SandboxHandle
from somna.sandbox.ratelimit import SlidingWindowLimiter
from somna.sandbox.runner import ThreadedServer
from somna.sandbox.webhooks import Delivery, WebhookSender


class AsleepSandbox(SandboxHandle[AsleepWorld]):
    """A faithful Asleep API emulator over real HTTP; ``base_url`` → ``SOMNA_ASLEEP_API_BASE``."""

    def __init__(
        self,
        config: AsleepConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        people: int = 0,
    ) -> None:
        self.config = config or AsleepConfig()
        self.world = AsleepWorld(self.config, utc_now)
        self.faults = FaultPlan(self.config.seed)
        self.pace = (
            SlidingWindowLimiter([(self.config.per_minute, 60)], time.monotonic)
            if self.config.per_minute
            else None
        )
        self.quota = (
            SlidingWindowLimiter([(self.config.daily_quota, 86_400)], time.monotonic)
            if self.config.daily_quota
            else None
        )
        self.sender = WebhookSender()
        self.app = AsleepApp(self.world, self.faults, self.pace, self.quota).app
        self.server = ThreadedServer(self.app, host=host, port=port)
        for _ in range(people):
            self.world.add_user()

    @property
    def api_key(self) -> str:
        return self.config.api_keys[0]

    def settings_overrides(self) -> dict[str, Any]:
        return {"asleep_api_base": self.base_url, "asleep_api_key": SecretStr(self.api_key)}

    def add_person(
        self, metadata: dict[str, Any] | None = None, *, days: int | None = None
    ) -> AsleepUser:
        return self.world.add_user(metadata, days=days)

    @property
    def users(self) -> list[AsleepUser]:
        with self.world.lock:
            return list(self.world.users.values())

    def request_count(self, last_seconds: float | None = None) -> int:
        """Requests admitted by the pace limiter (needs ``per_minute``; else 0)."""
        return self.pace.count(last_seconds) if self.pace else 0

    def advance(self, delta: timedelta) -> None:
        with self.world.lock:
            self.world.clock_offset += delta

    def session_complete_request(
        self, user_id: str, session_id: str, *, timezone: str = "UTC"
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers of Asleep's SESSION_COMPLETE callback for this session."""
        user = self.world.users[user_id]
        sleep = dict(self.world.visible(user))[session_id]
        result = self.world.render_session(sleep, session_id, ZoneInfo(timezone))
        data = {"user_id": user_id, "session_id": session_id, **result}
        body = json.dumps({"event": "SESSION_COMPLETE", "version": "V3", "data": data}).encode()
        return body, {"x-api-key": self.api_key, "x-user-id": user_id}

    async def asend_session_complete(
        self, user_id: str, session_id: str, *, url: str | None = None
    ) -> Delivery:
        target = url or self.config.webhook_url
        if not target:
            raise RuntimeError("no webhook URL configured for the Asleep sandbox")
        body, headers = self.session_complete_request(user_id, session_id)
        return await self.server.arun(self.sender.deliver(target, json.loads(body), body, headers))
