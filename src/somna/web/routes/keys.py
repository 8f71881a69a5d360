"""API keys (owners and admins): create with scopes, shown once; rotate; revoke."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from somna.auth.scopes import PERMISSIONS, RESOURCE_SCOPES
from somna.errors import SomnaError
from somna.keys import service as keys
from somna.keys.dependencies import get_key_cache
from somna.keys.schemas import KeyOut
from somna.keys.service import KeyCache
from somna.web.dependencies import Page, PageContext
from somna.web.routes import page_router

router = page_router()
GRACE_CHOICES = {"0": "at once", "3600": "1 hour", "86400": "24 hours", "604800": "7 days"}


def _cache(request: Request) -> KeyCache:
    return get_key_cache(request)


async def _list_page(
    page: PageContext, *, error: str | None = None, notice: str | None = None, status: int = 200
) -> HTMLResponse:
    rows = await keys.list_keys(page.session, page.principal)
    return page.render(
        "keys.html",
        status_code=status,
        title="API keys",
        keys=[KeyOut.of(row) for row in rows],
        scopes=RESOURCE_SCOPES,
        permissions=PERMISSIONS,
        error=error,
        notice=notice,
    )


@router.get("/keys")
async def keys_page(page: Page, revoked: str | None = None) -> HTMLResponse:
    page.require_admin()
    notice = f"Key {revoked}… revoked: the API refuses it from now on." if revoked else None
    return await _list_page(page, notice=notice)


@router.post("/keys")
async def create_key(
    page: Page,
    name: Annotated[str, Form(max_length=200)] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
    permissions: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse:
    page.require_admin()
    page.require("keys:write")
    if not name.strip() or not scopes or not permissions:
        missing = "a name" if not name.strip() else "at least one scope and one permission"
        return await _list_page(page, error=f"A key needs {missing}.", status=422)
    try:
        created = await keys.create_api_key(
            page.session, page.settings, organization_id=page.principal.organization_id,
            name=name.strip(), permissions=permissions, scopes=scopes,
            created_by_account_id=page.principal.account_id, granted_by=page.principal,
        )  # fmt: skip
    except SomnaError as exc:
        return await _list_page(page, error=exc.detail, status=exc.status_code)
    return page.render(
        "key_created.html", status_code=201, title="Key created", created=created, rotated=False
    )


async def _key(page: PageContext, key_id: uuid.UUID) -> KeyOut:
    page.require_admin()
    return KeyOut.of(await keys.get_key(page.session, page.principal, key_id))


@router.get("/keys/{key_id}/rotate")
async def rotate_confirm(key_id: uuid.UUID, page: Page) -> HTMLResponse:
    key = await _key(page, key_id)
    return page.render(
        "key_confirm.html", title="Rotate key", key=key, action="rotate", grace=GRACE_CHOICES
    )


@router.post("/keys/{key_id}/rotate")
async def rotate(
    key_id: uuid.UUID, page: Page, grace_seconds: Annotated[str, Form()] = "86400"
) -> HTMLResponse:
    page.require_admin()
    page.require("keys:write")
    if grace_seconds not in GRACE_CHOICES:
        return await _list_page(page, error="Choose one of the offered grace periods.", status=422)
    created = await keys.rotate_key(
        page.session, page.settings, _cache(page.request), page.principal, key_id,
        int(grace_seconds),
    )  # fmt: skip
    return page.render(
        "key_created.html", title="Key rotated", created=created, rotated=True,
        grace=GRACE_CHOICES[grace_seconds],
    )  # fmt: skip


@router.get("/keys/{key_id}/revoke")
async def revoke_confirm(key_id: uuid.UUID, page: Page) -> HTMLResponse:
    key = await _key(page, key_id)
    return page.render("key_confirm.html", title="Revoke key", key=key, action="revoke")


@router.post("/keys/{key_id}/revoke")
async def revoke(key_id: uuid.UUID, page: Page) -> RedirectResponse:
    page.require_admin()
    page.require("keys:write")
    row = await keys.revoke_key(page.session, _cache(page.request), page.principal, key_id)
    return RedirectResponse(f"/keys?revoked={row.prefix}", status_code=303)
