"""Two processes share one Redis pacer: together they never exceed the limit, and one
process's 429 pause holds the other too."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from tests.jobs.processes import ROOT
from tests.pacing.test_pacer import FAST, max_in_window


def test_two_processes_sharing_redis_stay_inside_every_window(
    redis_test_url: str, tmp_path: Path
) -> None:
    prefix = f"somna-test-{uuid.uuid4().hex[:8]}:"
    outputs = [tmp_path / "a.txt", tmp_path / "b.txt"]
    pause_after = ["12", "0"]  # process A reports a 429 after its 12th request
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.pacing.pacer_process",
                redis_test_url,
                prefix,
                str(out),
                "10",
                "3",
                pause,
            ],
            cwd=ROOT,
        )
        for out, pause in zip(outputs, pause_after, strict=True)
    ]
    for process in processes:
        assert process.wait(timeout=60) == 0

    grants: list[float] = []
    pauses: list[float] = []
    for out in outputs:
        for kind, moment in (line.split() for line in out.read_text().splitlines()):
            (grants if kind == "grant" else pauses).append(float(moment))
    assert len(grants) == 60
    # Alone, each process would send 30 at once: together they keep to 20 per second.
    assert max_in_window(grants, FAST.window_seconds) <= FAST.limit
    assert len(pauses) == 1
    # Nothing in either process went out during the 0.8-s pause, not even slots reserved before
    # the 429 came (20 ms allows for the pause's own round trip to Redis).
    during = [t for t in grants if pauses[0] + 0.02 < t < pauses[0] + 0.79]
    assert during == []
    assert any(t > pauses[0] + 0.8 for t in grants)
