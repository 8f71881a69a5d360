"""The ``somna`` command. Imports of server code stay inside the commands that need them."""

from __future__ import annotations

import typer

from somna import __version__
from somna.cli import admin, demo, remote, sandbox, server, worker
from somna.cli.remote.session import set_overrides

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
    profile: str | None = typer.Option(
        None, "--profile", envvar="SOMNA_PROFILE", help="The profile of config.toml to use."
    ),
    url: str | None = typer.Option(
        None, "--url", envvar="SOMNA_URL", help="The server's root URL (over the profile's)."
    ),
    api_key: str | None = typer.Option(
        None, "--api-key", envvar="SOMNA_API_KEY", help="An API key (over the profile's)."
    ),
) -> None:
    """Somna: self-hosted sleep and recovery data platform."""
    set_overrides(profile, url, api_key)


server.register(app)
app.add_typer(admin.app, name="admin")
app.add_typer(sandbox.app, name="sandbox")
app.command("demo")(demo.demo)
app.command("worker")(worker.worker)
remote.register(app)


def main() -> None:
    app()
