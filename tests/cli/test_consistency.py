"""The commands speak one way: unknown organisations and people exit 2 with one sentence,
flags show no type, and keys and accounts can be managed from the server itself."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from somna.cli import app as cli
from somna.config import Settings
from tests.conftest import make_settings
from tests.support.auth import DEFAULT_PASSWORD, TOKEN_PATH, create_organization
from tests.support.cli import run_somna

NO_ORG = "No organisation with id or slug 'nope'."


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """No key cache: the commands revoke in another process, and this app must see it."""
    return make_settings(database_url, tmp_path, api_key_cache_seconds=0)


KEYS = "/api/v1/developer/keys"


def _keys(database_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The database-side key commands, under ``somna admin keys``."""
    return run_somna(database_url, data_dir, "admin", "keys", *args)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_unknown_organisation_is_a_usage_error_everywhere(
    database_url: str, tmp_path: Path
) -> None:
    key_id = "00000000-0000-0000-0000-000000000001"
    commands = [
        ["admin", "keys", "create", "--org", "nope", "--name", "x", "--scopes", "sleep"],
        ["admin", "keys", "list", "--org", "nope"],
        ["admin", "keys", "rotate", key_id, "--org", "nope"],
        ["admin", "keys", "revoke", key_id, "--org", "nope"],
        ["admin", "accounts", "list", "--org", "nope"],
        ["admin", "export", "--org", "nope", "--out", str(tmp_path / "out")],
        ["admin", "sync", "--org", "nope"],
    ]
    for command in commands:
        result = run_somna(database_url, tmp_path, *command)
        assert result.returncode == 2, (command, result.stderr)
        assert result.stderr.strip() == f"Error: {NO_ORG}", command


def test_flags_show_no_type_in_help() -> None:
    runner = CliRunner()
    for command in (
        [], ["serve"], ["demo"], ["admin", "sync"], ["admin", "export"],
        ["admin", "keys", "create"], ["admin", "keys", "list"], ["keys", "create"],
        ["admin", "accounts", "reset-password"], ["sandbox", "whoop"],
    ):  # fmt: skip
        result = runner.invoke(cli, [*command, "--help"], env={"COLUMNS": "80"})
        assert result.exit_code == 0, (command, result.output)
        assert "<bool>" not in result.output, command
        assert "--help" in result.output


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the API tests cover both
async def test_keys_list_rotate_and_revoke(
    app: FastAPI,
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    database_url: str,
    tmp_path: Path,
) -> None:
    org = await create_organization(db_session, client)
    created = _keys(database_url, tmp_path, "create", "--org", org.slug,
                        "--name", "ci", "--scopes", "keys", "--json")  # fmt: skip
    old = json.loads(created.stdout)
    listed = _keys(database_url, tmp_path, "list", "--org", org.slug, "--json")
    assert listed.returncode == 0, listed.stderr
    [entry] = json.loads(listed.stdout)
    assert entry["id"] == old["id"]
    assert "key" not in entry  # never a secret
    assert "signing_secret" not in entry

    rotated = _keys(database_url, tmp_path, "rotate", old["id"], "--org", org.slug,
                        "--grace-seconds", "0", "--json")  # fmt: skip
    assert rotated.returncode == 0, rotated.stderr
    new = json.loads(rotated.stdout)
    assert new["key"] != old["key"]
    assert new["signing_secret"]
    old_headers = {"Authorization": f"Bearer {old['key']}"}
    new_headers = {"Authorization": f"Bearer {new['key']}"}
    assert (await client.get(KEYS, headers=old_headers)).status_code == 401
    assert (await client.get(KEYS, headers=new_headers)).status_code == 200

    revoked = run_somna(
        database_url, tmp_path, "admin", "keys", "revoke", new["id"], "--org", org.slug
    )
    assert revoked.returncode == 0, revoked.stderr
    assert "Revoked API key" in revoked.stdout
    assert (await client.get(KEYS, headers=new_headers)).status_code == 401
    again = run_somna(
        database_url, tmp_path, "admin", "keys", "rotate", new["id"], "--org", org.slug
    )
    assert again.returncode == 1
    assert "revoked, expired or already rotated" in again.stderr


async def test_admin_lists_organisations_and_accounts_and_resets_a_password(
    app: FastAPI,
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    database_url: str,
    tmp_path: Path,
) -> None:
    org = await create_organization(db_session, client)
    orgs = run_somna(database_url, tmp_path, "admin", "orgs", "list", "--json")
    assert orgs.returncode == 0, orgs.stderr
    assert [row["slug"] for row in json.loads(orgs.stdout)] == [org.slug]
    accounts = run_somna(database_url, tmp_path, "admin", "accounts", "list", "--org", org.slug)
    assert accounts.returncode == 0, accounts.stderr
    assert org.owner.email in accounts.stdout

    reset = run_somna(database_url, tmp_path, "admin", "accounts", "reset-password",
                      "--email", org.owner.email, "--password", "a-brand-new-password")  # fmt: skip
    assert reset.returncode == 0, reset.stderr
    old = {"username": org.owner.email, "password": DEFAULT_PASSWORD}
    new = {"username": org.owner.email, "password": "a-brand-new-password"}
    assert (await client.post(TOKEN_PATH, json=old)).status_code == 401
    assert (await client.post(TOKEN_PATH, json=new)).status_code == 200
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": org.owner.refresh_token}
    )
    assert refreshed.status_code == 401  # the sessions from before the reset are over
    unknown = run_somna(database_url, tmp_path, "admin", "accounts", "reset-password",
                        "--email", "nobody@example.com", "--password", "long-enough")  # fmt: skip
    assert unknown.returncode == 1
    assert "No account with email 'nobody@example.com'." in unknown.stderr
