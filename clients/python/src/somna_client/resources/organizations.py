"""Organisations (tenants), their statistics, and cohort analysis."""

from __future__ import annotations

from typing import Any

from somna_client._operations import (
    C,
    PageSpec,
    Resource,
    Spec,
    api_path,
    body,
    model,
    operation,
    paged,
    query,
)
from somna_client.models import CohortResponse, OrganizationCreated, OrganizationOut


@paged("GET", "/organizations")
def _list() -> PageSpec[OrganizationOut]:
    """The caller's organisation, or every organisation for the operator."""
    return PageSpec(Spec("GET", api_path("/organizations"), dict), model(OrganizationOut))


@operation("POST", "/organizations")
def _create(
    name: str,
    *,
    owner_email: str,
    owner_password: str,
    slug: str | None = None,
    settings: dict[str, Any] | None = None,
) -> Spec[OrganizationCreated]:
    """Create an organisation and its owner account (operator only)."""
    payload = body(
        name=name,
        owner_email=owner_email,
        owner_password=owner_password,
        slug=slug,
        settings=settings,
    )
    return Spec(
        "POST", api_path("/organizations"), model(OrganizationCreated), json=payload, creates=True
    )


@operation("GET", "/organizations/{organization_id}")
def _retrieve(organization_id: str) -> Spec[OrganizationOut]:
    """One organisation."""
    return Spec("GET", api_path("/organizations/{id}", id=organization_id), model(OrganizationOut))


@operation("GET", "/organizations/{organization_id}/statistics")
def _statistics(organization_id: str, *, days: int | None = None) -> Spec[CohortResponse]:
    """Sleep statistics over every person of the organisation."""
    path = api_path("/organizations/{id}/statistics", id=organization_id)
    return Spec("GET", path, model(CohortResponse), params=query(days=days))


class Organizations(Resource[C]):
    list = _list
    create = _create
    retrieve = _retrieve
    statistics = _statistics


@operation("POST", "/cohorts/analysis")
def _analyze(user_ids: list[str], *, days: int | None = None) -> Spec[CohortResponse]:
    """Compare a chosen group of people over the last ``days`` nights."""
    payload = body(user_ids=user_ids, days=days)
    return Spec("POST", api_path("/cohorts/analysis"), model(CohortResponse), json=payload)


class Cohorts(Resource[C]):
    analyze = _analyze
