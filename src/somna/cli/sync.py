"""``somna admin sync``: sync people's connections now, in this process, with a bar per person.

The runs are the same rows and the same engine as the workers' (``GET /sync-runs`` shows them
with trigger ``cli``), paced by the provider budget; this command only drives them in-process
and reports. The bars and the summary here are reused by ``somna demo``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from somna.cli._output import abort, console, errors, print_json
from somna.cli.lookup import (
    USAGE_ERROR,
    NotFoundOnCommandLine,
    as_uuid,
    find_organization,
    find_person,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from somna.config import Settings
    from somna.sync.engine import SyncProgress
    from somna.sync.pacer import Pacer
    from somna.sync.service import SyncOutcome

PROVIDERS = ("whoop", "asleep")
BUSY = "busy"  # the reason a connection another sync held was skipped (as the service says)
COLLECTIONS = ("sleep", "recovery", "cycles", "workouts", "body_measurements")
# Connections in these states are not synced, but the operator asked for them: say why.
STUCK_STATUSES = ("reauthorization_required", "error")
MAX_SPAN_DAYS = 3650
# Past this many connections, finished bars are hidden so the screen shows the live ones.
KEEP_FINISHED_BARS = 24


class SelectionError(Exception):
    """An option names something that does not exist or cannot be combined."""


@dataclass(frozen=True)
class Selection:
    org: str | None = None
    users: tuple[str, ...] = ()
    provider: str | None = None


@dataclass(frozen=True)
class Target:
    """One connection to sync, with who it belongs to (for bars and the summary)."""

    connection_id: uuid.UUID
    person_id: uuid.UUID
    email: str
    provider: str
    status: str


# --- choosing the connections ---------------------------------------------------------------


async def resolve_targets(session: AsyncSession, selection: Selection) -> list[Target]:
    """Active and stuck connections matching the selection, oldest first."""
    from somna.connections.repository import ConnectionRepository
    from somna.models import Connection, Person

    organization = None
    if selection.org is not None:
        organization = await find_organization(session, selection.org)
    organization_id = organization.id if organization else None
    people: list[uuid.UUID | None] = []
    for user in selection.users:
        if organization is not None:
            people.append((await find_person(session, organization, user)).id)
            continue
        user_id = as_uuid(user)
        if user_id is None:
            raise SelectionError(f"--user {user!r} is an email: name the organisation with --org.")
        person = await session.get(Person, user_id)
        if person is None:
            raise NotFoundOnCommandLine(f"No person {user!r}.")
        people.append(person.id)
    ids: list[uuid.UUID] = []
    repository = ConnectionRepository(session)
    for person_id in dict.fromkeys(people) or [None]:
        ids += await repository.ids_matching(
            organization_id=organization_id,
            person_id=person_id,
            provider=selection.provider,
            statuses=("active", *STUCK_STATUSES),
        )
    targets: list[Target] = []
    for connection_id in dict.fromkeys(ids):
        connection = await session.get(Connection, connection_id)
        owner = await session.get(Person, connection.person_id) if connection else None
        if connection is None or owner is None:
            continue
        targets.append(
            Target(connection.id, owner.id, owner.email, connection.provider, connection.status)
        )
    return targets


# --- progress ---------------------------------------------------------------------------------


class SyncBars:
    """A bar per connection (its collections done), with pages and records as they commit."""

    def __init__(self, progress: Progress, targets: list[Target]) -> None:
        from somna.providers.registry import capabilities

        self.progress = progress
        self.hide_finished = len(targets) > KEEP_FINISHED_BARS
        self.overall = progress.add_task(
            "[bold]everyone", total=len(targets), pages=0, records=0, state=""
        )
        self.tasks: dict[uuid.UUID, TaskID] = {}
        self.order: dict[uuid.UUID, tuple[str, ...]] = {}
        self.done: set[uuid.UUID] = set()
        self.totals: dict[uuid.UUID, tuple[int, int]] = {}
        for target in targets:
            collections = tuple(capabilities(target.provider).collections)
            self.order[target.connection_id] = collections
            self.tasks[target.connection_id] = progress.add_task(
                f"{target.email} [dim]{target.provider}[/]",
                total=len(collections),
                pages=0,
                records=0,
                state="waiting",
            )

    def __call__(self, event: SyncProgress) -> None:
        task = self.tasks.get(event.connection_id)
        if task is None:
            return
        collections = self.order[event.connection_id]
        self.totals[event.connection_id] = (event.pages, event.records)
        fields: dict[str, Any] = {"pages": event.pages, "records": event.records}
        if not event.done:
            if event.collection in collections:
                fields["completed"] = collections.index(event.collection)
            fields["state"] = event.collection or "starting"
        elif event.status == "succeeded":
            fields.update(completed=len(collections), state="[green]succeeded")
        else:
            fields["state"] = f"[red]{event.status}"
        self.progress.update(task, **fields)
        pages, records = (sum(values) for values in zip(*self.totals.values(), strict=True))
        self.progress.update(self.overall, pages=pages, records=records)
        if event.done and event.connection_id not in self.done:
            self.done.add(event.connection_id)
            self.progress.advance(self.overall)
            if self.hide_finished and event.status == "succeeded":
                self.progress.update(task, visible=False)

    def busy(self, connection_id: uuid.UUID) -> None:
        task = self.tasks.get(connection_id)
        if task is None or connection_id in self.done:
            return
        self.done.add(connection_id)
        self.progress.update(task, state=f"[yellow]{BUSY}")
        self.progress.advance(self.overall)

    def skipped(self, target: Target) -> None:
        task = self.tasks[target.connection_id]
        self.progress.update(task, state=f"[red]{target.status.replace('_', ' ')}")
        self.progress.advance(self.overall)


WIDE_CONSOLE = 120


def sync_progress(out: Console) -> Progress:
    """A bar per person; on a narrow console (80 columns, a log file) fewer columns, so that
    emails and states stay whole."""
    if out.width < WIDE_CONSOLE:
        return Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=8),
            TextColumn("{task.fields[records]:>6} rec"),
            TextColumn("[dim]{task.fields[state]}"),
            console=out,
        )
    return Progress(
        SpinnerColumn(finished_text=" "),
        TextColumn("{task.description}"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TextColumn("{task.fields[pages]:>4} pages {task.fields[records]:>6} records"),
        TextColumn("[dim]{task.fields[state]}"),
        TimeElapsedColumn(),
        console=out,
    )


# --- the summary ------------------------------------------------------------------------------


@dataclass
class RunLine:
    """What one connection's run did."""

    person_id: uuid.UUID
    email: str
    provider: str
    status: str
    run_id: uuid.UUID | None = None
    records: dict[str, int] = field(default_factory=dict)
    pages: int = 0
    requests: int = 0
    retries: int = 0
    error: str | None = None

    @property
    def busy(self) -> bool:
        return self.status == "skipped" and self.error == BUSY

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": str(self.run_id) if self.run_id else None,
            "user_id": str(self.person_id),
            "email": self.email,
            "provider": self.provider,
            "status": self.status,
            "records": self.records,
            "pages": self.pages,
            "requests": self.requests,
            "retries": self.retries,
            "error": self.error,
        }


@dataclass
class BatchSummary:
    lines: list[RunLine]
    seconds: float

    @property
    def failures(self) -> list[RunLine]:
        return [line for line in self.lines if line.status != "succeeded" and not line.busy]

    @property
    def busy(self) -> list[RunLine]:
        """Connections skipped because another sync held them: not a failure."""
        return [line for line in self.lines if line.busy]

    @property
    def people(self) -> int:
        return len({line.person_id for line in self.lines})

    def records(self) -> dict[str, int]:
        totals: Counter[str] = Counter({name: 0 for name in COLLECTIONS})
        for line in self.lines:
            totals.update(line.records)
        return dict(totals)

    def total(self, attribute: str) -> int:
        return sum(int(getattr(line, attribute)) for line in self.lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "people": self.people,
            "connections": len(self.lines),
            "succeeded": len(self.lines) - len(self.failures) - len(self.busy),
            "failed": len(self.failures),
            "skipped": [
                {"email": line.email, "provider": line.provider, "reason": BUSY}
                for line in self.busy
            ],
            "records": self.records(),
            "pages": self.total("pages"),
            "requests": self.total("requests"),
            "retries": self.total("retries"),
            "seconds": round(self.seconds, 2),
            "failures": [
                {
                    "email": line.email,
                    "provider": line.provider,
                    "status": line.status,
                    "error": line.error,
                }
                for line in self.failures
            ],
            "runs": [line.as_json() for line in self.lines],
        }


async def collect_summary(
    sessionmaker: async_sessionmaker[AsyncSession],
    targets: list[Target],
    outcomes: list[SyncOutcome],
    seconds: float,
) -> BatchSummary:
    """The runs' counters as stored (what the API shows), in the targets' order."""
    from somna.models import SyncRun

    by_connection = {outcome.connection_id: outcome for outcome in outcomes}
    lines: list[RunLine] = []
    async with sessionmaker() as session:
        for target in targets:
            outcome = by_connection.get(target.connection_id)
            if outcome is None:
                reason = (
                    "the provider refused the stored authorization: connect again"
                    if target.status == "reauthorization_required"
                    else f"connection is {target.status.replace('_', ' ')}"
                )
                lines.append(
                    RunLine(target.person_id, target.email, target.provider, "skipped", None,
                            error=reason)
                )  # fmt: skip
                continue
            run = await session.get(SyncRun, outcome.run_id) if outcome.run_id else None
            counts = run.counts if run is not None else {}
            lines.append(
                RunLine(
                    person_id=target.person_id,
                    email=target.email,
                    provider=target.provider,
                    status=outcome.status,
                    run_id=outcome.run_id,
                    records={
                        name: int(value.get("records", 0))
                        for name, value in counts.items()
                        if isinstance(value, dict)
                    },
                    pages=run.pages if run is not None else 0,
                    requests=run.requests if run is not None else 0,
                    retries=run.retries if run is not None else 0,
                    error=outcome.error,
                )
            )
    return BatchSummary(lines, seconds)


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


async def run_batch(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    targets: list[Target],
    *,
    start_date: date | None,
    end_date: date | None,
    concurrency: int,
    trigger: str,
    out: Console | None,
    pacer: Pacer | None = None,
    wait_busy: float = 0.0,
) -> BatchSummary:
    """Sync ``targets`` with bars on ``out`` (none: quietly); ``pacer`` defaults to a new one."""
    from somna.sync.engine import SyncServices
    from somna.sync.pacer import create_pacer
    from somna.sync.service import sync_connections

    own_pacer = pacer is None
    services = SyncServices(settings, sessionmaker, pacer or create_pacer(settings))
    active = [target.connection_id for target in targets if target.status == "active"]
    started = time.monotonic()
    try:
        if out is None:
            outcomes = await sync_connections(
                services, active, start_date=start_date, end_date=end_date, trigger=trigger,
                concurrency=concurrency, wait_busy=wait_busy,
            )  # fmt: skip
        else:
            with sync_progress(out) as progress:
                bars = SyncBars(progress, targets)
                for target in targets:
                    if target.status != "active":
                        bars.skipped(target)
                outcomes = await sync_connections(
                    services, active, start_date=start_date, end_date=end_date, trigger=trigger,
                    concurrency=concurrency, progress=bars, wait_busy=wait_busy,
                )  # fmt: skip
                for outcome in outcomes:
                    if outcome.run_id is None:
                        bars.busy(outcome.connection_id)
    finally:
        if own_pacer:
            await services.pacer.aclose()
    return await collect_summary(sessionmaker, targets, outcomes, time.monotonic() - started)


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
    from somna.config import get_settings
    from somna.db import create_engine, create_sessionmaker

    settings = get_settings()
    engine = create_engine(settings.database_url)
    try:
        sessionmaker = create_sessionmaker(engine)
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
    finally:
        await engine.dispose()


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        abort(f"{option} must be a date such as 2026-03-01, not {value!r}", 2)


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
    start_date, end_date = _date(since, "--since"), _date(until, "--until")
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
