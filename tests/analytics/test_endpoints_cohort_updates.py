"""Organisation statistics stay equal to the per-person answers while records and preferences
change: a second provider arriving late, a new source priority through the API, a deletion."""

from __future__ import annotations

import gc
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.analytics.service import _collector_paused
from somna.models import Connection, Person
from somna.records.repository import RecordRepository
from tests.analytics.support import TODAY, night, nights, pin_now, store
from tests.support.auth import Org, create_organization, create_person

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
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    pin_now(app)
    org = await create_organization(db_session, client)
    person = await create_person(db_session, org.id)
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


def test_the_collector_is_paused_only_while_rows_are_built() -> None:
    seen: list[bool] = []

    def build() -> None:
        with _collector_paused():
            seen.append(gc.isenabled())
            raise RuntimeError

    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        build()
    assert seen == [False]
    assert gc.isenabled()
    gc.disable()
    try:
        with _collector_paused():
            pass
        assert not gc.isenabled()  # a caller's own choice is left alone
    finally:
        gc.enable()
