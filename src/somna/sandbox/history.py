"""A person's synthetic history, night by night: sleep, the morning's recovery, the day's
workouts and naps, and the cycles between sleep onsets. Deterministic by seed: every draw comes
from one random stream in a fixed order, so the same seed gives the same history."""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from somna.sandbox.hypnogram import NightStats, night_runs, stats
from somna.sandbox.physiology import (
    LATE_SCORE_RATE,
    SPORTS,
    UNSCORABLE_RATE,
    Cycle,
    History,
    Profile,
    Recovery,
    Sleep,
    Workout,
)


def generate(profile: Profile, *, seed: int, end_date: date, days: int) -> History:
    """``days`` nights for ``profile``, the last one waking on ``end_date`` (local)."""
    rng = random.Random(f"somna-history:{seed}:{profile.index}:{end_date.isoformat()}:{days}")
    onset = profile.strain_onset_day
    if onset is not None:
        onset = max(1, days * onset // 90)  # profiles place the onset within 90 days
    walk = _Walk(profile, rng, ZoneInfo(profile.zone), onset)
    first_day = end_date - timedelta(days=days - 1)
    for d in range(days):
        walk.live_day(d, first_day + timedelta(days=d))
    cycles = _cycles(rng, profile, walk.sleeps, walk.cycle_strain, walk.base_cycle_id)
    return History(profile, walk.sleeps, cycles, walk.recoveries, walk.workouts)


@dataclass
class _Walk:
    """What one day's generation needs from the days before it."""

    profile: Profile
    rng: random.Random
    zone: ZoneInfo
    strain_onset: int | None
    sleeps: list[Sleep] = field(default_factory=list)
    recoveries: list[Recovery] = field(default_factory=list)
    workouts: list[Workout] = field(default_factory=list)
    cycle_strain: list[float] = field(default_factory=list)
    deficits: list[float] = field(default_factory=list)
    bedtimes: list[float] = field(default_factory=list)
    prev_strain: float = 10.0

    @property
    def base_cycle_id(self) -> int:
        return self.profile.user_id * 10_000

    def live_day(self, d: int, wake_day: date) -> None:
        onset = self.strain_onset
        drift = 0.0 if onset is None or d < onset else min(1.0, (d - onset) / 28)
        workday = wake_day.weekday() < 5
        sleep, night = self._night(d, wake_day, drift, workday)
        self.sleeps.append(sleep)
        self.deficits.append(max(0.0, self.profile.sleep_need_min - night.stats.asleep / 60))
        self.recoveries.append(self._recovery(d, sleep, night, drift))
        self._daytime(d, wake_day, drift, workday)

    def _night(
        self, d: int, wake_day: date, drift: float, workday: bool
    ) -> tuple[Sleep, _NightNeed]:
        rng, profile = self.rng, self.profile
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
        self.bedtimes.append(bed)
        start = _local(self.zone, wake_day, bed)
        end = _local(self.zone, wake_day, wake)
        runs = night_runs(rng, (end - start).total_seconds() / 60, strain=drift)
        night = _NightNeed(
            stats=stats(runs),
            debt_min=sum(self.deficits[-3:]) * 0.3,
            strain_min=max(0.0, self.prev_strain - 10) * 2.2,
            end=end,
        )
        consistency = self._consistency(bed)  # drawn before the sleep's id, as always
        sleep = Sleep(
            id=_uuid(rng),
            v1_id=self.base_cycle_id + d * 10,
            cycle_id=self.base_cycle_id + d,
            start=start,
            end=end,
            offset_minutes=_offset(start, self.zone),
            nap=False,
            runs=runs,
            respiratory_rate=round(rng.gauss(profile.base_resp_rate + drift * 0.6, 0.35), 2),
            need_ms=(
                int(need * 60_000),
                int(night.debt_min * 60_000),
                int(night.strain_min * 60_000),
                0,
            ),
            consistency=round(consistency, 1),
            scored_at=_score_delay(rng, end, in_bed),
            snoring_rate=min(0.6, max(0.0, rng.gauss(0.08, 0.06))),
        )
        return sleep, night

    def _consistency(self, bed: float) -> float:
        recent = self.bedtimes[-5:-1]
        if not recent:
            return 100.0
        average = sum(recent) / len(recent)
        return max(30.0, 100 - abs(bed - average) * 0.6 - self.rng.uniform(0, 8))

    def _recovery(self, d: int, sleep: Sleep, night: _NightNeed, drift: float) -> Recovery:
        """Morning readings: HRV and RHR against the person's baseline, worse under strain and
        after a hard day."""
        rng, profile, strain = self.rng, self.profile, self.prev_strain
        ln_hrv = profile.base_ln_hrv - 0.28 * drift - 0.012 * (strain - 10) + rng.gauss(0, 0.13)
        rhr = profile.base_rhr + 6.5 * drift + 0.15 * (strain - 10) + rng.gauss(0, 1.6)
        need = profile.sleep_need_min + night.debt_min + night.strain_min
        performance = min(1.0, night.stats.asleep / 60 / need)
        z = (ln_hrv - profile.base_ln_hrv) / 0.15 - (rhr - profile.base_rhr) / 3.0
        score = 55 + 11 * z + 30 * (performance - 0.85)
        return Recovery(
            cycle_id=self.base_cycle_id + d,
            sleep_id=sleep.id,
            created_at=sleep.scored_at or night.end + timedelta(minutes=10),
            score=round(min(99.0, max(1.0, score)), 0),
            hrv_ms=round(math.exp(ln_hrv), 6),
            rhr=round(rhr, 0),
            spo2=round(rng.uniform(94.5, 98.6), 4),
            skin_temp=round(rng.gauss(33.9 + 0.3 * drift, 0.25), 4),
            calibrating=d < 4,
            scored_at=sleep.scored_at,
        )

    def _daytime(self, d: int, wake_day: date, drift: float, workday: bool) -> None:
        """The day's strain, with a workout and a nap perhaps."""
        rng, profile = self.rng, self.profile
        day_strain = rng.uniform(4.0, 9.0) + 2.0 * drift
        if rng.random() < profile.workout_rate * (1 - 0.4 * drift):
            workout = _workout(rng, profile, self.zone, wake_day, self.base_cycle_id + d * 10 + 1)
            self.workouts.append(workout)
            day_strain += workout.strain * 0.55
        if rng.random() < profile.nap_rate * (1.6 if not workday else 1.0):
            nap = _nap(rng, self.zone, wake_day, profile, self.base_cycle_id + d * 10 + 2)
            nap.cycle_id = self.base_cycle_id + d
            self.sleeps.append(nap)
        self.prev_strain = min(21.0, day_strain)
        self.cycle_strain.append(self.prev_strain)


@dataclass(frozen=True, slots=True)
class _NightNeed:
    """A night's sleep and what the person needed from it beyond their baseline."""

    stats: NightStats
    debt_min: float
    strain_min: float
    end: datetime


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
