"""The dashboard's pages, one module per area."""

from __future__ import annotations

from fastapi import APIRouter

from somna.web.routing import PageRoute


def page_router() -> APIRouter:
    """Pages stay out of the OpenAPI document; their errors render as pages."""
    return APIRouter(route_class=PageRoute, include_in_schema=False)
