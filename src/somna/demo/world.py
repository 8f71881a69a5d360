"""The demo's outside world: both provider sandboxes on free loopback ports, at a demo-sized
rate limit, holding the cast's accounts, and the Somna settings that point at them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from somna.config import Settings
from somna.demo.cast import DEMO_SEED, DemoPerson
from somna.sandbox import AsleepConfig, AsleepSandbox, WhoopConfig, WhoopSandbox

# Generous: a run needs about a thousand requests; each run starts a fresh sandbox.
DAILY_LIMIT = 100_000
# Asleep publishes no limit, and it costs a request per night (the list has no stages): its
# sandbox allows this many times the WHOOP rate, so the two finish at about the same time.
ASLEEP_RATE_FACTOR = 4


@dataclass
class DemoWorld:
    """Started with :meth:`start`; stopped (idempotently) with :meth:`stop`."""

    people: list[DemoPerson]
    days: int
    requests_per_minute: int
    seed: int = DEMO_SEED
    whoop: WhoopSandbox = field(init=False)
    asleep: AsleepSandbox = field(init=False)
    asleep_user_ids: dict[int, str] = field(default_factory=dict)  # cast index -> Asleep id
    _running: list[WhoopSandbox | AsleepSandbox] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.whoop = WhoopSandbox(
            WhoopConfig(
                seed=self.seed,
                days=self.days,
                per_minute=self.requests_per_minute,
                per_day=DAILY_LIMIT,
            )
        )
        self.asleep = AsleepSandbox(
            AsleepConfig(seed=self.seed, days=self.days, per_minute=self.asleep_per_minute)
        )
        for person in self.people:
            if person.provider == "whoop":
                self.whoop.add_person(person.index)
        # Asleep numbers its users in order, and the profile follows the number: everyone
        # gets a user so the numbers line up with the cast; only Asleep people get nights.
        for person in self.people:
            days = self.days if person.provider == "asleep" else 0
            user = self.asleep.add_person({"name": person.name}, days=days)
            if person.provider == "asleep":
                self.asleep_user_ids[person.index] = user.user_id

    @property
    def asleep_per_minute(self) -> int:
        return self.requests_per_minute * ASLEEP_RATE_FACTOR

    def whoop_user_id(self, person: DemoPerson) -> int:
        """The WHOOP member id of a cast member (it follows from the seed and the index)."""
        member = self.whoop.add_person(person.index)  # returns the existing member
        return member.user_id

    def start(self) -> DemoWorld:
        for sandbox in (self.whoop, self.asleep):
            try:
                sandbox.start()
            except BaseException:
                self.stop()
                raise
            self._running.append(sandbox)
        return self

    def stop(self) -> None:
        while self._running:
            self._running.pop().stop()

    def point_webhooks_at(self, base_url: str) -> None:
        """Deliver the sandboxes' webhooks to the Somna served at ``base_url``."""
        self.whoop.config.webhook_url = f"{base_url}/api/v1/webhooks/whoop"
        self.asleep.config.webhook_url = f"{base_url}/api/v1/webhooks/asleep"

    def settings_for(self, base: Settings, **overrides: Any) -> Settings:
        """``base`` pointed at the sandboxes, with Somna's budget matching their limits."""
        values: dict[str, Any] = {
            **self.whoop.settings_overrides(),
            **self.asleep.settings_overrides(),
            "whoop_requests_per_minute": self.requests_per_minute,
            "whoop_requests_per_day": DAILY_LIMIT,
            "asleep_requests_per_minute": self.asleep_per_minute,
            "sync_backfill_days": self.days,
            **overrides,
        }
        return base.model_copy(update=values)
