"""Every resource of the sync client against the live app."""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from somna.models import SyncRun
from somna_client import ConflictError, NotFoundError, Somna
from tests.sdk.support import person_with_nights
from tests.support.auth import DEFAULT_PASSWORD, Org, create_account, create_person, unique_email


async def test_users_and_their_preferences(client: Somna) -> None:
    email = unique_email()
    person = client.users.create(email, timezone="Europe/Berlin", metadata={"cohort": "a"})
    assert (person.email, person.timezone) == (email, "Europe/Berlin")
    assert client.users.retrieve(person.id).id == person.id
    assert person.id in {item.id for item in client.users.list()}
    updated = client.users.update(person.id, timezone="UTC")
    assert updated.timezone == "UTC"
    prefs = client.users.update_preferences(person.id, sleep_goal_hours=7.5)
    assert prefs.sleep_goal_hours == 7.5
    assert client.users.preferences(person.id).sleep_goal_hours == 7.5
    archive = client.users.data_export(person.id)  # sensitive: signed by the client
    assert archive.user_ids == [person.id]
    assert archive.status in ("queued", "running", "succeeded")
    deleted = client.users.delete(person.id)  # sensitive: signed by the client
    assert deleted.id == person.id
    assert deleted.status == "deletion_scheduled"
    with pytest.raises(NotFoundError) as gone:
        client.users.retrieve(person.id)
    assert gone.value.code == "user_not_found"
    assert client.users.restore(person.id).id == person.id
    assert client.users.retrieve(person.id).id == person.id


async def test_records_of_every_collection(
    client: Somna, db_session: AsyncSession, org: Org
) -> None:
    person = await person_with_nights(db_session, org, 3)
    user_id = str(person.id)
    nights = client.sleep.list(user_id).data
    assert len(nights) == 3
    detail = client.sleep.retrieve(user_id, nights[0].id)
    assert detail.id == nights[0].id
    [recovery] = client.recovery.list(user_id).data
    assert recovery.recovery_score == 71.0
    assert client.recovery.retrieve(user_id, recovery.id).id == recovery.id
    assert client.cycles.list(user_id).data == []
    assert client.workouts.list(user_id, start_date="2026-03-01").data == []
    assert client.body_measurements.list(user_id).data == []


async def test_a_member_reads_their_own_records_as_me(
    live_url: str, db_session: AsyncSession, org: Org, http: object
) -> None:
    import httpx

    assert isinstance(http, httpx.AsyncClient)
    person = await person_with_nights(db_session, org, 2)
    member = await create_account(db_session, http, org.id, "member", person_id=person.id)
    with Somna.login(live_url, member.email, DEFAULT_PASSWORD) as mine:
        assert mine.users.retrieve("me").id == str(person.id)
        assert len(mine.sleep.list("me").data) == 2
        rating = mine.mood_ratings.create("me", 4, note="rested", local_date="2026-03-03")
        assert [item.id for item in mine.mood_ratings.list("me")] == [rating.id]
        mine.mood_ratings.delete("me", rating.id)
        assert mine.mood_ratings.list("me").data == []


async def test_mood_ratings_and_analytics(
    client: Somna, db_session: AsyncSession, org: Org
) -> None:
    person = await person_with_nights(db_session, org, 5)
    user_id = str(person.id)
    rating = client.mood_ratings.create(user_id, 3, local_date="2026-03-04")
    assert rating.score == 3
    assert [item.id for item in client.mood_ratings.list(user_id)] == [rating.id]
    client.mood_ratings.delete(user_id, rating.id)

    stats = client.analytics.average_stats(user_id, start_date="2026-03-01", end_date="2026-03-08")
    assert stats.user_id == user_id
    assert client.analytics.sleep_score(user_id, days=30).user_id == user_id
    assert client.analytics.weekly_report(user_id, week="2026-03-02").user_id == user_id
    assert client.analytics.monthly_trends(user_id, months=2).user_id == user_id
    assert client.analytics.burnout(user_id).user_id == user_id
    assert client.analytics.insights(user_id, days=14).user_id == user_id


async def test_organizations_cohorts_and_accounts(
    client: Somna, db_session: AsyncSession, org: Org
) -> None:
    person = await person_with_nights(db_session, org, 3)
    [mine] = client.organizations.list().data
    assert mine.id == str(org.id)
    assert client.organizations.retrieve(str(org.id)).slug == org.slug
    statistics = client.organizations.statistics(str(org.id), days=30)
    assert statistics.organization_id == str(org.id)
    cohort = client.cohorts.analyze([str(person.id)], days=30)
    assert [row.user_id for row in cohort.rows] == [str(person.id)]
    accounts = client.accounts.list().data
    assert str(org.owner.account_id) in {item.id for item in accounts}
    assert client.accounts.retrieve(str(org.owner.account_id)).role == "owner"
    analyst = client.accounts.create(unique_email(), DEFAULT_PASSWORD, role="analyst")
    assert analyst.role == "analyst"


async def test_keys_from_create_to_revoke(client: Somna) -> None:
    created = client.keys.create("nightly job", scopes=["sleep"], permissions=["read"])
    assert created.key
    assert created.signing_secret
    assert created.id in {item.id for item in client.keys.list()}
    assert client.keys.retrieve(created.id).name == "nightly job"
    rotated = client.keys.rotate(created.id, grace_seconds=0)  # signed
    assert rotated.id != created.id
    assert client.keys.retrieve(created.id).rotated_to_id == rotated.id
    revoked = client.keys.revoke(rotated.id)  # signed
    assert revoked.is_active is False


async def test_connections_sync_and_runs(client: Somna, db_session: AsyncSession, org: Org) -> None:
    person = await create_person(db_session, org.id)
    assert client.connections.list(str(person.id)).data == []
    with pytest.raises(NotFoundError):
        client.connections.delete(str(person.id), "whoop")
    with pytest.raises(ConflictError) as nothing_to_sync:
        client.sync.trigger(str(person.id))
    assert nothing_to_sync.value.code == "no_active_connection"

    run = SyncRun(
        organization_id=org.id, person_id=person.id, provider="whoop", status="succeeded",
        trigger="manual",
    )  # fmt: skip
    db_session.add(run)
    await db_session.commit()
    [listed] = client.sync_runs.list(user_id=str(person.id)).data
    assert listed.id == str(run.id)
    seen: list[str] = []
    finished = client.sync_runs.wait(str(run.id), on_progress=lambda item: seen.append(item.status))
    assert finished.status == "succeeded"
    assert seen == ["succeeded"]


async def test_exports_wait_and_download(
    client: Somna, db_session: AsyncSession, org: Org, tmp_path: Path
) -> None:
    person = await person_with_nights(db_session, org, 2)
    export = client.exports.create(formats=["json", "csv"], user_ids=[str(person.id)])
    assert export.status == "queued"
    states: list[str] = []
    done = client.exports.wait(
        export.id, poll_interval=0.2, on_progress=lambda e: states.append(e.status)
    )
    assert done.status == "succeeded", done.error
    assert states[-1] == "succeeded"
    assert client.exports.list().data[0].id == export.id
    archive = client.exports.download(export.id, tmp_path)
    assert archive.parent == tmp_path
    names = zipfile.ZipFile(io.BytesIO(archive.read_bytes())).namelist()
    assert sorted(names) == sorted(item.name for item in done.files)
    one = client.exports.download(export.id, tmp_path / "one.csv", file=done.files[-1].name)
    assert one.stat().st_size == done.files[-1].bytes


async def test_server_health_and_events(client: Somna, live_url: str) -> None:
    assert client.server.health().status
    assert client.events.health().status == "healthy"
    package_key = client.keys.create(
        "telemetry", scopes=["events"], permissions=["write"], package_name="sleepy-tool"
    )
    with Somna(live_url, api_key=package_key.key) as publisher:
        accepted = publisher.events.create(
            package_name="sleepy-tool", package_version="1.0.0", python_version="3.11.5",
            os_type="Linux", event_id=f"e-{uuid.uuid4().hex[:8]}",
        )  # fmt: skip
        assert accepted.success is True
        batch = publisher.events.create_batch(
            [
                {
                    "package_name": "sleepy-tool",
                    "package_version": "1.0.0",
                    "python_version": "3.11.5",
                    "os_type": "Linux",
                }
                for _ in range(3)
            ]
        )
        assert batch.created_count == 3
    usage = client.analytics.package_usage("sleepy-tool")
    assert usage.package_name == "sleepy-tool"
