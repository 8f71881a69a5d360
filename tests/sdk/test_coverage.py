"""The SDK cannot drift: every operation of the running app's OpenAPI document has an SDK
method, and the SDK's models are what the generator makes from that document."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import httpx

import somna_client
from somna_client._operations import ROUTES

ROOT = Path(__file__).resolve().parents[2]
# Provider-facing routes and the client's own token refresh.
EXEMPT = {
    ("GET", "/api/v1/oauth/whoop/callback"),
    ("POST", "/api/v1/webhooks/whoop"),
    ("POST", "/api/v1/webhooks/asleep"),
    ("POST", "/api/v1/auth/refresh"),
}


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


async def test_every_operation_has_an_sdk_method(live_url: str) -> None:
    assert somna_client.__version__  # importing the package registers every resource
    async with httpx.AsyncClient(base_url=live_url) as http:
        document = (await http.get("/openapi.json")).json()
    covered = {(method, _shape(path)) for method, path, _ in ROUTES}
    missing = sorted(
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
        if (method.upper(), path) not in EXEMPT and (method.upper(), _shape(path)) not in covered
    )
    assert missing == [], "operations without an SDK method: " + ", ".join(missing)


def test_the_models_match_the_openapi_document() -> None:
    sys.path.insert(0, str(ROOT / "clients" / "python" / "scripts"))
    try:
        import generate_models
    finally:
        sys.path.pop(0)
    expected = generate_models.render(generate_models.server_openapi())
    current = generate_models.TARGET.read_text()
    assert _code(current) == _code(expected), "the SDK's models are stale: run make sdk-models"


def _code(text: str) -> str:
    """The syntax tree, so that ruff's formatting of the file does not count."""
    return ast.dump(ast.parse(text))


def test_the_sdk_imports_nothing_from_the_server() -> None:
    probe = (
        "import sys, somna_client, somna_client.telemetry\n"
        "server = sorted(m for m in sys.modules if m == 'somna' or m.startswith('somna.'))\n"
        "assert not server, server\n"
        "heavy = {'fastapi', 'sqlalchemy', 'pandas', 'polars'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
