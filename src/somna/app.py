"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from somna import __version__
from somna.api import api_router
from somna.apidocs import STATIC_PATH as DOCS_STATIC_PATH
from somna.apidocs import install_docs
from somna.config import Settings, ensure_secret_key, get_settings
from somna.errors import install_error_handlers
from somna.events.endpoints import router as events_router
from somna.health import router as health_router
from somna.idempotency.middleware import IdempotencyMiddleware
from somna.lifespan import close_state, open_state
from somna.logging import RequestIdMiddleware, configure_logging
from somna.openapi import install_openapi, operation_id
from somna.ratelimit.http import RateLimitMiddleware
from somna.state import AppState, state_of
from somna.sync.for_connections import connection_services_for
from somna.web.router import ASSETS_PATH, install_web

log = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the engine is opened in the lifespan and closed after it."""
    settings = ensure_secret_key(settings or get_settings())
    configure_logging(settings.log_level, settings.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = state_of(app)
        await open_state(state)
        log.info("app.started", version=__version__, mode=settings.run_mode)
        try:
            yield
        finally:
            await close_state(state)
            log.info("app.stopped")

    app = FastAPI(
        title="Somna",
        version=__version__,
        summary="Sleep and recovery data platform: providers, sync, analytics, multi-tenant API.",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        docs_url=None,  # served by install_docs from files in the package, not a CDN
        redoc_url=None,
    )
    app.state = AppState(settings)
    # Connections may not import sync: the endpoints find sync's side of a connect here.
    app.state.install("connection_services", connection_services_for)
    install_error_handlers(app)
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(
        RateLimitMiddleware, exempt_prefixes=(f"{ASSETS_PATH}/", f"{DOCS_STATIC_PATH}/")
    )
    app.add_middleware(RequestIdMiddleware)
    app.include_router(health_router)
    # The Klyne routes keep their /api/analytics paths; first, as the busiest routes.
    app.include_router(events_router)
    app.include_router(api_router)
    install_docs(app)
    install_openapi(app)
    install_web(app)
    return app
