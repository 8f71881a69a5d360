"""Throughput of one endpoint with API-key auth and rate limiting (memory, then Redis) against
the same endpoint with neither, in one run; and the same keyed endpoint with the audit log's
recording dependency (a read: buffered, flushed every half second by the server itself).

    .venv/bin/python -m benchmarks.auth [--seconds 4] [--rounds 3] [--connections 32]

Each server is one uvicorn process (the app factory below) pinned to CPU 0 where the machine
allows it; the load generator runs in this process, pinned to CPU 1. Everything is on
loopback, and the whole run takes under a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import uuid
from contextlib import ExitStack
from pathlib import Path

from fastapi import Depends, FastAPI

from benchmarks._load import SECRET, LoadResult, make_key, pin, run_load, serve
from somna import __version__, migrations
from somna.app import create_app
from somna.audit.recorder import record_api_access
from somna.auth.dependencies import CurrentPrincipal

APP = "benchmarks.auth:bench_app"
PAYLOAD = {"status": "ok", "service": "somna"}


def bench_app() -> FastAPI:
    """The real app plus two routes returning the same body: one open, one behind a key."""
    app = create_app()

    @app.get("/bench/open")
    async def open_route() -> dict[str, str]:
        return PAYLOAD

    @app.get("/bench/keyed")
    async def keyed_route(principal: CurrentPrincipal) -> dict[str, str]:
        return PAYLOAD

    # The API's audit dependency, exactly as ``api_router`` declares it.
    @app.get("/bench/audited", dependencies=[Depends(record_api_access, scope="function")])
    async def audited_route(principal: CurrentPrincipal) -> dict[str, str]:
        return PAYLOAD

    return app


def _measure_all(
    setups: list[tuple[str, dict[str, str], str, dict[str, str]]], args: argparse.Namespace
) -> list[tuple[str, LoadResult]]:
    """All servers run at once and are measured in turns, several rounds; the best round of
    each counts. On a shared machine, load from elsewhere then hurts every setup alike instead
    of whichever ran at the wrong moment."""
    with ExitStack() as stack:
        ports = [
            stack.enter_context(serve(APP, env, ready_path="/bench/open", cpu=0))
            for _, env, _, _ in setups
        ]
        for port, (_, _, path, headers) in zip(ports, setups, strict=True):
            asyncio.run(run_load("127.0.0.1", port, path, headers, connections=8, seconds=1.0))
        best: dict[str, LoadResult] = {}
        for _ in range(args.rounds):
            for port, (name, _, path, headers) in zip(ports, setups, strict=True):
                result = asyncio.run(
                    run_load(
                        "127.0.0.1", port, path, headers,
                        connections=args.connections, seconds=args.seconds,
                    )
                )  # fmt: skip
                if name not in best or result.per_second > best[name].per_second:
                    best[name] = result
    return [(name, best[name]) for name, _, _, _ in setups]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="Per round and setup.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--redis-url", default=os.environ.get("SOMNA_REDIS_URL", "redis://127.0.0.1:6379/15")
    )
    args = parser.parse_args()
    pin(1)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        database_url = f"sqlite+aiosqlite:///{data_dir / 'bench.db'}"
        migrations.upgrade(database_url)
        key = asyncio.run(
            make_key(
                database_url,
                permissions=["read"],
                scopes=["sleep"],
                rate_limit_per_minute=100_000_000,
            )
        ).key
        base = {
            **os.environ,
            "SOMNA_DATABASE_URL": database_url,
            "SOMNA_DATA_DIR": str(data_dir),
            "SOMNA_SECRET_KEY": SECRET,
            "SOMNA_LOG_LEVEL": "WARNING",
            "SOMNA_RATE_LIMIT_ORG_PER_MINUTE": "100000000",
            "SOMNA_RATE_LIMIT_ANONYMOUS_PER_MINUTE": "100000000",
        }
        base.pop("SOMNA_REDIS_URL", None)
        auth = {"Authorization": f"Bearer {key}"}
        redis_env = {
            **base,
            "SOMNA_REDIS_URL": args.redis_url,
            "SOMNA_REDIS_PREFIX": f"somna-bench-{uuid.uuid4().hex[:8]}:",
        }
        runs = _measure_all(
            [
                ("no auth, no rate limit", {**base, "SOMNA_RATE_LIMIT_ENABLED": "false"},
                 "/bench/open", {}),
                ("API key + rate limit (memory)", base, "/bench/keyed", auth),
                ("API key + rate limit (Redis)", redis_env, "/bench/keyed", auth),
                ("API key + rate limit (memory) + audit", base, "/bench/audited", auth),
            ],
            args,
        )  # fmt: skip
    _report(runs, args)


def _report(runs: list[tuple[str, LoadResult]], args: argparse.Namespace) -> None:
    baseline = runs[0][1].per_second
    lines = [
        f"somna {__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{args.connections} connections, best of {args.rounds} rounds of {args.seconds:g} s",
        "",
        "| setup | req/s | of baseline | cost | errors |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, result in runs:
        ratio = result.per_second / baseline
        cost = "" if result is runs[0][1] else f"{(1 - ratio) * 100:.0f} %"
        lines.append(
            f"| {name} | {result.per_second:,.0f} | {ratio:.2f} | {cost} | {result.errors} |"
        )
    by_name = dict(runs)
    keyed, audited = (
        by_name["API key + rate limit (memory)"],
        by_name["API key + rate limit (memory) + audit"],
    )
    lines.append("")
    cost = (1 - audited.per_second / keyed.per_second) * 100
    lines.append(f"audit cost on the keyed read route: {cost:.1f} %")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
