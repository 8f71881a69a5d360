"""Every JSON router, in one place."""

from __future__ import annotations

from fastapi import APIRouter

from somna.auth.endpoints import router as auth_router
from somna.keys.endpoints import router as keys_router
from somna.orgs.endpoints import router as orgs_router
from somna.records.endpoints import router as records_router
from somna.users.endpoints import router as users_router

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(auth_router)
api_router.include_router(keys_router)
api_router.include_router(orgs_router)
api_router.include_router(users_router)
api_router.include_router(records_router)
