"""Who a request acts as. Every authenticated route receives one of these."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Principal:
    """An account (JWT) or an API key, with its organisation and grants.

    ``grants`` are ``"<scope>:<permission>"`` strings (see ``auth/scopes.py``). ``person_id`` is
    set for ``member`` accounts: they see and change only that person's data. ``is_operator``
    is true for owners and admins of the operator organisation, who may act in any organisation.
    """

    kind: Literal["account", "api_key"]
    organization_id: uuid.UUID
    grants: frozenset[str]
    account_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    role: str | None = None
    person_id: uuid.UUID | None = None
    is_operator: bool = False

    def has(self, *required: str) -> bool:
        return all(item in self.grants for item in required)

    def can_access_organization(self, organization_id: uuid.UUID) -> bool:
        return self.is_operator or organization_id == self.organization_id

    def can_access_person(self, organization_id: uuid.UUID, person_id: uuid.UUID) -> bool:
        """Tenant check plus the member rule; callers answer 404 (never 403) when false."""
        if not self.can_access_organization(organization_id):
            return False
        return self.person_id is None or self.person_id == person_id

    @property
    def is_member(self) -> bool:
        return self.role == "member"
