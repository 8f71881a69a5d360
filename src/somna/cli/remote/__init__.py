"""The commands that talk to a Somna server through the SDK (``somna_client``)."""

from __future__ import annotations

import typer

from somna.cli.remote import account, operations, people


def register(app: typer.Typer) -> None:
    app.command("login")(account.login)
    app.command("logout")(account.logout)
    app.add_typer(people.users, name="users")
    app.add_typer(people.sleep, name="sleep")
    app.add_typer(people.report, name="report")
    app.command("score")(people.score)
    app.add_typer(operations.sync, name="sync")
    app.add_typer(operations.keys, name="keys")
    app.add_typer(operations.export, name="export")
