"""``somna demo``: the README's main job, on the embedded default with nothing else installed.

Both provider sandboxes start in this process; a demo organisation's people are created and
connected through Somna's own API (WHOOP by OAuth consent, Asleep by user id), synced with a
bar per person, exported and summarised; then Somna serves the API with the sandboxes still
running, until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from somna.cli._output import abort, console

if TYPE_CHECKING:
    from types import FrameType

    from somna.demo.runner import DemoResult

DEFAULT_OUT = Path(".somna") / "demo-exports"


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM (a service manager, docker stop) stops as Ctrl-C does


def _reachable_host(host: str) -> str:
    """The address to put in URLs: a wildcard bind is reached on loopback."""
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host


def _print_results(result: DemoResult, out: Path, days: int) -> None:
    from somna.cli.sync import failures_table, summary_table
    from somna.demo.summary import people_table

    console.print(summary_table(result.sync))
    if result.sync.failures:
        console.print(failures_table(result.sync))
    console.print(people_table(result.people, days))
    export = result.export
    console.print(
        f"Exports ({', '.join(sorted({item.format for item in export.files}))}): "
        f"{len(export.files)} files, {export.bytes:,} bytes in [bold]{out}[/]"
    )
    timings = ", ".join(f"{name} {value:.1f} s" for name, value in result.seconds.items())
    console.print(f"[dim]Timings: {timings}")


def _access_table(result: DemoResult, url: str | None) -> Table:
    identity = result.identity
    table = Table(title="Somna demo", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    if url is not None:
        table.add_row("API", url)
        table.add_row("API docs", f"{url}/docs")
        table.add_row("dashboard", f"{url}/ (sign in with the owner login below)")
    table.add_row("organisation", f"Somna Demo ({identity.organization_id})")
    table.add_row("owner login", f"{identity.owner_email} / {identity.owner_password}")
    table.add_row("API key", identity.api_key)
    if url is not None and result.people:
        first = result.people[0].user_id
        table.add_row(
            "try",
            f"curl -H 'Authorization: Bearer {identity.api_key}' "
            f"{url}/api/v1/users/{first}/sleep-score",
        )
    return table


def demo(
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the API afterwards."),
    host: str = typer.Option("127.0.0.1", help="Address to serve on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to serve on."),
    people: int = typer.Option(24, min=1, max=200, help="People in the demo organisation."),
    days: int = typer.Option(90, min=1, max=365, help="Days of history each person brings."),
    out: Path = typer.Option(DEFAULT_OUT, "--out", help="Folder for the exports."),
    rate_limit: int = typer.Option(
        600,
        "--rate-limit",
        min=10,
        max=100_000,
        help="Requests a minute the WHOOP sandbox allows (Asleep: 4x); Somna's budget matches.",
    ),
) -> None:
    """Sandboxes, a demo organisation connected, synced, exported and summarised; then serve."""
    from somna.cli.server import prepare_database
    from somna.config import ConfigurationError, get_settings
    from somna.demo.cast import cast
    from somna.demo.identity import DemoError
    from somna.demo.runner import DemoOptions, run_demo, serve_somna, somna_settings
    from somna.demo.world import DemoWorld
    from somna.logging import configure_logging

    if serve and not _port_free(host, port):
        abort(f"cannot serve on {host}:{port}: the address is in use (try --port)", 2)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        abort(f"cannot create {out}: {exc.strerror}", 2)
    prepare_database(migrate=True)
    try:
        base = get_settings()
    except ConfigurationError as exc:
        abort(str(exc), 2)
    configure_logging("WARNING", base.log_format)
    console.rule("[bold]Somna demo")
    signal.signal(signal.SIGTERM, _interrupt)
    world = DemoWorld(cast(people), days, rate_limit)
    console.print(
        f"{people} people, {days} days each. The WHOOP sandbox allows {rate_limit} requests a "
        f"minute, the Asleep one {world.asleep_per_minute}; Somna's budget matches both."
    )
    world.start()
    server = None
    try:
        options = DemoOptions(people=people, days=days, out=out, requests_per_minute=rate_limit)
        try:
            result = asyncio.run(run_demo(world, base, options, console))
        except DemoError as exc:
            abort(str(exc), 1)
        _print_results(result, out, days)
        if not serve:
            console.print(_access_table(result, None))
            if result.sync.failures:
                raise typer.Exit(1)
            return
        url = f"http://{_reachable_host(host)}:{port}"
        world.point_webhooks_at(url)
        server = serve_somna(somna_settings(world, base, url, worker_in_app=True), host, port)
        console.print(_access_table(result, url))
        console.print(f"Serving on [bold]{url}[/] with both sandboxes running; Ctrl-C stops.")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        console.print("Stopping.")
    finally:
        if server is not None:
            server.stop()
        world.stop()
