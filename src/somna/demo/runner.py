"""One demo run, start to finish: identity, Somna served on loopback for the connect flows,
enrolment over HTTP, the sync with bars, the exports and the per-person summary."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from somna.app import create_app
from somna.batchsync.runner import run_batch
from somna.batchsync.summary import BatchSummary
from somna.batchsync.targets import sync_targets
from somna.config import DEMO_ENV_FILE, Settings
from somna.db import create_engine, create_sessionmaker
from somna.demo.cast import DemoPerson
from somna.demo.enroll import CALLBACK_PATH, DemoClient, enroll
from somna.demo.identity import (
    DemoIdentity,
    active_connections,
    cancel_queued_runs,
    prepare_identity,
)
from somna.demo.summary import PersonSummary, summarise
from somna.demo.world import DemoWorld
from somna.exports.columns import FORMATS
from somna.exports.exporter import ExportResult, run_export
from somna.exports.repository import ExportScope
from somna.pacing import MemoryPacer, Pacer, create_pacer
from somna.sandbox.runner import ThreadedServer, free_port

SYNC_CONCURRENCY = 12


@dataclass(frozen=True)
class DemoOptions:
    people: int
    days: int
    out: Path
    requests_per_minute: int


@dataclass
class DemoResult:
    identity: DemoIdentity
    sync: BatchSummary
    export: ExportResult
    people: list[PersonSummary]
    seconds: dict[str, float] = field(default_factory=dict)
    reused_people: int = 0  # people an earlier run created, found again

    def reuse_note(self) -> str | None:
        """What a second run in the same folder kept and what it reset; None on a first run."""
        if self.identity.created:
            return None
        added = len(self.people) - self.reused_people
        return (
            f"Reused the demo organisation from an earlier run: {self.reused_people} people "
            f"kept (their records updated, not duplicated), {added} added. Reset: the owner's "
            f"password, and {self.identity.keys_revoked} earlier demo API key(s) revoked for "
            "the new one below. Delete .somna/ to start from nothing."
        )


def somna_settings(world: DemoWorld, base: Settings, public_url: str, **extra: Any) -> Settings:
    """Somna pointed at the sandboxes, reached at ``public_url`` (the OAuth redirect too).

    Jobs use the embedded queue even on PostgreSQL: the sandboxes live in this process, so its
    own worker must run the syncs and webhooks they cause, not a `somna worker` elsewhere.
    """
    return world.settings_for(
        base,
        public_url=public_url,
        whoop_redirect_uri=f"{public_url}{CALLBACK_PATH}",
        job_queue="embedded",
        **extra,
    )


def write_demo_env(settings: Settings) -> Path:
    """Record where the demo's sandboxes live, so that commands run in this folder (``somna
    sync``) reach them while the demo runs, and say so plainly when it does not."""
    values = {
        "SOMNA_WHOOP_API_BASE": settings.whoop_api_base,
        "SOMNA_WHOOP_OAUTH_BASE": settings.whoop_oauth_base,
        "SOMNA_WHOOP_CLIENT_ID": settings.whoop_client_id,
        "SOMNA_WHOOP_CLIENT_SECRET": settings.whoop_client_secret.get_secret_value(),
        "SOMNA_ASLEEP_API_BASE": settings.asleep_api_base,
        "SOMNA_ASLEEP_API_KEY": settings.asleep_api_key.get_secret_value(),
        "SOMNA_WHOOP_REQUESTS_PER_MINUTE": str(settings.whoop_requests_per_minute),
        "SOMNA_ASLEEP_REQUESTS_PER_MINUTE": str(settings.asleep_requests_per_minute),
    }
    DEMO_ENV_FILE.parent.mkdir(parents=True, exist_ok=True)
    header = "# Written by `somna demo`: its provider sandboxes (they run while it runs).\n"
    DEMO_ENV_FILE.write_text(header + "".join(f"{k}={v}\n" for k, v in values.items()))
    DEMO_ENV_FILE.chmod(0o600)  # sandbox credentials only, but still credentials
    return DEMO_ENV_FILE


def serve_somna(settings: Settings, host: str, port: int) -> ThreadedServer:
    """Somna's API in a background thread (uvicorn; the embedded worker per ``settings``)."""
    app = create_app(settings)
    # The demo's console holds the summary and the login; a line per background job (the
    # schedule ticks every minute) would bury them. Requests and warnings still show.
    logging.getLogger("somna.jobs").setLevel(logging.WARNING)
    server = ThreadedServer(app, host=host, port=port)
    server.start()
    return server


async def run_demo(
    world: DemoWorld, base: Settings, options: DemoOptions, console: Console
) -> DemoResult:
    people = world.people
    port = free_port()
    # While setting up, no worker runs in the app: the sync happens here, with bars.
    settings = somna_settings(
        world, base, f"http://127.0.0.1:{port}", worker_in_app=False, log_level="WARNING"
    )
    engine = create_engine(settings.database_url)
    pacer = create_pacer(settings)
    seconds: dict[str, float] = {}
    try:
        sessionmaker = create_sessionmaker(engine)
        identity = await prepare_identity(sessionmaker, settings)
        app = create_app(settings)
        app_server = ThreadedServer(app, host="127.0.0.1", port=port)
        app_server.start()
        try:
            if isinstance(pacer, MemoryPacer):
                # One budget for the connect calls (made by the app) and the sync (made here);
                # a Redis pacer is shared through Redis already.
                app.state.pacer = pacer
            client = DemoClient(app_server.url, identity.api_key)
            try:
                started = time.monotonic()
                known = await client.people()
                reused = sum(1 for person in people if person.email in known)
                ids = await _enroll(client, world, console)
                seconds["connect"] = time.monotonic() - started
                started = time.monotonic()
                summary = await _sync(
                    settings, sessionmaker, identity, list(ids.values()), pacer, console
                )
                seconds["sync"] = time.monotonic() - started
                started = time.monotonic()
                scope = ExportScope(identity.organization_id, tuple(ids.values()))
                export = await run_export(
                    sessionmaker, scope, options.out, FORMATS, batch_size=settings.export_batch_size
                )
                seconds["export"] = time.monotonic() - started
                people_summary = await summarise(client, people, ids, options.days)
            finally:
                await client.aclose()
        finally:
            app_server.stop()
    finally:
        await pacer.aclose()
        await engine.dispose()
    return DemoResult(identity, summary, export, people_summary, seconds, reused)


async def _enroll(client: DemoClient, world: DemoWorld, console: Console) -> dict[int, uuid.UUID]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(bar_width=30),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(
            "Connecting people (OAuth and Asleep links)", total=len(world.people)
        )

        def done(_person: DemoPerson) -> None:
            progress.advance(task)

        return await enroll(client, world, world.people, done)


async def _sync(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    identity: DemoIdentity,
    person_ids: list[uuid.UUID],
    pacer: Pacer,
    console: Console,
) -> BatchSummary:
    connections = await active_connections(sessionmaker, identity.organization_id, person_ids)
    await cancel_queued_runs(sessionmaker, connections)
    async with sessionmaker() as session:
        targets = await sync_targets(
            session, organization_id=identity.organization_id, person_ids=person_ids
        )
    return await run_batch(
        settings, sessionmaker, targets, start_date=None, end_date=None,
        concurrency=SYNC_CONCURRENCY, trigger="cli", out=console, pacer=pacer,
    )  # fmt: skip
