"""People whose sleep is tracked (``users``), accounts, and the logged-in profile."""

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
    person_path,
    query,
)
from somna_client.models import (
    AccountOut,
    DeletionScheduled,
    ExportRead,
    PersonRead,
    PreferencesRead,
    ProfileOut,
)


@paged("GET", "/users")
def _list_users(*, limit: int | None = None, cursor: str | None = None) -> PageSpec[PersonRead]:
    """The organisation's people, oldest first."""
    spec = Spec("GET", api_path("/users"), dict, params=query(limit=limit, cursor=cursor))
    return PageSpec(spec, model(PersonRead))


@operation("POST", "/users")
def _create_user(
    email: str, *, timezone: str | None = None, metadata: dict[str, Any] | None = None
) -> Spec[PersonRead]:
    """Add a person to the organisation."""
    payload = body(email=email, timezone=timezone, metadata=metadata)
    return Spec("POST", api_path("/users"), model(PersonRead), json=payload, creates=True)


@operation("GET", "/users/{user_id}")
def _retrieve_user(user_id: str) -> Spec[PersonRead]:
    """One person (``"me"``: the member's own)."""
    return Spec("GET", person_path(user_id), model(PersonRead))


@operation("PATCH", "/users/{user_id}")
def _update_user(
    user_id: str,
    *,
    email: str | None = None,
    timezone: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Spec[PersonRead]:
    """Change a person's email, time zone or metadata."""
    payload = body(email=email, timezone=timezone, metadata=metadata)
    return Spec("PATCH", person_path(user_id), model(PersonRead), json=payload)


@operation("DELETE", "/users/{user_id}")
def _delete_user(user_id: str) -> Spec[DeletionScheduled]:
    """Schedule a person's deletion after the server's grace period: hidden at once, removed
    with every record of theirs at ``delete_after`` (sensitive: signed with an API key)."""
    return Spec("DELETE", person_path(user_id), model(DeletionScheduled), sensitive=True)


@operation("POST", "/users/{user_id}/restore")
def _restore_user(user_id: str) -> Spec[PersonRead]:
    """Undo a scheduled deletion within the grace period (sensitive: signed with an API key)."""
    return Spec("POST", person_path(user_id, "/restore"), model(PersonRead), sensitive=True)


@operation("POST", "/users/{user_id}/data-export")
def _export_user_data(user_id: str) -> Spec[ExportRead]:
    """Start an archive of everything held about a person; follow it with
    ``client.exports.wait`` and download it like any export (sensitive: signed with an API
    key)."""
    return Spec(
        "POST",
        person_path(user_id, "/data-export"),
        model(ExportRead),
        creates=True,
        sensitive=True,
    )


@operation("GET", "/users/{user_id}/preferences")
def _preferences(user_id: str) -> Spec[PreferencesRead]:
    """A person's sleep goal, time zone and source priority."""
    return Spec("GET", person_path(user_id, "/preferences"), model(PreferencesRead))


@operation("PUT", "/users/{user_id}/preferences")
def _update_preferences(
    user_id: str,
    *,
    sleep_goal_hours: float | None = None,
    timezone: str | None = None,
    source_priority: list[str] | None = None,
) -> Spec[PreferencesRead]:
    """Replace a person's preferences."""
    payload = body(
        sleep_goal_hours=sleep_goal_hours, timezone=timezone, source_priority=source_priority
    )
    return Spec("PUT", person_path(user_id, "/preferences"), model(PreferencesRead), json=payload)


class Users(Resource[C]):
    list = _list_users
    create = _create_user
    retrieve = _retrieve_user
    update = _update_user
    delete = _delete_user
    restore = _restore_user
    data_export = _export_user_data
    preferences = _preferences
    update_preferences = _update_preferences


@paged("GET", "/accounts")
def _list_accounts(*, limit: int | None = None, cursor: str | None = None) -> PageSpec[AccountOut]:
    """The organisation's accounts."""
    spec = Spec("GET", api_path("/accounts"), dict, params=query(limit=limit, cursor=cursor))
    return PageSpec(spec, model(AccountOut))


@operation("POST", "/accounts")
def _create_account(
    email: str, password: str, *, role: str, person_id: str | None = None
) -> Spec[AccountOut]:
    """Add an account (a ``member`` account is linked to one person)."""
    payload = body(email=email, password=password, role=role, person_id=person_id)
    return Spec("POST", api_path("/accounts"), model(AccountOut), json=payload)


@operation("GET", "/accounts/{account_id}")
def _retrieve_account(account_id: str) -> Spec[AccountOut]:
    """One account of the organisation."""
    return Spec("GET", api_path("/accounts/{id}", id=account_id), model(AccountOut))


@operation("GET", "/user/profile")
def _profile() -> Spec[ProfileOut]:
    """The logged-in account (or the key's owner organisation)."""
    return Spec("GET", api_path("/user/profile"), model(ProfileOut))


class Accounts(Resource[C]):
    list = _list_accounts
    create = _create_account
    retrieve = _retrieve_account
    profile = _profile
