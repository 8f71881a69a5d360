from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import run_somna as _somna


def test_create_org_json_prints_one_object_and_the_first_is_operator(
    database_url: str, tmp_path: Path
) -> None:
    first = _somna(
        database_url, tmp_path, "admin", "create-org", "--name", "Night Owls",
        "--owner-email", "Owner@Example.com", "--owner-password", "long-enough-pw", "--json",
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    body = json.loads(first.stdout)  # the whole of stdout is one JSON document
    assert set(body) == {"organization_id", "owner_account_id", "slug", "is_operator"}
    assert body["slug"] == "night-owls"
    assert body["is_operator"] is True

    second = _somna(
        database_url, tmp_path, "admin", "create-org", "--name", "Early Birds",
        "--owner-email", "birds@example.com", "--owner-password", "long-enough-pw", "--json",
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["is_operator"] is False


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--owner-email", "a@b.co", "--owner-password", "short"], 2, "at least 8"),
        (["--owner-email", "not-an-email", "--owner-password", "long-enough"], 2, "email"),
    ],
)
def test_create_org_refuses_bad_input(
    database_url: str, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    result = _somna(database_url, tmp_path, "admin", "create-org", "--name", "X", *args)
    assert result.returncode == code
    assert message in result.stderr


def test_create_org_twice_is_a_clear_failure(database_url: str, tmp_path: Path) -> None:
    args = ["admin", "create-org", "--name", "Dup", "--owner-email", "d@e.co"]
    assert _somna(database_url, tmp_path, *args, "--owner-password", "pw-12345678").returncode == 0
    again = _somna(database_url, tmp_path, *args, "--owner-password", "pw-12345678")
    assert again.returncode == 1
    assert "already exists" in again.stderr


def test_version(tmp_path: Path) -> None:
    result = _somna("sqlite+aiosqlite:///unused.db", tmp_path, "--version")
    assert result.returncode == 0
    assert result.stdout.startswith("somna ")
