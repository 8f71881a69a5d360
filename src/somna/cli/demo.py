"""``somna demo``: the README's main job, on the embedded default."""

from __future__ import annotations

import asyncio
import secrets

import typer

from somna.cli._output import console

DEMO_ORG_NAME = "Somna Demo"
DEMO_OWNER_EMAIL = "owner@demo.somna.local"


async def _prepare_demo_org() -> tuple[str, str]:
    """Create the demo organisation once; give its owner a fresh password on every run."""
    from somna.auth.passwords import hash_password
    from somna.auth.repository import AccountRepository
    from somna.config import get_settings
    from somna.db import create_engine, create_sessionmaker
    from somna.orgs.service import create_organization

    password = secrets.token_urlsafe(12)
    engine = create_engine(get_settings().database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            owner = await AccountRepository(session).get_by_email(DEMO_OWNER_EMAIL)
            if owner is None:
                created = await create_organization(
                    session,
                    name=DEMO_ORG_NAME,
                    owner_email=DEMO_OWNER_EMAIL,
                    owner_password=password,
                )
                organization_id = str(created.organization.id)
            else:
                owner.password_hash = await hash_password(password)
                organization_id = str(owner.organization_id)
            await session.commit()
    finally:
        await engine.dispose()
    return organization_id, password


def demo(
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the API afterwards."),
    host: str = typer.Option("127.0.0.1", help="Address to bind."),
    port: int = typer.Option(8000, help="Port to bind."),
) -> None:
    """Set up a demo organisation on the embedded database, then serve the API."""
    from somna.cli.server import prepare_database
    from somna.cli.server import serve as serve_command

    prepare_database(migrate=True)
    organization_id, password = asyncio.run(_prepare_demo_org())
    console.rule("[bold]Somna demo")
    console.print(f"Organisation: {DEMO_ORG_NAME} ({organization_id})")
    console.print(f"Owner login:  {DEMO_OWNER_EMAIL} / {password}")
    if serve:
        console.print(f"API docs:     http://{host}:{port}/docs")
        serve_command(host=host, port=port, workers=1, migrate=False)
