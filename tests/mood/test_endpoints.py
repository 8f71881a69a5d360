from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.models import MoodRating, UserPreferences
from tests.support.auth import create_account, create_organization, create_person


async def test_rating_defaults_to_today_in_the_persons_zone(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    person = await create_person(db_session, org.id)
    # Kiribati is UTC+14: for most of the UTC day its date is already tomorrow's.
    db_session.add(UserPreferences(person_id=person.id, timezone="Pacific/Kiritimati"))
    await db_session.commit()
    created = await client.post(
        f"/api/v1/users/{person.id}/mood-ratings",
        json={"score": 7, "note": "rested"},
        headers=org.owner.headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    expected = datetime.fromisoformat(body["recorded_at"]).astimezone(
        ZoneInfo("Pacific/Kiritimati")
    )
    assert body["local_date"] == expected.date().isoformat()
    assert body["score"] == 7
    assert body["note"] == "rested"
    assert body["user_id"] == str(person.id)


async def test_one_rating_per_date_unless_allowed(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    person = await create_person(db_session, org.id)
    path = f"/api/v1/users/{person.id}/mood-ratings"
    first = await client.post(
        path, json={"score": 4, "local_date": "2026-03-01"}, headers=org.owner.headers
    )
    assert first.status_code == 201
    again = await client.post(
        path, json={"score": 6, "local_date": "2026-03-01"}, headers=org.owner.headers
    )
    assert again.status_code == 409
    assert again.json()["error"] == "mood_rating_exists"
    assert again.json()["existing_id"] == first.json()["id"]
    allowed = await client.post(
        path,
        json={"score": 6, "local_date": "2026-03-01", "allow_multiple": True},
        headers=org.owner.headers,
    )
    assert allowed.status_code == 201
    stored = (
        await db_session.scalars(select(MoodRating.score).where(MoodRating.person_id == person.id))
    ).all()
    assert sorted(stored) == [4, 6]


async def test_out_of_range_values_name_the_field(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    person = await create_person(db_session, org.id)
    path = f"/api/v1/users/{person.id}/mood-ratings"
    for payload, field in (
        ({"score": 0}, "score"),
        ({"score": 11}, "score"),
        ({"score": "high"}, "score"),
        ({"score": 5, "note": "x" * 2001}, "note"),
        ({"score": 5, "local_date": "2026-02-30"}, "local_date"),
    ):
        response = await client.post(path, json=payload, headers=org.owner.headers)
        assert response.status_code == 422, payload
        body = response.json()
        assert body["error"] == "validation_error"
        assert [(item["location"], item["field"]) for item in body["errors"]] == [("body", field)]
    future = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
    response = await client.post(
        path, json={"score": 5, "local_date": future}, headers=org.owner.headers
    )
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["type"]) == ("local_date", "invalid_local_date")


async def test_list_is_filtered_by_local_dates_and_paged(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    person = await create_person(db_session, org.id)
    path = f"/api/v1/users/{person.id}/mood-ratings"
    for day in range(1, 6):
        response = await client.post(
            path,
            json={"score": day + 2, "local_date": date(2026, 3, day).isoformat()},
            headers=org.owner.headers,
        )
        assert response.status_code == 201
    window = await client.get(
        path, params={"start": "2026-03-02", "end": "2026-03-04"}, headers=org.owner.headers
    )
    assert [item["local_date"] for item in window.json()["data"]] == [
        "2026-03-04",
        "2026-03-03",
        "2026-03-02",
    ]
    page = await client.get(path, params={"limit": 2}, headers=org.owner.headers)
    rest = await client.get(
        path, params={"limit": 10, "cursor": page.json()["next_cursor"]}, headers=org.owner.headers
    )
    dates = [i["local_date"] for i in page.json()["data"] + rest.json()["data"]]
    assert dates == [f"2026-03-0{d}" for d in range(5, 0, -1)]
    reversed_window = await client.get(
        path, params={"start": "2026-03-04", "end": "2026-03-01"}, headers=org.owner.headers
    )
    assert reversed_window.status_code == 422


async def test_members_use_me_and_other_tenants_get_404(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    org = await create_organization(db_session, client)
    member = await create_account(db_session, client, org.id, "member")
    mine = await client.post(
        "/api/v1/me/mood-ratings", json={"score": 8, "local_date": "2026-03-01"},
        headers=member.headers,
    )  # fmt: skip
    assert mine.status_code == 201
    assert mine.json()["user_id"] == str(member.person_id)
    listed = await client.get("/api/v1/me/mood-ratings", headers=member.headers)
    assert [item["score"] for item in listed.json()["data"]] == [8]

    other = await create_organization(db_session, client)
    foreign = await client.get(
        f"/api/v1/users/{member.person_id}/mood-ratings", headers=other.owner.headers
    )
    assert foreign.status_code == 404
    posted = await client.post(
        f"/api/v1/users/{member.person_id}/mood-ratings", json={"score": 1},
        headers=other.owner.headers,
    )  # fmt: skip
    assert posted.status_code == 404
    stored = await db_session.scalar(
        select(MoodRating.id).where(MoodRating.person_id == member.person_id, MoodRating.score == 1)
    )
    assert stored is None


async def test_delete_a_rating(client: httpx.AsyncClient, db_session: AsyncSession) -> None:
    org = await create_organization(db_session, client)
    person = await create_person(db_session, org.id)
    path = f"/api/v1/users/{person.id}/mood-ratings"
    created = (await client.post(path, json={"score": 3}, headers=org.owner.headers)).json()
    deleted = await client.delete(f"{path}/{created['id']}", headers=org.owner.headers)
    assert deleted.status_code == 204
    again = await client.delete(f"{path}/{created['id']}", headers=org.owner.headers)
    assert again.status_code == 404
    missing = await client.delete(f"{path}/{uuid.uuid4()}", headers=org.owner.headers)
    assert missing.json()["error"] == "mood_rating_not_found"
