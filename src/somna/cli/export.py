"""``somna admin export``: write an organisation's records to files, straight from the database."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from somna.cli._output import abort, console, date_option, errors, print_json
from somna.cli.lookup import (
    USAGE_ERROR,
    NotFoundOnCommandLine,
    database,
    find_organization,
    find_person,
    record_cli,
    record_cli_people,
)

if TYPE_CHECKING:
    from somna.exports.exporter import ExportResult
    from somna.exports.repository import ExportScope


@dataclass(frozen=True)
class _Request:
    org: str
    users: tuple[str, ...]
    since: date | None
    until: date | None


class _Bars:
    """A progress bar per person, fed by the exporter."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def person_started(self, email: str, total_rows: int) -> None:
        self.tasks[email] = self.progress.add_task(email, total=max(total_rows, 1))

    def rows_written(self, email: str, rows: int) -> None:
        self.progress.advance(self.tasks[email], rows)

    def person_finished(self, email: str) -> None:
        task = self.tasks[email]
        self.progress.update(task, completed=self.progress.tasks[task].total)


async def _scope(session: Any, request: _Request) -> ExportScope:
    from somna.exports.repository import ExportScope

    organization = await find_organization(session, request.org)
    person_ids = [(await find_person(session, organization, user)).id for user in request.users]
    people = tuple(dict.fromkeys(person_ids)) or None
    return ExportScope(organization.id, people, request.since, request.until)


async def _run(
    request: _Request, out: Path, formats: tuple[str, ...], progress: Progress | None
) -> ExportResult:
    from somna.config import get_settings
    from somna.exports.exporter import run_export

    settings = get_settings()
    async with database(settings) as sessionmaker:
        async with sessionmaker() as session:
            scope = await _scope(session, request)
            await _record(session, scope)
        return await run_export(
            sessionmaker,
            scope,
            out,
            formats,
            batch_size=settings.export_batch_size,
            progress=_Bars(progress) if progress is not None else None,
        )


async def _record(session: Any, scope: ExportScope) -> None:
    """Audit the export before it reads: one row per person it is about to write out."""
    from somna.exports.repository import RecordReader

    people = [row["id"] async for row in RecordReader(session, scope, batch_size=1000).people()]
    if people:
        await record_cli_people(session, "exports.create", "exports", people)
    else:
        await record_cli(session, scope.organization_id, "exports.create", "exports")
    await session.commit()


def _summary(result: ExportResult, out: Path) -> Table:
    table = Table(title=f"Export {result.stamp}", caption=f"in {out}", show_header=True)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("people", str(result.people))
    for name, rows in result.rows.items():
        table.add_row(name.replace("_", " "), str(rows))
    table.add_row("files written", str(len(result.files)))
    table.add_row("bytes", f"{result.bytes:,}")
    return table


def export(
    org: str = typer.Option(..., "--org", help="Organisation id or slug."),
    out: Path = typer.Option(..., "--out", help="Folder to write into (created if missing)."),
    format_list: str = typer.Option(
        "json,csv,parquet", "--format", help="Comma-separated: json, csv, parquet."
    ),
    users: list[str] = typer.Option(
        [], "--user", help="Only this person (id or email); repeat for several."
    ),
    since: str | None = typer.Option(None, "--since", help="First local date, YYYY-MM-DD."),
    until: str | None = typer.Option(None, "--until", help="Last local date, YYYY-MM-DD."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON summary, nothing else."),
) -> None:
    """Export per-person JSON, the combined expanded CSV and Parquet files."""
    from somna.cli.server import prepare_database
    from somna.exports.exporter import normalise_formats

    try:
        formats = normalise_formats(format_list.split(","))
    except ValueError as exc:
        abort(f"--format: {exc}", 2)
    request = _Request(
        org, tuple(users), date_option(since, "--since"), date_option(until, "--until")
    )
    if request.since and request.until and request.until < request.since:
        abort("--until is before --since", 2)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        abort(f"cannot create {out}: {exc.strerror}", 2)
    prepare_database(migrate=False)
    try:
        if as_json:
            result = asyncio.run(_run(request, out, formats, None))
        else:
            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
            with Progress(*columns, console=errors) as progress:
                result = asyncio.run(_run(request, out, formats, progress))
    except NotFoundOnCommandLine as exc:
        abort(str(exc), USAGE_ERROR)
    except OSError as exc:
        abort(f"could not write the export: {exc}", 1)
    if as_json:
        print_json(
            {
                "stamp": result.stamp,
                "out": str(out),
                **result.counts(),
                "bytes": result.bytes,
                "files": [item.name for item in result.files],
            }
        )
        return
    console.print(_summary(result, out))
