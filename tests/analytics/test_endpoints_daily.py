"""Circadian timing, readiness, the daily summary and source priority through the API."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from somna.models import MoodRating, Organization, Person
from somna.records.canonical import SleepSessionRecord
from tests.analytics.support import NOW, TODAY, night, pin_now, recovery, set_preferences, store
from tests.support.auth import Org, create_organization, create_person

# TODAY is Thursday 2026-03-12.


def _week_of_timing(provider: str = "whoop") -> list[SleepSessionRecord]:
    """Two weeks: workday nights 23:00-05:00 (6 h), free-day nights 00:30-07:30 (7 h)."""
    out = []
    for k in range(14):
        day = TODAY - timedelta(days=k)
        free = day.weekday() >= 5
        bed, hours = ("00:30", 7.0) if free else ("23:00", 6.0)
        out.append(night(provider, day, bed=bed, hours=hours, asleep_hours=None))
    return out


async def test_circadian_answers_in_local_clock_times(
    client: httpx.AsyncClient, db_session: AsyncSession, org: Org, person: Person
) -> None:
    await store(db_session, person, _week_of_timing())
    base = f"/api/v1/users/{person.id}"
    h = org.owner.headers
    window = {"start_date": "2026-02-27", "end_date": "2026-03-12"}
    body = (await client.get(f"{base}/circadian", params=window, headers=h)).json()
    assert body["workdays"] == [1, 2, 3, 4, 5]
    assert body["midpoint_workdays"] == "02:00"
    assert body["midpoint_free_days"] == "04:00"
    assert body["msf_sc"] == "03:39"  # 04:00 - (7 h - 44/7 h) / 2
    assert body["social_jetlag_minutes"] == 120.0
    assert body["relative_social_jetlag_minutes"] == 120.0
    assert body["workday_timing"]["onset"] == "23:00"
    assert body["free_day_timing"]["sleep_duration_seconds"] == 7 * 3600
    assert body["reason"] is None
    assert body["sources"] == {"sleep": "whoop"}
    # The score serves the same jetlag values for the same window.
    score = (await client.get(f"{base}/sleep-score", params={"days": 14}, headers=h)).json()
    assert score["regularity"]["social_jetlag_minutes"] == pytest.approx(120.0)
    assert score["regularity"]["relative_social_jetlag_minutes"] == pytest.approx(120.0)

    # The person's workdays come from their preferences: Sunday to Thursday.
    put = await client.put(f"{base}/preferences", json={"workdays": [7, 1, 2, 3, 4]}, headers=h)
    assert put.status_code == 200, put.text
    assert put.json()["workdays"] == [1, 2, 3, 4, 7]
    shifted = (await client.get(f"{base}/circadian", headers=h)).json()
    assert shifted["workdays"] == [1, 2, 3, 4, 7]
    assert shifted["free_day_timing"]["nights"] == 4  # nights ending Friday and Saturday
    assert shifted["midpoint_workdays"] != "02:00"


async def test_circadian_without_free_days_says_why(
    client: httpx.AsyncClient, db_session: AsyncSession, org: Org, person: Person
) -> None:
    await store(db_session, person, [night("whoop", TODAY - timedelta(days=k)) for k in range(3)])
    body = (
        await client.get(f"/api/v1/users/{person.id}/circadian", headers=org.owner.headers)
    ).json()
    assert body["midpoint_workdays"] == "03:00"
    assert body["midpoint_free_days"] is None
    assert body["msf_sc"] is None
    assert body["social_jetlag_minutes"] is None
    assert body["reason"] == "Needs at least 2 nights ending on free days (has 0)."


async def _person_with_history(db_session: AsyncSession, org_id: uuid.UUID) -> Person:
    person = await create_person(db_session, org_id)
    readings = [
        recovery("whoop", TODAY - timedelta(days=k), hrv=40 if k < 7 else 60 + (k % 3),
                 rhr=62 if k < 7 else 52 + (k % 2))
        for k in range(70)
    ]  # fmt: skip
    sleep = [night("whoop", TODAY - timedelta(days=k), asleep_hours=6.0) for k in range(30)]
    nap = night("whoop", TODAY - timedelta(days=1), bed="14:00", hours=0.5, asleep_hours=0.4,
                is_nap=True)  # fmt: skip
    await store(db_session, person, [*readings, *sleep, nap])
    db_session.add(MoodRating(person_id=person.id, local_date=TODAY, score=4, recorded_at=NOW,
                              created_at=NOW))  # fmt: skip
    await db_session.commit()
    return person


async def test_readiness_for_a_day_and_a_series(
    client: httpx.AsyncClient, db_session: AsyncSession, org: Org
) -> None:
    person = await _person_with_history(db_session, org.id)
    await set_preferences(db_session, person, sleep_goal_hours=8.0)
    path = f"/api/v1/users/{person.id}/readiness"
    h = org.owner.headers
    one = (await client.get(path, params={"date": TODAY.isoformat()}, headers=h)).json()
    assert [d["date"] for d in one["days"]] == [TODAY.isoformat()]
    today = one["days"][0]
    # A week of HRV 40 ms against ~61 ms, resting HR 62 against ~52.5: both far out.
    assert today["hrv"]["z"] < -2
    assert today["hrv"]["within_normal_range"] is False
    assert today["resting_hr"]["z"] > 2
    parts = {c["name"]: c for c in today["components"]}
    assert parts["hrv"]["score"] == 0.0
    assert parts["resting_hr"]["score"] == 0.0
    assert parts["sleep"]["measure"] == 0.75  # 6 h of an 8-h need
    assert parts["sleep"]["score"] == 50.0
    assert today["readiness"] == 12.5  # 0.25 * 50
    assert one["need_seconds"] == 8 * 3600
    assert one["sources"] == {"sleep": "whoop", "hrv": "whoop", "resting_hr": "whoop"}
    series = (
        await client.get(path, params={"start_date": "2026-03-01", "end_date": "2026-03-12"},
                         headers=h)
    ).json()  # fmt: skip
    assert len(series["days"]) == 12
    both = await client.get(
        path, params={"date": "2026-03-12", "start_date": "2026-03-01"}, headers=h
    )
    assert both.status_code == 422


async def test_readiness_is_null_while_the_baseline_warms_up(
    client: httpx.AsyncClient, db_session: AsyncSession, org: Org, person: Person
) -> None:
    await store(db_session, person, [
        recovery("whoop", TODAY - timedelta(days=k), hrv=60, rhr=55) for k in range(15)
    ])  # fmt: skip
    body = (
        await client.get(f"/api/v1/users/{person.id}/readiness", headers=org.owner.headers)
    ).json()
    day = body["days"][0]
    assert day["readiness"] is None
    assert day["hrv"]["warming_up"] is True
    assert day["hrv"]["z"] is None
    assert day["reason"].startswith("The HRV baseline is warming up")
    assert "resting heart rate baseline is warming up" in day["reason"]


async def test_days_has_one_row_per_date_with_nulls(
    client: httpx.AsyncClient, db_session: AsyncSession, org: Org
) -> None:
    person = await _person_with_history(db_session, org.id)
    path = f"/api/v1/users/{person.id}/days"
    h = org.owner.headers
    body = (
        await client.get(path, params={"start_date": "2026-03-10", "end_date": "2026-03-14"},
                         headers=h)
    ).json()  # fmt: skip
    rows = {row["date"]: row for row in body["data"]}
    assert list(rows) == ["2026-03-10", "2026-03-11", "2026-03-12", "2026-03-13", "2026-03-14"]
    future = rows["2026-03-13"]
    assert future["sleep_session_id"] is None
    assert future["sleep_seconds"] is None
    assert future["hrv_rmssd_ms"] is None
    assert future["sources"] == {"sleep": None, "hrv": None, "resting_hr": None}
    today = rows["2026-03-12"]
    sleep_path = f"/api/v1/users/{person.id}/sleep"
    listing = (await client.get(sleep_path, params={"limit": 1}, headers=h)).json()
    newest_night = next(i for i in listing["data"] if not i["is_nap"])
    assert today["sleep_session_id"] == newest_night["id"]
    assert today["sleep_source"] == "whoop"
    assert today["sleep_seconds"] == 6 * 3600
    assert today["mood"] == 4.0
    assert today["hrv_rmssd_ms"] == 40.0
    assert today["hrv_z"] < -2
    assert today["sources"] == {"sleep": "whoop", "hrv": "whoop", "resting_hr": "whoop"}
    # The nap from 14:00 on the 10th (the helper puts a 14:00 bedtime on the day before).
    assert rows["2026-03-10"]["nap_sleep_seconds"] == int(0.4 * 3600)
    assert rows["2026-03-11"]["nap_sleep_seconds"] is None
    # No goal saved: the need is estimated from free-day sleep (6 h here).
    assert (body["need_source"], body["need_seconds"]) == ("free_days", 6 * 3600)
    assert today["sleep_debt_seconds"] == 0
    assert today["nights_to_repay"] == 0


async def test_sources_order_filter_and_refuse_unknown_providers(
    client: httpx.AsyncClient, db_session: AsyncSession, org: Org, person: Person
) -> None:
    staged = "W" * 20 + "L" * 600 + "W" * 10
    await store(db_session, person, [
        *[night("whoop", TODAY - timedelta(days=k), asleep_hours=6.0) for k in range(7)],
        *[night("asleep", TODAY - timedelta(days=k), bed="23:05", hypnogram=staged)
          for k in range(7)],
    ])  # fmt: skip
    path = f"/api/v1/users/{person.id}/days"
    h = org.owner.headers
    default = (await client.get(path, headers=h)).json()["data"][-1]
    assert default["sources"]["sleep"] == "asleep"  # the record with a hypnogram wins
    whoop_first = (await client.get(path, params={"sources": "whoop,asleep"}, headers=h)).json()
    assert whoop_first["data"][-1]["sleep_source"] == "whoop"
    only_asleep = (await client.get(path, params={"sources": "asleep"}, headers=h)).json()
    assert {r["sleep_source"] for r in only_asleep["data"]} <= {"asleep", None}
    for route in ("days", "circadian", "readiness", "sleep-score", "stats/average",
                  "reports/weekly", "trends/monthly", "burnout", "insights"):  # fmt: skip
        bad = await client.get(
            f"/api/v1/users/{person.id}/{route}", params={"sources": "oura"}, headers=h
        )
        assert bad.status_code == 422, route
        assert "oura" in bad.text
        ok = await client.get(
            f"/api/v1/users/{person.id}/{route}", params={"sources": "whoop"}, headers=h
        )
        assert ok.status_code == 200, (route, ok.text)
        assert ok.json()["sources"]["sleep"] in ("whoop", None), route
    stats = await client.get(
        f"/api/v1/organizations/{org.id}/statistics", params={"sources": "whoop"}, headers=h
    )
    assert stats.status_code == 200
    assert stats.json()["sources"]["sleep"] == "whoop"


async def test_organisation_priority_per_metric_and_the_persons_override(
    client: httpx.AsyncClient, db_session: AsyncSession, org: Org
) -> None:
    organization = await db_session.get(Organization, org.id)
    assert organization is not None
    priority = {"sleep": ["whoop"], "hrv": ["asleep"]}
    organization.settings = {**organization.settings, "source_priority": priority}
    await db_session.commit()
    person = await create_person(db_session, org.id)
    staged = "W" * 20 + "L" * 600 + "W" * 10
    await store(db_session, person, [
        night("whoop", TODAY, asleep_hours=6.0),
        night("asleep", TODAY, bed="23:05", hypnogram=staged),
        recovery("whoop", TODAY, hrv=50, rhr=55),
        recovery("asleep", TODAY, hrv=70, rhr=60),
    ])  # fmt: skip
    h = org.owner.headers
    path = f"/api/v1/users/{person.id}/days"
    row = (await client.get(path, headers=h)).json()["data"][-1]
    # No order for resting HR: alphabetical, so asleep's.
    assert row["sources"] == {"sleep": "whoop", "hrv": "asleep", "resting_hr": "asleep"}
    assert row["hrv_rmssd_ms"] == 70.0
    assert row["sleep_source"] == "whoop"
    # The organisation's sleep order also decides which record the statistics count.
    stats = (await client.get(f"/api/v1/organizations/{org.id}/statistics", headers=h)).json()
    assert stats["rows"][0]["sources_used"] == ["whoop"]
    # The person's own priority overrides the organisation's, for every metric.
    await set_preferences(db_session, person, source_priority=["asleep", "whoop"])
    row = (await client.get(path, headers=h)).json()["data"][-1]
    assert row["sources"] == {"sleep": "asleep", "hrv": "asleep", "resting_hr": "asleep"}


async def test_one_debt_and_one_baseline_across_routes(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    """The daily summary, the weekly report and burnout serve the same running debt for
    today, and burnout's HRV and resting-HR factors the readiness baselines' z."""
    pin_now(app)
    org = await create_organization(db_session, client)
    person = await _person_with_history(db_session, org.id)  # 6 h nights, a nap yesterday
    await set_preferences(db_session, person, sleep_goal_hours=8.0)
    base = f"/api/v1/users/{person.id}"
    h = org.owner.headers
    today = (await client.get(f"{base}/days", headers=h)).json()["data"][-1]
    assert today["date"] == TODAY.isoformat()
    debt_hours = today["sleep_debt_seconds"] / 3600
    assert debt_hours > 10  # two hours short every night
    weekly = (await client.get(f"{base}/reports/weekly", headers=h)).json()
    assert weekly["end_date"] >= TODAY.isoformat()  # the running week: its debt is today's
    assert weekly["sleep_debt_hours"] == pytest.approx(debt_hours, abs=0.05)
    burnout = (await client.get(f"{base}/burnout", params={"history_days": 0}, headers=h)).json()
    factors = {f["name"]: f for f in burnout["factors"]}
    assert factors["sleep_debt"]["value"] == pytest.approx(debt_hours, abs=0.05)
    assert factors["sleep_debt"]["detail"]["nights_to_repay"] == today["nights_to_repay"]
    ready = (await client.get(f"{base}/readiness", headers=h)).json()["days"][-1]
    # Burnout's details are served to one decimal, the daily z to two.
    assert factors["hrv"]["detail"]["z"] == pytest.approx(ready["hrv"]["z"], abs=0.051)
    assert factors["resting_hr"]["detail"]["z"] == pytest.approx(
        ready["resting_hr"]["z"], abs=0.051
    )
    assert today["hrv_z"] == pytest.approx(ready["hrv"]["z"], abs=0.006)
