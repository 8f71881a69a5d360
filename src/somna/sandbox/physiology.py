"""The synthetic-physiology generator behind both sandboxes. Deterministic by seed.

Each person has a chronotype, a sleep need, a weekday wake time set by work and later free-day
sleep (social jetlag), a personal HRV and resting-HR baseline with day-to-day noise, a habit of
naps and workouts, and perhaps a drift into strain after some weeks: HRV falls, resting HR
rises, sleep gets shorter, later and more broken. Records are "truth"; each sandbox renders them
in its vendor's shape and decides, from its clock, which are visible and which are scored yet.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from somna.sandbox.hypnogram import NightStats, Run, as_string, stats

ZONES = (
    "America/New_York",
    "Europe/London",
    "America/Los_Angeles",
    "Europe/Berlin",
    "Asia/Seoul",
    "America/Chicago",
    "Australia/Sydney",
    "UTC",
)
FIRST_NAMES = (
    "Ada",
    "Ben",
    "Chloé",
    "Dev",
    "Eun-ji",
    "Felix",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Liam",
    "Maya",
    "Noor",
    "Olek",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tomás",
    "Uma",
    "Vik",
    "Wen",
    "Yara",
)
LAST_NAMES = (
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Patel",
    "Kim",
    "Novak",
    "Haddad",
    "Tanaka",
    "García",
    "Schmidt",
    "Nowak",
    "Rossi",
)
SPORTS = (
    (0, "running"),
    (1, "cycling"),
    (45, "weightlifting"),
    (44, "yoga"),
    (48, "functional-fitness"),
    (63, "walking"),
    (33, "swimming"),
    (52, "hiking"),
)
# Share of records WHOOP scores late (the strap synced hours later) and never.
LATE_SCORE_RATE = 0.06
UNSCORABLE_RATE = 0.01


@dataclass(frozen=True, slots=True)
class Profile:
    index: int
    user_id: int
    email: str
    first_name: str
    last_name: str
    zone: str
    height_m: float
    weight_kg: float
    max_hr: int
    sleep_need_min: float
    workday_wake_min: float  # minutes after local midnight
    free_midsleep_min: float  # chronotype: mid-sleep on free days, minutes after midnight
    base_ln_hrv: float
    base_rhr: float
    base_resp_rate: float
    nap_rate: float
    workout_rate: float
    strain_onset_day: int | None


@dataclass
class Sleep:
    id: str
    v1_id: int
    cycle_id: int
    start: datetime
    end: datetime
    offset_minutes: int
    nap: bool
    runs: list[Run] = field(repr=False)
    respiratory_rate: float
    need_ms: tuple[int, int, int, int]  # baseline, debt, strain, nap
    consistency: float
    scored_at: datetime | None
    snoring_rate: float

    @cached_property
    def stats(self) -> NightStats:
        return stats(self.runs)

    @property
    def hypnogram(self) -> str:
        return as_string(self.runs)


@dataclass(slots=True)
class Recovery:
    cycle_id: int
    sleep_id: str
    created_at: datetime
    score: float
    hrv_ms: float
    rhr: float
    spo2: float
    skin_temp: float
    calibrating: bool
    scored_at: datetime | None


@dataclass(slots=True)
class Workout:
    id: str
    v1_id: int
    start: datetime
    end: datetime
    offset_minutes: int
    sport_id: int
    sport_name: str
    strain: float
    avg_hr: int
    max_hr: int
    kilojoule: float
    distance_m: float | None
    altitude_gain_m: float | None
    zones_ms: tuple[int, int, int, int, int, int]
    scored_at: datetime | None


@dataclass(slots=True)
class Cycle:
    id: int
    start: datetime
    end: datetime | None
    offset_minutes: int
    strain: float
    kilojoule: float
    avg_hr: int
    max_hr: int


@dataclass(slots=True)
class History:
    profile: Profile
    sleeps: list[Sleep]
    cycles: list[Cycle]
    recoveries: list[Recovery]
    workouts: list[Workout]


def make_profile(seed: int, index: int) -> Profile:
    rng = random.Random(f"somna-profile:{seed}:{index}")
    first = FIRST_NAMES[index % len(FIRST_NAMES)]
    last = LAST_NAMES[rng.randrange(len(LAST_NAMES))]
    height = round(rng.uniform(1.55, 1.95), 2)
    days = 90
    drifts = rng.random() < 0.3
    return Profile(
        index=index,
        user_id=10_000 + seed % 1000 * 1000 + index,
        email=f"{first.lower().replace('é', 'e').replace('-', '')}.{index}@sandbox.example",
        first_name=first,
        last_name=last,
        zone=ZONES[index % len(ZONES)],
        height_m=height,
        weight_kg=round(rng.uniform(19.5, 29.0) * height * height, 1),
        max_hr=rng.randint(172, 198),
        sleep_need_min=rng.gauss(465, 25),
        workday_wake_min=rng.gauss(400, 25),
        free_midsleep_min=rng.gauss(270, 50),
        base_ln_hrv=rng.gauss(3.85, 0.3),
        base_rhr=rng.gauss(57, 5),
        base_resp_rate=rng.gauss(14.8, 1.0),
        nap_rate=rng.choice((0.0, 0.04, 0.1, 0.2)),
        workout_rate=rng.uniform(0.25, 0.7),
        strain_onset_day=rng.randint(days // 4, days // 2) if drifts else None,
    )
