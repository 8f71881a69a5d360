"""One place for console output (rich for people, plain JSON for scripts) and for refusing a
bad option value with its message and exit code."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Any, NoReturn

import typer
from rich.console import Console

console = Console()
errors = Console(stderr=True)


def print_json(data: Any) -> None:
    """Exactly one JSON document on stdout, nothing else."""
    sys.stdout.write(json.dumps(data, default=str) + "\n")


def abort(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]Error:[/] {message}")
    raise typer.Exit(code)


def date_option(value: str | None, option: str) -> date | None:
    """An ISO date given as ``option``; anything else exits 2 with the option named."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        abort(f"{option} must be a date such as 2026-03-01, not {value!r}", 2)
