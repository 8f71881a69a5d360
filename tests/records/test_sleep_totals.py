"""A night whose provider score is pending but which has a hypnogram shows the same totals in
the list as in its detail, and the detail carries its stage transitions."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from somna.records.canonical import ScoreState
from somna.records.repository import RecordRepository
from tests.support.auth import create_organization, create_person
from tests.support.factories import NIGHT_START, make_connection, sleep_record

# 5 min awake, light, deep, a 2-min wake bout, REM, 1 min unknown, REM; 30-s epochs.
HYPNOGRAM = "W" * 10 + "L" * 20 + "D" * 10 + "W" * 4 + "R" * 6 + "U" * 2 + "R" * 8
TOTALS = (
    "in_bed_seconds",
    "asleep_seconds",
    "awake_seconds",
    "light_seconds",
    "deep_seconds",
    "rem_seconds",
    "latency_seconds",
    "waso_seconds",
    "waso_count",
    "efficiency_pct",
)


async def test_pending_night_with_a_hypnogram_shows_the_same_totals_in_list_and_detail(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    person = await create_person(db_session, org.id)
    connection = await make_connection(db_session, person)
    pending = sleep_record(
        "pending-1",
        provider="asleep",
        score_state=ScoreState.PENDING_SCORE,
        end_at=NIGHT_START + timedelta(seconds=30 * len(HYPNOGRAM)),
        hypnogram=HYPNOGRAM,
        hypnogram_epoch_seconds=30,
    )
    await RecordRepository(db_session).upsert(connection.id, person.id, [pending])
    await db_session.commit()

    base = f"/api/v1/users/{person.id}/sleep"
    listed = (await client.get(base, headers=org.owner.headers)).json()["data"][0]
    detail = (await client.get(f"{base}/{listed['id']}", headers=org.owner.headers)).json()
    assert listed["score_state"] == "PENDING_SCORE"
    # The provider sent no totals yet: both views take them from the hypnogram.
    expected = {
        "in_bed_seconds": 60 * 30,
        "asleep_seconds": 44 * 30,
        "awake_seconds": 14 * 30,
        "light_seconds": 20 * 30,
        "deep_seconds": 10 * 30,
        "rem_seconds": 14 * 30,
        "latency_seconds": 10 * 30,
        "waso_seconds": 4 * 30,
        "waso_count": 1,
        "efficiency_pct": 100 * 44 / 60,
    }
    assert {name: listed[name] for name in TOTALS} == expected
    assert {name: detail[name] for name in TOTALS} == expected
    assert detail["statistics"]["tst_seconds"] == listed["asleep_seconds"]
    assert listed["derived_from_hypnogram"] == list(TOTALS)
    assert detail["derived_from_hypnogram"] == list(TOTALS)

    # Stage transitions: pairs touching the unknown epochs are left out.
    transitions = detail["transitions"]
    assert transitions["stages"] == ["WAKE", "LIGHT", "DEEP", "REM"]
    assert transitions["counts"] == [
        [12, 1, 0, 1],  # 9 + 3 within the wake runs; into light, then into REM
        [0, 19, 1, 0],
        [1, 0, 9, 0],
        [0, 0, 0, 12],  # 5 + 7 within the two REM runs
    ]
    assert transitions["probabilities"][1] == [0, 19 / 20, 1 / 20, 0]
    assert transitions["probabilities"][3] == [0, 0, 0, 1]
    # Four changes between different stages over 44 epochs (22 min) of sleep, to one decimal.
    assert detail["statistics"]["stage_shifts_per_hour"] == round(4 / (44 * 30 / 3600), 1)


async def test_provider_totals_pass_through_when_sent(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    person = await create_person(db_session, org.id)
    connection = await make_connection(db_session, person)
    scored = sleep_record(
        "scored-1",
        provider="asleep",
        score_state=ScoreState.SCORED,
        end_at=NIGHT_START + timedelta(seconds=30 * len(HYPNOGRAM)),
        hypnogram=HYPNOGRAM,
        hypnogram_epoch_seconds=30,
        asleep_seconds=1300,
        efficiency_pct=72.0,
    )
    await RecordRepository(db_session).upsert(connection.id, person.id, [scored])
    await db_session.commit()
    base = f"/api/v1/users/{person.id}/sleep"
    listed = (await client.get(base, headers=org.owner.headers)).json()["data"][0]
    detail = (await client.get(f"{base}/{listed['id']}", headers=org.owner.headers)).json()
    for body in (listed, detail):
        assert (body["asleep_seconds"], body["efficiency_pct"]) == (1300, 72.0)
        assert "asleep_seconds" not in body["derived_from_hypnogram"]
        assert body["deep_seconds"] == 10 * 30
