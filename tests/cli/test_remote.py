"""The CLI as a shell over the SDK, against a live server: profiles, overrides, commands,
``--json`` and tables, and errors as the server's code and message."""

from __future__ import annotations

import json
import stat
import tomllib
import uuid
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner, Result

from somna.cli import app
from somna.cli._output import console
from somna.config import Settings
from somna.sandbox import WhoopSandbox
from tests.conftest import make_settings
from tests.connections.support import SYNC_SETTINGS, whoop, whoop_connection
from tests.sdk.support import person_with_nights
from tests.support.auth import (
    DEFAULT_PASSWORD,
    Org,
    create_api_key,
    create_organization,
    create_person,
    unique_email,
)

__all__ = ["whoop"]


@pytest.fixture
def settings(database_url: str, tmp_path: Path, whoop: WhoopSandbox) -> Settings:
    return make_settings(
        database_url, tmp_path, job_queue="embedded", worker_in_app=True,
        **whoop.settings_overrides(), **SYNC_SETTINGS,
    )  # fmt: skip


@pytest.fixture
async def org(db_session: AsyncSession, live_url: str) -> Org:
    async with httpx.AsyncClient(base_url=live_url) as http:
        return await create_organization(db_session, http)


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(console, "width", 200)  # tables wide enough to hold whole values
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    for name in ("SOMNA_URL", "SOMNA_API_KEY", "SOMNA_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return home / "somna" / "config.toml"


def profiles(config: Path) -> dict[str, Any]:
    return tomllib.loads(config.read_text())


def mode(config: Path) -> int:
    return stat.S_IMODE(config.stat().st_mode)


def zip_names(archive: Path) -> list[str]:
    with zipfile.ZipFile(archive) as opened:
        return opened.namelist()


def somna(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


async def test_login_with_a_password_keeps_a_rotating_profile(
    live_url: str, org: Org, config_home: Path
) -> None:
    logged = somna("login", "--url", live_url, "--email", org.owner.email,
                   "--password", DEFAULT_PASSWORD)  # fmt: skip
    assert logged.exit_code == 0, logged.output
    assert mode(config_home) == 0o600
    first = profiles(config_home)["default"]
    assert first["url"] == live_url
    assert first["email"] == org.owner.email
    assert DEFAULT_PASSWORD not in json.dumps(profiles(config_home))

    email = unique_email()
    created = as_json(somna("users", "create", email, "--timezone", "UTC", "--json"))
    assert created["email"] == email
    # The refresh token was spent and the new one written back.
    second = profiles(config_home)["default"]
    assert second["refresh_token"] != first["refresh_token"]

    listed = as_json(somna("users", "list", "--json"))
    assert [item["email"] for item in listed] == [email]
    table = somna("users", "list")
    assert table.exit_code == 0
    assert email in table.stdout
    shown = as_json(somna("users", "show", created["id"], "--json"))
    assert shown["id"] == created["id"]
    deleted = as_json(somna("users", "delete", created["id"], "--yes", "--json"))
    assert deleted["id"] == created["id"]

    logout = somna("logout")
    assert logout.exit_code == 0, logout.output
    assert "default" not in profiles(config_home)


async def test_api_key_profile_keys_and_overrides(
    live_url: str, org: Org, config_home: Path
) -> None:
    async with httpx.AsyncClient(base_url=live_url) as http:
        key = await create_api_key(http, org.owner.headers)
    logged = somna("--profile", "ci", "login", "--url", live_url, "--api-key", key.key,
                   "--signing-secret", key.signing_secret)  # fmt: skip
    assert logged.exit_code == 0, logged.output

    created = as_json(somna("--profile", "ci", "keys", "create", "--name", "job",
                            "--scopes", "sleep", "--json"))  # fmt: skip
    assert created["key"]
    assert created["signing_secret"]
    listed = as_json(somna("--profile", "ci", "keys", "list", "--json"))
    assert created["id"] in {item["id"] for item in listed}
    rotated = as_json(somna("--profile", "ci", "keys", "rotate", created["id"], "--json"))
    assert rotated["id"] != created["id"]
    revoked = as_json(somna("--profile", "ci", "keys", "revoke", rotated["id"], "--json"))
    assert revoked["is_active"] is False

    # Without any profile, the environment is enough; a flag beats the environment.
    env = {"SOMNA_URL": live_url, "SOMNA_API_KEY": key.key}
    assert as_json(somna("users", "list", "--json", env=env)) == []
    refused = somna("--api-key", "somna_live_wrong", "users", "list", env=env)
    assert refused.exit_code == 1
    assert "invalid_api_key" in refused.output


async def test_errors_are_the_servers_code_and_message(
    live_url: str, org: Org, config_home: Path
) -> None:
    async with httpx.AsyncClient(base_url=live_url) as http:
        key = await create_api_key(http, org.owner.headers)
    missing = somna("--url", live_url, "--api-key", key.key, "users", "show", str(uuid.uuid4()))
    assert missing.exit_code == 1
    assert "user_not_found" in missing.output
    assert "Traceback" not in missing.output
    nowhere = somna("users", "list")
    assert nowhere.exit_code == 2
    assert "somna login" in nowhere.output


async def test_records_reports_sync_and_export(
    live_url: str,
    org: Org,
    config_home: Path,
    db_session: AsyncSession,
    settings: Settings,
    whoop: WhoopSandbox,
    tmp_path: Path,
) -> None:
    async with httpx.AsyncClient(base_url=live_url) as http:
        key = await create_api_key(http, org.owner.headers)
    env = {"SOMNA_URL": live_url, "SOMNA_API_KEY": key.key}
    person = await person_with_nights(db_session, org, 4)
    user = str(person.id)
    nights = as_json(somna("sleep", "list", user, "--json", env=env))
    assert len(nights) == 4
    assert "2026-03-05" in somna("sleep", "list", user, env=env).stdout
    report = as_json(somna("report", "weekly", user, "--week", "2026-03-02", "--json", env=env))
    assert report["user_id"] == user
    score = as_json(somna("score", user, "--days", "30", "--json", env=env))
    assert score["user_id"] == user

    out = tmp_path / "exports"
    made = as_json(somna("export", "create", "--format", "json", "--user", user, "--out",
                         str(out), "--json", env=env))  # fmt: skip
    assert made["status"] == "succeeded"
    archive = Path(made["path"])
    assert archive.parent == out
    assert zip_names(archive)

    synced = await create_person(db_session, org.id)
    await whoop_connection(db_session, settings, whoop, whoop.members[0], person=synced)
    runs = as_json(somna("sync", "run", "--user", str(synced.id), "--wait", "--json", env=env))
    assert [run["status"] for run in runs] == ["succeeded"]
    assert runs[0]["records"] > 0
    listed = as_json(somna("sync", "runs", "--user", str(synced.id), "--json", env=env))
    assert [run["id"] for run in listed] == [runs[0]["id"]]
