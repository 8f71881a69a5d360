"""RequireScopes and RequireSensitive on a route of their own, as other packages use them."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from somna.auth.dependencies import RequireScopes, RequireSensitive
from somna.auth.principal import Principal
from tests.support.auth import create_account, create_api_key, create_organization


def _add_routes(app: FastAPI) -> None:
    @app.post("/test/sensitive")
    async def sensitive(
        principal: Annotated[Principal, Depends(RequireSensitive("analytics:read"))],
    ) -> dict[str, str]:
        return {"kind": principal.kind}

    @app.get("/test/scoped")
    async def scoped(
        principal: Annotated[Principal, Depends(RequireScopes("sleep:read", "users:read"))],
    ) -> dict[str, str | None]:
        return {"person_id": str(principal.person_id) if principal.person_id else None}


async def test_sensitive_needs_owner_or_admin_with_a_jwt_and_a_signature_with_a_key(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    _add_routes(app)
    org = await create_organization(db_session, client)
    admin = await create_account(db_session, client, org.id, "admin")
    analyst = await create_account(db_session, client, org.id, "analyst")
    assert (await client.post("/test/sensitive", headers=admin.headers)).status_code == 200
    refused = await client.post("/test/sensitive", headers=analyst.headers)
    assert refused.status_code == 403
    assert refused.json()["error"] == "insufficient_permissions"
    assert refused.json()["required_roles"] == ["owner", "admin"]

    key = await create_api_key(
        client, org.owner.headers, scopes=["analytics"], permissions=["read"]
    )
    unsigned = await client.post("/test/sensitive", headers=key.headers)
    assert unsigned.json()["error"] == "invalid_signature"
    path = "/test/sensitive?dry_run=true"
    signed = await client.post(path, headers=key.signed("POST", path))
    assert signed.json() == {"kind": "api_key"}
    # The query string is signed: changing it breaks the signature.
    moved = await client.post("/test/sensitive?dry_run=false", headers=key.signed("POST", path))
    assert moved.json()["error"] == "invalid_signature"


async def test_require_scopes_lists_what_is_missing(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    _add_routes(app)
    org = await create_organization(db_session, client)
    member = await create_account(db_session, client, org.id, "member")
    allowed = await client.get("/test/scoped", headers=member.headers)
    assert allowed.json() == {"person_id": str(member.person_id)}
    key = await create_api_key(client, org.owner.headers, scopes=["sleep"], permissions=["read"])
    denied = await client.get("/test/scoped", headers=key.headers)
    assert denied.status_code == 403
    assert denied.json()["required_scopes"] == ["sleep:read", "users:read"]
