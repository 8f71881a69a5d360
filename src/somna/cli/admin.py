"""Operator commands that act on the database directly."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import typer

from somna.cli._output import abort, console, print_json

if TYPE_CHECKING:
    from somna.rotation import ColumnReport

app = typer.Typer(help="Operator tasks on the server's database.", no_args_is_help=True)


async def _create_org(name: str, email: str, password: str, slug: str | None) -> dict[str, str]:
    from somna.config import get_settings
    from somna.db import create_engine, create_sessionmaker
    from somna.orgs.service import create_organization

    engine = create_engine(get_settings().database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            created = await create_organization(
                session, name=name, owner_email=email, owner_password=password, slug=slug
            )
            await session.commit()
            return {
                "organization_id": str(created.organization.id),
                "slug": created.organization.slug,
                "owner_account_id": str(created.owner.id),
                "is_operator": str(created.organization.is_operator).lower(),
            }
    finally:
        await engine.dispose()


@app.command("create-org")
def create_org(
    name: str = typer.Option(..., help="Organisation name."),
    owner_email: str = typer.Option(..., help="Email of the owner account."),
    owner_password: str = typer.Option(..., help="Password of the owner account."),
    slug: str | None = typer.Option(None, help="URL slug (default: from the name)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object, nothing else."),
) -> None:
    """Create an organisation and its owner; the first one is the operator organisation."""
    from somna.auth.passwords import MIN_PASSWORD_LENGTH
    from somna.cli.server import prepare_database
    from somna.errors import SomnaError

    if len(owner_password) < MIN_PASSWORD_LENGTH:
        abort(f"--owner-password must be at least {MIN_PASSWORD_LENGTH} characters", 2)
    if "@" not in owner_email:
        abort("--owner-email must be an email address", 2)
    prepare_database(migrate=False)
    try:
        result = asyncio.run(_create_org(name, owner_email, owner_password, slug))
    except SomnaError as exc:
        abort(exc.detail, 1)
    if as_json:
        print_json({**result, "is_operator": result["is_operator"] == "true"})
        return
    console.print(f"Organisation [bold]{name}[/] ({result['slug']})")
    console.print(f"  organization_id:  {result['organization_id']}")
    console.print(f"  owner_account_id: {result['owner_account_id']}")
    if result["is_operator"] == "true":
        console.print("  This is the operator organisation: its owners can create others.")


async def _reencrypt() -> list[ColumnReport]:
    from somna.config import get_settings
    from somna.db import create_engine, create_sessionmaker
    from somna.logging import configure_logging
    from somna.rotation import reencrypt_all

    settings = get_settings()
    # Log lines go to stderr (and only warnings), so that --json leaves stdout to the report.
    configure_logging("WARNING", settings.log_format)
    engine = create_engine(settings.database_url)
    try:
        return await reencrypt_all(settings, create_sessionmaker(engine))
    finally:
        await engine.dispose()


@app.command("reencrypt")
def reencrypt(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document, nothing else."),
) -> None:
    """Rewrite every stored secret under the current SOMNA_SECRET_KEY (after a rotation).

    Safe while servers run, and idempotent. Values no key can read are listed and left alone;
    the exit code is then 1.
    """
    from somna.cli.server import prepare_database

    prepare_database(migrate=False)
    reports = asyncio.run(_reencrypt())
    unreadable = sum(report.unreadable for report in reports)
    if as_json:
        print_json({"columns": [report.as_dict() for report in reports], "unreadable": unreadable})
    else:
        for report in reports:
            console.print(
                f"{report.column}: {report.rewritten} rewritten, {report.current} already "
                f"current, {report.changed_meanwhile} changed meanwhile, "
                f"{report.unreadable} unreadable"
            )
            for row_id in report.unreadable_ids:
                console.print(f"  no key reads the value of row {row_id}: left as it is")
    if unreadable:
        raise typer.Exit(1)
