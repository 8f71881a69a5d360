"""Operator commands that act on the database directly."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import typer

from somna.cli._output import abort, console, print_json
from somna.cli.lookup import (
    USAGE_ERROR,
    database,
    database_session,
    find_organization,
    record_cli,
    run_command,
)

if TYPE_CHECKING:
    from somna.rotation import ColumnReport

app = typer.Typer(
    help="Operator tasks on the server's database.", no_args_is_help=True, rich_markup_mode=None
)
orgs_app = typer.Typer(help="Organisations.", no_args_is_help=True, rich_markup_mode=None)
accounts_app = typer.Typer(
    help="Accounts (people who sign in).", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(orgs_app, name="orgs")
app.add_typer(accounts_app, name="accounts")
audit_app = typer.Typer(
    help="The audit log (append-only, hash-chained).", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(audit_app, name="audit")
AS_JSON = typer.Option(False, "--json", help="Print JSON, nothing else.")


async def _create_org(name: str, email: str, password: str, slug: str | None) -> dict[str, str]:
    from somna.orgs.service import create_organization

    async with database_session() as session:
        created = await create_organization(
            session, name=name, owner_email=email, owner_password=password, slug=slug
        )
        organization_id = created.organization.id
        await record_cli(session, organization_id, "organizations.create", "organizations",
                         str(organization_id))  # fmt: skip
        await session.commit()
        return {
            "organization_id": str(created.organization.id),
            "slug": created.organization.slug,
            "owner_account_id": str(created.owner.id),
            "is_operator": str(created.organization.is_operator).lower(),
        }


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

    if len(owner_password) < MIN_PASSWORD_LENGTH:
        abort(f"--owner-password must be at least {MIN_PASSWORD_LENGTH} characters", USAGE_ERROR)
    if "@" not in owner_email:
        abort("--owner-email must be an email address", USAGE_ERROR)
    result = run_command(_create_org(name, owner_email, owner_password, slug))
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
    from somna.logging import configure_logging
    from somna.orgs.repository import OrganizationRepository
    from somna.rotation import reencrypt_all

    settings = get_settings()
    # Log lines go to stderr (and only warnings), so that --json leaves stdout to the report.
    configure_logging("WARNING", settings.log_format)
    async with database(settings) as sessionmaker:
        reports = await reencrypt_all(settings, sessionmaker)
        # Every organisation's secrets were read and rewritten: a row in each one's trail.
        async with sessionmaker() as session:
            for organization in await OrganizationRepository(session).list_all():
                await record_cli(session, organization.id, "secrets.reencrypt", "secrets")
            await session.commit()
        return reports


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


async def _organizations() -> list[dict[str, Any]]:
    from somna.orgs.repository import OrganizationRepository

    async with database_session() as session:
        rows = await OrganizationRepository(session).list_all()
        return [
            {"id": str(row.id), "slug": row.slug, "name": row.name,
             "is_operator": row.is_operator, "created_at": row.created_at.isoformat()}
            for row in rows
        ]  # fmt: skip


@orgs_app.command("list")
def list_orgs(as_json: bool = AS_JSON) -> None:
    """Every organisation, the operator organisation first."""
    rows = run_command(_organizations())
    if as_json:
        print_json(rows)
        return
    for row in rows:
        operator = "  (operator)" if row["is_operator"] else ""
        console.print(f"[bold]{row['slug']}[/]  {row['name']}{operator}", soft_wrap=True)
        console.print(f"  id: {row['id']}")


async def _accounts(org: str) -> list[dict[str, Any]]:
    from somna.auth.service import list_accounts
    from somna.cli.lookup import owner_of

    async with database_session() as session:
        organization = await find_organization(session, org)
        rows = await list_accounts(session, owner_of(organization))
        await record_cli(session, organization.id, "accounts.read", "accounts")
        await session.commit()
        return [
            {"id": str(row.id), "email": row.email, "role": row.role,
             "person_id": str(row.person_id) if row.person_id else None,
             "is_active": row.is_active,
             "last_login_at": row.last_login_at.isoformat() if row.last_login_at else None}
            for row in rows
        ]  # fmt: skip


@accounts_app.command("list")
def list_accounts_command(
    org: str = typer.Option(..., "--org", help="Organisation id or slug."), as_json: bool = AS_JSON
) -> None:
    """The organisation's accounts, oldest first."""
    rows = run_command(_accounts(org))
    if as_json:
        print_json(rows)
        return
    for row in rows:
        console.print(f"[bold]{row['email']}[/]  {row['role']}", soft_wrap=True)
        console.print(f"  id:         {row['id']}")
        if row["person_id"]:
            console.print(f"  person:     {row['person_id']}")
        console.print(f"  last login: {row['last_login_at'] or 'never'}")


async def _reset_password(email: str, password: str) -> str:
    from somna.auth.service import reset_password

    async with database_session() as session:
        account = await reset_password(session, email, password)
        await record_cli(session, account.organization_id, "accounts.reset_password", "accounts",
                         str(account.id), account.person_id)  # fmt: skip
        await session.commit()
        return str(account.id)


@accounts_app.command("reset-password")
def reset_password_command(
    email: str = typer.Option(..., "--email", help="The account's email."),
    password: str = typer.Option(
        ..., "--password", prompt=True, hide_input=True, confirmation_prompt=True,
        help="The new password (prompted when omitted).",
    ),
) -> None:  # fmt: skip
    """Set an account's password and sign it out everywhere."""
    from somna.auth.passwords import MIN_PASSWORD_LENGTH

    if len(password) < MIN_PASSWORD_LENGTH:
        abort(f"--password must be at least {MIN_PASSWORD_LENGTH} characters", USAGE_ERROR)
    account_id = run_command(_reset_password(email, password))
    console.print(f"Password reset for {email} ({account_id}); its sessions were ended.")


async def _verify(org: str | None) -> list[dict[str, Any]]:
    from somna.audit.service import chained_organizations, verify_chain

    async with database_session() as session:
        if org is not None:
            organization_ids = [(await find_organization(session, org)).id]
        else:
            organization_ids = await chained_organizations(session)
        reports = [await verify_chain(session, item) for item in organization_ids]
        return [
            {"organization_id": str(report.organization_id), "rows": report.rows,
             "intact": report.intact, "problems": report.problems}
            for report in reports
        ]  # fmt: skip


@audit_app.command("verify")
def verify_audit(
    org: str | None = typer.Option(None, "--org", help="Organisation id or slug (default: all)."),
    as_json: bool = AS_JSON,
) -> None:
    """Walk the hash chains; exit 1 when a row was removed or edited."""
    reports = run_command(_verify(org))
    broken = [report for report in reports if not report["intact"]]
    if as_json:
        print_json({"organizations": reports, "intact": not broken})
    else:
        for report in reports:
            state = "intact" if report["intact"] else "BROKEN"
            console.print(f"{report['organization_id']}: {report['rows']} rows, {state}")
            for problem in report["problems"]:
                console.print(f"  {problem}", soft_wrap=True)
    if broken:
        raise typer.Exit(1)


def _register_database_commands() -> None:
    """The batch sync, the export to files and key bootstrap, straight on the database."""
    from somna.cli import export, keys, sync

    app.command("sync")(sync.sync)
    app.command("export")(export.export)
    app.add_typer(keys.app, name="keys")


_register_database_commands()
