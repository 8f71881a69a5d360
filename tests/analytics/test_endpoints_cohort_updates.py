"""Organisation statistics stay equal to the per-person answers while records and preferences
change: a second provider arriving late, a new source priority through the API, a deletion."""

from __future__ import annotations

import gc
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.analytics import cohort_service
from somna.auth.principal import Principal
from somna.models import Connection, Person
from somna.records.repository import RecordRepository
from tests.analytics.support import NOW, TODAY, night, nights, store
from tests.support.auth import Org

STAGED = "W" * 20 + ("L" * 60 + "D" * 40 + "L" * 20 + "R" * 40) * 5 + "L" * 60


async def _row_and_score(
    client: httpx.AsyncClient, org: Org, person: Person
) -> tuple[dict[str, Any], dict[str, Any]]:
    body = (
        await client.get(
            f"/api/v1/organizations/{org.id}/statistics",
            params={"days": 14},
            headers=org.owner.headers,
        )
    ).json()
    [row] = [row for row in body["rows"] if row["user_id"] == str(person.id)]
    score = (
        await client.get(
            f"/api/v1/users/{person.id}/sleep-score",
            params={"days": 14},
            headers=org.owner.headers,
        )
    ).json()
    return row, score


def _assert_same(row: dict[str, Any], score: dict[str, Any]) -> None:
    assert row["nights"] == score["session_count"]
    assert row["mean_duration_seconds"] == pytest.approx(score["mean_duration_seconds"])
    assert row["mean_efficiency_pct"] == pytest.approx(score["mean_efficiency_pct"])
    assert row["sources_used"] == score["sources_used"]


async def test_statistics_follow_late_records_priorities_and_deletions(
    client: httpx.AsyncClient, db_session: AsyncSession, org: Org, person: Person
) -> None:
    await store(db_session, person, nights("whoop", TODAY, 6, asleep_hours=6.0))
    row, score = await _row_and_score(client, org, person)
    _assert_same(row, score)
    assert row["mean_duration_seconds"] == 6 * 3600
    assert row["sources_used"] == ["whoop"]

    # Asleep's records of three of those nights arrive later; with hypnograms, they count.
    late = [
        night("asleep", TODAY - timedelta(days=k), bed="22:50", hypnogram=STAGED, record_id=f"a{k}")
        for k in range(3)
    ]
    await store(db_session, person, late)
    row, score = await _row_and_score(client, org, person)
    _assert_same(row, score)
    assert row["nights"] == 6
    assert row["sources_used"] == ["asleep", "whoop"]
    staged_seconds = 30 * sum(1 for c in STAGED if c in "LDR")
    assert row["mean_duration_seconds"] == pytest.approx((3 * 6 * 3600 + 3 * staged_seconds) / 6)

    # The person prefers WHOOP, through the API: WHOOP's records count again.
    put = await client.put(
        f"/api/v1/users/{person.id}/preferences",
        json={"source_priority": ["whoop", "asleep"]},
        headers=org.owner.headers,
    )
    assert put.status_code == 200, put.text
    row, score = await _row_and_score(client, org, person)
    _assert_same(row, score)
    assert row["sources_used"] == ["whoop"]
    assert row["mean_duration_seconds"] == 6 * 3600

    # WHOOP deletes two of the nights Asleep also recorded and one only it recorded: with
    # WHOOP first, Asleep's records of those two nights count now; the third night is gone.
    whoop = await db_session.scalar(
        select(Connection).where(Connection.person_id == person.id, Connection.provider == "whoop")
    )
    assert whoop is not None
    listed = (
        await client.get(
            f"/api/v1/users/{person.id}/sleep", params={"limit": 50}, headers=org.owner.headers
        )
    ).json()["data"]
    by_date = {item["local_date"]: item for item in listed if item["provider"] == "whoop"}
    doomed = [by_date[str(TODAY - timedelta(days=k))]["provider_record_id"] for k in (0, 1, 5)]
    assert await RecordRepository(db_session).delete(whoop.id, "sleep", doomed) == 3
    await db_session.commit()
    row, score = await _row_and_score(client, org, person)
    _assert_same(row, score)
    assert row["nights"] == 5
    assert row["sources_used"] == ["asleep", "whoop"]
    assert row["mean_duration_seconds"] == pytest.approx((3 * 6 * 3600 + 2 * staged_seconds) / 5)

    # Back to the default: the hypnogram wins the night WHOOP still has too.
    put = await client.put(
        f"/api/v1/users/{person.id}/preferences", json={}, headers=org.owner.headers
    )
    assert put.status_code == 200, put.text
    row, score = await _row_and_score(client, org, person)
    _assert_same(row, score)
    assert row["mean_duration_seconds"] == pytest.approx((2 * 6 * 3600 + 3 * staged_seconds) / 5)


async def test_statistics_leave_the_garbage_collector_as_they_found_it(
    client: httpx.AsyncClient, db_session: AsyncSession, org: Org, person: Person
) -> None:
    # The statistics pause the cyclic collector while they build their rows: it must run
    # again after a request, and a caller that switched it off itself keeps it off.
    await store(db_session, person, nights("whoop", TODAY, 6))
    assert gc.isenabled()
    response = await client.get(
        f"/api/v1/organizations/{org.id}/statistics", headers=org.owner.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["people_with_data"] == 1
    assert gc.isenabled()
    principal = Principal("api_key", org.id, frozenset({"analytics:read"}))
    gc.disable()
    try:
        answer = await cohort_service.organization_statistics(
            db_session, principal, org.id, 14, NOW
        )
        assert answer.people_with_data == 1
        assert not gc.isenabled()
    finally:
        gc.enable()
