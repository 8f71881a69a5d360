"""A stored hypnogram outside the canonical alphabet never fails a read: the session is served
without its hypnogram, statistics and transitions."""

from __future__ import annotations

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from somna.models import SleepSession
from somna.records.canonical import ScoreState, is_canonical_hypnogram
from somna.records.repository import RecordRepository
from tests.support.auth import create_organization, create_person
from tests.support.factories import make_connection, sleep_record

GOOD = "W" * 10 + "L" * 40 + "D" * 30 + "R" * 20 + "W" * 4


def test_the_canonical_alphabet_and_a_positive_epoch() -> None:
    assert is_canonical_hypnogram(GOOD + "U", 30)
    assert not is_canonical_hypnogram(GOOD + "N", 30)  # N3 is "D" in Somna's alphabet
    assert not is_canonical_hypnogram(GOOD, 0)


async def test_a_non_canonical_stored_hypnogram_is_left_out_of_the_read(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    person = await create_person(db_session, org.id)
    connection = await make_connection(db_session, person)
    night = sleep_record(
        "night-0", hypnogram=GOOD, hypnogram_epoch_seconds=30, score_state=ScoreState.SCORED
    )
    await RecordRepository(db_session).upsert(connection.id, person.id, [night])
    await db_session.commit()
    path = f"/api/v1/users/{person.id}/sleep"
    [item] = (await client.get(path, headers=org.owner.headers)).json()["data"]
    detail = (await client.get(f"{path}/{item['id']}", headers=org.owner.headers)).json()
    assert detail["statistics"]["tib_seconds"] == len(GOOD) * 30

    # Written behind the store's back (by hand, or by an older version): "X" is no stage.
    await db_session.execute(
        update(SleepSession)
        .where(SleepSession.person_id == person.id)
        .values(hypnogram=GOOD[:-1] + "X")
    )
    await db_session.commit()
    response = await client.get(f"{path}/{item['id']}", headers=org.owner.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["hypnogram"], body["statistics"], body["transitions"]) == (None, None, None)
    listed = await client.get(path, headers=org.owner.headers)
    assert listed.status_code == 200
