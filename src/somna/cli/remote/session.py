"""Opening an SDK client from the profile and overrides, and showing its answers.

Every remote command goes through :func:`connect`: errors print the server's code and
message (never a traceback), and a rotated refresh token is written back to the profile.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.table import Table

from somna.cli._output import abort, console, print_json
from somna.cli.remote import profiles
from somna_client import APIConnectionError, APIStatusError, Somna, SomnaError

OVERRIDES = profiles.Overrides()


def set_overrides(profile: str | None, url: str | None, api_key: str | None) -> None:
    OVERRIDES.profile, OVERRIDES.url, OVERRIDES.api_key = profile, url, api_key


@contextmanager
def connect() -> Iterator[Somna]:
    """A client for the chosen server; exits with the server's error on failure."""
    profile = profiles.load(OVERRIDES.profile)
    url = OVERRIDES.url or profile.get("url")
    if not url:
        abort("no server: run `somna login --url URL`, or pass --url or set SOMNA_URL", 2)
    api_key = OVERRIDES.api_key or profile.get("api_key")
    refresh_token = None if OVERRIDES.api_key else profile.get("refresh_token")
    if refresh_token:
        client = Somna.from_refresh_token(url, refresh_token)
    else:
        if not api_key:
            abort("no credentials: run `somna login`, or pass --api-key or set SOMNA_API_KEY", 2)
        client = Somna(url, api_key=api_key, signing_secret=profile.get("signing_secret"))
    try:
        with client:
            yield client
    except APIStatusError as exc:
        abort(f"{exc.code}: {exc.detail} (HTTP {exc.status_code})", 1)
    except APIConnectionError as exc:
        abort(f"cannot reach {url}: {exc.message}", 1)
    except SomnaError as exc:
        abort(str(exc), 1)
    finally:
        _keep_rotated_token(profile, refresh_token, client.refresh_token)


def _keep_rotated_token(profile: profiles.Profile, before: str | None, after: str | None) -> None:
    # The old token is spent once the client refreshed: keep the new one or the profile dies.
    if before and after and after != before:
        profile.values["refresh_token"] = after
        profiles.save(profile)


def dump(item: Any) -> Any:
    return item.model_dump(mode="json") if hasattr(item, "model_dump") else item


def show(
    items: Iterable[Any] | Any,
    columns: Sequence[str],
    *,
    as_json: bool,
    title: str | None = None,
) -> None:
    """A list (or one item) as JSON or as a table of ``columns``."""
    many = isinstance(items, list)
    rows = items if many else [items]
    if as_json:
        print_json([dump(item) for item in rows] if many else dump(items))
        return
    table = Table(title=title, show_header=True, header_style="bold")
    for column in columns:
        table.add_column(column.replace("_", " "))
    for item in rows:
        data = dump(item)
        table.add_row(*(_cell(data.get(column)) for column in columns))
    console.print(table)


def show_fields(item: Any, *, as_json: bool, title: str | None = None) -> None:
    """One object as JSON, or as a two-column table of its scalar fields."""
    data = dump(item)
    if as_json:
        print_json(data)
        return
    table = Table(title=title, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in data.items():
        if not isinstance(value, dict | list):
            table.add_row(key.replace("_", " "), _cell(value))
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)
