"""The WHOOP sandbox's world: members and their generated histories, OAuth codes and tokens,
and how records look (in WHOOP v2's exact shape) at the sandbox's current time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from somna.kit.crypto import random_token
from somna.sandbox.history import generate
from somna.sandbox.physiology import (
    Cycle,
    History,
    Profile,
    Recovery,
    Sleep,
    Workout,
    make_profile,
)

KNOWN_SCOPES = frozenset(
    {
        "offline",
        "read:recovery",
        "read:cycles",
        "read:workout",
        "read:sleep",
        "read:profile",
        "read:body_measurement",
    }
)
CODE_TTL = timedelta(minutes=10)


def ts(moment: datetime) -> str:
    """WHOOP's timestamp form: UTC, milliseconds, Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def offset_text(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"


@dataclass
class Member:
    profile: Profile
    history: History
    deleted_sleeps: set[str] = field(default_factory=set)
    deleted_workouts: set[str] = field(default_factory=set)

    @property
    def user_id(self) -> int:
        return self.profile.user_id


@dataclass
class Grant:
    user_id: int
    scopes: frozenset[str]
    client_id: str
    redirect_uri: str = ""
    expires_at: datetime | None = None
    uses: int = 0
    used: bool = False


@dataclass
class WhoopConfig:
    client_id: str = "sandbox-client"
    client_secret: str = "sandbox-secret"
    redirect_uris: tuple[str, ...] = ()  # empty: any http(s) URI is accepted
    seed: int = 1
    days: int = 90
    end_date: date | None = None  # default: today at the sandbox clock
    access_token_ttl: int = 3600
    per_minute: int = 100
    per_day: int = 10_000
    webhook_url: str | None = None


class WhoopWorld:
    """All mutable sandbox state, behind one lock (the server thread and tests share it)."""

    def __init__(self, config: WhoopConfig, clock: Callable[[], datetime]) -> None:
        self.config = config
        self._clock = clock
        self.clock_offset = timedelta(0)
        self.frozen_at: datetime | None = None
        self.lock = threading.RLock()
        self.members: dict[int, Member] = {}
        self.codes: dict[str, Grant] = {}
        self.access_tokens: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, Grant] = {}
        self.revoked_users: set[int] = set()
        self.login_queue: list[int] = []
        self.token_calls: dict[str, int] = {"authorization_code": 0, "refresh_token": 0}
        self._next_index = 0

    # -- time --------------------------------------------------------------------------
    def now(self) -> datetime:
        base = self.frozen_at if self.frozen_at is not None else self._clock()
        return base + self.clock_offset

    # -- members -----------------------------------------------------------------------
    def add_member(self, index: int | None = None) -> Member:
        with self.lock:
            if index is None:
                index = self._next_index
            self._next_index = max(self._next_index, index + 1)
            profile = make_profile(self.config.seed, index)
            existing = self.members.get(profile.user_id)
            if existing is not None:
                return existing
            end = self.config.end_date or self.now().date()
            history = generate(profile, seed=self.config.seed, end_date=end, days=self.config.days)
            member = Member(profile, history)
            self.members[profile.user_id] = member
            return member

    def find_member(self, hint: str) -> Member | None:
        with self.lock:
            for member in self.members.values():
                if hint in (str(member.user_id), member.profile.email):
                    return member
            return None

    # -- OAuth -------------------------------------------------------------------------
    def issue_code(self, grant: Grant) -> str:
        code = random_token(24)
        with self.lock:
            grant.expires_at = self.now() + CODE_TTL
            self.codes[code] = grant
        return code

    def issue_tokens(self, user_id: int, scopes: frozenset[str], client_id: str) -> dict[str, Any]:
        """A new access token (and a refresh token if ``offline`` was granted)."""
        with self.lock:
            access = random_token(32)
            grant = Grant(
                user_id,
                scopes,
                client_id,
                expires_at=self.now() + timedelta(seconds=self.config.access_token_ttl),
            )
            self.access_tokens[access] = grant
            body: dict[str, Any] = {
                "access_token": access,
                "expires_in": self.config.access_token_ttl,
                "scope": " ".join(sorted(scopes)),
                "token_type": "bearer",
            }
            if "offline" in scopes:
                refresh = random_token(32)
                self.refresh_tokens[refresh] = Grant(user_id, scopes, client_id)
                body["refresh_token"] = refresh
            self.revoked_users.discard(user_id)
            return body

    def rotate(self, refresh_token: str, client_id: str) -> dict[str, Any] | None:
        """Use a refresh token once: the old pair dies, a new pair is issued."""
        with self.lock:
            grant = self.refresh_tokens.pop(refresh_token, None)
            if grant is None or grant.client_id != client_id:
                return None
            for token, access in list(self.access_tokens.items()):
                if access.user_id == grant.user_id and access.client_id == client_id:
                    del self.access_tokens[token]
            return self.issue_tokens(grant.user_id, grant.scopes, client_id)

    def revoke_user(self, user_id: int) -> None:
        with self.lock:
            for table in (self.access_tokens, self.refresh_tokens):
                for token, grant in list(table.items()):
                    if grant.user_id == user_id:
                        del table[token]
            self.revoked_users.add(user_id)

    # -- visible records ---------------------------------------------------------------
    def sleeps(self, member: Member) -> list[Sleep]:
        now = self.now()
        return [
            s
            for s in member.history.sleeps
            if s.end + timedelta(minutes=2) <= now and s.id not in member.deleted_sleeps
        ]

    def cycles(self, member: Member) -> list[Cycle]:
        now = self.now()
        return [c for c in member.history.cycles if c.start <= now]

    def recoveries(self, member: Member) -> list[tuple[Recovery, Sleep]]:
        by_id = {s.id: s for s in self.sleeps(member)}
        return [(r, by_id[r.sleep_id]) for r in member.history.recoveries if r.sleep_id in by_id]

    def workouts(self, member: Member) -> list[Workout]:
        now = self.now()
        return [
            w
            for w in member.history.workouts
            if w.end <= now and w.id not in member.deleted_workouts
        ]

    # -- rendering ---------------------------------------------------------------------
    def _state(self, scored_at: datetime | None) -> tuple[str, datetime | None]:
        if scored_at is None:
            return "UNSCORABLE", None
        if scored_at <= self.now():
            return "SCORED", scored_at
        return "PENDING_SCORE", None

    def render_sleep(self, member: Member, sleep: Sleep) -> dict[str, Any]:
        state, scored = self._state(sleep.scored_at)
        created = sleep.end + timedelta(minutes=2)
        body: dict[str, Any] = {
            "id": sleep.id,
            "cycle_id": sleep.cycle_id,
            "user_id": member.user_id,
            "created_at": ts(created),
            "updated_at": ts(scored or created),
            "start": ts(sleep.start),
            "end": ts(sleep.end),
            "timezone_offset": offset_text(sleep.offset_minutes),
            "nap": sleep.nap,
            "score_state": state,
        }
        if state == "SCORED":
            st = sleep.stats
            need = sum(sleep.need_ms)
            score: dict[str, Any] = {
                "stage_summary": {
                    "total_in_bed_time_milli": st.in_bed * 1000,
                    "total_awake_time_milli": st.awake * 1000,
                    "total_no_data_time_milli": st.unknown * 1000,
                    "total_light_sleep_time_milli": st.light * 1000,
                    "total_slow_wave_sleep_time_milli": st.deep * 1000,
                    "total_rem_sleep_time_milli": st.rem * 1000,
                    "sleep_cycle_count": st.cycles,
                    "disturbance_count": st.disturbances,
                },
                "sleep_needed": {
                    "baseline_milli": sleep.need_ms[0],
                    "need_from_sleep_debt_milli": sleep.need_ms[1],
                    "need_from_recent_strain_milli": sleep.need_ms[2],
                    "need_from_recent_nap_milli": sleep.need_ms[3],
                },
                "respiratory_rate": sleep.respiratory_rate,
                "sleep_efficiency_percentage": round(100 * st.asleep / max(1, st.in_bed), 8),
            }
            if not sleep.nap and need > 0:
                performance = min(100.0, 100 * st.asleep * 1000 / need)
                score["sleep_performance_percentage"] = round(performance, 0)
                score["sleep_consistency_percentage"] = round(sleep.consistency, 0)
            body["score"] = score
        return body

    def render_recovery(self, member: Member, recovery: Recovery) -> dict[str, Any]:
        state, scored = self._state(recovery.scored_at)
        body: dict[str, Any] = {
            "cycle_id": recovery.cycle_id,
            "sleep_id": recovery.sleep_id,
            "user_id": member.user_id,
            "created_at": ts(recovery.created_at),
            "updated_at": ts(scored or recovery.created_at),
            "score_state": state,
        }
        if state == "SCORED":
            body["score"] = {
                "user_calibrating": recovery.calibrating,
                "recovery_score": recovery.score,
                "resting_heart_rate": recovery.rhr,
                "hrv_rmssd_milli": recovery.hrv_ms,
                "spo2_percentage": recovery.spo2,
                "skin_temp_celsius": recovery.skin_temp,
            }
        return body

    def render_cycle(self, member: Member, cycle: Cycle) -> dict[str, Any]:
        now = self.now()
        closed = cycle.end is not None and cycle.end <= now
        created = cycle.start + timedelta(minutes=1)
        body: dict[str, Any] = {
            "id": cycle.id,
            "user_id": member.user_id,
            "created_at": ts(created),
            "updated_at": ts(cycle.end if closed and cycle.end else created),
            "start": ts(cycle.start),
            "timezone_offset": offset_text(cycle.offset_minutes),
            "score_state": "SCORED" if closed else "PENDING_SCORE",
        }
        if closed and cycle.end is not None:
            body["end"] = ts(cycle.end)
            body["score"] = {
                "strain": cycle.strain,
                "kilojoule": cycle.kilojoule,
                "average_heart_rate": cycle.avg_hr,
                "max_heart_rate": cycle.max_hr,
            }
        return body

    def render_workout(self, member: Member, workout: Workout) -> dict[str, Any]:
        state, scored = self._state(workout.scored_at)
        created = workout.end + timedelta(minutes=1)
        body: dict[str, Any] = {
            "id": workout.id,
            "user_id": member.user_id,
            "created_at": ts(created),
            "updated_at": ts(scored or created),
            "start": ts(workout.start),
            "end": ts(workout.end),
            "timezone_offset": offset_text(workout.offset_minutes),
            "sport_name": workout.sport_name,
            "score_state": state,
        }
        if state == "SCORED":
            names = ("zero", "one", "two", "three", "four", "five")
            score: dict[str, Any] = {
                "strain": workout.strain,
                "average_heart_rate": workout.avg_hr,
                "max_heart_rate": workout.max_hr,
                "kilojoule": workout.kilojoule,
                "percent_recorded": 100.0,
                "zone_durations": {
                    f"zone_{name}_milli": ms
                    for name, ms in zip(names, workout.zones_ms, strict=True)
                },
            }
            if workout.distance_m is not None:
                score["distance_meter"] = workout.distance_m
                score["altitude_gain_meter"] = workout.altitude_gain_m
                score["altitude_change_meter"] = 0.0
            body["score"] = score
        return body

    @staticmethod
    def render_profile(member: Member) -> dict[str, Any]:
        p = member.profile
        return {
            "user_id": p.user_id,
            "email": p.email,
            "first_name": p.first_name,
            "last_name": p.last_name,
        }

    @staticmethod
    def render_body(member: Member) -> dict[str, Any]:
        p = member.profile
        return {
            "height_meter": p.height_m,
            "weight_kilogram": p.weight_kg,
            "max_heart_rate": p.max_hr,
        }
