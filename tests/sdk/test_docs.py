"""Every Python example of docs/sdk.md runs, as a user would run it, against a live server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from tests.sdk.support import person_with_nights
from tests.support.auth import Org, TestKey

DOC = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"


def examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def run(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """In a folder of its own: an example that downloads a file never writes into the checkout."""
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def test_the_page_has_examples() -> None:
    assert len(examples()) >= 6


async def test_every_example_runs(
    live_url: str, key: TestKey, db_session: AsyncSession, org: Org, tmp_path: Path
) -> None:
    await person_with_nights(db_session, org, 5)
    env = {
        **os.environ,
        "SOMNA_URL": live_url,
        "SOMNA_API_KEY": key.key,
        "SOMNA_SIGNING_SECRET": key.signing_secret,
    }
    for number, code in enumerate(examples(), start=1):
        done = await _run_in_thread(code, env, tmp_path)
        assert done.returncode == 0, f"example {number} failed:\n{code}\n{done.stderr}"
        assert done.stdout.strip(), f"example {number} printed nothing"


async def _run_in_thread(
    code: str, env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    import asyncio

    return await asyncio.to_thread(run, code, env, cwd)
