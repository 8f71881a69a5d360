"""A person's data archive: signed like the other sensitive routes, built as an export, and
holding exactly that person's data, every section of it, without secrets."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.models import Connection, MoodRating, SleepSession
from somna.privacy.archive import sections
from tests.connections.support import run_jobs
from tests.privacy.support import USERS, World
from tests.support.auth import create_account, create_api_key, create_organization


async def _ids(db_session: AsyncSession, model: Any, person_id: Any) -> set[str]:
    rows = await db_session.scalars(select(model.id).where(model.person_id == person_id))
    return {str(value) for value in rows}


async def test_the_archive_holds_exactly_the_persons_data(
    sync_app: FastAPI,
    sync_client: httpx.AsyncClient,
    db_session: AsyncSession,
    world: World,
) -> None:
    alice, bob = world.alice, world.bob
    path = f"{USERS}/{alice.person_id}/data-export"

    # By API key the request is signed; an analyst by JWT may not ask at all.
    key = await create_api_key(sync_client, world.org.owner.headers)
    unsigned = await sync_client.post(path, headers=key.headers)
    assert unsigned.status_code == 401
    analyst = await create_account(db_session, sync_client, world.org.id, "analyst")
    refused = await sync_client.post(path, headers=analyst.headers)
    assert refused.status_code == 403
    created = await sync_client.post(path, headers=key.signed("POST", path))
    assert created.status_code == 202, created.text
    body = created.json()
    assert body["status"] == "queued"
    assert body["user_ids"] == [str(alice.person_id)]

    await run_jobs(sync_app)
    done = (
        await sync_client.get(f"/api/v1/exports/{body['id']}", headers=world.org.owner.headers)
    ).json()
    assert done["status"] == "succeeded", done
    download = await sync_client.get(done["download_url"], headers=world.org.owner.headers)
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    assert set(files) == {f"archive/{name}.json" for name in sections()}
    content = {name.split("/")[1][:-5]: json.loads(data) for name, data in files.items()}
    assert done["counts"] == {"people": 1, **{name: len(rows) for name, rows in content.items()}}

    # Exactly Alice's rows, every one of them...
    assert {row["id"] for row in content["sleep_sessions"]} == await _ids(
        db_session, SleepSession, alice.person_id
    )
    assert content["sleep_sessions"]
    assert {row["id"] for row in content["mood_ratings"]} == await _ids(
        db_session, MoodRating, alice.person_id
    )
    assert len(content["mood_ratings"]) == 2
    for name in ("recovery", "cycles", "workouts", "burnout_scores", "insights", "sync_runs"):
        assert content[name], name
        assert {row["person_id"] for row in content[name]} == {str(alice.person_id)}, name
    [person] = content["person"]
    assert person["id"] == str(alice.person_id)
    assert person["email"] == alice.email
    assert person["preferences"]["sleep_goal_hours"] == 7.5
    [account] = content["accounts"]
    assert "password_hash" not in account
    assert {event["person_id"] for event in content["webhook_events"]} == {str(alice.person_id)}
    assert {event["event_type"] for event in content["webhook_events"]} >= {"sleep.created"}
    # ...her connection without its tokens...
    [connection] = content["connections"]
    assert connection["provider_user_id"] == alice.whoop_user_id
    stored = await db_session.get(Connection, alice.connection_id)
    assert stored is not None
    assert stored.access_token_encrypted
    secrets = (stored.access_token_encrypted, stored.refresh_token_encrypted)
    assert not set(connection) & {"access_token_encrypted", "refresh_token_encrypted"}
    everything = b"".join(files.values()).decode()
    assert not any(secret and secret in everything for secret in secrets)
    # ...and nothing of Bob's.
    assert str(bob.person_id) not in everything
    assert bob.email not in everything
    bob_nights = await _ids(db_session, SleepSession, bob.person_id)
    assert bob_nights
    assert not any(night in everything for night in bob_nights)


async def test_the_archive_is_not_for_people_of_other_organisations(
    sync_client: httpx.AsyncClient,
    db_session: AsyncSession,
    world: World,
) -> None:
    other = await create_organization(db_session, sync_client, name="Elsewhere")
    path = f"{USERS}/{world.alice.person_id}/data-export"
    answer = await sync_client.post(path, headers=other.owner.headers)
    assert answer.status_code == 404
    assert answer.json()["error"] == "user_not_found"
