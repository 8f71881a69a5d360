"""Operator commands that act on the database directly."""

from __future__ import annotations

import asyncio

import typer

from somna.cli._output import abort, console, print_json

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


def _register_database_commands() -> None:
    """The batch sync, the export to files and key bootstrap, straight on the database."""
    from somna.cli import export, keys, sync

    app.command("sync")(sync.sync)
    app.command("export")(export.export)
    app.add_typer(keys.app, name="keys")


_register_database_commands()
