from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from somna.models import Person
from somna.records.canonical import RecoveryRecord, ScoreState
from somna.records.repository import RecordRepository
from tests.support.auth import Org, create_account, create_organization, create_person
from tests.support.factories import NIGHT_START, make_connection, sleep_record


async def _person_with_nights(db_session: AsyncSession, org: Org) -> Person:
    person = await create_person(db_session, org.id)
    connection = await make_connection(db_session, person)
    nights = [
        sleep_record(
            f"night-{day}",
            start_at=NIGHT_START + timedelta(days=day),
            end_at=NIGHT_START + timedelta(days=day, hours=8),
            local_date=date(2026, 3, 2) + timedelta(days=day),
        )
        for day in range(5)
    ]
    nap = sleep_record(
        "nap-1",
        start_at=NIGHT_START + timedelta(hours=15),
        end_at=NIGHT_START + timedelta(hours=15, minutes=40),
        is_nap=True,
    )
    # 10 min awake, then light, deep, light, REM, a wake bout, REM: 30-s epochs.
    hypnogram = "W" * 20 + "L" * 40 + "D" * 60 + "L" * 40 + "R" * 30 + "W" * 4 + "R" * 20
    # The scored version comes later, with a newer provider version (as WHOOP's updated_at).
    scored = sleep_record(
        "night-0", updated=NIGHT_START + timedelta(hours=9), hypnogram=hypnogram,
        hypnogram_epoch_seconds=30, score_state=ScoreState.SCORED,
    )  # fmt: skip
    recovery = RecoveryRecord(
        provider="whoop", provider_record_id="rec-1", score_state=None,
        provider_updated_at=None, raw={}, recorded_at=NIGHT_START + timedelta(hours=8),
        local_date=date(2026, 3, 2), hrv_rmssd_ms=61.0, resting_hr_bpm=54.0,
    )  # fmt: skip
    store = RecordRepository(db_session)
    await store.upsert(connection.id, person.id, [*nights, nap, recovery])
    await store.upsert(connection.id, person.id, [scored])
    await db_session.commit()
    return person


async def test_sleep_list_filters_by_local_date_and_naps(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    person = await _person_with_nights(db_session, org)
    path = f"/api/v1/users/{person.id}/sleep"
    everything = (await client.get(path, headers=org.owner.headers)).json()
    assert len(everything["data"]) == 6
    starts = [item["start_at"] for item in everything["data"]]
    assert starts == sorted(starts, reverse=True)  # newest first
    assert {item["provider"] for item in everything["data"]} == {"whoop"}

    no_naps = await client.get(path, params={"include_naps": False}, headers=org.owner.headers)
    assert all(not item["is_nap"] for item in no_naps.json()["data"])
    assert len(no_naps.json()["data"]) == 5

    window = await client.get(
        path, params={"start": "2026-03-03", "end": "2026-03-04"}, headers=org.owner.headers
    )
    assert sorted(item["local_date"] for item in window.json()["data"]) == [
        "2026-03-03",
        "2026-03-04",
    ]
    reversed_window = await client.get(
        path, params={"start": "2026-03-05", "end": "2026-03-01"}, headers=org.owner.headers
    )
    assert reversed_window.status_code == 422
    body = reversed_window.json()
    assert body["error"] == "validation_error"
    assert body["detail"] == "`end` is before `start`."
    assert body["errors"] == [
        {
            "field": "end",
            "location": "query",
            "message": "`end` is before `start`.",
            "type": "reversed_period",
        }
    ]
    renamed = await client.get(
        path,
        params={"start_date": "2026-03-03", "end_date": "2026-03-04"},
        headers=org.owner.headers,
    )
    assert renamed.json()["data"] == window.json()["data"]
    both = await client.get(
        path, params={"start_date": "2026-03-03", "start": "2026-03-01"}, headers=org.owner.headers
    )
    assert both.status_code == 422
    assert both.json()["errors"][0]["field"] == "start"


async def test_sleep_detail_has_hypnogram_and_its_statistics(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    person = await _person_with_nights(db_session, org)
    listing = await client.get(f"/api/v1/users/{person.id}/sleep", headers=org.owner.headers)
    night0 = next(i for i in listing.json()["data"] if i["provider_record_id"] == "night-0")
    assert night0["has_hypnogram"] is True
    assert "hypnogram" not in night0  # lists stay light; the item carries the epochs

    detail = await client.get(
        f"/api/v1/users/{person.id}/sleep/{night0['id']}", headers=org.owner.headers
    )
    assert detail.status_code == 200
    body = detail.json()
    assert body["hypnogram"]["epoch_seconds"] == 30
    assert len(body["hypnogram"]["stages"]) == 214
    stats = body["statistics"]
    assert stats["tib_seconds"] == 214 * 30
    assert stats["sol_seconds"] == 20 * 30
    assert stats["tst_seconds"] == 190 * 30
    assert stats["waso_seconds"] == 4 * 30
    assert body["raw"] == {"id": "night-0"}


async def test_other_collections_and_missing_records(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    person = await _person_with_nights(db_session, org)
    base = f"/api/v1/users/{person.id}"
    recovery = (await client.get(f"{base}/recovery", headers=org.owner.headers)).json()
    assert [item["hrv_rmssd_ms"] for item in recovery["data"]] == [61.0]
    one = await client.get(
        f"{base}/recovery/{recovery['data'][0]['id']}", headers=org.owner.headers
    )
    assert one.json()["resting_hr_bpm"] == 54.0
    for segment in ("cycles", "workouts", "body-measurements"):
        empty = await client.get(f"{base}/{segment}", headers=org.owner.headers)
        assert empty.json() == {"data": [], "next_cursor": None}
    missing = await client.get(f"{base}/sleep/{uuid.uuid4()}", headers=org.owner.headers)
    assert missing.status_code == 404
    assert missing.json()["error"] == "record_not_found"


async def test_a_member_reads_their_records_through_me_only(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    person = await _person_with_nights(db_session, org)
    member = await create_account(db_session, client, org.id, "member", person_id=person.id)
    stranger = await create_account(db_session, client, org.id, "member")
    mine = await client.get("/api/v1/me/sleep", headers=member.headers)
    assert len(mine.json()["data"]) == 6
    theirs = await client.get(f"/api/v1/users/{person.id}/sleep", headers=stranger.headers)
    assert theirs.status_code == 404
    assert (await client.get("/api/v1/me/sleep", headers=stranger.headers)).json()["data"] == []
