"""``/docs`` (Swagger UI) and ``/redoc`` served from files in this package, so that they work
with no internet; and ``GET /api/v1``, the API's table of contents.

The assets are copied unchanged from the npm packages ``swagger-ui-dist`` 5.35.0 (Apache-2.0)
and ``redoc`` 2.5.4 (MIT); their licences sit beside them in ``static/``.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from somna import __version__

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/static/apidocs"
API_PREFIX = "/api/v1"


class Section(BaseModel):
    name: str = Field(description="The OpenAPI tag, e.g. `records`.")
    docs_url: str = Field(description="Where the section starts in the interactive docs.")
    routes: list[str] = Field(description="`METHOD /path` of every route in the section.")


class ApiIndex(BaseModel):
    name: str
    version: str
    docs_url: str
    redoc_url: str
    openapi_url: str
    health_url: str
    sections: list[Section]


async def api_index(request: Request) -> ApiIndex:
    """The API's sections and their routes, with links to the documentation."""
    sections: dict[str, list[str]] = defaultdict(list)
    for path, item in request.app.openapi()["paths"].items():
        if not path.startswith(f"{API_PREFIX}/"):
            continue
        for method, operation in item.items():
            tag = str((operation.get("tags") or ["other"])[0])
            sections[tag].append(f"{method.upper()} {path}")
    return ApiIndex(
        name="Somna",
        version=__version__,
        docs_url="/docs",
        redoc_url="/redoc",
        openapi_url="/openapi.json",
        health_url="/health",
        sections=[
            Section(name=name, docs_url=f"/docs#/{name.replace(' ', '%20')}", routes=routes)
            for name, routes in sorted(sections.items())
        ],
    )


def install_docs(app: FastAPI) -> None:
    """Serve the docs pages and their assets (create the app with ``docs_url=None`` and
    ``redoc_url=None``)."""
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="apidocs-static")
    title = f"{app.title} {app.version}"
    oauth_redirect = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{title}: API",
            swagger_js_url=f"{STATIC_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC_PATH}/favicon-32x32.png",
            oauth2_redirect_url=oauth_redirect,
        )

    @app.get(oauth_redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{title}: API reference",
            redoc_js_url=f"{STATIC_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{STATIC_PATH}/favicon-32x32.png",
            with_google_fonts=False,
        )
