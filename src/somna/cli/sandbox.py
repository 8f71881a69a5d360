"""``somna sandbox whoop|asleep``: run a provider emulator in the foreground."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import typer

from somna.cli._output import console

if TYPE_CHECKING:
    from somna.sandbox import AsleepSandbox, WhoopSandbox

app = typer.Typer(
    help="Local emulators of the provider APIs, for tests and demos.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _run(sandbox: WhoopSandbox | AsleepSandbox) -> None:
    sandbox.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        console.print("Stopping.")
    finally:
        sandbox.stop()


@app.command("whoop")
def whoop(
    port: int = typer.Option(8801, help="Port to bind."),
    host: str = typer.Option("127.0.0.1", help="Address to bind."),
    people: int = typer.Option(3, min=0, help="Members generated at start."),
    days: int = typer.Option(90, min=1, max=730, help="Days of history per member."),
    seed: int = typer.Option(1, help="Seed of the synthetic physiology."),
    client_id: str = typer.Option("sandbox-client", help="The one registered OAuth client."),
    client_secret: str = typer.Option("sandbox-secret", help="Its secret (signs webhooks)."),
    redirect_uri: list[str] = typer.Option([], help="Registered redirect URIs (default: any)."),
    webhook_url: str | None = typer.Option(None, help="Where to POST signed webhooks."),
    per_minute: int = typer.Option(100, min=1, help="Requests per minute before 429."),
    per_day: int = typer.Option(10_000, min=1, help="Requests per day before 429."),
) -> None:
    """Serve the WHOOP v2 emulator (OAuth, member data, rate limits, webhooks)."""
    from somna.sandbox import WhoopConfig, WhoopSandbox

    config = WhoopConfig(
        client_id=client_id,
        client_secret=client_secret,
        redirect_uris=tuple(redirect_uri),
        seed=seed,
        days=days,
        per_minute=per_minute,
        per_day=per_day,
        webhook_url=webhook_url,
    )
    sandbox = WhoopSandbox(config, host=host, port=port, people=people)
    console.rule("[bold]WHOOP sandbox")
    console.print(f"SOMNA_WHOOP_API_BASE={sandbox.api_base}")
    console.print(f"SOMNA_WHOOP_OAUTH_BASE={sandbox.oauth_base}")
    console.print(f"SOMNA_WHOOP_CLIENT_ID={client_id}")
    console.print(f"SOMNA_WHOOP_CLIENT_SECRET={client_secret}")
    console.print(f"Members: {', '.join(str(m.user_id) for m in sandbox.members) or 'none yet'}")
    console.print(f"Control: {sandbox.base_url}/_sandbox/state")
    _run(sandbox)


@app.command("asleep")
def asleep(
    port: int = typer.Option(8802, help="Port to bind."),
    host: str = typer.Option("127.0.0.1", help="Address to bind."),
    people: int = typer.Option(3, min=0, help="Users generated at start."),
    days: int = typer.Option(90, min=0, max=730, help="Days of history for each new user."),
    seed: int = typer.Option(1, help="Seed of the synthetic physiology."),
    api_key: str = typer.Option("sandbox-asleep-key", help="The accepted x-api-key."),
    per_minute: int | None = typer.Option(None, min=1, help="Pace limit (403) per minute."),
    daily_quota: int | None = typer.Option(None, min=1, help="Quota (403) per day."),
    webhook_url: str | None = typer.Option(None, help="Where to POST session callbacks."),
) -> None:
    """Serve the Asleep API emulator (users, sessions, average stats)."""
    from somna.sandbox import AsleepConfig, AsleepSandbox

    config = AsleepConfig(
        api_keys=(api_key,),
        seed=seed,
        days=days,
        per_minute=per_minute,
        daily_quota=daily_quota,
        webhook_url=webhook_url,
    )
    sandbox = AsleepSandbox(config, host=host, port=port, people=people)
    console.rule("[bold]Asleep sandbox")
    console.print(f"SOMNA_ASLEEP_API_BASE={sandbox.base_url}")
    console.print(f"SOMNA_ASLEEP_API_KEY={api_key}")
    console.print(f"Users: {', '.join(u.user_id for u in sandbox.users) or 'none yet'}")
    _run(sandbox)
