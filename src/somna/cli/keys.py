"""``somna admin keys``: make API keys in the server's database (for bootstrapping)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

import typer

from somna.cli._output import abort, console, print_json

app = typer.Typer(help="API keys, made directly in the server's database.", no_args_is_help=True)


def _split(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


async def _create(org: str, fields: dict[str, Any]) -> dict[str, Any]:
    from somna.config import get_settings
    from somna.db import create_engine, create_sessionmaker
    from somna.errors import NotFound
    from somna.keys.schemas import KeyCreated
    from somna.keys.service import create_api_key
    from somna.orgs.repository import OrganizationRepository

    settings = get_settings()
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            organizations = OrganizationRepository(session)
            organization = None
            try:
                organization = await organizations.get(uuid.UUID(org))
            except ValueError:
                organization = await organizations.get_by_slug(org)
            if organization is None:
                raise NotFound(f"No organisation with id or slug {org!r}.")
            created = await create_api_key(
                session, settings, organization_id=organization.id, **fields
            )
            await session.commit()
            return KeyCreated.of_created(created).model_dump(mode="json")
    finally:
        await engine.dispose()


@app.command("create")
def create(
    org: str = typer.Option(..., "--org", help="Organisation id or slug."),
    name: str = typer.Option(..., help="A name to recognise the key by."),
    scopes: str = typer.Option(..., help="Comma-separated scopes, e.g. sleep,users or sleep:read."),
    permissions: str = typer.Option("read", help="Comma-separated: read, write."),
    expires_at: datetime | None = typer.Option(
        None, formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"], help="Expiry (UTC if no offset)."
    ),
    allowed_ips: str | None = typer.Option(None, help="Comma-separated addresses or CIDRs."),
    rate_limit_per_minute: int | None = typer.Option(None, min=1),
    package_name: str | None = typer.Option(None, help="Bind a usage-analytics key to a package."),
    events_per_hour: int | None = typer.Option(None, min=1),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object, nothing else."),
) -> None:
    """Create an API key; the key and its signing secret are printed once."""
    from datetime import UTC

    from somna.cli.server import prepare_database
    from somna.errors import SomnaError

    if expires_at is not None and expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    fields: dict[str, Any] = {
        "name": name,
        "scopes": _split(scopes),
        "permissions": _split(permissions),
        "expires_at": expires_at,
        "allowed_ips": _split(allowed_ips) if allowed_ips is not None else None,
        "rate_limit_per_minute": rate_limit_per_minute,
        "package_name": package_name,
        "events_per_hour": events_per_hour,
    }
    if not fields["scopes"]:
        abort("--scopes needs at least one scope", 2)
    prepare_database(migrate=False)
    try:
        created = asyncio.run(_create(org, fields))
    except SomnaError as exc:
        abort(exc.detail, 1)
    if as_json:
        print_json(created)
        return
    console.print(f"API key [bold]{created['name']}[/] ({created['id']})")
    console.print(f"  key:            {created['key']}")
    console.print(f"  signing_secret: {created['signing_secret']}")
    console.print(f"  grants:         {created['permissions']} x {created['scopes']}")
    console.print("Store both now: Somna keeps only a hash of the key and shows them once.")
