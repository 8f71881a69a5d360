"""The Asleep sandbox's world: users, their sessions from the generator, and how a session
looks (state, peculiarities, stages, stat) at the sandbox's current time, in a given zone."""

from __future__ import annotations

import hashlib
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from somna.sandbox.asleep import stats as statmod
from somna.sandbox.history import generate
from somna.sandbox.physiology import Sleep, make_profile

ALPHANUM = string.ascii_lowercase + string.digits
TOO_SHORT = timedelta(minutes=20)


def _pick(seed: str, length: int, alphabet: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


def session_id_for(sleep: Sleep) -> str:
    """Asleep's shape: the UTC start, then ``_`` and five lowercase letters or digits."""
    return f"{sleep.start:%Y%m%d%H%M%S}_{_pick(sleep.id, 5, ALPHANUM)}"


def local_text(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return None if moment is None else moment.astimezone(zone).isoformat(timespec="seconds")


@dataclass
class AsleepUser:
    user_id: str
    index: int
    created_at: datetime
    metadata: dict[str, Any] | None
    sessions: dict[str, Sleep] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)


@dataclass
class AsleepConfig:
    api_keys: tuple[str, ...] = ("sandbox-asleep-key",)
    seed: int = 1
    days: int = 90  # history generated for each new user
    end_date: date | None = None
    per_minute: int | None = None  # pace limit, answered 403 "Rate limit exceeded"
    daily_quota: int | None = None  # answered 403 "Quota exceeded"
    emit_unknown_epochs: bool = False  # sprinkle -1 (no data) into sleep_stages
    webhook_url: str | None = None


class AsleepWorld:
    def __init__(self, config: AsleepConfig, clock: Callable[[], datetime]) -> None:
        self.config = config
        self._clock = clock
        self.frozen_at: datetime | None = None
        self.clock_offset = timedelta(0)
        self.lock = threading.RLock()
        self.users: dict[str, AsleepUser] = {}
        self._next_index = 0

    def now(self) -> datetime:
        return (self.frozen_at or self._clock()) + self.clock_offset

    def add_user(
        self, metadata: dict[str, Any] | None = None, *, days: int | None = None
    ) -> AsleepUser:
        with self.lock:
            index = self._next_index
            self._next_index += 1
            now = self.now()
            user_id = (
                f"G-{now:%Y%m%d%H%M%S}-"
                f"{_pick(f'{self.config.seed}:{index}', 20, string.ascii_letters)}"
            )
            user = AsleepUser(user_id, index, now, metadata)
            history_days = self.config.days if days is None else days
            if history_days > 0:
                profile = make_profile(self.config.seed, index)
                end = self.config.end_date or now.date()
                history = generate(profile, seed=self.config.seed, end_date=end, days=history_days)
                user.sessions = {session_id_for(s): s for s in history.sleeps}
            self.users[user_id] = user
            return user

    def visible(self, user: AsleepUser) -> list[tuple[str, Sleep]]:
        """Sessions that have started by now, oldest first."""
        now = self.now()
        items = [
            (sid, s)
            for sid, s in user.sessions.items()
            if s.start <= now and sid not in user.deleted
        ]
        return sorted(items, key=lambda item: item[1].start)

    def state_of(self, sleep: Sleep) -> str:
        now = self.now()
        if now < sleep.end:
            return "OPEN"
        done = sleep.scored_at or sleep.end + timedelta(minutes=3)
        return "COMPLETE" if now >= done else "CLOSED"

    def codes(self, sleep: Sleep) -> list[int]:
        codes = statmod.codes_of(sleep.runs)
        if self.config.emit_unknown_epochs:
            salt = int(_pick(sleep.id, 2, string.digits) or "0")
            for i in range(salt % 50 + 40, len(codes), 173):
                codes[i] = -1
        return codes

    def render_session(self, sleep: Sleep, session_id: str, zone: ZoneInfo) -> dict[str, Any]:
        state = self.state_of(sleep)
        codes = self.codes(sleep)
        snoring = statmod.snoring_of(codes, sleep.snoring_rate, len(codes))
        peculiarities = ["NO_BREATHING_STABILITY"]
        stat: dict[str, Any] | None = None
        if state == "OPEN":
            # Real-time analysis: the stages analysed so far.
            done = int((self.now() - sleep.start).total_seconds() // 30)
            codes, snoring = codes[:done], snoring[:done]
            peculiarities.insert(0, "IN_PROGRESS")
        elif state == "CLOSED":
            peculiarities.insert(0, "IN_PROGRESS")
        elif sleep.end - sleep.start < TOO_SHORT:
            peculiarities.insert(0, "TOO_SHORT_FOR_ANALYSIS")
        elif sleep.scored_at is None:
            peculiarities.insert(0, "TOO_MANY_DEFECTS_IN_SLEEP_STAGES")
        elif not any(c in (1, 2, 3) for c in codes):
            peculiarities.insert(0, "NEVER_SLEPT")
        else:
            raw = statmod.compute(codes, snoring, sleep.start, sleep.runs)
            stat = {
                key: local_text(value, zone) if isinstance(value, datetime) else value
                for key, value in raw.items()
            }
            stat["sleep_cycle_time"] = [local_text(t, zone) for t in raw["sleep_cycle_time"]]
        missing = sum(1 for c in codes if c == -1) / max(1, len(codes))
        return {
            "timezone": zone.key,
            "peculiarities": peculiarities,
            "missing_data_ratio": round(missing, 4),
            "session": {
                "id": session_id,
                "state": state,
                "start_time": local_text(sleep.start, zone),
                "end_time": None if state == "OPEN" else local_text(sleep.end, zone),
                "unexpected_end_time": None,
                "created_timezone": zone.key,
                "sleep_stages": codes,
                "breath_stages": None,
                "snoring_stages": snoring,
            },
            "stat": stat,
        }

    def list_item(self, sleep: Sleep, session_id: str, zone: ZoneInfo) -> dict[str, Any]:
        state = self.state_of(sleep)
        seconds = int(
            ((sleep.end if state != "OPEN" else self.now()) - sleep.start).total_seconds()
        )
        return {
            "session_id": session_id,
            "state": state,
            "session_start_time": local_text(sleep.start, zone),
            "session_end_time": None if state == "OPEN" else local_text(sleep.end, zone),
            "created_timezone": zone.key,
            "unexpected_end_time": None,
            "last_received_seq_num": seconds // 30,
            "time_in_bed": seconds,
        }

    def last_session_info(self, user: AsleepUser) -> dict[str, Any] | None:
        visible = self.visible(user)
        if not visible:
            return None
        session_id, sleep = visible[-1]
        state = self.state_of(sleep)
        naive = "%Y-%m-%dT%H:%M:%S"
        return {
            "session_id": session_id,
            "inference_type": "MELSPECTROGRAM",
            "service": "NOSERVICE",
            "start_time": sleep.start.strftime(naive),
            "end_time": None if state == "OPEN" else sleep.end.strftime(naive),
            "state": state,
            "complete_time": (sleep.scored_at or sleep.end).strftime(naive)
            if state == "COMPLETE"
            else None,
        }
