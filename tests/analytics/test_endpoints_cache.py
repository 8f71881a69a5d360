"""Burnout risk (stored with its factors and history) and insights (cached, recomputed when
data arrives or the batch expires)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.calculations import Insight, InsightContext
from somna.models import BurnoutScore, MoodRating, Person
from somna.models import Insight as StoredInsight
from tests.analytics.support import NOW, TODAY, night, nights, pin_now, recovery, store
from tests.support.auth import Org, create_organization, create_person


async def test_burnout_is_computed_stored_and_explained(
    client: httpx.AsyncClient, db_session: AsyncSession, org: Org, person: Person
) -> None:
    # 70 days of steady readings, then a week of low HRV, high resting HR, short nights and
    # low mood against the person's own baseline.
    readings = [
        recovery("whoop", TODAY - timedelta(days=k), hrv=40 if k < 7 else 60 + (k % 3),
                 rhr=62 if k < 7 else 52 + (k % 2))
        for k in range(70)
    ]  # fmt: skip
    sleep = [night("whoop", TODAY - timedelta(days=k), asleep_hours=5.5 if k < 7 else 7.8)
             for k in range(30)]  # fmt: skip
    await store(db_session, person, [*readings, *sleep])
    db_session.add_all(
        MoodRating(person_id=person.id, local_date=TODAY - timedelta(days=k),
                   score=3 if k < 7 else 7 + k % 2, recorded_at=NOW, created_at=NOW)
        for k in range(35)
    )  # fmt: skip
    await db_session.commit()
    path = f"/api/v1/users/{person.id}/burnout"
    response = await client.get(path, params={"history_days": 10}, headers=org.owner.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["as_of"] == TODAY.isoformat()
    assert body["level"] == "high"
    assert body["risk"] >= 50
    factors = {f["name"]: f for f in body["factors"]}
    assert set(factors) == {"hrv", "resting_hr", "sleep_debt", "regularity", "mood"}
    assert factors["hrv"]["points"] >= 1
    assert factors["hrv"]["value"] < factors["hrv"]["baseline"]
    # No goal saved: the need is the mean free-day sleep of the last 28 days, two weekend
    # nights of 5.5 h and six of 7.8 h.
    free_days = [TODAY - timedelta(days=k) for k in range(28)]
    free_hours = [5.5 if k < 7 else 7.8 for k, d in enumerate(free_days) if d.weekday() >= 5]
    # Served to one decimal, like every figure Somna computes.
    assert factors["sleep_debt"]["baseline"] == round(sum(free_hours) / len(free_hours), 1)
    assert sum(f["contribution"] for f in body["factors"]) == body["risk"]
    assert body["model_version"] == "flags-1"
    assert "not a medical or psychological diagnosis" in body["disclaimer"]
    assert len(body["history"]) == 11
    assert body["history"][0]["as_of"] == (TODAY - timedelta(days=10)).isoformat()
    assert body["history"][0]["level"] in ("low", "moderate")  # before the bad week

    again = await client.get(path, params={"history_days": 10}, headers=org.owner.headers)
    assert again.json()["risk"] == body["risk"]
    stored = (
        await db_session.scalars(select(BurnoutScore).where(BurnoutScore.person_id == person.id))
    ).all()
    assert len(stored) == 11  # one row per date, refreshed rather than duplicated
    today_row = next(row for row in stored if row.as_of_date == TODAY)
    assert today_row.level == "high"
    assert today_row.model_version == "flags-1"
    assert {f["name"] for f in today_row.factors} == set(factors)


async def test_insights_are_cached_until_data_changes_or_they_expire(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession, org: Org, person: Person
) -> None:
    await store(db_session, person, nights("whoop", TODAY - timedelta(days=1), 6, asleep_hours=6))
    path = f"/api/v1/users/{person.id}/insights"
    first = (await client.get(path, headers=org.owner.headers)).json()
    assert first["cached"] is False
    assert "short_sleep" in [i["kind"] for i in first["insights"]]
    short = next(i for i in first["insights"] if i["kind"] == "short_sleep")
    assert short["evidence"]["threshold_hours"] == 7.0
    assert first["sources_used"] == ["whoop"]
    second = (await client.get(path, headers=org.owner.headers)).json()
    assert second["cached"] is True
    assert second["insights"] == first["insights"]
    assert second["data_version"] == first["data_version"]

    await store(db_session, person, [night("whoop", TODAY, asleep_hours=6)])
    third = (await client.get(path, headers=org.owner.headers)).json()
    assert third["cached"] is False
    assert third["data_version"] != first["data_version"]
    count = await db_session.scalar(
        select(func.count()).select_from(StoredInsight).where(StoredInsight.person_id == person.id)
    )
    assert count == len(third["insights"])  # replaced, not piled up

    pin_now(app, NOW + timedelta(hours=7))  # same local date, past the expiry
    expired = (await client.get(path, headers=org.owner.headers)).json()
    assert expired["cached"] is False
    assert expired["data_version"] == third["data_version"]


class _Echo:
    """A generator of our own: the interface a language-model generator would implement."""

    name = "echo-test"

    def generate(self, context: InsightContext) -> list[Insight]:
        return [Insight("echo", "info", "Echo", f"{context.nights} nights", {"n": context.nights})]


async def test_a_different_generator_can_be_installed(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    pin_now(app)
    app.state.insight_generator = _Echo()
    org = await create_organization(db_session, client)
    person = await create_person(db_session, org.id)
    await store(db_session, person, nights("whoop", TODAY, 4))
    body = (
        await client.get(f"/api/v1/users/{person.id}/insights", headers=org.owner.headers)
    ).json()
    assert body["generator"] == "echo-test"
    assert [(i["kind"], i["body"]) for i in body["insights"]] == [("echo", "4 nights")]
    weekly = (
        await client.get(f"/api/v1/users/{person.id}/reports/weekly", headers=org.owner.headers)
    ).json()
    assert weekly["generator"] == "echo-test"
    assert [i["kind"] for i in weekly["insights"]] == ["echo"]
