"""The synthetic-physiology generator behind both sandboxes. Deterministic by seed.

Each person has a chronotype, a sleep need, a weekday wake time set by work and later free-day
sleep (social jetlag), a personal HRV and resting-HR baseline with day-to-day noise, a habit of
naps and workouts, and perhaps a drift into strain after some weeks: HRV falls, resting HR
rises, sleep gets shorter, later and more broken. Records are "truth"; each sandbox renders them
in its vendor's shape and decides, from its clock, which are visible and which are scored yet.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from somna.sandbox.hypnogram import NightStats, Run, as_string, night_runs, stats

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


def _local(zone: ZoneInfo, day: date, minutes: float) -> datetime:
    """Local wall time ``minutes`` after midnight of ``day`` (may spill into the next day)."""
    base = datetime.combine(day, time(0), tzinfo=zone)
    return (base + timedelta(minutes=minutes)).astimezone(UTC)


def _offset(moment: datetime, zone: ZoneInfo) -> int:
    delta = moment.astimezone(zone).utcoffset() or timedelta(0)
    return int(delta.total_seconds() // 60)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _score_delay(rng: random.Random, end: datetime, minutes_in_bed: float) -> datetime | None:
    if minutes_in_bed < 15 or rng.random() < UNSCORABLE_RATE:
        return None
    if rng.random() < LATE_SCORE_RATE:
        return end + timedelta(hours=rng.uniform(6, 40))
    return end + timedelta(minutes=rng.uniform(4, 40))


def generate(profile: Profile, *, seed: int, end_date: date, days: int) -> History:
    """``days`` nights for ``profile``, the last one waking on ``end_date`` (local)."""
    rng = random.Random(f"somna-history:{seed}:{profile.index}:{end_date.isoformat()}:{days}")
    zone = ZoneInfo(profile.zone)
    onset = profile.strain_onset_day
    if onset is not None:
        onset = max(1, days * onset // 90)  # profiles place the onset within 90 days
    sleeps: list[Sleep] = []
    recoveries: list[Recovery] = []
    workouts: list[Workout] = []
    cycle_strain: list[float] = []
    deficits: list[float] = []
    bedtimes: list[float] = []
    prev_strain = 10.0
    first_day = end_date - timedelta(days=days - 1)
    base_cycle_id = profile.user_id * 10_000
    for d in range(days):
        wake_day = first_day + timedelta(days=d)
        drift = 0.0 if onset is None or d < onset else min(1.0, (d - onset) / 28)
        workday = wake_day.weekday() < 5
        need = profile.sleep_need_min
        if workday:
            wake = rng.gauss(profile.workday_wake_min, 12)
        else:
            wake = rng.gauss(profile.free_midsleep_min + need / 2, 35)
        in_bed = rng.gauss(need + 25, 30) - drift * rng.gauss(70, 15)
        if workday:  # strain delays bedtime, but the alarm still rings
            in_bed -= drift * 40
        else:
            wake += drift * 40
        in_bed = min(720.0, max(240.0, in_bed))
        bed = wake - in_bed
        bedtimes.append(bed)
        start = _local(zone, wake_day, bed)
        end = _local(zone, wake_day, wake)
        runs = night_runs(rng, (end - start).total_seconds() / 60, strain=drift)
        night_stats = stats(runs)
        debt_min = sum(deficits[-3:]) * 0.3
        strain_need = max(0.0, prev_strain - 10) * 2.2
        recent = bedtimes[-5:-1]
        consistency = (
            100.0
            if not recent
            else max(30.0, 100 - abs(bed - sum(recent) / len(recent)) * 0.6 - rng.uniform(0, 8))
        )
        need_ms = (int(need * 60_000), int(debt_min * 60_000), int(strain_need * 60_000), 0)
        sleep = Sleep(
            id=_uuid(rng),
            v1_id=base_cycle_id + d * 10,
            cycle_id=base_cycle_id + d,
            start=start,
            end=end,
            offset_minutes=_offset(start, zone),
            nap=False,
            runs=runs,
            respiratory_rate=round(rng.gauss(profile.base_resp_rate + drift * 0.6, 0.35), 2),
            need_ms=need_ms,
            consistency=round(consistency, 1),
            scored_at=_score_delay(rng, end, in_bed),
            snoring_rate=min(0.6, max(0.0, rng.gauss(0.08, 0.06))),
        )
        sleeps.append(sleep)
        deficits.append(max(0.0, need - night_stats.asleep / 60))
        # Morning readings: HRV and RHR against the person's baseline, worse under strain
        # and after a hard day.
        ln_hrv = (
            profile.base_ln_hrv - 0.28 * drift - 0.012 * (prev_strain - 10) + rng.gauss(0, 0.13)
        )
        rhr = profile.base_rhr + 6.5 * drift + 0.15 * (prev_strain - 10) + rng.gauss(0, 1.6)
        performance = min(1.0, night_stats.asleep / 60 / (need + debt_min + strain_need))
        z = (ln_hrv - profile.base_ln_hrv) / 0.15 - (rhr - profile.base_rhr) / 3.0
        score = 55 + 11 * z + 30 * (performance - 0.85)
        recoveries.append(
            Recovery(
                cycle_id=base_cycle_id + d,
                sleep_id=sleep.id,
                created_at=sleep.scored_at or end + timedelta(minutes=10),
                score=round(min(99.0, max(1.0, score)), 0),
                hrv_ms=round(math.exp(ln_hrv), 6),
                rhr=round(rhr, 0),
                spo2=round(rng.uniform(94.5, 98.6), 4),
                skin_temp=round(rng.gauss(33.9 + 0.3 * drift, 0.25), 4),
                calibrating=d < 4,
                scored_at=sleep.scored_at,
            )
        )
        day_strain = rng.uniform(4.0, 9.0) + 2.0 * drift
        if rng.random() < profile.workout_rate * (1 - 0.4 * drift):
            workout = _workout(rng, profile, zone, wake_day, base_cycle_id + d * 10 + 1)
            workouts.append(workout)
            day_strain += workout.strain * 0.55
        if rng.random() < profile.nap_rate * (1.6 if not workday else 1.0):
            nap = _nap(rng, zone, wake_day, profile, base_cycle_id + d * 10 + 2)
            nap.cycle_id = base_cycle_id + d
            sleeps.append(nap)
        prev_strain = min(21.0, day_strain)
        cycle_strain.append(prev_strain)
    cycles = _cycles(rng, profile, sleeps, cycle_strain, base_cycle_id)
    return History(profile, sleeps, cycles, recoveries, workouts)


def _nap(rng: random.Random, zone: ZoneInfo, day: date, profile: Profile, v1: int) -> Sleep:
    minutes = rng.uniform(12, 50)
    start = _local(zone, day, rng.uniform(13 * 60, 16 * 60 + 30))
    end = start + timedelta(minutes=minutes)
    return Sleep(
        id=_uuid(rng),
        v1_id=v1,
        cycle_id=0,
        start=start,
        end=end,
        offset_minutes=_offset(start, zone),
        nap=True,
        runs=night_runs(rng, minutes, nap=True),
        respiratory_rate=round(rng.gauss(profile.base_resp_rate, 0.4), 2),
        need_ms=(0, 0, 0, 0),
        consistency=0.0,
        scored_at=_score_delay(rng, end, minutes),
        snoring_rate=0.0,
    )


def _workout(rng: random.Random, profile: Profile, zone: ZoneInfo, day: date, v1: int) -> Workout:
    sport_id, sport = SPORTS[rng.randrange(len(SPORTS))]
    minutes = rng.uniform(25, 95)
    start = _local(zone, day, rng.choice((7 * 60, 12 * 60 + 15, 18 * 60)) + rng.uniform(-30, 60))
    end = start + timedelta(minutes=minutes)
    intensity = rng.uniform(0.45, 0.85)
    strain = round(min(21.0, 4 + intensity * 10 + minutes / 30), 4)
    avg_hr = int(profile.base_rhr + intensity * (profile.max_hr - profile.base_rhr) * 0.8)
    total_ms = int(minutes * 60_000)
    weights = [0.05, 0.15, 0.3 * (1.2 - intensity), 0.25, 0.2 * intensity, 0.08 * intensity]
    scale = sum(weights)
    zones = [int(total_ms * w / scale) for w in weights]
    zones[0] += total_ms - sum(zones)
    moving = sport in ("running", "cycling", "walking", "hiking", "swimming")
    speed = {"running": 2.9, "cycling": 7.0, "walking": 1.4, "hiking": 1.2, "swimming": 0.8}
    return Workout(
        id=_uuid(rng),
        v1_id=v1,
        start=start,
        end=end,
        offset_minutes=_offset(start, zone),
        sport_id=sport_id,
        sport_name=sport,
        strain=strain,
        avg_hr=avg_hr,
        max_hr=min(profile.max_hr, avg_hr + rng.randint(15, 35)),
        kilojoule=round(minutes * (25 + 40 * intensity), 3),
        distance_m=round(speed.get(sport, 0) * minutes * 60 * rng.uniform(0.85, 1.1), 2)
        if moving
        else None,
        altitude_gain_m=round(rng.uniform(0, 120), 1) if moving else None,
        zones_ms=(zones[0], zones[1], zones[2], zones[3], zones[4], zones[5]),
        scored_at=end + timedelta(minutes=rng.uniform(2, 20)),
    )


def _cycles(
    rng: random.Random,
    profile: Profile,
    sleeps: list[Sleep],
    strains: list[float],
    base_id: int,
) -> list[Cycle]:
    """One cycle per night, from sleep onset to the next onset; the last one is open."""
    nights = [s for s in sleeps if not s.nap]
    cycles = []
    for d, night in enumerate(nights):
        following = nights[d + 1].start if d + 1 < len(nights) else None
        strain = round(strains[d], 4)
        cycles.append(
            Cycle(
                id=base_id + d,
                start=night.start,
                end=following,
                offset_minutes=night.offset_minutes,
                strain=strain,
                kilojoule=round(rng.gauss(7200 + 380 * strain, 500), 3),
                avg_hr=int(profile.base_rhr + 10 + 0.9 * strain + rng.gauss(0, 2)),
                max_hr=min(profile.max_hr, int(110 + 3.6 * strain + rng.gauss(0, 6))),
            )
        )
    return cycles
