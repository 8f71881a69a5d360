"""Records for export tests: WHOOP and Asleep payloads shaped as the vendors send them, mapped
by the real mappers and stored with the real record store."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from somna.models import Organization, Person
from somna.providers.asleep.mapper import map_session
from somna.providers.whoop.mapper import (
    map_body_measurement,
    map_cycle,
    map_recovery,
    map_sleep,
    map_workout,
)
from somna.records.canonical import AnyRecord
from somna.records.repository import RecordRepository
from tests.support.factories import make_connection

FIRST_NIGHT = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)  # 23:00 the day before, at -05:00


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def whoop_sleep(night: int, *, user_id: int = 10129) -> dict[str, Any]:
    """A scored WHOOP v2 sleep (the spec's Sleep schema), one per night index."""
    start = FIRST_NIGHT + timedelta(days=night)
    end = start + timedelta(hours=8, minutes=night % 5)
    return {
        "id": str(uuid.UUID(int=night + 1)),
        "cycle_id": 90000 + night,
        "v1_id": 90000 + night,
        "user_id": user_id,
        "created_at": _ts(end + timedelta(minutes=5)),
        "updated_at": _ts(end + timedelta(minutes=30)),
        "start": _ts(start),
        "end": _ts(end),
        "timezone_offset": "-05:00",
        "nap": False,
        "score_state": "SCORED",
        "score": {
            "stage_summary": {
                "total_in_bed_time_milli": 28_800_000 + night * 1000,
                "total_awake_time_milli": 1_403_507,
                "total_no_data_time_milli": 0,
                "total_light_sleep_time_milli": 14_905_851 + night,
                "total_slow_wave_sleep_time_milli": 6_630_370,
                "total_rem_sleep_time_milli": 5_879_573,
                "sleep_cycle_count": 3 + night % 2,
                "disturbance_count": 12,
            },
            "sleep_needed": {
                "baseline_milli": 27_395_716,
                "need_from_sleep_debt_milli": 352_230,
                "need_from_recent_strain_milli": 208_595,
                "need_from_recent_nap_milli": -12_312,
            },
            "respiratory_rate": 16.11328125,
            "sleep_performance_percentage": 98.0,
            "sleep_consistency_percentage": 90.0,
            "sleep_efficiency_percentage": 91.69533848,
        },
    }


def whoop_records(nights: int) -> list[AnyRecord]:
    """Sleeps, recoveries, cycles, a workout and a body measurement of one WHOOP member."""
    records: list[AnyRecord] = []
    for night in range(nights):
        sleep = whoop_sleep(night)
        records.append(map_sleep(sleep))
        start = FIRST_NIGHT + timedelta(days=night)
        cycle = {
            "id": sleep["cycle_id"],
            "user_id": 10129,
            "created_at": sleep["created_at"],
            "updated_at": sleep["updated_at"],
            "start": _ts(start),
            "end": _ts(start + timedelta(days=1)),
            "timezone_offset": "-05:00",
            "score_state": "SCORED",
            "score": {"strain": 5.5, "kilojoule": 8288.3, "average_heart_rate": 68,
                      "max_heart_rate": 141},
        }  # fmt: skip
        records.append(map_cycle(cycle))
        recovery = {
            "cycle_id": sleep["cycle_id"],
            "sleep_id": sleep["id"],
            "user_id": 10129,
            "created_at": sleep["created_at"],
            "updated_at": sleep["updated_at"],
            "score_state": "SCORED",
            "score": {"user_calibrating": False, "recovery_score": 40.0 + night,
                      "resting_heart_rate": 60.0, "hrv_rmssd_milli": 31.8,
                      "spo2_percentage": 95.5, "skin_temp_celsius": 33.7},
        }  # fmt: skip
        records.append(map_recovery(recovery, timezone_offset_minutes=-300))
    workout = {
        "id": "0f5b1c0e-1111-4a4a-9b9b-000000000001",
        "user_id": 10129,
        "created_at": _ts(FIRST_NIGHT + timedelta(hours=14)),
        "updated_at": _ts(FIRST_NIGHT + timedelta(hours=15)),
        "start": _ts(FIRST_NIGHT + timedelta(hours=12)),
        "end": _ts(FIRST_NIGHT + timedelta(hours=13)),
        "timezone_offset": "-05:00",
        "sport_name": "running",
        "score_state": "SCORED",
        "score": {"strain": 8.2, "average_heart_rate": 123, "max_heart_rate": 146,
                  "kilojoule": 1569.3, "percent_recorded": 100, "distance_meter": 5000.0,
                  "altitude_gain_meter": 46.6, "altitude_change_meter": -0.8,
                  "zone_durations": {"zone_zero_milli": 300000, "zone_one_milli": 600000,
                                     "zone_two_milli": 900000, "zone_three_milli": 900000,
                                     "zone_four_milli": 600000, "zone_five_milli": 300000}},
    }  # fmt: skip
    records.append(map_workout(workout))
    body = {"height_meter": 1.8288, "weight_kilogram": 90.7185, "max_heart_rate": 200}
    records.append(map_body_measurement(body, user_id="10129", observed_at=FIRST_NIGHT))
    return records


def asleep_result(night: int) -> dict[str, Any]:
    """An Asleep session result (providers.md B.4) with a short 4-stage hypnogram."""
    start = datetime(2026, 3, 1, 23, 0, tzinfo=UTC) + timedelta(days=night)
    stages = [0] * 20 + [1] * 40 + [2] * 30 + [3] * 20 + [0] * 10
    end = start + timedelta(seconds=30 * len(stages))
    return {
        "timezone": "UTC",
        "peculiarities": [],
        "missing_data_ratio": 0.0,
        "session": {
            "id": f"2026030{night + 1}230000_abcde",
            "state": "COMPLETE",
            "start_time": start.isoformat(),
            "end_time": end.isoformat(),
            "unexpected_end_time": None,
            "created_timezone": "UTC",
            "sleep_stages": stages,
            "breath_stages": None,
            "snoring_stages": [0] * len(stages),
        },
        "stat": {
            "sleep_time": (start + timedelta(minutes=10)).isoformat(),
            "wake_time": (end - timedelta(minutes=5)).isoformat(),
            "sleep_index": 70,
            "sleep_latency": 600,
            "wakeup_latency": 300,
            "time_in_bed": 3600,
            "time_in_sleep_period": 2700,
            "time_in_sleep": 2700,
            "time_in_wake": 900,
            "time_in_light": 1200,
            "time_in_deep": 900,
            "time_in_rem": 600,
            "sleep_efficiency": 0.75,
            "waso_count": 1,
            "longest_waso": 300,
            "sleep_cycle_count": 1,
        },
    }


@dataclass
class Arranged:
    organization_id: uuid.UUID
    whoop_person: Person
    asleep_person: Person
    other_org_person: Person
    records: dict[uuid.UUID, list[AnyRecord]] = field(default_factory=dict)


async def make_org(session: AsyncSession) -> Organization:
    slug = f"org-{uuid.uuid4().hex[:10]}"
    organization = Organization(name=slug, slug=slug, settings={})
    session.add(organization)
    await session.flush()
    return organization


async def add_person(
    session: AsyncSession, organization_id: uuid.UUID, email: str, records: list[AnyRecord],
    provider: str = "whoop",
) -> Person:  # fmt: skip
    person = Person(organization_id=organization_id, email=email, timezone="America/New_York")
    session.add(person)
    await session.flush()
    if records:
        connection = await make_connection(session, person, provider=provider)
        await RecordRepository(session).upsert(connection.id, person.id, records)
    return person


async def arrange(
    session: AsyncSession, *, organization_id: uuid.UUID | None = None, nights: int = 3
) -> Arranged:
    """One organisation with a WHOOP member and an Asleep member, and a stranger elsewhere."""
    organization_id = organization_id or (await make_org(session)).id
    whoop = whoop_records(nights)
    asleep = [map_session(asleep_result(night)) for night in range(2)]
    whoop_person = await add_person(session, organization_id, "wanda.whoop@example.com", whoop)
    asleep_person = await add_person(
        session, organization_id, "asleep/user@example.com", list(asleep), provider="asleep"
    )
    other = await make_org(session)
    stranger = await add_person(session, other.id, "stranger@example.com", whoop_records(1))
    await session.commit()
    return Arranged(
        organization_id, whoop_person, asleep_person, stranger,
        {whoop_person.id: whoop, asleep_person.id: list(asleep)},
    )  # fmt: skip


def night_dates(nights: int) -> list[date]:
    return [date(2026, 3, 1) + timedelta(days=night) for night in range(nights)]
