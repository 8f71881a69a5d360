"""Organisations: operators create and list them; everyone else sees their own."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, status

from somna.auth.dependencies import OperatorPrincipal, RequireScopes
from somna.auth.principal import Principal
from somna.auth.responses import AUTH_RESPONSES, NOT_FOUND, error_response
from somna.db import SessionDep
from somna.errors import NotFound
from somna.orgs import service
from somna.orgs.repository import OrganizationRepository
from somna.orgs.schemas import (
    OrganizationCreate,
    OrganizationCreated,
    OrganizationList,
    OrganizationOut,
)

router = APIRouter(prefix="/organizations", tags=["organizations"])

ReadOrganizations = Annotated[Principal, Depends(RequireScopes("organizations:read"))]


@router.post(
    "",
    response_model=OrganizationCreated,
    status_code=status.HTTP_201_CREATED,
    responses={**AUTH_RESPONSES, 409: error_response("`slug_taken` or `email_taken`.")},
)
async def create_organization(
    body: OrganizationCreate, principal: OperatorPrincipal, session: SessionDep
) -> OrganizationCreated:
    """Create an organisation and its owner (operator organisation only)."""
    created = await service.create_organization(
        session,
        name=body.name,
        owner_email=str(body.owner_email),
        owner_password=body.owner_password,
        slug=body.slug,
        settings=body.settings.model_dump(exclude_none=True),
    )
    return OrganizationCreated(
        **OrganizationOut.model_validate(created.organization).model_dump(),
        owner_account_id=created.owner.id,
    )


@router.get("", response_model=OrganizationList, responses=AUTH_RESPONSES)
async def list_organizations(principal: ReadOrganizations, session: SessionDep) -> OrganizationList:
    """Every organisation for an operator; otherwise the caller's own."""
    repository = OrganizationRepository(session)
    if principal.is_operator:
        rows = await repository.list_all()
    else:
        own = await repository.get_tenant(principal.organization_id)
        rows = [own] if own is not None else []
    return OrganizationList(data=[OrganizationOut.model_validate(row) for row in rows])


@router.get(
    "/{organization_id}",
    response_model=OrganizationOut,
    responses={**AUTH_RESPONSES, **NOT_FOUND},
)
async def get_organization(
    organization_id: uuid.UUID, principal: ReadOrganizations, session: SessionDep
) -> OrganizationOut:
    """One organisation: the caller's own, or any for an operator."""
    row = None
    if principal.can_access_organization(organization_id):
        row = await OrganizationRepository(session).get_tenant(organization_id)
    if row is None:
        raise NotFound("No such organisation.")
    return OrganizationOut.model_validate(row)
