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
