"""``somna admin`` commands that act on people's data or on secrets leave rows with channel
``cli``, one per person whose data they read or write: a real process on each backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from somna.config import Settings
from somna.kit.time import utc_now
from somna.models import AuditEvent
from somna.sandbox import WhoopSandbox
from tests.audit.support import audit_rows_without_flush
from tests.connections.support import asleep, sync_settings, whoop, whoop_connection
from tests.support.cli import run_somna
from tests.support.factories import make_organization, make_person

__all__ = ["asleep", "sync_settings", "whoop"]


def _cli_rows(rows: list[AuditEvent], action: str) -> list[AuditEvent]:
    return [row for row in rows if row.action == action]


def _assert_recorded_by_the_cli(rows: list[AuditEvent]) -> None:
    assert rows
    for row in rows:
        assert (row.channel, row.actor_type, row.actor_id, row.outcome) == (
            "cli", "cli", None, "allowed",
        )  # fmt: skip


def _assert_chain_intact(database_url: str, data_dir: Path, org: uuid.UUID) -> None:
    verified = run_somna(database_url, data_dir, "admin", "audit", "verify", "--org", str(org),
                         "--json")  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["intact"] is True


async def test_an_export_records_each_person_it_writes_out(
    database_url: str, tmp_path: Path, db_session: AsyncSession
) -> None:
    organization = await make_organization(db_session)
    people = [(await make_person(db_session, organization)).id for _ in range(2)]
    hidden = await make_person(db_session, organization)
    hidden.delete_after = utc_now() + timedelta(days=30)  # awaiting deletion: left out
    organization_id, slug = organization.id, organization.slug
    await db_session.commit()

    out = tmp_path / "out"
    result = run_somna(database_url, tmp_path, "admin", "export", "--org", slug,
                       "--out", str(out), "--format", "json", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr

    rows = _cli_rows(
        await audit_rows_without_flush(db_session, organization_id=organization_id),
        "exports.create",
    )
    _assert_recorded_by_the_cli(rows)
    assert sorted(str(row.person_id) for row in rows) == sorted(str(p) for p in people)
    _assert_chain_intact(database_url, tmp_path, organization_id)


async def test_a_sync_records_each_person_it_syncs(
    sync_settings: Settings, db_session: AsyncSession, whoop: WhoopSandbox
) -> None:
    organization = await make_organization(db_session)
    person = await make_person(db_session, organization)
    bystander = await make_person(db_session, organization)  # no connection: not synced
    organization_id, slug = organization.id, organization.slug
    person_id, bystander_id = person.id, bystander.id
    await whoop_connection(db_session, sync_settings, whoop, whoop.members[0], person=person)
    await db_session.commit()

    result = _admin_sync(sync_settings, "--org", slug, "--json")
    assert result.returncode == 0, result.stderr

    rows = _cli_rows(
        await audit_rows_without_flush(db_session, organization_id=organization_id),
        "sync.create",
    )
    _assert_recorded_by_the_cli(rows)
    assert [row.person_id for row in rows] == [person_id]
    assert bystander_id not in {row.person_id for row in rows}
    _assert_chain_intact(sync_settings.database_url, sync_settings.data_dir, organization_id)


async def test_reencrypt_records_a_row_in_every_organisation(
    database_url: str, tmp_path: Path, db_session: AsyncSession
) -> None:
    organizations = [(await make_organization(db_session)).id for _ in range(2)]
    await db_session.commit()

    result = run_somna(database_url, tmp_path, "admin", "reencrypt", "--json")
    assert result.returncode == 0, result.stderr

    for organization_id in organizations:
        rows = _cli_rows(
            await audit_rows_without_flush(db_session, organization_id=organization_id),
            "secrets.reencrypt",
        )
        _assert_recorded_by_the_cli(rows)
        assert [(row.resource_type, row.person_id) for row in rows] == [("secrets", None)]
        _assert_chain_intact(database_url, tmp_path, organization_id)


def _admin_sync(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    assert settings.secret_key is not None
    env = {key: value for key, value in os.environ.items() if not key.startswith("SOMNA_")}
    env.update(
        {
            "SOMNA_DATABASE_URL": settings.database_url,
            "SOMNA_DATA_DIR": str(settings.data_dir),
            "SOMNA_SECRET_KEY": settings.secret_key.get_secret_value(),
            "SOMNA_WHOOP_API_BASE": str(settings.whoop_api_base),
            "SOMNA_WHOOP_OAUTH_BASE": str(settings.whoop_oauth_base),
            "SOMNA_WHOOP_CLIENT_ID": str(settings.whoop_client_id),
            "SOMNA_WHOOP_CLIENT_SECRET": settings.whoop_client_secret.get_secret_value(),
            "SOMNA_ASLEEP_API_BASE": str(settings.asleep_api_base),
            "SOMNA_ASLEEP_API_KEY": settings.asleep_api_key.get_secret_value(),
            "SOMNA_REDIS_PREFIX": settings.redis_prefix,
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "somna", "admin", "sync", *args],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
