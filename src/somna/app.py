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
from somna.audit.writer import AuditWriter
from somna.auth.lifespan import close_access_state, open_access_state
from somna.config import Settings, ensure_secret_key, get_settings
from somna.db import create_engine, create_sessionmaker
from somna.errors import install_error_handlers
from somna.events.endpoints import router as events_router
from somna.health import router as health_router
from somna.idempotency.middleware import IdempotencyMiddleware
from somna.jobs.runtime import JobRuntime
from somna.logging import RequestIdMiddleware, configure_logging
from somna.openapi import install_openapi, operation_id
from somna.ratelimit.http import RateLimitMiddleware
from somna.sync.for_connections import connection_services_for
from somna.web.router import ASSETS_PATH, install_web

log = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the engine is opened in the lifespan and closed after it."""
    settings = ensure_secret_key(settings or get_settings())
    configure_logging(settings.log_level, settings.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        audit_writer = AuditWriter(
            app.state.sessionmaker,
            interval=settings.audit_flush_seconds,
            batch_size=settings.audit_buffer_size,
        )
        audit_writer.start()
        app.state.audit_writer = audit_writer
        open_access_state(app, settings)
        jobs = JobRuntime(settings, app.state.sessionmaker)
        await jobs.start(background_worker=settings.runs_worker_in_app)
        app.state.job_runtime, app.state.jobs, app.state.pacer = jobs, jobs.queue, jobs.pacer
        log.info("app.started", version=__version__, mode=settings.run_mode)
        try:
            yield
        finally:
            # Requests are over: the reads still buffered are written before anything closes.
            try:
                await audit_writer.aclose()
            except Exception:  # the database is gone: say how much was lost, close the rest
                log.exception("audit.final_flush_failed", lost=audit_writer.pending)
            await jobs.aclose()
            await close_access_state(app)
            await engine.dispose()
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
    app.state.settings = settings
    app.state.connection_services = connection_services_for  # connections may not import sync
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
