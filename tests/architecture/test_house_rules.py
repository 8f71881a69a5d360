"""The house rules of docs/architecture.md that a reader would otherwise have to police:
SQL is written in repositories only, no module does three jobs (a size limit is the crude but
honest proxy), and no function grows past what fits on a screen."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "somna"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
MAX_EXPLAINED_FUNCTION_LINES = 80
MAX_EXPLAINED_FUNCTIONS = 3
# A function over MAX_FUNCTION_LINES may stay only with this comment right above it (or above
# its decorators), saying why it is long.
LONG_FUNCTION_MARK = "# Long because"

SQL_BUILDERS = {"select", "insert", "update", "delete", "text"}
SESSION_CALLS = {"execute", "get", "add", "add_all", "scalar", "scalars", "delete", "merge"}


def _modules() -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" not in path.relative_to(PACKAGE).parts:
            yield path


def _may_hold_sql(relative: Path) -> bool:
    """Repositories, the generic kit, the ORM tables (their DDL conditions) and the engine's
    own set-up are where SQL belongs."""
    return (
        relative.name == "repository.py"
        or relative.name.endswith("_repository.py")
        or relative.parent.name == "repositories"
        or relative.parts[0] in ("kit", "models")
        or relative == Path("db.py")
    )


def _sql_calls(tree: ast.Module) -> list[str]:
    builders = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
        for alias in node.names
        if alias.name in SQL_BUILDERS
    }
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in builders:
            found.append(f"{func.id}( at line {node.lineno}")
        elif isinstance(func, ast.Attribute) and func.attr in SESSION_CALLS:
            owner = func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if "session" in name:
                found.append(f"{name}.{func.attr}( at line {node.lineno}")
    return found


def test_sql_is_written_in_repositories_only() -> None:
    offenders = {}
    for path in _modules():
        relative = path.relative_to(PACKAGE)
        if _may_hold_sql(relative):
            continue
        calls = _sql_calls(ast.parse(path.read_text(encoding="utf-8")))
        if calls:
            offenders[str(relative)] = calls
    assert offenders == {}, f"SQL outside repository modules: {offenders}"


def test_no_module_is_over_the_size_limit() -> None:
    sizes = {
        str(path.relative_to(PACKAGE)): len(path.read_text(encoding="utf-8").splitlines())
        for path in _modules()
    }
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}


def _functions(path: Path) -> Iterator[tuple[str, int, bool]]:
    """(where, length in lines, whether a comment above it says why it is long)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            above = lines[first - 2].strip() if first >= 2 else ""
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            where = f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}"
            yield where, length, above.startswith(LONG_FUNCTION_MARK)


def test_functions_fit_on_a_screen() -> None:
    long = [f for path in _modules() for f in _functions(path) if f[1] > MAX_FUNCTION_LINES]
    unexplained = [(where, n) for where, n, explained in long if not explained]
    too_long = [(where, n) for where, n, _ in long if n > MAX_EXPLAINED_FUNCTION_LINES]
    assert unexplained == [], f"functions over {MAX_FUNCTION_LINES} lines without a reason"
    assert too_long == [], f"functions over {MAX_EXPLAINED_FUNCTION_LINES} lines"
    assert len(long) <= MAX_EXPLAINED_FUNCTIONS, f"too many long functions: {long}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from sqlalchemy import select\nselect(1)\n", ["select( at line 2"]),
        ("from sqlalchemy import text as t\nt('SELECT 1')\n", ["t( at line 2"]),
        ("async def f(session):\n    await session.execute(q)\n", ["session.execute( at line 2"]),
        ("def f(self):\n    self.session.add(x)\n", ["session.add( at line 2"]),
        ("values = {}\nvalues.update(a=1)\nvalues.get('a')\n", []),
    ],
)
def test_the_sql_check_finds_what_it_means_to_find(source: str, expected: list[str]) -> None:
    assert _sql_calls(ast.parse(source)) == expected
