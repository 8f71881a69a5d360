"""``somna admin sync``: sync people's connections now, in this process, with a bar per person.

The runs are the same rows and the same engine as the workers' (``GET /sync-runs`` shows them
with trigger ``cli``), paced by the provider budget; this command only drives them in-process
(``somna.batchsync``, which ``somna demo`` drives too) and reports. The summary tables here
are reused by ``somna demo``.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from somna.cli._output import abort, console, date_option, errors, print_json
from somna.cli.lookup import (
    USAGE_ERROR,
    NotFoundOnCommandLine,
    as_uuid,
    database,
    find_organization,
    find_person,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from somna.batchsync.summary import BatchSummary
    from somna.batchsync.targets import Target
    from somna.config import Settings

PROVIDERS = ("whoop", "asleep")
MAX_SPAN_DAYS = 3650


class SelectionError(Exception):
    """An option names something that does not exist or cannot be combined."""


@dataclass(frozen=True)
class Selection:
    org: str | None = None
    users: tuple[str, ...] = ()
    provider: str | None = None


async def resolve_targets(session: AsyncSession, selection: Selection) -> list[Target]:
    """Active and stuck connections matching the selection, oldest first."""
    from somna.batchsync.targets import sync_targets
    from somna.people.repository import PersonRepository

    organization = None
    if selection.org is not None:
        organization = await find_organization(session, selection.org)
    people: list[uuid.UUID] = []
    for user in selection.users:
        if organization is not None:
            people.append((await find_person(session, organization, user)).id)
            continue
        user_id = as_uuid(user)
        if user_id is None:
            raise SelectionError(f"--user {user!r} is an email: name the organisation with --org.")
        if await PersonRepository(session).get_unscoped(user_id) is None:
            raise NotFoundOnCommandLine(f"No person {user!r}.")
        people.append(user_id)
    return await sync_targets(
        session,
        organization_id=organization.id if organization else None,
        person_ids=people,
        provider=selection.provider,
    )


# --- the summary ------------------------------------------------------------------------------


def summary_table(summary: BatchSummary) -> Table:
    table = Table(title="Sync summary", caption=f"in {summary.seconds:.1f} s")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("people", str(summary.people))
    table.add_row("connections", str(len(summary.lines)))
    table.add_row("succeeded", str(len(summary.lines) - len(summary.failures) - len(summary.busy)))
    table.add_row("failed", str(len(summary.failures)))
    table.add_row("skipped (busy)", str(len(summary.busy)))
    for name, count in summary.records().items():
        table.add_row(name.replace("_", " "), f"{count:,}")
    table.add_row("pages", f"{summary.total('pages'):,}")
    table.add_row("requests", f"{summary.total('requests'):,}")
    table.add_row("retries", f"{summary.total('retries'):,}")
    return table


def busy_table(summary: BatchSummary) -> Table:
    from somna.batchsync.summary import BUSY

    table = Table(title="Skipped: another sync was running", title_style="bold yellow")
    table.add_column("person")
    table.add_column("provider")
    table.add_column("reason")
    for line in summary.busy:
        table.add_row(line.email, line.provider, BUSY)
    return table


def failures_table(summary: BatchSummary) -> Table:
    table = Table(title="Failures", title_style="bold red")
    table.add_column("person")
    table.add_column("provider")
    table.add_column("status")
    table.add_column("reason", overflow="fold")
    for line in summary.failures:
        table.add_row(line.email, line.provider, line.status, line.error or "")
    return table


# --- running ----------------------------------------------------------------------------------


class ProviderUnreachable(Exception):
    """A provider's API does not answer at all: syncing would only retry for minutes."""


PROBE_SECONDS = 3.0


def provider_base(settings: Settings, provider: str) -> str:
    return settings.whoop_api_base if provider == "whoop" else settings.asleep_api_base


async def check_reachable(settings: Settings, providers: set[str]) -> None:
    """Fail in seconds, naming the URL, when a provider's API cannot even be connected to
    (any HTTP answer, an error included, counts as reachable)."""
    import httpx

    from somna.config import DEMO_ENV_FILE

    silent: list[str] = []
    async with httpx.AsyncClient(timeout=PROBE_SECONDS) as http:
        for provider in sorted(providers):
            url = provider_base(settings, provider)
            try:
                await http.get(url)
            except httpx.TransportError as exc:
                silent.append(f"the {provider} API at {url} ({type(exc).__name__})")
    if silent:
        hint = ""
        if DEMO_ENV_FILE.exists():
            hint = (
                f" This folder's {DEMO_ENV_FILE} points at the demo's sandboxes, which run "
                "only while `somna demo` does."
            )
        raise ProviderUnreachable(
            f"No answer from {' nor '.join(silent)}; nothing was synced.{hint}"
        )


async def _record(session: AsyncSession, targets: list[Target]) -> None:
    """Audit the sync before it runs: one row per person whose connections it will sync."""
    from somna.cli.lookup import record_cli_people

    active = [target.person_id for target in targets if target.status == "active"]
    if active:
        await record_cli_people(session, "sync.create", "sync", active)
        await session.commit()


async def _main(
    selection: Selection,
    start_date: date | None,
    end_date: date | None,
    concurrency: int,
    as_json: bool,
    wait_busy: float = 0.0,
) -> BatchSummary:
    from somna.batchsync.runner import run_batch
    from somna.config import get_settings

    settings = get_settings()
    async with database(settings) as sessionmaker:
        async with sessionmaker() as session:
            targets = await resolve_targets(session, selection)
            await _record(session, targets)
        if not targets and not as_json:
            errors.print("[yellow]No connection matches: nothing to sync.")
        await check_reachable(settings, {t.provider for t in targets if t.status == "active"})
        return await run_batch(
            settings, sessionmaker, targets, start_date=start_date, end_date=end_date,
            concurrency=concurrency, trigger="cli", out=None if as_json else errors,
            wait_busy=wait_busy,
        )  # fmt: skip


def _check_dates(since: date | None, until: date | None) -> None:
    if since and until and until < since:
        abort("--until is before --since", 2)
    first, last = since or until, until or since
    if first and last and (last - first).days > MAX_SPAN_DAYS:
        abort(f"a sync spans at most {MAX_SPAN_DAYS} days", 2)
    if since and since > date.today() + timedelta(days=1):
        abort("--since is in the future", 2)


def sync(
    org: str | None = typer.Option(None, "--org", help="Organisation id or slug (default: all)."),
    users: list[str] = typer.Option(
        [], "--user", help="Only this person (id, or email with --org); repeat for several."
    ),
    provider: str | None = typer.Option(None, "--provider", help="Only whoop or asleep."),
    since: str | None = typer.Option(
        None, "--since", help="First local date to fetch, YYYY-MM-DD (default: incremental)."
    ),
    until: str | None = typer.Option(None, "--until", help="Last local date, YYYY-MM-DD."),
    concurrency: int = typer.Option(
        8, "--concurrency", "-c", min=1, max=256, help="Connections synced at once."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON summary, nothing else."),
    wait_busy: float = typer.Option(
        0.0,
        "--wait-busy",
        min=0.0,
        max=86_400.0,
        metavar="SECONDS",
        help="Wait this long for a connection another sync is running (default: skip it).",
    ),
) -> None:
    """Sync connections now with a progress bar per person; exit 1 if any run failed.

    A connection a worker (or another ``somna admin sync``) is syncing is skipped, or waited for up
    to ``--wait-busy`` seconds; skipped ones are listed with the reason ``busy`` and do not
    change the exit code.
    """
    from somna.cli.server import prepare_database
    from somna.config import get_settings
    from somna.logging import configure_logging

    if provider is not None and provider not in PROVIDERS:
        abort(f"--provider must be one of {', '.join(PROVIDERS)}, not {provider!r}", 2)
    start_date, end_date = date_option(since, "--since"), date_option(until, "--until")
    _check_dates(start_date, end_date)
    prepare_database(migrate=False)
    configure_logging("WARNING", get_settings().log_format)
    selection = Selection(org, tuple(users), provider)
    try:
        summary = asyncio.run(
            _main(selection, start_date, end_date, concurrency, as_json, wait_busy)
        )
    except (SelectionError, NotFoundOnCommandLine) as exc:
        abort(str(exc), USAGE_ERROR)
    except ProviderUnreachable as exc:
        abort(str(exc), 1)
    if as_json:
        print_json(summary.as_json())
    else:
        console.print(summary_table(summary))
        if summary.busy:
            console.print(busy_table(summary))
        if summary.failures:
            console.print(failures_table(summary))
    if summary.failures:
        raise typer.Exit(1)
