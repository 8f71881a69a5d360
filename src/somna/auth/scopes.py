"""Grants are a permission (read, write) on a resource scope, written ``"<scope>:<permission>"``.

An API key holds ``permissions`` x ``scopes`` (``["read"]`` x ``["sleep", "users"]`` grants
``sleep:read`` and ``users:read``); ``write`` implies ``read`` on the same scope. An account's
grants follow from its role.
"""

from __future__ import annotations

from typing import Literal

Permission = Literal["read", "write"]
PERMISSIONS: tuple[Permission, ...] = ("read", "write")
RESOURCE_SCOPES = (
    "organizations",
    "users",
    "connections",
    "sleep",
    "analytics",
    "sync",
    "exports",
    "events",
    "keys",
    "webhooks",
    "audit",
)


def grant(scope: str, permission: Permission) -> str:
    return f"{scope}:{permission}"


def expand(
    permissions: list[str] | tuple[str, ...], scopes: list[str] | tuple[str, ...]
) -> frozenset[str]:
    """The grants of a key: every permission on every scope, with write implying read."""
    granted: set[str] = set()
    for scope in scopes:
        for permission in permissions:
            granted.add(f"{scope}:{permission}")
            if permission == "write":
                granted.add(f"{scope}:read")
    return frozenset(granted)


ALL_GRANTS = expand(PERMISSIONS, RESOURCE_SCOPES)

READ_ALL = frozenset(grant(scope, "read") for scope in RESOURCE_SCOPES)
# A member is a tracked person: the services narrow every lookup to ``Principal.person_id``.
_MEMBER_SCOPES = ("users", "connections", "sleep", "sync", "exports")
ROLE_GRANTS: dict[str, frozenset[str]] = {
    "owner": ALL_GRANTS,
    "admin": ALL_GRANTS,
    # Analysts read everything but keys and the audit log (who looked at whom is for owners
    # and admins), and run analytics and exports; they manage nothing.
    "analyst": (READ_ALL - {grant("keys", "read"), grant("audit", "read")})
    | {grant("analytics", "write"), grant("exports", "write")},
    "member": expand(("write",), _MEMBER_SCOPES) | {grant("analytics", "read")},
}
# Sensitive operations called with a JWT need one of these roles (with a key: a signature).
SENSITIVE_ROLES = ("owner", "admin")


def grants_for_role(role: str) -> frozenset[str]:
    return ROLE_GRANTS.get(role, frozenset())


def parse_grants(permissions: list[str], scopes: list[str]) -> frozenset[str]:
    """Grants of a key: ``scopes`` may be bare resources (combined with ``permissions``) or
    explicit ``"resource:permission"`` pairs. Raises ``ValueError`` naming what is unknown."""
    unknown_permissions = [item for item in permissions if item not in PERMISSIONS]
    if unknown_permissions:
        raise ValueError(f"unknown permissions {unknown_permissions}; use {list(PERMISSIONS)}")
    bare: list[str] = []
    explicit: set[str] = set()
    for item in scopes:
        resource, _, permission = item.partition(":")
        if resource not in RESOURCE_SCOPES:
            raise ValueError(f"unknown scope {item!r}; use one of {list(RESOURCE_SCOPES)}")
        if not permission:
            bare.append(resource)
        elif permission in PERMISSIONS:
            explicit |= expand((permission,), (resource,))
        else:
            raise ValueError(f"unknown permission in scope {item!r}")
    return expand(tuple(permissions), tuple(bare)) | explicit
