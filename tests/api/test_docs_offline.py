"""The interactive docs work with no internet: every asset comes from Somna itself."""

from __future__ import annotations

import re

import httpx


async def test_docs_and_redoc_load_only_local_assets(client: httpx.AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        response = await client.get(page)
        assert response.status_code == 200
        sources = re.findall(r'(?:src|href)="([^"]+)"', response.text)
        assert sources, page
        for source in sources:
            assert source.startswith("/"), (page, source)  # never a CDN
            asset = await client.get(source)
            assert asset.status_code == 200, source
            assert len(asset.content) > 500, source
        assert "/openapi.json" in response.text


async def test_the_api_index_lists_its_sections(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1")
    assert response.status_code == 200
    body = response.json()
    assert body["docs_url"] == "/docs"
    assert body["openapi_url"] == "/openapi.json"
    sections = {section["name"]: section for section in body["sections"]}
    assert {"records", "auth", "sync", "exports"} <= set(sections)
    assert "GET /api/v1/users/{user_id}/sleep" in sections["records"]["routes"]
    assert all(route.split(" ", 1)[1].startswith("/api/v1/") for s in sections.values()
               for route in s["routes"])  # fmt: skip
    unknown = await client.get("/api/v1", params={"x": "1"})
    assert unknown.status_code == 422
