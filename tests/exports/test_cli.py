"""`somna export` as a user runs it: a real process on each backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from somna.models import Organization
from tests.conftest import TEST_SECRET
from tests.exports.support import arrange


def _somna(database_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SOMNA_DATABASE_URL": database_url,
        "SOMNA_DATA_DIR": str(data_dir),
        "SOMNA_SECRET_KEY": TEST_SECRET,
        "SOMNA_EXPORT_BATCH_SIZE": "2",
        "COLUMNS": "120",
    }
    return subprocess.run(
        [sys.executable, "-m", "somna", "admin", "export", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_export_writes_the_files_and_ends_with_a_summary(
    database_url: str, tmp_path: Path, db_session: AsyncSession
) -> None:
    arranged = await arrange(db_session)
    organization = await db_session.get(Organization, arranged.organization_id)
    assert organization is not None
    out = tmp_path / "exports"
    result = _somna(database_url, tmp_path, "--org", organization.slug, "--out", str(out))
    assert result.returncode == 0, result.stderr
    for label in ("people", "sleep sessions", "files written", "bytes"):
        assert label in result.stdout
    assert "wanda.whoop@example.com" in result.stderr.lower()  # its progress bar
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert len(names) == 2 + 2 + 7  # JSON per person; combined and daily CSV; Parquet
    assert sum(n.startswith("json/sleep_data_batch_") for n in names) == 2
    assert sum(n.startswith("combined_csv/combined_sleep_data_expanded_") for n in names) == 1

    narrow = _somna(
        database_url, tmp_path, "--org", str(arranged.organization_id), "--out", str(out / "one"),
        "--format", "csv,json", "--user", "WANDA.whoop@example.com", "--since", "2026-03-02",
        "--json",
    )  # fmt: skip
    assert narrow.returncode == 0, narrow.stderr
    summary = json.loads(narrow.stdout)  # the whole of stdout is one document
    assert summary["people"] == 1
    assert summary["sleep_sessions"] == 2
    assert summary["recovery"] == 2
    assert summary["body_measurements"] == 0
    assert len(summary["files"]) == 3  # the person's JSON, the combined and the daily CSV
    assert summary["bytes"] == sum((out / "one" / name).stat().st_size for name in summary["files"])


async def test_export_refuses_bad_input_with_exit_codes(
    database_url: str, tmp_path: Path, db_session: AsyncSession
) -> None:
    arranged = await arrange(db_session)
    org = str(arranged.organization_id)
    out = str(tmp_path / "out")
    cases = [
        (["--org", "no-such-org", "--out", out], 2,
         "No organisation with id or slug 'no-such-org'."),
        (["--org", org, "--out", out, "--user", "nobody@example.com"], 2,
         "No person 'nobody@example.com' in organisation"),
        (["--org", org, "--out", out, "--format", "json,xml"], 2, "unknown format xml"),
        (["--org", org, "--out", out, "--since", "March"], 2, "--since must be a date"),
        (["--org", org, "--out", out, "--since", "2026-03-05", "--until", "2026-03-01"], 2,
         "before"),
    ]  # fmt: skip
    for args, code, message in cases:
        result = _somna(database_url, tmp_path, *args)
        assert result.returncode == code, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
    # Nothing was written for any refused run.
    assert not any(p.is_file() for p in (tmp_path / "out").rglob("*"))
