"""The dashboard's pages, one module per area."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from somna.audit.recorder import RecordAccess
from somna.auth.principal import Principal
from somna.web.routing import SIGNED_IN_SCOPE_KEY, PageRoute
from somna.web.sessions import SignedIn


def _page_principal(request: Request) -> Principal | None:
    signed: SignedIn | None = request.scope.get(SIGNED_IN_SCOPE_KEY)
    return None if signed is None else signed.principal


# Pages are audited like the API, on the ``web`` channel.
record_page_access = RecordAccess("web", _page_principal)


def page_router() -> APIRouter:
    """Pages stay out of the OpenAPI document; their errors render as pages."""
    return APIRouter(
        route_class=PageRoute,
        include_in_schema=False,
        dependencies=[Depends(record_page_access, scope="function")],
    )
