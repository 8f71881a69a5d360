from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.auth import create_organization
from tests.support.cli import run_somna


def _somna(database_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The database-side key commands live under ``somna admin``."""
    return run_somna(database_url, data_dir, "admin", *args)


async def test_keys_create_prints_a_working_key(
    app: FastAPI,
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    database_url: str,
    tmp_path: Path,
) -> None:
    org = await create_organization(db_session, client)
    result = _somna(
        database_url, tmp_path, "keys", "create", "--org", org.slug, "--name", "ci",
        "--scopes", "keys,sleep", "--permissions", "read,write", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["key"].startswith("somna_live_")
    assert body["scopes"] == ["keys", "sleep"]
    listed = await client.get(
        "/api/v1/developer/keys", headers={"Authorization": f"Bearer {body['key']}"}
    )
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["keys"]] == [body["id"]]

    by_id = _somna(database_url, tmp_path, "keys", "create", "--org", str(org.id), "--name", "x",
                   "--scopes", "events", "--package-name", "pkg", "--events-per-hour", "500",
                   "--json")  # fmt: skip
    assert by_id.returncode == 0, by_id.stderr
    assert json.loads(by_id.stdout)["package_name"] == "pkg"

    unknown = _somna(database_url, tmp_path, "keys", "create", "--org", "nope", "--name", "x",
                     "--scopes", "sleep")  # fmt: skip
    assert unknown.returncode == 2
    assert "No organisation with id or slug 'nope'." in unknown.stderr
    bad_scope = _somna(database_url, tmp_path, "keys", "create", "--org", org.slug, "--name", "x",
                       "--scopes", "bogus")  # fmt: skip
    assert bad_scope.returncode == 1
    assert "Unknown scope" in bad_scope.stderr
