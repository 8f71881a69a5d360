"""Organisation statistics and cohort analysis: one grouped query, however many people."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from somna.models import Person
from tests.analytics.support import (
    TODAY,
    night,
    nights,
    pin_now,
    recovery,
    set_preferences,
    store,
)
from tests.support.auth import Org, create_organization, create_person

STAGED = "W" * 20 + ("L" * 60 + "D" * 40 + "L" * 20 + "R" * 40) * 5 + "L" * 60


@contextmanager
def counting_statements(app: FastAPI) -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs inside the block, but the audit log's: its
    buffered writer flushes on a timer, whenever that falls (inside the block or not)."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "audit_" not in statement:
            statements.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def _people_with_nights(
    db_session: AsyncSession, org: Org, asleep_hours: list[float]
) -> list[Person]:
    people = []
    for hours in asleep_hours:
        person = await create_person(db_session, org.id)
        await store(db_session, person, nights("whoop", TODAY, 10, asleep_hours=hours))
        people.append(person)
    return people


async def test_statistics_match_the_per_person_answers(
    client: httpx.AsyncClient, db_session: AsyncSession, org: Org
) -> None:
    people = await _people_with_nights(db_session, org, [5.0, 6.0, 7.0, 8.0])
    # Irregular bedtimes for one person, so regularity differs between people; ten nights,
    # the least a 30-day score needs.
    wobbly = await create_person(db_session, org.id)
    beds = [
        "22:00",
        "01:30",
        "23:00",
        "00:30",
        "21:30",
        "02:00",
        "22:30",
        "01:00",
        "23:30",
        "00:00",
    ]
    await store(db_session, wobbly, [
        night("whoop", TODAY - timedelta(days=k), bed=bed) for k, bed in enumerate(beds)
    ])  # fmt: skip
    idle = await create_person(db_session, org.id)
    response = await client.get(
        f"/api/v1/organizations/{org.id}/statistics",
        params={"days": 30},
        headers=org.owner.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["people"] == 6
    assert body["people_with_data"] == 5
    assert body["total_nights"] == 50
    assert body["sources_used"] == ["whoop"]
    # Per-person means 5, 6, 7, 8, 7.5 h: median 7 h; p10 interpolates 5 h and 6 h.
    duration = body["duration_seconds"]
    assert duration["n"] == 5
    assert duration["median"] == pytest.approx(7 * 3600)
    assert duration["p10"] == pytest.approx((5 + 0.4 * 1) * 3600)
    assert duration["p90"] == pytest.approx((7.5 + 0.6 * 0.5) * 3600)
    rows = {row["user_id"]: row for row in body["rows"]}
    assert rows[str(idle.id)]["nights"] == 0
    assert rows[str(idle.id)]["score"] is None
    for person in [*people, wobbly]:
        own = (
            await client.get(f"/api/v1/users/{person.id}/sleep-score", headers=org.owner.headers)
        ).json()
        row = rows[str(person.id)]
        assert row["nights"] == own["session_count"]
        assert row["mean_duration_seconds"] == pytest.approx(own["mean_duration_seconds"])
        assert row["mean_efficiency_pct"] == pytest.approx(own["mean_efficiency_pct"])
        assert row["regularity"] == own["score"]["consistency"]["score"]
        assert row["score"] == own["score"]["overall"]
    assert rows[str(wobbly.id)]["regularity"] < 50 < rows[str(people[0].id)]["regularity"]


async def test_the_number_of_queries_does_not_grow_with_people(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession, org: Org
) -> None:
    await _people_with_nights(db_session, org, [7.0, 7.5])
    path = f"/api/v1/organizations/{org.id}/statistics"
    await client.get(path, headers=org.owner.headers)  # warm caches (API key, settings)
    with counting_statements(app) as few:
        small = await client.get(path, headers=org.owner.headers)
    added = await _people_with_nights(db_session, org, [6.0, 6.5, 8.0, 8.5, 9.0, 5.5])
    with counting_statements(app) as many:
        large = await client.get(path, headers=org.owner.headers)
    assert small.json()["people"] == 2
    assert large.json()["people"] == 8
    assert len(many) == len(few)
    assert len(few) <= 6

    ids = [str(p.id) for p in added]
    with counting_statements(app) as cohort_few:
        await client.post(
            "/api/v1/cohorts/analysis", json={"user_ids": ids[:2]}, headers=org.owner.headers
        )
    with counting_statements(app) as cohort_many:
        answer = await client.post(
            "/api/v1/cohorts/analysis", json={"user_ids": ids}, headers=org.owner.headers
        )
    assert answer.json()["people"] == 6
    assert len(cohort_many) == len(cohort_few)


async def test_one_night_counts_once_in_the_grouped_query(
    client: httpx.AsyncClient, db_session: AsyncSession, org: Org
) -> None:
    default = await create_person(db_session, org.id)
    whoop_first = await create_person(db_session, org.id)
    for person in (default, whoop_first):
        whoop = nights("whoop", TODAY, 6, asleep_hours=6.0)
        asleep = [night("asleep", TODAY - timedelta(days=k), bed="22:50", hypnogram=STAGED)
                  for k in range(1, 5)]  # fmt: skip
        # Three overlapping records on one night: a long one spanning two short ones.
        chain = [
            night("asleep", TODAY - timedelta(days=8), bed="22:00", hours=9, hypnogram=None,
                  asleep_hours=8.0),
            night("whoop", TODAY - timedelta(days=8), bed="22:30", hours=3, asleep_hours=2.5),
            night("whoop", TODAY - timedelta(days=8), bed="02:00", hours=4, asleep_hours=3.5),
        ]  # fmt: skip
        await store(db_session, person, whoop + asleep + chain)
    await set_preferences(db_session, whoop_first, source_priority=["whoop"])
    body = (
        await client.post(
            "/api/v1/cohorts/analysis",
            json={"user_ids": [str(default.id), str(whoop_first.id)], "days": 14},
            headers=org.owner.headers,
        )
    ).json()
    rows = {row["user_id"]: row for row in body["rows"]}
    for person in (default, whoop_first):
        own = (
            await client.get(
                f"/api/v1/users/{person.id}/sleep-score",
                params={"days": 14},
                headers=org.owner.headers,
            )
        ).json()
        row = rows[str(person.id)]
        assert row["nights"] == own["session_count"] == 7
        assert row["mean_duration_seconds"] == pytest.approx(own["mean_duration_seconds"])
        assert row["sources_used"] == own["sources_used"]
    assert rows[str(default.id)]["sources_used"] == ["asleep", "whoop"]
    assert rows[str(whoop_first.id)]["sources_used"] == ["whoop"]
    assert body["total_nights"] == 14


async def test_tenants_never_see_each_other(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    pin_now(app)
    operator = await create_organization(db_session, client)  # the first is the operator
    theirs = await create_organization(db_session, client)
    mine = await create_organization(db_session, client)
    [their_person] = await _people_with_nights(db_session, theirs, [7.0])
    [my_person] = await _people_with_nights(db_session, mine, [6.0])
    foreign = await client.get(
        f"/api/v1/organizations/{theirs.id}/statistics", headers=mine.owner.headers
    )
    assert foreign.status_code == 404
    assert "rows" not in foreign.json()
    unknown = await client.get(
        f"/api/v1/organizations/{uuid.uuid4()}/statistics", headers=mine.owner.headers
    )
    assert unknown.status_code == 404
    as_operator = await client.get(
        f"/api/v1/organizations/{theirs.id}/statistics", headers=operator.owner.headers
    )
    assert as_operator.status_code == 200
    assert as_operator.json()["people"] == 1

    mixed = await client.post(
        "/api/v1/cohorts/analysis",
        json={"user_ids": [str(my_person.id), str(their_person.id)], "days": 30},
        headers=mine.owner.headers,
    )
    assert mixed.status_code == 200
    body = mixed.json()
    assert body["not_found"] == [str(their_person.id)]
    assert [row["user_id"] for row in body["rows"]] == [str(my_person.id)]
    assert body["total_nights"] == 10
    only_theirs = await client.post(
        "/api/v1/cohorts/analysis",
        json={"user_ids": [str(their_person.id)]},
        headers=mine.owner.headers,
    )
    assert only_theirs.status_code == 404
    assert only_theirs.json()["error"] == "users_not_found"
    empty = await client.post(
        "/api/v1/cohorts/analysis", json={"user_ids": []}, headers=mine.owner.headers
    )
    assert empty.status_code == 422


async def test_new_distributions_equal_the_personal_answers(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    """Social jetlag, MSFsc, the debt and readiness per row are the person's own /circadian,
    /days and /readiness figures (nights without latency, so TST is onset to wake)."""
    pin_now(app)
    org = await create_organization(db_session, client)
    person = await create_person(db_session, org.id)
    sleeps = []
    for k in range(14):
        day = TODAY - timedelta(days=k)
        free = day.weekday() >= 5
        bed, hours = ("00:30", 7.0) if free else ("23:00", 6.0)
        sleeps.append(night("whoop", day, bed=bed, hours=hours, asleep_hours=hours))
    readings = [
        recovery("whoop", TODAY - timedelta(days=k), 50 + 5 * (k % 3) - (6 if k < 7 else 0),
                 55 + (k % 4) + (3 if k < 7 else 0))
        for k in range(67)
    ]  # fmt: skip
    await store(db_session, person, [*sleeps, *readings])
    await set_preferences(db_session, person, sleep_goal_hours=7.5)
    idle = await create_person(db_session, org.id)
    h = org.owner.headers
    body = (
        await client.get(
            f"/api/v1/organizations/{org.id}/statistics", params={"days": 14}, headers=h
        )
    ).json()
    rows = {row["user_id"]: row for row in body["rows"]}
    row = rows[str(person.id)]
    base = f"/api/v1/users/{person.id}"
    window = {"start_date": (TODAY - timedelta(days=13)).isoformat(), "end_date": str(TODAY)}
    own = (await client.get(f"{base}/circadian", params=window, headers=h)).json()
    assert row["social_jetlag_minutes"] == pytest.approx(own["social_jetlag_minutes"]) == 120
    assert row["relative_social_jetlag_minutes"] == pytest.approx(120.0)
    assert row["msf_sc"] == own["msf_sc"] == "03:39"
    today = (await client.get(f"{base}/days", params=window, headers=h)).json()["data"][-1]
    assert today["sleep_debt_seconds"] > 0
    # Served to one decimal.
    assert row["sleep_debt_hours"] == pytest.approx(today["sleep_debt_seconds"] / 3600, abs=0.05)
    ready = (await client.get(f"{base}/readiness", headers=h)).json()["days"][-1]
    assert ready["readiness"] is not None
    assert row["readiness"] == pytest.approx(ready["readiness"], abs=0.05)
    for name in ("social_jetlag_minutes", "sleep_debt_hours", "readiness"):
        assert body[name]["n"] == 1
        assert body[name]["median"] == pytest.approx(row[name], abs=0.05)  # rows: 1 decimal
    assert body["msf_sc"]["median"] == "03:39"
    assert body["sources"] == {"sleep": "whoop", "hrv": "whoop", "resting_hr": "whoop"}
    empty = rows[str(idle.id)]
    assert [empty[k] for k in ("social_jetlag_minutes", "msf_sc", "sleep_debt_hours",
                               "readiness")] == [None] * 4  # fmt: skip

    # ?sources= on both cohort routes: 422 on an unknown provider.
    bad = await client.get(
        f"/api/v1/organizations/{org.id}/statistics", params={"sources": "oura"}, headers=h
    )
    assert bad.status_code == 422
    assert "oura" in bad.text
    bad = await client.post(
        "/api/v1/cohorts/analysis", params={"sources": "fitbit,whoop"},
        json={"user_ids": [str(person.id)]}, headers=h,
    )  # fmt: skip
    assert bad.status_code == 422
    cohort = await client.post(
        "/api/v1/cohorts/analysis", params={"sources": "whoop"},
        json={"user_ids": [str(person.id)], "days": 14}, headers=h,
    )  # fmt: skip
    assert cohort.status_code == 200, cohort.text
    assert cohort.json()["rows"][0]["msf_sc"] == "03:39"
