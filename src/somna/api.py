"""Every JSON router, in one place."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from somna.analytics.daily_endpoints import router as daily_analytics_router
from somna.analytics.endpoints import router as analytics_router
from somna.apidocs import ApiIndex, api_index
from somna.audit.endpoints import router as audit_router
from somna.audit.recorder import record_api_access
from somna.auth.endpoints import router as auth_router
from somna.connections.endpoints import router as connections_router
from somna.events.endpoints import usage_router as events_usage_router
from somna.exports.endpoints import router as exports_router
from somna.idempotency.service import idempotency_guard
from somna.keys.endpoints import router as keys_router
from somna.mood.endpoints import router as mood_router
from somna.orgs.endpoints import router as orgs_router
from somna.outgoing.endpoints import router as outgoing_router
from somna.people.endpoints import router as users_router
from somna.privacy.endpoints import router as privacy_router
from somna.records.endpoints import router as records_router
from somna.request_checks import check_request_shape
from somna.sync.endpoints import router as sync_router
from somna.webhooks.endpoints import router as webhooks_router

# Every route is audited by one dependency (``somna.audit.recorder``); function scope, so that
# it runs before the request's session commits and can write into that transaction.
api_router = APIRouter(
    prefix="/api/v1",
    dependencies=[Depends(check_request_shape), Depends(record_api_access, scope="function")],
)
api_router.add_api_route("", api_index, methods=["GET"], response_model=ApiIndex, tags=["meta"])
# Routers whose POSTs create something accept an Idempotency-Key (every route in them needs
# credentials, which the guard uses to keep keys per organisation).
IDEMPOTENT = [Depends(idempotency_guard)]
api_router.include_router(auth_router)
api_router.include_router(keys_router, dependencies=IDEMPOTENT)
api_router.include_router(orgs_router, dependencies=IDEMPOTENT)
api_router.include_router(users_router, dependencies=IDEMPOTENT)
api_router.include_router(privacy_router, dependencies=IDEMPOTENT)
api_router.include_router(records_router)
api_router.include_router(connections_router)
api_router.include_router(sync_router, dependencies=IDEMPOTENT)
api_router.include_router(webhooks_router)
api_router.include_router(mood_router, dependencies=IDEMPOTENT)
api_router.include_router(analytics_router)
api_router.include_router(daily_analytics_router)
api_router.include_router(events_usage_router)
api_router.include_router(exports_router, dependencies=IDEMPOTENT)
api_router.include_router(outgoing_router, dependencies=IDEMPOTENT)
api_router.include_router(audit_router)
