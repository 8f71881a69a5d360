"""``somna worker``: run background jobs (syncs, webhooks, exports) in this process."""

from __future__ import annotations

import asyncio

import typer

from somna.cli._output import abort, console


def worker(
    concurrency: int | None = typer.Option(
        None,
        "--concurrency",
        "-c",
        min=1,
        max=256,
        help="Jobs run at once (default: SOMNA_WORKER_CONCURRENCY).",
    ),
) -> None:
    """Run background jobs until stopped (Ctrl-C or SIGTERM finish running jobs first)."""
    from somna import migrations
    from somna.config import ConfigurationError, get_settings
    from somna.jobs.runtime import run_worker_process

    try:
        settings = get_settings()
        backend = settings.job_backend
    except ConfigurationError as exc:
        abort(str(exc), 2)
    if settings.is_sqlite:
        # The embedded database migrates itself, whichever process starts first.
        migrations.upgrade(settings.database_url)
    elif migrations.current_revision(settings.database_url) != migrations.head_revision():
        abort("the database is not at the latest revision; run `somna db upgrade` first", 2)
    slots = concurrency or settings.worker_concurrency
    console.print(
        f"Somna worker: {backend} queue, {slots} concurrent jobs ({settings.run_mode} mode)"
    )
    asyncio.run(run_worker_process(settings, concurrency=slots))
