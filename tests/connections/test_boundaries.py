"""The import directions this part of the code keeps: sync depends on connections (never the
reverse), providers know nothing of the database, and the demo never imports the CLI (the
`somna demo` command drives the demo package; what the demo shares with `somna admin sync`
lives in somna.batchsync, below both)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import somna

SOURCE = Path(somna.__file__).parent


def imported(package: str) -> dict[str, set[str]]:
    """Each module of ``package`` (a path under somna/) and the modules it imports, lazy
    imports inside functions and ``TYPE_CHECKING`` blocks included."""
    found: dict[str, set[str]] = {}
    for path in sorted((SOURCE / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(SOURCE))] = names
    return found


def offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{module} imports {name}"
        for module, names in imported(package).items()
        for name in sorted(names)
        if any(name == prefix or name.startswith(f"{prefix}.") for prefix in forbidden)
    ]


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("connections", ("somna.sync",)),
        ("providers", ("somna.models", "somna.db", "sqlalchemy", "somna.connections")),
        ("demo", ("somna.cli",)),
        ("batchsync", ("somna.cli", "somna.demo")),
    ],
)
def test_imports_point_one_way(package: str, forbidden: tuple[str, ...]) -> None:
    assert offenders(package, forbidden) == []


def test_the_check_sees_a_forbidden_import() -> None:
    # sync imports connections (the allowed direction): the same check run backwards finds it.
    assert offenders("sync", ("somna.connections",))
