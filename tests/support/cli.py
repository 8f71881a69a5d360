"""Run the ``somna`` command in a child process against a test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_SECRET


def run_somna(database_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SOMNA_DATABASE_URL": database_url,
        "SOMNA_DATA_DIR": str(data_dir),
        "SOMNA_SECRET_KEY": TEST_SECRET,
        "COLUMNS": "80",
    }
    return subprocess.run(
        [sys.executable, "-m", "somna", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
