"""Everything the dashboard adds to the app: its pages, its static files (gzipped) and an
HTML 404 for browsers that ask for a page that does not exist."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.staticfiles import StaticFiles

from somna.web.routes import (
    auth,
    connections,
    exports,
    keys,
    overview,
    people,
    person,
    settings,
    sync_runs,
)
from somna.web.routing import error_page
from somna.web.templating import STATIC_DIR

PAGE_ROUTERS = (
    auth.router,
    overview.router,
    people.router,
    person.router,
    connections.router,
    sync_runs.router,
    keys.router,
    exports.router,
    settings.router,
)


ASSETS_PATH = "/assets"


def install_web(app: FastAPI) -> None:
    for router in PAGE_ROUTERS:
        app.include_router(router)
    app.mount(ASSETS_PATH, GZipMiddleware(StaticFiles(directory=STATIC_DIR), minimum_size=512))
    json_not_found = app.exception_handlers.get(StarletteHTTPException)

    async def not_found(request: Request, exc: Exception) -> Response:
        wants_page = "text/html" in request.headers.get("accept", "")
        is_api = request.url.path.startswith(("/api/", "/assets/"))
        is_missing = isinstance(exc, StarletteHTTPException) and exc.status_code == 404
        if is_missing and wants_page and not is_api:
            return error_page(request, 404, "Page not found", "There is no such page.", None)
        assert json_not_found is not None
        result = json_not_found(request, exc)
        assert not isinstance(result, Response)
        return await result

    app.add_exception_handler(StarletteHTTPException, not_found)
