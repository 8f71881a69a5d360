from __future__ import annotations

from pathlib import Path

import httpx

from somna import __version__
from somna.app import create_app
from tests.conftest import make_settings
from tests.support.server import free_port, serve_in_thread


async def test_health_reports_version_and_reachable_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["database"] == "reachable"
    assert body["mode"] in {"embedded", "distributed"}


def test_health_is_503_when_the_database_does_not_answer(tmp_path: Path) -> None:
    # A port nothing listens on: the database is down, the server must still answer.
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere"
    app = create_app(make_settings(url, tmp_path))
    with serve_in_thread(app) as base_url:
        response = httpx.get(f"{base_url}/health", timeout=10)
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "version": __version__,
        "mode": "distributed",
        "database": "unreachable",
    }
