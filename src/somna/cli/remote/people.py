"""``somna users``, ``somna sleep``, ``somna report`` and ``somna score``."""

from __future__ import annotations

from itertools import islice

import typer

from somna.cli.remote.session import connect, show, show_fields

AS_JSON = typer.Option(False, "--json", help="Print JSON, nothing else.")
USER = typer.Argument(..., help="The person's id (\"me\" for a member's own).")

users = typer.Typer(help="The people whose sleep is tracked.", no_args_is_help=True)
sleep = typer.Typer(help="Sleep sessions.", no_args_is_help=True)
report = typer.Typer(help="Reports.", no_args_is_help=True)

PERSON_COLUMNS = ("id", "email", "timezone", "created_at")


@users.command("list")
def list_users(
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many."),
    as_json: bool = AS_JSON,
) -> None:
    """Every person of the organisation."""
    with connect() as client:
        # Pages are fetched only as far as the limit needs.
        people = list(islice(client.users.list(), limit))
    show(people, PERSON_COLUMNS, as_json=as_json, title="People")


@users.command("show")
def show_user(user_id: str = USER, as_json: bool = AS_JSON) -> None:
    """One person."""
    with connect() as client:
        show_fields(client.users.retrieve(user_id), as_json=as_json)


@users.command("create")
def create_user(
    email: str = typer.Argument(..., help="The person's email."),
    timezone: str | None = typer.Option(None, "--timezone", help="IANA zone, e.g. Europe/Berlin."),
    as_json: bool = AS_JSON,
) -> None:
    """Add a person."""
    with connect() as client:
        show_fields(client.users.create(email, timezone=timezone), as_json=as_json)


@users.command("delete")
def delete_user(
    user_id: str = typer.Argument(..., help="The person's id."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    as_json: bool = AS_JSON,
) -> None:
    """Schedule a person's deletion (signed when using an API key): hidden at once, removed
    with every record of theirs after the server's grace period; `users restore` undoes it."""
    if not yes:
        typer.confirm(f"Delete {user_id} and all their data?", abort=True)
    with connect() as client:
        answer = client.users.delete(user_id)
    if as_json:
        show_fields(answer, as_json=True)
        return
    show_fields(answer, as_json=False, title="Deletion")
    if answer.status == "deletion_scheduled":
        typer.echo(
            f"Hidden now; deleted after {answer.delete_after.isoformat()} "
            f"unless `somna users restore {user_id}` before then."
        )


@users.command("restore")
def restore_user(
    user_id: str = typer.Argument(..., help="The person's id."),
    as_json: bool = AS_JSON,
) -> None:
    """Undo a scheduled deletion within the grace period; the person's syncs resume."""
    with connect() as client:
        show_fields(client.users.restore(user_id), as_json=as_json)


@sleep.command("list")
def list_sleep(
    user_id: str = USER,
    start_date: str | None = typer.Option(None, "--start-date", help="First local date."),
    end_date: str | None = typer.Option(None, "--end-date", help="Last local date."),
    naps: bool = typer.Option(False, "--naps", help="Include naps."),
    as_json: bool = AS_JSON,
) -> None:
    """A person's sleep sessions, newest first."""
    with connect() as client:
        nights = client.sleep.list(
            user_id, start_date=start_date, end_date=end_date, include_naps=naps or None
        ).to_list()
    columns = ("local_date", "provider", "start_at", "asleep_seconds", "efficiency_pct")
    show(nights, columns, as_json=as_json, title=f"Sleep of {user_id}")


@report.command("weekly")
def weekly(
    user_id: str = USER,
    week: str | None = typer.Option(None, "--week", help="A date in the week (default: last)."),
    as_json: bool = AS_JSON,
) -> None:
    """A person's weekly report."""
    with connect() as client:
        answer = client.analytics.weekly_report(user_id, week=week)
    show_fields(answer, as_json=as_json, title="Weekly report")
    if not as_json:
        for key, value in answer.to_dict().items():
            if isinstance(value, dict):
                show_fields(value, as_json=False, title=key.replace("_", " "))


def score(
    user_id: str = USER,
    days: int | None = typer.Option(None, "--days", min=1, help="Nights to score (30)."),
    as_json: bool = AS_JSON,
) -> None:
    """A person's sleep score (0-100) and its components."""
    with connect() as client:
        answer = client.analytics.sleep_score(user_id, days=days)
    show_fields(answer, as_json=as_json, title=f"Sleep score of {user_id}")
