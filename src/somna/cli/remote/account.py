"""``somna login`` and ``somna logout``: profiles for a server."""

from __future__ import annotations

import typer

from somna.cli._output import abort, console, print_json
from somna.cli.remote import profiles
from somna.cli.remote.session import OVERRIDES
from somna_client import APIStatusError, AuthenticationError, PermissionDeniedError, Somna


def login(
    url: str = typer.Option(..., "--url", envvar="SOMNA_URL", help="The server's root URL."),
    api_key: str | None = typer.Option(None, "--api-key", help="Log in with an API key."),
    signing_secret: str | None = typer.Option(
        None, "--signing-secret", help="The key's signing secret, for sensitive operations."
    ),
    email: str | None = typer.Option(None, "--email", help="Log in as an account."),
    password: str | None = typer.Option(
        None, "--password", envvar="SOMNA_PASSWORD", help="The account's password (prompted)."
    ),
    profile: str | None = typer.Option(None, "--profile", help="Profile name (default: default)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object, nothing else."),
) -> None:
    """Check credentials against a server and keep them in a profile (config.toml, 0600)."""
    name = profile or OVERRIDES.profile or profiles.DEFAULT_PROFILE
    api_key = api_key or OVERRIDES.api_key
    if bool(api_key) == bool(email):
        abort("give either --api-key or --email (with --password)", 2)
    values = {"url": url.rstrip("/")}
    if api_key:
        _check_key(url, api_key, signing_secret)
        values.update(api_key=api_key, signing_secret=signing_secret or "")
        who = f"API key ...{api_key[-4:]}"
    else:
        assert email is not None
        secret = password or typer.prompt("Password", hide_input=True)
        try:
            with Somna.login(url, email, secret) as client:
                client.accounts.profile()
                values.update(email=email, refresh_token=client.refresh_token or "")
        except APIStatusError as exc:
            abort(f"{exc.code}: {exc.detail}", 1)
        who = email
    path = profiles.save(profiles.Profile(name, values))
    if as_json:
        print_json({"profile": name, "url": values["url"], "config": str(path)})
        return
    console.print(f"Logged in to {values['url']} as {who}; profile [bold]{name}[/] in {path}")


def _check_key(url: str, api_key: str, signing_secret: str | None) -> None:
    with Somna(url, api_key=api_key, signing_secret=signing_secret, max_retries=1) as client:
        try:
            client.organizations.list()
        except PermissionDeniedError:
            pass  # authenticated; this key just may not read organisations
        except AuthenticationError as exc:
            abort(f"{exc.code}: {exc.detail}", 1)
        except APIStatusError as exc:
            abort(f"{exc.code}: {exc.detail}", 1)


def logout(
    profile: str | None = typer.Option(None, "--profile", help="Profile name (default: default)."),
) -> None:
    """End the profile's session on the server (for account logins) and forget the profile."""
    chosen = profiles.load(profile or OVERRIDES.profile)
    url, token = chosen.get("url"), chosen.get("refresh_token")
    if url and token:
        try:
            with Somna.from_refresh_token(url, token) as client:
                client.refresh()
                client.logout()
        except APIStatusError:
            pass  # already expired or revoked: nothing left to end
    if not profiles.remove(chosen.name):
        abort(f"no profile named {chosen.name!r}", 1)
    console.print(f"Logged out; profile [bold]{chosen.name}[/] removed")
