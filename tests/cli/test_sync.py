"""`somna sync` as an operator runs it: a real process against the sandboxes, on each backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from somna.config import Settings
from somna.kit.time import utc_now
from somna.models import Connection, Person, SleepSession, SyncRun
from somna.records.repository import COLLECTION_MODELS
from somna.sandbox import AsleepSandbox, WhoopSandbox
from tests.connections.support import (
    asleep,
    asleep_connection,
    assert_whoop_complete,
    count_rows,
    queue_run,
    sync_settings,
    whoop,
    whoop_connection,
)
from tests.support.factories import make_organization, make_person

__all__ = ["asleep", "sync_settings", "whoop"]

PASSED_ON = (
    "database_url", "data_dir", "whoop_api_base", "whoop_oauth_base", "whoop_client_id",
    "asleep_api_base", "sync_page_size", "provider_max_retries", "whoop_requests_per_minute",
    "redis_prefix",
)  # fmt: skip


def _env(settings: Settings) -> dict[str, str]:
    assert settings.secret_key is not None
    env = {key: value for key, value in os.environ.items() if not key.startswith("SOMNA_")}
    env.update({f"SOMNA_{name.upper()}": str(getattr(settings, name)) for name in PASSED_ON})
    env["SOMNA_SECRET_KEY"] = settings.secret_key.get_secret_value()
    env["SOMNA_WHOOP_CLIENT_SECRET"] = settings.whoop_client_secret.get_secret_value()
    env["SOMNA_ASLEEP_API_KEY"] = settings.asleep_api_key.get_secret_value()
    env["COLUMNS"] = "160"
    return env


def _somna(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "somna", "admin", "sync", *args],
        env=_env(settings),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


async def _arrange(
    session: AsyncSession, settings: Settings, whoop: WhoopSandbox, asleep: AsleepSandbox
) -> dict[str, Any]:
    """Two people of one organisation (WHOOP and Asleep), and a stranger in another."""
    organization = await make_organization(session)
    wanda = await make_person(session, organization)
    arthur = await make_person(session, organization, timezone="Europe/Berlin")
    members = whoop.members
    hers = await whoop_connection(session, settings, whoop, members[0], person=wanda)
    his, _ = await asleep_connection(session, asleep, person=arthur)
    stranger = await whoop_connection(session, settings, whoop, members[1])
    # Plain values: the test expires its session between steps.
    return {
        "slug": organization.slug,
        "organization_id": organization.id,
        "connections": [hers.id, his.id],
        "wanda": (wanda.id, wanda.email),
        "arthur": (arthur.id, arthur.email),
        "member": members[0],
        "stranger": stranger.id,
    }


async def _stored(session: AsyncSession, connections: list[uuid.UUID]) -> dict[str, int]:
    session.expire_all()
    return {
        name: await count_rows(session, name, model.connection_id.in_(connections))
        for name, model in COLLECTION_MODELS.items()
    }


async def test_sync_of_an_organisation_reports_what_it_stored(
    sync_settings: Settings,
    db_session: AsyncSession,
    whoop: WhoopSandbox,
    asleep: AsleepSandbox,
) -> None:
    arranged = await _arrange(db_session, sync_settings, whoop, asleep)

    result = _somna(sync_settings, "--org", arranged["slug"], "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)  # the whole of stdout is one document
    assert (summary["people"], summary["connections"], summary["failed"]) == (2, 2, 0)
    assert summary["failures"] == []
    stored = await _stored(db_session, arranged["connections"])
    assert stored["sleep"] > 0
    assert stored["recovery"] > 0
    # Every record reported is stored, once: a fresh sync inserts exactly what it received.
    assert {name: summary["records"].get(name, 0) for name in stored} == stored
    runs = list(await db_session.scalars(select(SyncRun).order_by(SyncRun.created_at)))
    assert {run.trigger for run in runs} == {"cli"}
    assert arranged["stranger"] not in {run.connection_id for run in runs}
    assert summary["requests"] == sum(run.requests for run in runs) > 0
    assert summary["pages"] == sum(run.pages for run in runs)
    assert {line["email"] for line in summary["runs"]} == {
        arranged["wanda"][1],
        arranged["arthur"][1],
    }
    await assert_whoop_complete(db_session, whoop, arranged["member"], arranged["connections"][0])

    # People's view: bars on stderr, the table on stdout; one person, one provider, by email.
    org_id, email = str(arranged["organization_id"]), arranged["wanda"][1]
    again = _somna(sync_settings, "--org", org_id, "--user", email.upper(), "--provider", "whoop")
    assert again.returncode == 0, again.stderr
    assert "Sync summary" in again.stdout
    assert "Failures" not in again.stdout
    assert arranged["wanda"][1] in again.stderr  # her progress bar
    assert arranged["arthur"][1] not in again.stderr
    assert await _stored(db_session, arranged["connections"]) == stored  # nothing twice


async def test_a_failing_connection_is_reported_with_its_reason_and_exit_1(
    sync_settings: Settings,
    db_session: AsyncSession,
    whoop: WhoopSandbox,
    asleep: AsleepSandbox,
) -> None:
    arranged = await _arrange(db_session, sync_settings, whoop, asleep)
    whoop.world.revoke_user(arranged["member"].user_id)  # WHOOP refuses every token of Wanda's

    result = _somna(sync_settings, "--org", arranged["slug"])
    assert result.returncode == 1, result.stderr
    assert "Sync summary" in result.stdout  # the summary is printed all the same
    assert "Failures" in result.stdout
    assert arranged["wanda"][1] in result.stdout
    assert "ReauthorizationRequired" in result.stdout  # the reason, as the run recorded it

    as_json = _somna(sync_settings, "--org", arranged["slug"], "--json")
    assert as_json.returncode == 1
    summary = json.loads(as_json.stdout)
    assert summary["failed"] == 1
    assert summary["succeeded"] == 1
    (failure,) = summary["failures"]
    assert failure["email"] == arranged["wanda"][1]
    # After the first refusal the connection waits for a new consent; the run says so.
    assert failure["status"] == "skipped"
    assert "connect again" in failure["error"]
    db_session.expire_all()
    wanda_connection = await db_session.scalar(
        select(Connection).where(Connection.person_id == arranged["wanda"][0])
    )
    assert wanda_connection is not None
    assert wanda_connection.status == "reauthorization_required"
    failed = await db_session.scalar(select(SyncRun).where(SyncRun.status == "failed"))
    assert failed is not None
    assert failed.person_id == arranged["wanda"][0]
    arthur = await db_session.get(Person, arranged["arthur"][0])
    assert arthur is not None
    assert (await _stored(db_session, arranged["connections"]))[
        "sleep"
    ] > 0  # Arthur's Asleep nights


async def test_bad_options_exit_2(sync_settings: Settings, db_session: AsyncSession) -> None:
    organization = await make_organization(db_session)
    slug = organization.slug
    await db_session.commit()
    cases = [
        (["--provider", "fitbit"], "--provider must be one of"),
        (["--since", "2026-03-05", "--until", "2026-03-01"], "--until is before --since"),
        (["--org", "no-such-org"], "No organisation with id or slug 'no-such-org'."),
        (["--org", slug, "--user", "nobody@example.com"], "No person 'nobody@example.com' in"),
        (["--user", "someone@example.com"], "--org"),
    ]
    for args, message in cases:
        result = _somna(sync_settings, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)


async def test_a_connection_a_worker_holds_is_skipped_as_busy_with_exit_0(
    sync_settings: Settings,
    db_session: AsyncSession,
    whoop: WhoopSandbox,
    asleep: AsleepSandbox,
) -> None:
    """A live run of another executor holds WHOOP: the CLI never runs beside it, lists it as
    skipped (busy) and syncs the rest; a skip is not a failure."""
    arranged = await _arrange(db_session, sync_settings, whoop, asleep)
    held_connection = arranged["connections"][0]
    held = await queue_run(db_session, await db_session.get_one(Connection, held_connection))
    held.status, held.owner, held.attempts = "running", "job:worker-1", 1
    held.leased_until = utc_now() + timedelta(minutes=10)
    held_id = held.id
    await db_session.commit()

    result = _somna(sync_settings, "--org", arranged["slug"], "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["skipped"] == [
        {"email": arranged["wanda"][1], "provider": "whoop", "reason": "busy"}
    ]
    assert (summary["succeeded"], summary["failed"]) == (1, 0)
    stored = await _stored(db_session, arranged["connections"])
    assert await count_rows(db_session, "sleep", SleepSession.connection_id == held_connection) == 0
    assert stored["sleep"] > 0  # Arthur's Asleep nights
    db_session.expire_all()
    still = await db_session.get_one(SyncRun, held_id)
    assert (still.status, still.owner) == ("running", "job:worker-1")  # never adopted

    table = _somna(sync_settings, "--org", arranged["slug"], "--provider", "whoop")
    assert table.returncode == 0, table.stderr
    assert "skipped (busy)" in table.stdout
