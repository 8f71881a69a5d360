"""The ``somna`` command. Imports of server code stay inside the commands that need them."""

from __future__ import annotations

import typer

from somna import __version__
from somna.cli import admin, demo, keys, sandbox, server, worker
from somna.cli import export as export_command
from somna.cli import sync as sync_command

app = typer.Typer(
    name="somna",
    help="Somna: self-hosted sleep and recovery data platform.",
    no_args_is_help=True,
    add_completion=False,
    # Plain help: rich panels print a `<bool>` type next to every flag.
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"somna {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Somna: self-hosted sleep and recovery data platform."""


server.register(app)
app.add_typer(admin.app, name="admin")
app.add_typer(keys.app, name="keys")
app.add_typer(sandbox.app, name="sandbox")
app.command("demo")(demo.demo)
app.command("worker")(worker.worker)
app.command("export")(export_command.export)
app.command("sync")(sync_command.sync)


def main() -> None:
    app()
