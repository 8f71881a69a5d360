"""``somna admin keys``: make API keys in the server's database (for bootstrapping)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import typer

from somna.cli._output import abort, console, print_json
from somna.cli.lookup import (
    USAGE_ERROR,
    database_session,
    find_organization,
    owner_of,
    record_cli,
    run_command,
)

app = typer.Typer(
    help="API keys, made directly in the server's database.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _split(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


async def _create(org: str, fields: dict[str, Any]) -> dict[str, Any]:
    from somna.config import get_settings
    from somna.keys.schemas import KeyCreated
    from somna.keys.service import create_api_key

    async with database_session() as session:
        organization = await find_organization(session, org)
        created = await create_api_key(
            session, get_settings(), organization_id=organization.id, **fields
        )
        result = KeyCreated.of_created(created).model_dump(mode="json")
        await record_cli(session, organization.id, "keys.create", "keys", result["id"])
        await session.commit()
        return result


async def _list(org: str) -> list[dict[str, Any]]:
    from somna.keys.schemas import KeyOut
    from somna.keys.service import list_keys

    async with database_session() as session:
        organization = await find_organization(session, org)
        rows = await list_keys(session, owner_of(organization))
        await record_cli(session, organization.id, "keys.read", "keys")
        await session.commit()
        return [KeyOut.of(row).model_dump(mode="json") for row in rows]


async def _rotate(org: str, key_id: uuid.UUID, grace_seconds: int | None) -> dict[str, Any]:
    from somna.config import get_settings
    from somna.keys.schemas import KeyCreated
    from somna.keys.service import rotate_key

    async with database_session() as session:
        organization = await find_organization(session, org)
        created = await rotate_key(
            session, get_settings(), None, owner_of(organization), key_id, grace_seconds
        )
        await record_cli(session, organization.id, "keys.rotate", "keys", str(key_id))
        await session.commit()
        return KeyCreated.of_created(created).model_dump(mode="json")


async def _revoke(org: str, key_id: uuid.UUID) -> dict[str, Any]:
    from somna.keys.schemas import KeyOut
    from somna.keys.service import revoke_key

    async with database_session() as session:
        organization = await find_organization(session, org)
        row = await revoke_key(session, None, owner_of(organization), key_id)
        await record_cli(session, organization.id, "keys.revoke", "keys", str(key_id))
        await session.commit()
        return KeyOut.of(row).model_dump(mode="json")


def _print_secrets(created: dict[str, Any], title: str) -> None:
    """The key and its signing secret, each whole on a line of its own (shown once)."""
    console.print(f"{title} [bold]{created['name']}[/] ({created['id']})")
    console.print("  key:")
    console.print(f"    {created['key']}", soft_wrap=True)
    console.print("  signing_secret:")
    console.print(f"    {created['signing_secret']}", soft_wrap=True)
    console.print(f"  grants: {created['permissions']} x {created['scopes']}")
    console.print("Store both now: Somna keeps only a hash of the key and shows them once.")


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
        abort("--scopes needs at least one scope", USAGE_ERROR)
    created = run_command(_create(org, fields))
    if as_json:
        print_json(created)
        return
    _print_secrets(created, "API key")


ORG = typer.Option(..., "--org", help="Organisation id or slug.")
AS_JSON = typer.Option(False, "--json", help="Print JSON, nothing else.")


@app.command("list")
def list_(org: str = ORG, as_json: bool = AS_JSON) -> None:
    """List the organisation's keys, newest first (never a secret)."""
    keys = run_command(_list(org))
    if as_json:
        print_json(keys)
        return
    # One block per key rather than a table: ids and grants stay whole at 80 columns.
    for key in keys:
        state = "revoked" if key["revoked_at"] else "active" if key["is_active"] else "inactive"
        console.print(f"[bold]{key['name']}[/]  {key['prefix']}...{key['last4']}  {state}")
        console.print(f"  id:        {key['id']}", soft_wrap=True)
        console.print(f"  grants:    {key['permissions']} x {key['scopes']}", soft_wrap=True)
        console.print(f"  last used: {key['last_used_at'] or 'never'}")
    if not keys:
        console.print("No API keys.")


@app.command("rotate")
def rotate(
    key_id: uuid.UUID = typer.Argument(..., help="The key's id."),
    org: str = ORG,
    grace_seconds: int | None = typer.Option(
        None, min=0, max=2_592_000, help="How long the old key keeps working (default 1 day)."
    ),
    as_json: bool = AS_JSON,
) -> None:
    """Replace a key with a new one of the same grants; the new key and secret are printed once."""
    created = run_command(_rotate(org, key_id, grace_seconds))
    if as_json:
        print_json(created)
        return
    _print_secrets(created, "Rotated: new API key")


@app.command("revoke")
def revoke(
    key_id: uuid.UUID = typer.Argument(..., help="The key's id."),
    org: str = ORG,
    as_json: bool = AS_JSON,
) -> None:
    """Revoke a key at once."""
    revoked = run_command(_revoke(org, key_id))
    if as_json:
        print_json(revoked)
        return
    console.print(f"Revoked API key [bold]{revoked['name']}[/] ({revoked['id']}).")
