"""One place for console output: rich for people, plain JSON for scripts."""

from __future__ import annotations

import json
import sys
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
