"""``somna sync``, ``somna keys`` and ``somna export``: operations on a server, by the SDK."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from somna.cli._output import abort, console, errors, print_json
from somna.cli.remote.session import connect, dump, show, show_fields
from somna_client import Somna
from somna_client.models import SyncRunRead

AS_JSON = typer.Option(False, "--json", help="Print JSON, nothing else.")
FINAL_RUN_STATES = frozenset({"succeeded", "partial", "failed", "cancelled"})
POLL_SECONDS = 1.0

sync = typer.Typer(help="Sync people's providers now, through the server.", no_args_is_help=True)
keys = typer.Typer(help="API keys of the organisation.", no_args_is_help=True)
export = typer.Typer(help="Exports built by the server.", no_args_is_help=True)

RUN_COLUMNS = ("id", "user_id", "provider", "status", "trigger", "records", "created_at")
KEY_COLUMNS = ("id", "name", "prefix", "last4", "scopes", "permissions", "is_active", "expires_at")


@sync.command("run")
def run(
    user: str | None = typer.Option(None, "--user", help="Only this person (id)."),
    provider: str | None = typer.Option(None, "--provider", help="whoop or asleep."),
    start_date: str | None = typer.Option(None, "--start-date", help="First local date."),
    end_date: str | None = typer.Option(None, "--end-date", help="Last local date."),
    wait: bool = typer.Option(False, "--wait", help="Wait for every run, with progress."),
    as_json: bool = AS_JSON,
) -> None:
    """Start syncs (one run per connection); --wait follows them to the end."""
    with connect() as client:
        window = {"provider": provider, "start_date": start_date, "end_date": end_date}
        batch = client.sync.trigger(user, **window) if user else client.sync.trigger_all(**window)
        runs = batch.data
        if wait and runs:
            runs = _follow(client, runs, quiet=as_json)
    show(runs, RUN_COLUMNS, as_json=as_json, title="Sync runs")
    if wait and any(item.status in {"failed", "cancelled"} for item in runs):
        raise typer.Exit(1)


def _follow(client: Somna, runs: list[SyncRunRead], *, quiet: bool) -> list[SyncRunRead]:
    """Poll every run until it finishes, a spinner line per run."""
    latest = {item.id: item for item in runs}
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=errors, disable=quiet) as progress:
        tasks = {key: progress.add_task(_label(item), total=None) for key, item in latest.items()}
        while True:
            for key, item in latest.items():
                if item.status not in FINAL_RUN_STATES:
                    latest[key] = client.sync_runs.retrieve(key)
                done = latest[key].status in FINAL_RUN_STATES
                progress.update(
                    tasks[key],
                    description=_label(latest[key]),
                    total=1 if done else None,
                    completed=1 if done else 0,
                )
            if all(item.status in FINAL_RUN_STATES for item in latest.values()):
                return list(latest.values())
            time.sleep(POLL_SECONDS)


def _label(run: SyncRunRead) -> str:
    return f"{run.provider} {run.user_id[:8]}  {run.status}  {run.records} records"


@sync.command("runs")
def runs(
    user: str | None = typer.Option(None, "--user", help="Only this person (id)."),
    provider: str | None = typer.Option(None, "--provider", help="whoop or asleep."),
    status: str | None = typer.Option(None, "--status", help="queued, running, succeeded, ..."),
    limit: int = typer.Option(20, "--limit", min=1, help="At most this many, newest first."),
    as_json: bool = AS_JSON,
) -> None:
    """Recent sync runs."""
    with connect() as client:
        page = client.sync_runs.list(user_id=user, provider=provider, status=status, limit=limit)
    show(page.data, RUN_COLUMNS, as_json=as_json, title="Sync runs")


@keys.command("list")
def list_keys(as_json: bool = AS_JSON) -> None:
    """The organisation's API keys (never their secrets)."""
    with connect() as client:
        show(client.keys.list().to_list(), KEY_COLUMNS, as_json=as_json, title="API keys")


@keys.command("create")
def create_key(
    name: str = typer.Option(..., "--name", help="A name to recognise the key by."),
    scopes: str = typer.Option(..., "--scopes", help="Comma-separated, e.g. sleep,users."),
    permissions: str = typer.Option("read", "--permissions", help="Comma-separated: read, write."),
    expires_at: str | None = typer.Option(None, "--expires-at", help="ISO 8601 expiry."),
    rate_limit: int | None = typer.Option(None, "--rate-limit-per-minute", min=1),
    as_json: bool = AS_JSON,
) -> None:
    """Create a key; the key and its signing secret are shown once."""
    with connect() as client:
        created = client.keys.create(
            name, scopes=_split(scopes), permissions=_split(permissions),
            expires_at=expires_at, rate_limit_per_minute=rate_limit,
        )  # fmt: skip
    _show_secret(created, as_json=as_json)


@keys.command("rotate")
def rotate_key(
    key_id: str = typer.Argument(..., help="The key's id."),
    grace_seconds: int | None = typer.Option(
        None, "--grace-seconds", min=0, help="How long the old key keeps working."
    ),
    as_json: bool = AS_JSON,
) -> None:
    """Replace a key with a new one of the same grants (signed when using an API key)."""
    with connect() as client:
        _show_secret(client.keys.rotate(key_id, grace_seconds=grace_seconds), as_json=as_json)


@keys.command("revoke")
def revoke_key(
    key_id: str = typer.Argument(..., help="The key's id."), as_json: bool = AS_JSON
) -> None:
    """Revoke a key at once (signed when using an API key)."""
    with connect() as client:
        show_fields(client.keys.revoke(key_id), as_json=as_json, title="Revoked")


def _show_secret(created: object, *, as_json: bool) -> None:
    data = dump(created)
    if as_json:
        print_json(data)
        return
    console.print(f"API key [bold]{data['name']}[/] ({data['id']})")
    console.print(f"  key:            {data['key']}")
    console.print(f"  signing_secret: {data['signing_secret']}")
    console.print("Store both now: the server keeps only a hash of the key and shows them once.")


@export.command("create")
def create_export(
    formats: str = typer.Option("json,csv,parquet", "--format", help="json, csv, parquet."),
    users: list[str] = typer.Option([], "--user", help="Only this person (id); repeatable."),
    start_date: str | None = typer.Option(None, "--start-date", help="First local date."),
    end_date: str | None = typer.Option(None, "--end-date", help="Last local date."),
    wait: bool = typer.Option(False, "--wait", help="Wait until the export is built."),
    out: Path | None = typer.Option(None, "--out", help="Download the zip into this folder."),
    as_json: bool = AS_JSON,
) -> None:
    """Ask the server for an export (the whole organisation unless --user); --out downloads."""
    if out is not None:
        wait = True
        out.mkdir(parents=True, exist_ok=True)
    with connect() as client:
        made = client.exports.create(
            formats=_split(formats), user_ids=list(users) or None,
            start_date=start_date, end_date=end_date,
        )  # fmt: skip
        if wait:
            with errors.status(f"Building export {made.id}...", spinner="dots"):
                made = client.exports.wait(made.id)
            if made.status != "succeeded":
                abort(f"export {made.id} {made.status}: {made.error or 'no detail'}", 1)
        path = client.exports.download(made.id, out) if out is not None else None
    if as_json:
        print_json({**dump(made), "path": str(path) if path else None})
        return
    show_fields(made, as_json=False, title="Export")
    if path is not None:
        console.print(f"Downloaded to {path}")


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]
