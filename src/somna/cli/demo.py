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

from somna.cli._output import abort, console

if TYPE_CHECKING:
    from types import FrameType

    from somna.config import Settings
    from somna.demo.runner import DemoResult
    from somna.demo.world import DemoWorld

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


def _print_access(result: DemoResult, url: str | None) -> None:
    from somna.demo.report import access_lines, person_to_try, print_lines

    note = result.reuse_note()
    if note is not None:
        console.print(note)
    identity = result.identity
    lines = access_lines(
        url=url,
        owner_email=identity.owner_email,
        owner_password=identity.owner_password,
        api_key=identity.api_key,
        signing_secret=identity.signing_secret,
        person=person_to_try(result.people),
    )
    print_lines(console, "Somna demo", lines)


def _prepare(serve: bool, host: str, port: int, out: Path) -> Settings:
    """Check what the run needs before starting anything: a free port, the exports folder, a
    migrated database and readable settings."""
    from somna.cli.server import prepare_database
    from somna.config import ConfigurationError, get_settings
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
    return base


def _serve(world: DemoWorld, base: Settings, result: DemoResult, host: str, port: int) -> None:
    """Serve the API with both sandboxes running, until interrupted."""
    from somna.demo.runner import serve_somna, somna_settings

    url = f"http://{_reachable_host(host)}:{port}"
    world.point_webhooks_at(url)
    server = serve_somna(somna_settings(world, base, url, worker_in_app=True), host, port)
    try:
        _print_access(result, url)
        console.print(f"Serving on [bold]{url}[/] with both sandboxes running; Ctrl-C stops.")
        while True:
            time.sleep(3600)
    finally:
        server.stop()


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
    from somna.demo.cast import cast
    from somna.demo.identity import DemoError
    from somna.demo.runner import DemoOptions, run_demo, write_demo_env
    from somna.demo.world import DemoWorld

    base = _prepare(serve, host, port, out)
    console.rule("[bold]Somna demo")
    # Both stop the demo whatever this process inherited: a shell that starts a job in the
    # background without job control hands it SIGINT already ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    world = DemoWorld(cast(people), days, rate_limit)
    console.print(
        f"{people} people, {days} days each. The WHOOP sandbox allows {rate_limit} requests a "
        f"minute, the Asleep one {world.asleep_per_minute}; Somna's budget matches both."
    )
    world.start()
    write_demo_env(world.settings_for(base))
    try:
        options = DemoOptions(people=people, days=days, out=out, requests_per_minute=rate_limit)
        try:
            result = asyncio.run(run_demo(world, base, options, console))
        except DemoError as exc:
            abort(str(exc), 1)
        _print_results(result, out, days)
        if not serve:
            _print_access(result, None)
            if result.sync.failures:
                raise typer.Exit(1)
            return
        _serve(world, base, result, host, port)
    except KeyboardInterrupt:
        console.print("Stopping.")
    finally:
        world.stop()
