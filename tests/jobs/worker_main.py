"""A worker process for the kill tests: ``somna worker`` with the test tasks registered."""

from __future__ import annotations

import asyncio
import sys

from somna.config import Settings
from somna.jobs.runtime import run_worker_process
from tests.jobs.sample_tasks import registry

if __name__ == "__main__":
    concurrency = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    asyncio.run(run_worker_process(Settings(), concurrency=concurrency, registry=registry))
