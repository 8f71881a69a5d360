"""Commands that run the server itself: serve and db."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from somna.cli._output import abort, console

if TYPE_CHECKING:
    from somna.config import Settings

db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)


def _settings() -> Settings:
    from somna.config import ConfigurationError, get_settings

    try:
        return get_settings()
    except ConfigurationError as exc:
        abort(str(exc), 2)


def _migrate(settings: Settings, revision: str = "head") -> None:
    """Somna's migrations, then (on PostgreSQL) Procrastinate's own tables."""
    import asyncio

    from somna import migrations

    migrations.upgrade(settings.database_url, revision)
    if not settings.is_sqlite:
        from somna.jobs.distributed import ensure_schema

        asyncio.run(ensure_schema(settings.database_url))


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    from somna import migrations

    settings = _settings()
    _migrate(settings, revision)
    console.print(
        f"Database at revision [bold]{migrations.current_revision(settings.database_url)}[/]"
    )


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="Target revision, or 'base'.")) -> None:
    """Revert migrations down to REVISION."""
    from somna import migrations

    settings = _settings()
    migrations.downgrade(settings.database_url, revision)
    current = migrations.current_revision(settings.database_url) or "base"
    console.print(f"Database at revision [bold]{current}[/]")


@db_app.command("current")
def db_current() -> None:
    """Show the database's revision and the latest one shipped."""
    from somna import migrations

    settings = _settings()
    current = migrations.current_revision(settings.database_url)
    head = migrations.head_revision()
    console.print(f"current: {current or 'base'}\nhead:    {head}")
    if current != head:
        raise typer.Exit(1)


def prepare_database(migrate: bool) -> None:
    """Embedded mode migrates itself; distributed mode must be migrated on purpose."""
    from somna import migrations

    settings = _settings()
    if settings.is_sqlite or migrate:
        _migrate(settings)
        return
    current = migrations.current_revision(settings.database_url)
    if current != migrations.head_revision():
        abort(
            f"database is at revision {current or 'base'}, not the latest; "
            "run `somna db upgrade` first or pass --migrate",
            2,
        )


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to bind."),
    port: int = typer.Option(8000, help="Port to bind."),
    workers: int = typer.Option(1, min=1, help="Server processes (needs PostgreSQL above 1)."),
    migrate: bool = typer.Option(False, help="Apply migrations first (PostgreSQL)."),
) -> None:
    """Serve the API (and, in the embedded mode, run the background worker in-process)."""
    import uvicorn

    settings = _settings()
    if workers > 1 and settings.is_sqlite:
        abort("several workers need PostgreSQL: the embedded mode runs one process", 2)
    prepare_database(migrate)
    console.print(f"Somna serving on [bold]http://{host}:{port}[/] ({settings.run_mode} mode)")
    uvicorn.run(
        "somna.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(db_app, name="db")
